//! Which labels count, and when: the label policy of a backtest.
//!
//! A decision's truth is its latest label. Fraud shows up late (a chargeback arrives weeks
//! after the payment), so a decision younger than `maturity_days` when the backtest starts
//! counts as unknown whatever its label says: a "legit" today may be a chargeback next month,
//! and counting it would flatter every rule's false-positive rate.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::feedback::LabelKind;

/// What the labels say about one decision, at the report's maturity cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    Fraud,
    Legit,
    /// No label, a label too young to trust, or a kind the policy leaves out.
    Unknown,
}

/// Why a labelled decision still counts as unknown (for the report's coverage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    Known(Truth),
    Unlabelled,
    Immature,
    /// A kind neither in the fraud set nor `legit`.
    Excluded,
}

impl Judged {
    pub fn truth(self) -> Truth {
        match self {
            Judged::Known(t) => t,
            _ => Truth::Unknown,
        }
    }
}

/// Most a maturity can be: a year. Chargeback windows are 120 days at the card networks.
pub const MAX_MATURITY_DAYS: u32 = 365;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelPolicy {
    /// Label kinds that count as fraud. `legit` always counts as legitimate; any other kind
    /// left out of this list counts as unknown. Default: every kind but `legit`.
    #[serde(default = "LabelPolicy::default_fraud")]
    pub fraud: Vec<LabelKind>,
    /// Decisions younger than this many days when the backtest starts count as unknown.
    #[serde(default)]
    pub maturity_days: u32,
}

impl Default for LabelPolicy {
    fn default() -> Self {
        LabelPolicy {
            fraud: LabelPolicy::default_fraud(),
            maturity_days: 0,
        }
    }
}

impl LabelPolicy {
    fn default_fraud() -> Vec<LabelKind> {
        LabelKind::ALL
            .into_iter()
            .filter(|k| k.is_fraud())
            .collect()
    }

    /// The truth of a decision made at `decided_at` whose latest label is `latest`, for a
    /// backtest started at `as_of`.
    pub fn judge(
        &self,
        latest: Option<LabelKind>,
        decided_at: DateTime<Utc>,
        as_of: DateTime<Utc>,
    ) -> Judged {
        let Some(kind) = latest else {
            return Judged::Unlabelled;
        };
        if as_of - decided_at < Duration::days(i64::from(self.maturity_days)) {
            return Judged::Immature;
        }
        if self.fraud.contains(&kind) {
            Judged::Known(Truth::Fraud)
        } else if kind == LabelKind::Legit {
            Judged::Known(Truth::Legit)
        } else {
            Judged::Excluded
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + day * 86_400, 0).expect("valid")
    }

    #[test]
    fn the_latest_label_decides_once_the_decision_is_mature() {
        let policy = LabelPolicy {
            maturity_days: 30,
            ..LabelPolicy::default()
        };
        let judge = |kind, decided| policy.judge(kind, at(decided), at(100));
        assert_eq!(judge(None, 0), Judged::Unlabelled);
        assert_eq!(
            judge(Some(LabelKind::Chargeback), 0),
            Judged::Known(Truth::Fraud)
        );
        assert_eq!(
            judge(Some(LabelKind::Legit), 70),
            Judged::Known(Truth::Legit)
        );
        assert_eq!(
            judge(Some(LabelKind::Legit), 71),
            Judged::Immature,
            "29 days old"
        );
        assert_eq!(judge(Some(LabelKind::Fraud), 99), Judged::Immature);
        assert_eq!(Judged::Immature.truth(), Truth::Unknown);
    }

    #[test]
    fn a_kind_left_out_of_the_fraud_set_is_excluded_not_legit() {
        let policy = LabelPolicy {
            fraud: vec![LabelKind::Chargeback],
            maturity_days: 0,
        };
        let judge = |kind| policy.judge(Some(kind), at(0), at(0));
        assert_eq!(judge(LabelKind::Chargeback), Judged::Known(Truth::Fraud));
        assert_eq!(judge(LabelKind::AccountTakeover), Judged::Excluded);
        assert_eq!(judge(LabelKind::Legit), Judged::Known(Truth::Legit));
    }
}
