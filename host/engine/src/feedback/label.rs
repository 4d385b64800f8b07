//! Labels: what a reviewer, a channel's chargeback file, a customer or an analyst says a
//! decision really was. Every label is kept; the latest per decision is the one training and
//! reports use (a later label supersedes an earlier one).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a decision turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    Fraud,
    Legit,
    Chargeback,
    AccountTakeover,
}

impl LabelKind {
    pub const ALL: [LabelKind; 4] = [
        LabelKind::Fraud,
        LabelKind::Legit,
        LabelKind::Chargeback,
        LabelKind::AccountTakeover,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LabelKind::Fraud => "fraud",
            LabelKind::Legit => "legit",
            LabelKind::Chargeback => "chargeback",
            LabelKind::AccountTakeover => "account_takeover",
        }
    }

    /// Whether the label is the positive class for training and a fraud mark for the graph:
    /// a chargeback and an account takeover are losses as much as fraud is.
    pub fn is_fraud(self) -> bool {
        !matches!(self, LabelKind::Legit)
    }
}

impl FromStr for LabelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown label `{s}`; expected fraud, legit, chargeback or account_takeover"
                )
            })
    }
}

impl fmt::Display for LabelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a label came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    Review,
    Chargeback,
    Customer,
    Analyst,
}

impl LabelSource {
    pub const ALL: [LabelSource; 4] = [
        LabelSource::Review,
        LabelSource::Chargeback,
        LabelSource::Customer,
        LabelSource::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LabelSource::Review => "review",
            LabelSource::Chargeback => "chargeback",
            LabelSource::Customer => "customer",
            LabelSource::Analyst => "analyst",
        }
    }
}

impl FromStr for LabelSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelSource::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown source `{s}`; expected review, chargeback, customer or analyst")
            })
    }
}

/// A label to record (validated; the decision exists).
#[derive(Debug, Clone, PartialEq)]
pub struct NewLabel {
    pub decision_id: String,
    pub kind: LabelKind,
    pub source: LabelSource,
    /// The channel's id for an imported row; a second import of it is a duplicate.
    pub external_id: Option<String>,
    pub note: Option<String>,
}

/// A stored label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub label_id: String,
    pub decision_id: String,
    pub kind: LabelKind,
    pub source: LabelSource,
    pub external_id: Option<String>,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl Label {
    pub fn generate_id() -> String {
        format!("lab_{}", uuid::Uuid::now_v7().simple())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_only_legit_is_negative() {
        for k in LabelKind::ALL {
            assert_eq!(k.as_str().parse::<LabelKind>(), Ok(k));
            assert_eq!(k.is_fraud(), k != LabelKind::Legit);
        }
        let err = "fraudish".parse::<LabelKind>().unwrap_err();
        assert!(err.contains("`fraudish`"), "{err}");
        assert!("refund".parse::<LabelSource>().is_err());
    }
}
