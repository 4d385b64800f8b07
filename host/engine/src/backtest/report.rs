//! A backtest's report: the baseline × candidate transition matrix, scorecards against the
//! labels, per-rule hits, the threshold sweep, coverage and determinism faults.
//!
//! [`ReportBuilder`] accumulates one replayed decision at a time and merges with another
//! builder, so workers can each fold a share of the history and a million decisions never sit
//! in memory at once.
//!
//! Money is summed exactly, in minor units per currency (never converted). Decisions the
//! baseline rejected are counted apart from the label metrics: a rejected payment never
//! happened, so it earns no chargeback and its "legit" or "fraud" is unknowable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::action::Action;

pub use super::labels::Truth;

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
    /// The candidate's rule modules that fired (see [`super::replay::Verdict::fired`]).
    pub candidate_hits: Vec<String>,
}

/// The three final actions, in matrix order (`none` is never a decision's final action; it
/// would count as accept).
const ACTIONS: [Action; 3] = [Action::Accept, Action::Challenge, Action::Reject];

fn index(action: Action) -> usize {
    match action {
        Action::None | Action::Accept => 0,
        Action::Challenge => 1,
        Action::Reject => 2,
    }
}

fn add_money(book: &mut BTreeMap<String, i64>, currency: &str, minor: i64) {
    let sum = book.entry(currency.to_owned()).or_default();
    *sum = sum.saturating_add(minor);
}

fn merge_money(into: &mut BTreeMap<String, i64>, from: BTreeMap<String, i64>) {
    for (currency, minor) in from {
        add_money(into, &currency, minor);
    }
}

/// One cell of the baseline × candidate matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub baseline: Action,
    pub candidate: Action,
    pub count: u64,
    /// Minor units per currency.
    pub amount: BTreeMap<String, i64>,
    /// A few decision ids, to open and look at (changed cells only).
    pub examples: Vec<String>,
}

/// How many example ids a changed cell keeps.
pub const EXAMPLES_PER_CELL: usize = 5;

/// Confusion counts for "flagged" (rejected, or challenged or rejected) against the labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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

    fn merge(&mut self, o: Confusion) {
        self.true_positive += o.true_positive;
        self.false_positive += o.false_positive;
        self.false_negative += o.false_negative;
        self.true_negative += o.true_negative;
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

    /// The counts with their rates, as a report shows them.
    pub fn rated(self) -> RatedConfusion {
        RatedConfusion {
            precision: self.precision(),
            recall: self.recall(),
            f1: self.f1(),
            false_positive_rate: self.false_positive_rate(),
            counts: self,
        }
    }
}

/// Confusion counts and the rates computed from them (`null` where undefined).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RatedConfusion {
    #[serde(flatten)]
    pub counts: Confusion,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub false_positive_rate: Option<f64>,
}

/// One side's results against the labels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// Flagged = rejected.
    pub at_reject: RatedConfusion,
    /// Flagged = challenged or rejected.
    pub at_challenge_or_reject: RatedConfusion,
    /// Fraud it rejected, minor units per currency.
    pub fraud_value_stopped: BTreeMap<String, i64>,
    /// Legitimate payments it rejected, minor units per currency.
    pub legit_value_declined: BTreeMap<String, i64>,
}

impl Scorecard {
    fn add(&mut self, action: Action, truth: Truth, amount: Option<&(String, i64)>) {
        self.at_reject.counts.add(action == Action::Reject, truth);
        self.at_challenge_or_reject
            .counts
            .add(action >= Action::Challenge, truth);
        if action == Action::Reject
            && let Some((currency, minor)) = amount
        {
            match truth {
                Truth::Fraud => add_money(&mut self.fraud_value_stopped, currency, *minor),
                Truth::Legit => add_money(&mut self.legit_value_declined, currency, *minor),
                Truth::Unknown => {}
            }
        }
    }

    fn merge(&mut self, o: Scorecard) {
        self.at_reject.counts.merge(o.at_reject.counts);
        self.at_challenge_or_reject
            .counts
            .merge(o.at_challenge_or_reject.counts);
        merge_money(&mut self.fraud_value_stopped, o.fraud_value_stopped);
        merge_money(&mut self.legit_value_declined, o.legit_value_declined);
    }

