//! Response pieces the transaction routes share: money at its currency's scale, the risk
//! answer a step followed, and a status history row.

use arbiter_engine::money::Money;
use arbiter_transactions::order::HistoryEntry;
use arbiter_transactions::risk::RiskRecord;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An amount: a decimal string at the currency's scale (`"12.90"`) and its ISO 4217 code.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MoneyView {
    pub value: String,
    pub currency: String,
}

impl From<&Money> for MoneyView {
    fn from(m: &Money) -> MoneyView {
        let mut amount = m.amount;
        amount.rescale(m.exponent());
        MoneyView {
            value: amount.to_string(),
            currency: m.currency.code().to_owned(),
        }
    }
}

/// What the risk host answered for a step, or why it did not and what the fail mode made of it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RiskView {
    /// `accept`, `challenge` or `reject`: the action the step followed.
    pub action: String,
    /// The decision (see `GET /v1/decisions/{decision_id}`); absent when the host failed.
    pub decision_id: Option<String>,
    /// Why the host gave no answer (a timeout, an error).
    pub fault: Option<String>,
    /// `open` or `closed`: applied only when the host failed.
    pub fail_mode: Option<String>,
}

impl From<&RiskRecord> for RiskView {
    fn from(r: &RiskRecord) -> RiskView {
        RiskView {
            action: r.action.as_str().to_owned(),
            decision_id: r.decision_id.clone(),
            fault: r.fault.clone(),
            fail_mode: r.fail_mode.map(|m| m.as_str().to_owned()),
        }
    }
}

/// One status change; `from` is absent on the row that records creation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryView {
    pub from: Option<String>,
    pub to: String,
    pub note: String,
    pub at: DateTime<Utc>,
}

impl From<&HistoryEntry> for HistoryView {
    fn from(h: &HistoryEntry) -> HistoryView {
        HistoryView {
            from: h.from.clone(),
            to: h.to.clone(),
            note: h.note.clone(),
            at: h.at,
        }
    }
}

pub fn history(rows: &[HistoryEntry]) -> Vec<HistoryView> {
    rows.iter().map(HistoryView::from).collect()
}
