//! Backtest reports (issue 16): what a candidate policy set would have done to decisions
//! already made, against what the baseline did and what the labels say. This module only
//! aggregates replayed decisions into a report; reading history, replaying it through the
//! pipeline and running jobs belong to the host. No I/O here.
//!
//! Money is summed exactly, in minor units per currency (never converted). Decisions the
//! baseline rejected are counted apart from the label metrics: a rejected payment never
//! happened, so it earns no chargeback and its "legit" or "fraud" is unknowable.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::action::Action;

/// What the labels say about one decision, at the report's maturity cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    Fraud,
    Legit,
    /// No label, or none old enough to trust yet.
    Unknown,
}

/// One decision as replayed: what the baseline answered, what the candidate answers now.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub decision_id: String,
    /// ISO 4217 code and minor units, when the decision carried an amount.
    pub amount: Option<(String, i64)>,
    pub baseline: Action,
    pub candidate: Action,
    pub truth: Truth,
    /// The candidate's score (what its thresholds cut).
    pub candidate_score: f64,
    /// The candidate's rule modules that gave an opinion other than `none`.
    pub candidate_hits: Vec<String>,
}

/// An action's row or column in the matrix: accept, challenge, reject (`none` is never a
/// decision's final action; it would count as accept).
fn index(action: Action) -> usize {
    match action {
        Action::None | Action::Accept => 0,
        Action::Challenge => 1,
        Action::Reject => 2,
    }
}

/// One cell of the baseline × candidate matrix.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cell {
    pub count: u64,
    /// Minor units per currency.
    pub amount: BTreeMap<String, i64>,
    /// A few decision ids, to open and look at.
    pub examples: Vec<String>,
}

/// How many example ids a changed cell keeps.
pub const EXAMPLES_PER_CELL: usize = 5;

/// Confusion counts for "flagged" (rejected, or challenged or rejected) against the labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    pub true_positive: u64,
    pub false_positive: u64,
    pub false_negative: u64,
    pub true_negative: u64,
}

impl Confusion {
    fn add(&mut self, flagged: bool, truth: Truth) {
        match (flagged, truth) {
            (true, Truth::Fraud) => self.true_positive += 1,
            (true, Truth::Legit) => self.false_positive += 1,
            (false, Truth::Fraud) => self.false_negative += 1,
            (false, Truth::Legit) => self.true_negative += 1,
            (_, Truth::Unknown) => {}
        }
    }

    fn ratio(num: u64, den: u64) -> Option<f64> {
        (den > 0).then(|| num as f64 / den as f64)
    }

    /// Of what was flagged, the share that was fraud; `None` when nothing labelled was.
    pub fn precision(&self) -> Option<f64> {
        Confusion::ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    /// Of the fraud, the share flagged.
    pub fn recall(&self) -> Option<f64> {
        Confusion::ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        (p + r > 0.0).then(|| 2.0 * p * r / (p + r))
    }

    /// Of the legitimate, the share flagged.
    pub fn false_positive_rate(&self) -> Option<f64> {
        Confusion::ratio(
            self.false_positive,
            self.false_positive + self.true_negative,
        )
    }
}

/// One side's results against the labels.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scorecard {
    /// Flagged = rejected.
    pub at_reject: Confusion,
    /// Flagged = challenged or rejected.
    pub at_challenge_or_reject: Confusion,
    /// Fraud it rejected, minor units per currency.
    pub fraud_value_stopped: BTreeMap<String, i64>,
    /// Legitimate payments it rejected, minor units per currency.
    pub legit_value_declined: BTreeMap<String, i64>,
}

impl Scorecard {
    fn add(&mut self, action: Action, truth: Truth, amount: Option<&(String, i64)>) {
        self.at_reject.add(action == Action::Reject, truth);
        self.at_challenge_or_reject
            .add(action >= Action::Challenge, truth);
        if action == Action::Reject
            && let Some((currency, minor)) = amount
        {
            let book = match truth {
                Truth::Fraud => &mut self.fraud_value_stopped,
                Truth::Legit => &mut self.legit_value_declined,
                Truth::Unknown => return,
            };
            *book.entry(currency.clone()).or_default() += minor;
        }
    }
}

/// One rule module's part in the candidate's answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleHits {
    pub hits: u64,
    /// Hits where no other module fired: what only this rule caught.
    pub unique: u64,
    /// Its hits on labelled decisions, fraud and legitimate.
    pub fraud_hits: u64,
    pub legit_hits: u64,
}

impl RuleHits {
    /// Of its labelled hits, the share that was fraud.
    pub fn precision(&self) -> Option<f64> {
        Confusion::ratio(self.fraud_hits, self.fraud_hits + self.legit_hits)
    }
}