    fn rate(&mut self) {
        self.at_reject = self.at_reject.counts.rated();
        self.at_challenge_or_reject = self.at_challenge_or_reject.counts.rated();
    }
}

/// One rule module's part in the candidate's answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleHits {
    pub hits: u64,
    /// Hits where no other module fired: what only this rule caught.
    pub unique: u64,
    /// Its hits on labelled decisions, fraud and legitimate.
    pub fraud_hits: u64,
    pub legit_hits: u64,
    /// Of its labelled hits, the share that was fraud.
    pub precision: Option<f64>,
}

impl RuleHits {
    fn merge(&mut self, o: &RuleHits) {
        self.hits += o.hits;
        self.unique += o.unique;
        self.fraud_hits += o.fraud_hits;
        self.legit_hits += o.legit_hits;
    }
}

/// Two modules that fired on the same decision, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoFiring {
    pub rules: [String; 2],
    pub count: u64,
}

/// How many co-firing pairs a report keeps.
pub const CO_FIRING_PAIRS: usize = 10;

/// One point of the threshold sweep: what "flag at a candidate score of at least
/// `threshold`" would have done to the decisions the baseline did not reject. One grid
/// serves both bands: the point at `t` is what a challenge threshold of `t` flags, and what a
/// reject threshold of `t` rejects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub threshold: f64,
    /// Share of the decisions it would flag; `None` for an empty history.
    pub flag_rate: Option<f64>,
    pub confusion: RatedConfusion,
    /// Fraud it would flag, minor units per currency.
    pub fraud_value_caught: BTreeMap<String, i64>,
    /// Legitimate payments it would flag, minor units per currency.
    pub legit_value_flagged: BTreeMap<String, i64>,
}

/// A replay of the deciding set that did not reproduce the recorded decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeterminismFault {
    pub decision_id: String,
    pub recorded_action: Action,
    pub replayed_action: Action,
    pub recorded_score: f64,
    pub replayed_score: f64,
}

/// How many determinism faults a report lists (all are counted).
pub const DETERMINISM_EXAMPLES: usize = 20;

/// The exactness check: every decision replayed with the set, model and lists that made it
/// is compared with what was recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Determinism {
    /// Decisions the check applied to.
    pub checked: u64,
    /// Of those, how many did not reproduce.
    pub faults: u64,
    pub examples: Vec<DeterminismFault>,
}

/// What the backtest read and what it could use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Decisions in the window (after the checkpoint filter).
    pub read: u64,
    /// Left out by the sample.
    pub sampled_out: u64,
    pub replayed: u64,
    /// Not replayed, per reason.
    pub skipped: BTreeMap<String, u64>,
    /// Replayed without a label.
    pub unlabelled: u64,
    /// Labelled, but younger than the label policy's maturity: counted as unknown.
    pub immature: u64,
    /// Labelled with a kind the label policy neither counts as fraud nor as legitimate.
    pub excluded_labels: u64,
}

/// The aggregate of a backtest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub coverage: Coverage,
    /// All nine baseline × candidate cells, baseline-major, accept → challenge → reject.
    pub transitions: Vec<Transition>,
    /// Decisions whose answer the candidate changes.
    pub changed: u64,
    pub baseline: Scorecard,
    pub candidate: Scorecard,
    /// Decisions the baseline rejected: outside both scorecards (see the module doc).
    pub baseline_rejected: u64,
    pub rules: BTreeMap<String, RuleHits>,
    /// Pairs of modules that fired on the same decision, most frequent first.
    pub co_firing: Vec<CoFiring>,
    pub sweep: Vec<SweepPoint>,
    pub determinism: Determinism,
}

impl Report {
    /// The cell for `baseline` → `candidate`.
    pub fn cell(&self, baseline: Action, candidate: Action) -> Option<&Transition> {
        self.transitions.iter().find(|t| {
            index(t.baseline) == index(baseline) && index(t.candidate) == index(candidate)
        })
    }

    /// Aggregates `decisions` with an empty sweep grid (tests and small callers).
    pub fn build<'a>(decisions: impl IntoIterator<Item = &'a Replayed>) -> Report {
        let mut b = ReportBuilder::new(&[]);
        for d in decisions {
            b.add(d);
        }
        b.finish()
    }
}

mod builder;
#[cfg(test)]
mod tests;

pub use builder::ReportBuilder;
