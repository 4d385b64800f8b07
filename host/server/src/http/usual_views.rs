//! How a decision's values compare with its customer's usual ones, as a review case answers
//! it (`usual_behaviour`): the engine's [`UsualBehaviour`] with a schema.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::usual::{SeenValue, UsualAmount, UsualBehaviour, UsualTrait};

/// The decision beside the customer's latest decisions before it (at most 200).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsualBehaviourView {
    /// How many of the customer's earlier decisions were read.
    pub past_decisions: u32,
    /// When the oldest of them was made.
    pub first_seen: Option<DateTime<Utc>>,
    pub past_rejected: u32,
    pub past_challenged: u32,
    /// The amount beside the customer's amounts in the same currency; absent without one.
    pub amount: Option<UsualAmountView>,
    /// Device, card, e-mail, IP country and shipping country, each beside the values used
    /// before.
    pub traits: Vec<UsualTraitView>,
    /// What departs from the usual: `amount` (above twice the median) and the traits never
    /// seen before. Empty with fewer than 3 earlier decisions.
    pub unusual: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsualAmountView {
    pub currency: String,
    /// This decision's amount, in major units.
    pub now: f64,
    /// How many earlier amounts were in this currency.
    pub samples: u32,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<f64>,
    pub unusual: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsualTraitView {
    /// `device`, `card`, `email`, `ip_country` or `shipping_country`.
    pub name: String,
    /// This decision's value; absent when the request did not carry it.
    pub now: Option<String>,
    /// In how many earlier decisions the same value appeared.
    pub seen_before: u32,
    /// The most frequent earlier values (at most three), most frequent first.
    pub usual: Vec<SeenValueView>,
    /// Never seen before, with at least 3 earlier decisions.
    pub unusual: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SeenValueView {
    pub value: String,
    pub count: u32,
}

impl From<UsualBehaviour> for UsualBehaviourView {
    fn from(u: UsualBehaviour) -> Self {
        UsualBehaviourView {
            past_decisions: u.past_decisions,
            first_seen: u.first_seen,
            past_rejected: u.past_rejected,
            past_challenged: u.past_challenged,
            amount: u.amount.map(UsualAmountView::from),
            traits: u.traits.into_iter().map(UsualTraitView::from).collect(),
            unusual: u.unusual.into_iter().map(str::to_owned).collect(),
        }
    }
}

impl From<UsualAmount> for UsualAmountView {
    fn from(a: UsualAmount) -> Self {
        UsualAmountView {
            currency: a.currency,
            now: a.now,
            samples: a.samples,
            median: a.median,
            p90: a.p90,
            max: a.max,
            unusual: a.unusual,
        }
    }
}

impl From<UsualTrait> for UsualTraitView {
    fn from(t: UsualTrait) -> Self {
        UsualTraitView {
            name: t.name.to_owned(),
            now: t.now,
            seen_before: t.seen_before,
            usual: t
                .usual
                .into_iter()
                .map(|SeenValue { value, count }| SeenValueView { value, count })
                .collect(),
            unusual: t.unusual,
        }
    }
}