/// The aggregate of a backtest.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// `transitions[b][c]`: decisions the baseline answered `b` and the candidate `c`, in
    /// accept, challenge, reject order.
    pub transitions: [[Cell; 3]; 3],
    pub baseline: Scorecard,
    pub candidate: Scorecard,
    /// Decisions the baseline rejected: outside both scorecards (see the module doc).
    pub baseline_rejected: u64,
    pub rules: BTreeMap<String, RuleHits>,
    /// Pairs of modules that fired on the same decision, most frequent first.
    pub co_firing: Vec<((String, String), u64)>,
    pub replayed: u64,
    pub unlabelled: u64,
}

/// How many co-firing pairs a report keeps.
pub const CO_FIRING_PAIRS: usize = 10;

impl Report {
    /// Aggregates `decisions`, in any order.
    pub fn build<'a>(decisions: impl IntoIterator<Item = &'a Replayed>) -> Report {
        let mut report = Report::default();
        let mut pairs: BTreeMap<(String, String), u64> = BTreeMap::new();
        for d in decisions {
            report.replayed += 1;
            let (b, c) = (index(d.baseline), index(d.candidate));
            let cell = &mut report.transitions[b][c];
            cell.count += 1;
            if let Some((currency, minor)) = &d.amount {
                *cell.amount.entry(currency.clone()).or_default() += minor;
            }
            if b != c && cell.examples.len() < EXAMPLES_PER_CELL {
                cell.examples.push(d.decision_id.clone());
            }
            if d.truth == Truth::Unknown {
                report.unlabelled += 1;
            }
            if d.baseline == Action::Reject {
                report.baseline_rejected += 1;
            } else {
                report.baseline.add(d.baseline, d.truth, d.amount.as_ref());
                report
                    .candidate
                    .add(d.candidate, d.truth, d.amount.as_ref());
            }
            let alone = d.candidate_hits.len() == 1;
            for (i, name) in d.candidate_hits.iter().enumerate() {
                let rule = report.rules.entry(name.clone()).or_default();
                rule.hits += 1;
                rule.unique += u64::from(alone);
                match d.truth {
                    Truth::Fraud => rule.fraud_hits += 1,
                    Truth::Legit => rule.legit_hits += 1,
                    Truth::Unknown => {}
                }
                for other in &d.candidate_hits[i + 1..] {
                    let pair = if name <= other {
                        (name.clone(), other.clone())
                    } else {
                        (other.clone(), name.clone())
                    };
                    *pairs.entry(pair).or_default() += 1;
                }
            }
        }
        let mut pairs: Vec<_> = pairs.into_iter().collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        pairs.truncate(CO_FIRING_PAIRS);
        report.co_firing = pairs;
        report
    }

    /// Decisions whose answer the candidate changes.
    pub fn changed(&self) -> u64 {
        (0..3)
            .flat_map(|b| (0..3).map(move |c| (b, c)))
            .filter(|(b, c)| b != c)
            .map(|(b, c)| self.transitions[b][c].count)
            .sum()
    }
}

/// One point of a threshold sweep: what "reject at a score of at least `threshold`" would
/// have done to the decisions the baseline did not reject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPoint {
    pub threshold: f64,
    /// Share of the decisions it would reject; `None` for an empty history.
    pub reject_rate: Option<f64>,
    pub confusion: Confusion,
    /// Fraud it would reject, minor units per currency.
    pub fraud_value_caught: BTreeMap<String, i64>,
}

