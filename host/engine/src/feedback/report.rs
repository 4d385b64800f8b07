//! The outcome report: what the decisions of a window did and how they turned out against
//! labels. The store supplies raw aggregates; the arithmetic is here, pure and tested.
//!
//! Definitions (every rate is `None` when its denominator is zero):
//! - intercept rate: (challenge + reject) / all decisions;
//! - challenge rate: challenge / all decisions;
//! - false-positive rate: decisions challenged or rejected whose latest label is `legit`, over
//!   the challenged or rejected decisions that carry a label;
//! - fraud caught: decisions whose latest label is fraud-like (fraud, chargeback, account
//!   takeover) and that were challenged or rejected; fraud missed: the same label, accepted.
//!   Values are summed per currency in exact decimals.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::feedback::label::LabelKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub policy_set_version: Option<i64>,
}

/// Decisions in the window by final action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    pub accept: u64,
    pub challenge: u64,
    pub reject: u64,
}

impl OutcomeCounts {
    pub fn add(&mut self, action: Action, n: u64) {
        match action {
            Action::Accept | Action::None => self.accept += n,
            Action::Challenge => self.challenge += n,
            Action::Reject => self.reject += n,
        }
    }

    pub fn total(&self) -> u64 {
        self.accept + self.challenge + self.reject
    }
}

