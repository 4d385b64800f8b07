//! Reviews: every decision that ends in `challenge` opens one, in the same transaction as the
//! decision. A reviewer resolves it once, with an outcome and a label.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::feedback::label::LabelKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Open,
    Resolved,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 2] = [ReviewStatus::Open, ReviewStatus::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Open => "open",
            ReviewStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewStatus> {
        match s {
            "open" => Some(ReviewStatus::Open),
            "resolved" => Some(ReviewStatus::Resolved),
            _ => None,
        }
    }
}

/// What the reviewer did with the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    Approve,
    Reject,
}

impl ReviewOutcome {
    pub const ALL: [ReviewOutcome; 2] = [ReviewOutcome::Approve, ReviewOutcome::Reject];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Approve => "approve",
            ReviewOutcome::Reject => "reject",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewOutcome> {
        match s {
            "approve" => Some(ReviewOutcome::Approve),
            "reject" => Some(ReviewOutcome::Reject),
            _ => None,
        }
    }
}

/// A reviewer's resolution. Two resolutions are "identical" (so a repeated resolve is not a
/// conflict) when every field here is equal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub outcome: ReviewOutcome,
    /// `fraud`, `legit` or `account_takeover` (a chargeback is not a reviewer's call).
    pub label: LabelKind,
    pub reviewer: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub review_id: String,
    pub decision_id: String,
    pub status: ReviewStatus,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<Resolution>,
    /// Key id of the caller that resolved it.
    pub resolved_by: Option<String>,
}

impl Review {
    /// The review id of a challenged decision: derived, so the decision log can open it in
    /// the decision's own insert without a round trip.
    pub fn id_for(decision_id: &str) -> String {
        format!(
            "rev_{}",
            decision_id.strip_prefix("dec_").unwrap_or(decision_id)
        )
    }

    /// Seconds from open to resolved.
    pub fn turnaround_secs(&self) -> Option<f64> {
        self.resolved_at
            .map(|r| (r - self.opened_at).num_milliseconds() as f64 / 1000.0)
    }
}