/// The sweep over `thresholds`, in their order: lets a risk engineer pick a reject threshold
/// from labelled history.
pub fn sweep(decisions: &[Replayed], thresholds: &[f64]) -> Vec<SweepPoint> {
    let scored: Vec<&Replayed> = decisions
        .iter()
        .filter(|d| d.baseline != Action::Reject)
        .collect();
    thresholds
        .iter()
        .map(|&threshold| {
            let mut point = SweepPoint {
                threshold,
                reject_rate: None,
                confusion: Confusion::default(),
                fraud_value_caught: BTreeMap::new(),
            };
            let mut rejected = 0u64;
            for d in &scored {
                let reject = d.candidate_score >= threshold;
                rejected += u64::from(reject);
                point.confusion.add(reject, d.truth);
                if reject
                    && d.truth == Truth::Fraud
                    && let Some((currency, minor)) = &d.amount
                {
                    *point
                        .fraud_value_caught
                        .entry(currency.clone())
                        .or_default() += minor;
                }
            }
            point.reject_rate = Confusion::ratio(rejected, scored.len() as u64);
            point
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replayed(
        id: &str,
        baseline: Action,
        candidate: Action,
        truth: Truth,
        usd_cents: i64,
        hits: &[&str],
    ) -> Replayed {
        Replayed {
            decision_id: id.into(),
            amount: Some(("USD".into(), usd_cents)),
            baseline,
            candidate,
            truth,
            candidate_score: match candidate {
                Action::Reject => 90.0,
                Action::Challenge => 50.0,
                _ => 10.0,
            },
            candidate_hits: hits.iter().map(|h| (*h).to_owned()).collect(),
        }
    }

    fn history() -> Vec<Replayed> {
        use Action::{Accept, Challenge, Reject};
        vec![
            replayed(
                "d1",
                Accept,
                Reject,
                Truth::Fraud,
                10_000,
                &["velocity", "geo"],
            ),
            replayed("d2", Accept, Reject, Truth::Legit, 2_500, &["velocity"]),
            replayed("d3", Accept, Accept, Truth::Fraud, 700, &[]),
            replayed("d4", Accept, Challenge, Truth::Unknown, 1_200, &["geo"]),
            replayed("d5", Accept, Accept, Truth::Legit, 300, &[]),
            replayed(
                "d6",
                Reject,
                Reject,
                Truth::Unknown,
                9_900,
                &["velocity", "geo"],
            ),
            replayed("d7", Challenge, Accept, Truth::Legit, 400, &[]),
        ]
    }

    #[test]
    fn the_matrix_counts_sums_and_shows_what_changed() {
        let r = Report::build(&history());
        assert_eq!(r.replayed, 7);
        assert_eq!(r.transitions[0][2].count, 2, "accept → reject");
        assert_eq!(r.transitions[0][2].amount["USD"], 12_500);
        assert_eq!(r.transitions[0][2].examples, ["d1", "d2"]);
        assert_eq!(r.transitions[0][0].count, 2);
        assert!(
            r.transitions[0][0].examples.is_empty(),
            "unchanged cells keep no examples"
        );
        assert_eq!(r.transitions[1][0].examples, ["d7"]);
        assert_eq!(r.changed(), 4);
        assert_eq!(r.unlabelled, 2);
    }

    #[test]
    fn labels_score_both_sides_without_the_baselines_rejections() {
        let r = Report::build(&history());
        assert_eq!(r.baseline_rejected, 1, "d6 is reported apart");
        // Labelled, not baseline-rejected: d1 fraud, d2 legit, d3 fraud, d5 legit, d7 legit.
        let c = r.candidate.at_reject;
        assert_eq!(
            (
                c.true_positive,
                c.false_positive,
                c.false_negative,
                c.true_negative
            ),
            (1, 1, 1, 2)
        );
        assert_eq!(c.precision(), Some(0.5));
        assert_eq!(c.recall(), Some(0.5));
        assert_eq!(c.f1(), Some(0.5));
        assert_eq!(c.false_positive_rate(), Some(1.0 / 3.0));
        let b = r.baseline.at_challenge_or_reject;
        assert_eq!(
            (b.true_positive, b.false_positive),
            (0, 1),
            "d7 was challenged"
        );
        assert_eq!(
            r.baseline.at_reject.precision(),
            None,
            "it rejected nothing labelled"
        );
        assert_eq!(r.candidate.fraud_value_stopped["USD"], 10_000);
        assert_eq!(r.candidate.legit_value_declined["USD"], 2_500);
        assert!(r.baseline.fraud_value_stopped.is_empty());
    }

    #[test]
    fn rules_count_hits_what_only_they_caught_and_who_fires_together() {
        let r = Report::build(&history());
        let velocity = &r.rules["velocity"];
        assert_eq!((velocity.hits, velocity.unique), (3, 1), "alone only on d2");
        assert_eq!((velocity.fraud_hits, velocity.legit_hits), (1, 1));
        assert_eq!(velocity.precision(), Some(0.5));
        let geo = &r.rules["geo"];
        assert_eq!((geo.hits, geo.unique), (3, 1), "alone only on d4");
        assert_eq!(r.co_firing, [(("geo".into(), "velocity".into()), 2)]);
    }

    #[test]
    fn the_sweep_trades_recall_for_false_positives() {
        let points = sweep(&history(), &[5.0, 40.0, 80.0, 100.0]);
        let at = |i: usize| &points[i];
        // Six decisions are scored (d6, rejected by the baseline, is not).
        assert_eq!(at(0).reject_rate, Some(1.0));
        assert_eq!(at(0).confusion.recall(), Some(1.0));
        assert_eq!(
            at(1).reject_rate,
            Some(3.0 / 6.0),
            "d1, d2 and d4 score 50 or more"
        );
        assert_eq!(at(2).confusion.true_positive, 1);
        assert_eq!(at(2).confusion.false_positive, 1);
        assert_eq!(at(2).fraud_value_caught["USD"], 10_000);
        assert_eq!(at(3).reject_rate, Some(0.0));
        assert_eq!(at(3).confusion.recall(), Some(0.0));
        assert_eq!(sweep(&[], &[1.0])[0].reject_rate, None);
    }

    #[test]
    fn an_empty_history_is_an_empty_report() {
        let r = Report::build(&[]);
        assert_eq!((r.replayed, r.changed()), (0, 0));
        assert_eq!(r.candidate.at_reject.recall(), None);
    }
}