/// One labelled decision of the window: its action, its latest label and its amount.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledOutcome {
    pub action: Action,
    pub label: LabelKind,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FraudTally {
    pub count: u64,
    /// Exact decimal sum per ISO currency code.
    pub value: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Turnaround {
    pub resolved: u64,
    pub p50_secs: Option<f64>,
    pub p95_secs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeReport {
    pub window: ReportWindow,
    pub decisions: OutcomeCounts,
    pub intercept_rate: Option<f64>,
    pub challenge_rate: Option<f64>,
    pub false_positive_rate: Option<f64>,
    /// Challenged or rejected decisions that carry a label (the false-positive denominator).
    pub labelled_intercepts: u64,
    pub fraud_caught: FraudTally,
    pub fraud_missed: FraudTally,
    pub review_turnaround: Turnaround,
}

fn rate(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[derive(Default)]
struct Sums {
    count: u64,
    /// `i128`: a sum of stored `i64` amounts cannot overflow it.
    minor: BTreeMap<String, i128>,
}

impl Sums {
    fn add(&mut self, o: &LabelledOutcome) {
        self.count += 1;
        if let (Some(minor), Some(cur)) = (o.amount_minor, o.currency.as_ref()) {
            *self.minor.entry(cur.clone()).or_default() += i128::from(minor);
        }
    }

    fn tally(self) -> FraudTally {
        let value = self
            .minor
            .into_iter()
            .map(|(code, minor)| {
                let exp = Currency::from_code(&code)
                    .and_then(|c| c.exponent())
                    .unwrap_or(2);
                (code, decimal_text(minor, u32::from(exp)))
            })
            .collect();
        FraudTally {
            count: self.count,
            value,
        }
    }
}

/// `minor` minor units written with `exp` decimals (`12999`, 2 → `129.99`), exact for any
/// sum: `Decimal` would overflow past 2^96.
fn decimal_text(minor: i128, exp: u32) -> String {
    match Decimal::try_from_i128_with_scale(minor, exp) {
        Ok(d) => d.to_string(),
        Err(_) => {
            let digits = minor.unsigned_abs().to_string();
            let exp = exp as usize;
            let padded = format!("{digits:0>width$}", width = exp + 1);
            let (int, frac) = padded.split_at(padded.len() - exp);
            let sign = if minor < 0 { "-" } else { "" };
            if exp == 0 {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac}")
            }
        }
    }
}

/// Builds the report from the store's aggregates.
pub fn build(
    window: ReportWindow,
    decisions: OutcomeCounts,
    labelled: &[LabelledOutcome],
    mut turnarounds_secs: Vec<f64>,
) -> OutcomeReport {
    let intercepted = |a: Action| matches!(a, Action::Challenge | Action::Reject);
    let labelled_intercepts = labelled.iter().filter(|o| intercepted(o.action)).count() as u64;
    let false_positives = labelled
        .iter()
        .filter(|o| intercepted(o.action) && o.label == LabelKind::Legit)
        .count() as u64;
    let (mut caught, mut missed) = (Sums::default(), Sums::default());
    for o in labelled.iter().filter(|o| o.label.is_fraud()) {
        if intercepted(o.action) {
            caught.add(o);
        } else {
            missed.add(o);
        }
    }
    turnarounds_secs.retain(|s| s.is_finite());
    turnarounds_secs.sort_by(f64::total_cmp);
    let total = decisions.total();
    OutcomeReport {
        window,
        decisions,
        intercept_rate: rate(decisions.challenge + decisions.reject, total),
        challenge_rate: rate(decisions.challenge, total),
        false_positive_rate: rate(false_positives, labelled_intercepts),
        labelled_intercepts,
        fraud_caught: caught.tally(),
        fraud_missed: missed.tally(),
        review_turnaround: Turnaround {
            resolved: turnarounds_secs.len() as u64,
            p50_secs: percentile(&turnarounds_secs, 0.50),
            p95_secs: percentile(&turnarounds_secs, 0.95),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(action: Action, label: LabelKind, minor: i64, cur: &str) -> LabelledOutcome {
        LabelledOutcome {
            action,
            label,
            amount_minor: Some(minor),
            currency: Some(cur.into()),
        }
    }

    #[test]
    fn rates_and_tallies_follow_the_definitions() {
        let window = ReportWindow {
            from: Utc::now(),
            to: Utc::now(),
            policy_set_version: None,
        };
        let mut counts = OutcomeCounts::default();
        counts.add(Action::Accept, 6);
        counts.add(Action::Challenge, 3);
        counts.add(Action::Reject, 1);
        let rows = [
            labelled(Action::Challenge, LabelKind::Legit, 1000, "USD"),
            labelled(Action::Challenge, LabelKind::Fraud, 2550, "USD"),
            labelled(Action::Reject, LabelKind::Chargeback, 300, "JPY"),
            labelled(Action::Accept, LabelKind::AccountTakeover, 1999, "USD"),
            labelled(Action::Accept, LabelKind::Legit, 500, "USD"),
        ];
        let r = build(window, counts, &rows, vec![30.0, 10.0, 20.0, 40.0]);
        assert_eq!(r.intercept_rate, Some(0.4));
        assert_eq!(r.challenge_rate, Some(0.3));
        assert_eq!(r.labelled_intercepts, 3);
        assert_eq!(r.false_positive_rate, Some(1.0 / 3.0));
        assert_eq!(r.fraud_caught.count, 2);
        assert_eq!(r.fraud_caught.value["USD"], "25.50");
        assert_eq!(r.fraud_caught.value["JPY"], "300");
        assert_eq!(r.fraud_missed.count, 1);
        assert_eq!(r.fraud_missed.value["USD"], "19.99");
        assert_eq!(r.review_turnaround.p50_secs, Some(20.0));
        assert_eq!(r.review_turnaround.p95_secs, Some(40.0));
    }

    #[test]
    fn fraud_value_sums_never_overflow() {
        let window = ReportWindow {
            from: Utc::now(),
            to: Utc::now(),
            policy_set_version: None,
        };
        let rows: Vec<_> = (0..3)
            .map(|_| labelled(Action::Reject, LabelKind::Fraud, i64::MAX, "USD"))
            .collect();
        let r = build(window, OutcomeCounts::default(), &rows, vec![]);
        // 3 × (2^63 − 1) cents, exactly.
        assert_eq!(r.fraud_caught.value["USD"], "276701161105643274.21");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(decimal_text(i128::MAX, 0), i128::MAX.to_string());
        assert_eq!(decimal_text(i128::MIN + 1, 4).len(), 41);
    }

    #[test]
    fn an_empty_window_has_no_rates() {
        let window = ReportWindow {
            from: Utc::now(),
            to: Utc::now(),
            policy_set_version: Some(2),
        };
        let r = build(window, OutcomeCounts::default(), &[], vec![]);
        assert_eq!(r.intercept_rate, None);
        assert_eq!(r.false_positive_rate, None);
        assert_eq!(r.review_turnaround.p50_secs, None);
    }
}
