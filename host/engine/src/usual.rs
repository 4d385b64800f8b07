//! How a customer usually behaves, from the decisions made for them before: the amounts they
//! spend and the devices, cards, e-mail addresses and countries they use. A reviewer judges a
//! case against it ("score 85" says little; "three times their usual amount from a device and
//! a country never seen before" says why), so the case page and `GET /v1/reviews/{id}` set
//! each value of the decision beside the customer's usual ones and flag what departs from them.
//!
//! Pure: the history comes from an [`EntityHistoryStore`], a walk along the customer's chain
//! of decisions ([`crate::entity_chain`]).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::action::Action;
use crate::context::EnrichedContext;
use crate::lists::ListKind;
use crate::store::StoreError;

/// How many of a customer's latest decisions their usual behaviour is drawn from.
pub const HISTORY_LIMIT: u32 = 200;
/// With fewer past decisions than this nothing is called unusual: there is no usual yet.
pub const MIN_HISTORY: u32 = 3;
/// An amount above this multiple of the customer's median is unusual.
pub const AMOUNT_FACTOR: f64 = 2.0;
/// How many of the most frequent values of a trait are shown.
const TOP_VALUES: usize = 3;

/// One earlier decision that named an entity: what the entity's decision list and the usual
/// behaviour read of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastDecision {
    pub decision_id: String,
    pub created_at: DateTime<Utc>,
    pub action: Action,
    pub score: f64,
    /// The context as the rules saw it.
    pub context: EnrichedContext,
}

#[async_trait]
pub trait EntityHistoryStore: Send + Sync + 'static {
    /// The decisions of one entity of `kind`, newest first: the stored decision `from`, then
    /// the one its chain names for `kind`, and so on ([`crate::entity_chain`]), at most
    /// `limit`. The walk ends at a decision that names no previous one, or one not stored.
    async fn entity_decisions(
        &self,
        kind: ListKind,
        from: &str,
        limit: u32,
    ) -> Result<Vec<PastDecision>, StoreError>;
}

/// A decision's values beside the customer's usual ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsualBehaviour {
    /// The past decisions read: the customer's latest before this one, at most
    /// [`HISTORY_LIMIT`].
    pub past_decisions: u32,
    /// When the oldest of them was made.
    pub first_seen: Option<DateTime<Utc>>,
    /// Of them, how many were rejected or challenged.
    pub past_rejected: u32,
    pub past_challenged: u32,
    /// Absent when the decision has no amount.
    pub amount: Option<UsualAmount>,
    pub traits: Vec<UsualTrait>,
    /// The names of what departs from the usual (`amount`, `device`, …), for a summary line.
    pub unusual: Vec<&'static str>,
}

/// The decision's amount beside the customer's amounts in the same currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsualAmount {
    pub currency: String,
    /// In major units.
    pub now: f64,
    /// How many past amounts were in this currency.
    pub samples: u32,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<f64>,
    /// Above [`AMOUNT_FACTOR`] × the median, with at least [`MIN_HISTORY`] samples.
    pub unusual: bool,
}

/// One trait (device, card, e-mail, IP country, shipping country) of the decision beside the
/// values the customer used before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsualTrait {
    pub name: &'static str,
    /// The decision's value; absent when the request did not carry it.
    pub now: Option<String>,
    /// In how many past decisions the same value appeared.
    pub seen_before: u32,
    /// The most frequent past values, most frequent first.
    pub usual: Vec<SeenValue>,
    /// A value never seen before, with at least [`MIN_HISTORY`] past decisions.
    pub unusual: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenValue {
    pub value: String,
    pub count: u32,
}

/// How a trait is read from a context.
type ReadTrait = fn(&EnrichedContext) -> Option<&str>;

/// The traits compared, with how each is read from a context.
const TRAITS: [(&str, ReadTrait); 5] = [
    ("device", |c| c.device_id.as_deref()),
    ("card", |c| c.card_fingerprint.as_deref()),
    ("email", |c| c.email.as_deref()),
    ("ip_country", |c| c.ip_country.as_deref()),
    ("shipping_country", |c| c.shipping_country.as_deref()),
];

impl UsualBehaviour {
    /// The decision made with `now` beside `history` (the customer's earlier decisions, in any
    /// order).
    pub fn of(now: &EnrichedContext, history: &[PastDecision]) -> UsualBehaviour {
        let past = u32::try_from(history.len()).unwrap_or(u32::MAX);
        let enough = past >= MIN_HISTORY;
        let amount = now.amount.as_ref().map(|a| {
            let mut amounts: Vec<f64> = history
                .iter()
                .filter_map(|p| p.context.amount.as_ref())
                .filter(|p| p.currency == a.currency)
                .map(|p| p.approx)
                .collect();
            amounts.sort_by(f64::total_cmp);
            let samples = u32::try_from(amounts.len()).unwrap_or(u32::MAX);
            let median = quantile(&amounts, 0.5);
            UsualAmount {
                currency: a.currency.clone(),
                now: a.approx,
                samples,
                median,
                p90: quantile(&amounts, 0.9),
                max: amounts.last().copied(),
                unusual: samples >= MIN_HISTORY
                    && median.is_some_and(|m| a.approx > AMOUNT_FACTOR * m),
            }
        });
        let traits: Vec<UsualTrait> = TRAITS
            .iter()
            .map(|(name, read)| {
                let mut counts: HashMap<&str, u32> = HashMap::new();
                for p in history {
                    if let Some(v) = read(&p.context).filter(|v| !v.is_empty()) {
                        *counts.entry(v).or_default() += 1;
                    }
                }
                let value = read(now).filter(|v| !v.is_empty());
                let seen_before = value.and_then(|v| counts.get(v)).copied().unwrap_or(0);
                let mut usual: Vec<SeenValue> = counts
                    .into_iter()
                    .map(|(value, count)| SeenValue {
                        value: value.to_owned(),
                        count,
                    })
                    .collect();
                usual.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                usual.truncate(TOP_VALUES);
                UsualTrait {
                    name,
                    now: value.map(str::to_owned),
                    seen_before,
                    usual,
                    unusual: enough && value.is_some() && seen_before == 0,
                }
            })
            .collect();
        let unusual = amount
            .iter()
            .filter(|a| a.unusual)
            .map(|_| "amount")
            .chain(traits.iter().filter(|t| t.unusual).map(|t| t.name))
            .collect();
        UsualBehaviour {
            past_decisions: past,
            first_seen: history.iter().map(|p| p.created_at).min(),
            past_rejected: count_action(history, Action::Reject),
            past_challenged: count_action(history, Action::Challenge),
            amount,
            traits,
            unusual,
        }
    }
}

fn count_action(history: &[PastDecision], action: Action) -> u32 {
    let n = history.iter().filter(|p| p.action == action).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The `q` quantile of sorted values, by the nearest rank; `None` when there are none.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank: the smallest value with at least q of the values at or below it.
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests;
