//! Reviews: every decision that ends in `challenge` opens one, in the same transaction as the
//! decision. A reviewer claims it for a lease, escalates it or resolves it once, with an
//! outcome and a label that agree; a resolution can later be corrected, never silently.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
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

impl ReviewOutcome {
    /// Whether a resolution may pair this outcome with `label`: an approved transaction was
    /// legitimate, a rejected one fraud or an account takeover. A chargeback is not a
    /// reviewer's call at all.
    pub fn agrees_with(self, label: LabelKind) -> bool {
        match self {
            ReviewOutcome::Approve => label == LabelKind::Legit,
            ReviewOutcome::Reject => {
                matches!(label, LabelKind::Fraud | LabelKind::AccountTakeover)
            }
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

/// Who holds an open review and until when: while the lease runs no other reviewer is given
/// the case or may resolve it; once it lapses the case is back in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The claiming key's id.
    pub key_id: String,
    /// The claiming key's name, shown to other reviewers.
    pub reviewer: String,
    pub until: DateTime<Utc>,
}

/// A case passed to a senior reviewer: still open, flagged, no longer claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// The escalating key's name.
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// Which reviews a queue page, a count or a claim considers; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewFilter {
    pub status: Option<ReviewStatus>,
    /// The decision's checkpoint.
    pub checkpoint: Option<Checkpoint>,
    /// A reason code the decision gave, in any layer (`geo.mismatch`).
    pub reason: Option<String>,
    /// Escalated (`Some(true)`) or not (`Some(false)`) open reviews.
    pub escalated: Option<bool>,
    /// Of the resolved reviews, only those this key resolved (open ones are everyone's):
    /// what a reviewer may see of the resolved ones.
    pub resolved_by: Option<String>,
}

/// Reason codes as a review row stores them: `,code,code,` (empty without reasons), so one
/// `LIKE '%,code,%'` finds a code and never a code it is a prefix of.
pub fn reason_codes_column<'a>(codes: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from(",");
    for code in codes {
        if !out.split(',').any(|seen| seen == code) {
            out.push_str(code);
            out.push(',');
        }
    }
    if out.len() == 1 { String::new() } else { out }
}

/// The `LIKE` pattern that finds `code` in a [`reason_codes_column`], with `\` as the escape
/// character so `_` and `%` in a code match only themselves.
pub fn reason_code_pattern(code: &str) -> String {
    let mut out = String::from("%,");
    for c in code.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str(",%");
    out
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
    /// The last claim, live or lapsed (see [`Review::live_claim`]).
    pub claim: Option<Claim>,
    pub escalation: Option<Escalation>,
}

impl Review {
    /// The claim, if its lease still runs at `now` and the review is open.
    pub fn live_claim(&self, now: DateTime<Utc>) -> Option<&Claim> {
        self.claim
            .as_ref()
            .filter(|c| self.status == ReviewStatus::Open && c.until > now)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_agree_only_with_their_labels() {
        use LabelKind::*;
        assert!(ReviewOutcome::Approve.agrees_with(Legit));
        for l in [Fraud, AccountTakeover, Chargeback] {
            assert!(!ReviewOutcome::Approve.agrees_with(l), "approve + {l}");
        }
        assert!(ReviewOutcome::Reject.agrees_with(Fraud));
        assert!(ReviewOutcome::Reject.agrees_with(AccountTakeover));
        assert!(!ReviewOutcome::Reject.agrees_with(Legit));
        assert!(!ReviewOutcome::Reject.agrees_with(Chargeback));
    }

    #[test]
    fn reason_codes_are_delimited_deduplicated_and_matched_literally() {
        assert_eq!(reason_codes_column([]), "");
        let column = reason_codes_column(["geo.mismatch", "velocity.card", "geo.mismatch"]);
        assert_eq!(column, ",geo.mismatch,velocity.card,");
        assert_eq!(reason_code_pattern("geo.mismatch"), "%,geo.mismatch,%");
        assert_eq!(reason_code_pattern("a_b%c"), r"%,a\_b\%c,%");
    }
}
