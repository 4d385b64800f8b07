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

/// Sweep accumulators at one threshold.
#[derive(Debug, Clone, Default)]
struct SweepAcc {
    flagged: u64,
    confusion: Confusion,
    fraud: BTreeMap<String, i64>,
    legit: BTreeMap<String, i64>,
}

/// Folds replayed decisions into a [`Report`], one at a time.
#[derive(Debug, Clone)]
pub struct ReportBuilder {
    report: Report,
    cells: [[Transition; 3]; 3],
    pairs: BTreeMap<(String, String), u64>,
    thresholds: Vec<f64>,
    sweep: Vec<SweepAcc>,
    /// Decisions the sweep scored (those the baseline did not reject).
    swept: u64,
}

impl ReportBuilder {
    /// A builder whose sweep covers `thresholds`, in their order.
    pub fn new(thresholds: &[f64]) -> ReportBuilder {
        let cells = ACTIONS.map(|b| {
            ACTIONS.map(|c| Transition {
                baseline: b,
                candidate: c,
                count: 0,
                amount: BTreeMap::new(),
                examples: Vec::new(),
            })
        });
        ReportBuilder {
            report: Report::default(),
            cells,
            pairs: BTreeMap::new(),
            thresholds: thresholds.to_vec(),
            sweep: vec![SweepAcc::default(); thresholds.len()],
            swept: 0,
        }
    }

    /// The coverage counters, which the caller keeps (read, sampled out, skipped, …).
    pub fn coverage(&mut self) -> &mut Coverage {
        &mut self.report.coverage
    }

    /// Records a replay of the deciding set that did not reproduce the recorded decision, or
    /// `None` when it did.
    pub fn check(&mut self, fault: Option<DeterminismFault>) {
        let d = &mut self.report.determinism;
        d.checked += 1;
        if let Some(fault) = fault {
            d.faults += 1;
            if d.examples.len() < DETERMINISM_EXAMPLES {
                d.examples.push(fault);
            }
        }
    }

    pub fn add(&mut self, d: &Replayed) {
        let report = &mut self.report;
        report.coverage.replayed += 1;
        let (b, c) = (index(d.baseline), index(d.candidate));
        let cell = &mut self.cells[b][c];
        cell.count += 1;
        if let Some((currency, minor)) = &d.amount {
            add_money(&mut cell.amount, currency, *minor);
        }
        if b != c && cell.examples.len() < EXAMPLES_PER_CELL {
            cell.examples.push(d.decision_id.clone());
        }
        if d.truth == Truth::Unknown {
            report.coverage.unlabelled += 1;
        }
        if d.baseline == Action::Reject {
            report.baseline_rejected += 1;
        } else {
            report.baseline.add(d.baseline, d.truth, d.amount.as_ref());
            report
                .candidate
                .add(d.candidate, d.truth, d.amount.as_ref());
            self.swept += 1;
            for (acc, &threshold) in self.sweep.iter_mut().zip(&self.thresholds) {
                let flagged = d.candidate_score >= threshold;
                acc.flagged += u64::from(flagged);
                acc.confusion.add(flagged, d.truth);
                if flagged && let Some((currency, minor)) = &d.amount {
                    match d.truth {
                        Truth::Fraud => add_money(&mut acc.fraud, currency, *minor),
                        Truth::Legit => add_money(&mut acc.legit, currency, *minor),
                        Truth::Unknown => {}
                    }
                }
            }
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
                *self.pairs.entry(pair).or_default() += 1;
            }
        }
    }

    /// Adds another builder's decisions (built over the same thresholds) to this one's.
    pub fn merge(&mut self, other: ReportBuilder) {
        let o = other.report;
        let r = &mut self.report;
        let (c, oc) = (&mut r.coverage, o.coverage);
        c.read += oc.read;
        c.sampled_out += oc.sampled_out;
        c.replayed += oc.replayed;
        for (why, n) in oc.skipped {
            *c.skipped.entry(why).or_default() += n;
        }
        c.unlabelled += oc.unlabelled;
        c.immature += oc.immature;
        c.excluded_labels += oc.excluded_labels;
        for (row, orow) in self.cells.iter_mut().zip(other.cells) {
            for (cell, ocell) in row.iter_mut().zip(orow) {
                cell.count += ocell.count;
                merge_money(&mut cell.amount, ocell.amount);
                for id in ocell.examples {
                    if cell.examples.len() < EXAMPLES_PER_CELL {
                        cell.examples.push(id);
                    }
                }
            }
        }
        r.baseline.merge(o.baseline);
        r.candidate.merge(o.candidate);
        r.baseline_rejected += o.baseline_rejected;
        for (name, hits) in &o.rules {
            r.rules.entry(name.clone()).or_default().merge(hits);
        }
        for (pair, n) in other.pairs {
            *self.pairs.entry(pair).or_default() += n;
        }
        for (acc, oacc) in self.sweep.iter_mut().zip(other.sweep) {
            acc.flagged += oacc.flagged;
            acc.confusion.merge(oacc.confusion);
            merge_money(&mut acc.fraud, oacc.fraud);
            merge_money(&mut acc.legit, oacc.legit);
        }
        self.swept += other.swept;
        let d = &mut r.determinism;
        d.checked += o.determinism.checked;
        d.faults += o.determinism.faults;
        for f in o.determinism.examples {
            if d.examples.len() < DETERMINISM_EXAMPLES {
                d.examples.push(f);
            }
        }
    }

    pub fn finish(self) -> Report {
        let mut report = self.report;
        report.transitions = self.cells.into_iter().flatten().collect();
        report.changed = report
            .transitions
            .iter()
            .filter(|t| t.baseline != t.candidate)
            .map(|t| t.count)
            .sum();
        report.baseline.rate();
        report.candidate.rate();
        for hits in report.rules.values_mut() {
            hits.precision = Confusion::ratio(hits.fraud_hits, hits.fraud_hits + hits.legit_hits);
        }
        let mut pairs: Vec<_> = self.pairs.into_iter().collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        pairs.truncate(CO_FIRING_PAIRS);
        report.co_firing = pairs
            .into_iter()
            .map(|((a, b), count)| CoFiring {
                rules: [a, b],
                count,
            })
            .collect();
        let swept = self.swept;
        report.sweep = self
            .thresholds
            .iter()
            .zip(self.sweep)
            .map(|(&threshold, acc)| SweepPoint {
                threshold,
                flag_rate: Confusion::ratio(acc.flagged, swept),
                confusion: acc.confusion.rated(),
                fraud_value_caught: acc.fraud,
                legit_value_flagged: acc.legit,
            })
            .collect();
        report
    }
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

    fn cell(r: &Report, b: Action, c: Action) -> &Transition {
        r.cell(b, c).expect("every cell is reported")
    }

    #[test]
    fn the_matrix_counts_sums_and_shows_what_changed() {
        use Action::{Accept, Challenge, Reject};
        let r = Report::build(&history());
        assert_eq!(r.coverage.replayed, 7);
        assert_eq!(r.transitions.len(), 9);
        assert_eq!(cell(&r, Accept, Reject).count, 2, "accept → reject");
        assert_eq!(cell(&r, Accept, Reject).amount["USD"], 12_500);
        assert_eq!(cell(&r, Accept, Reject).examples, ["d1", "d2"]);
        assert_eq!(cell(&r, Accept, Accept).count, 2);
        assert!(
            cell(&r, Accept, Accept).examples.is_empty(),
            "unchanged cells keep no examples"
        );
        assert_eq!(cell(&r, Challenge, Accept).examples, ["d7"]);
        assert_eq!(r.changed, 4);
        assert_eq!(r.coverage.unlabelled, 2);
    }

    #[test]
    fn labels_score_both_sides_without_the_baselines_rejections() {
        let r = Report::build(&history());
        assert_eq!(r.baseline_rejected, 1, "d6 is reported apart");
        // Labelled, not baseline-rejected: d1 fraud, d2 legit, d3 fraud, d5 legit, d7 legit.
        let c = r.candidate.at_reject;
        assert_eq!(
            (
                c.counts.true_positive,
                c.counts.false_positive,
                c.counts.false_negative,
                c.counts.true_negative
            ),
            (1, 1, 1, 2)
        );
        assert_eq!(c.precision, Some(0.5));
        assert_eq!(c.recall, Some(0.5));
        assert_eq!(c.f1, Some(0.5));
        assert_eq!(c.false_positive_rate, Some(1.0 / 3.0));
        let b = r.baseline.at_challenge_or_reject.counts;
        assert_eq!(
            (b.true_positive, b.false_positive),
            (0, 1),
            "d7 was challenged"
        );
        assert_eq!(
            r.baseline.at_reject.precision, None,
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
        assert_eq!(velocity.precision, Some(0.5));
        let geo = &r.rules["geo"];
        assert_eq!((geo.hits, geo.unique), (3, 1), "alone only on d4");
        assert_eq!(
            r.co_firing,
            [CoFiring {
                rules: ["geo".into(), "velocity".into()],
                count: 2
            }]
        );
    }

    fn swept(decisions: &[Replayed], thresholds: &[f64]) -> Vec<SweepPoint> {
        let mut b = ReportBuilder::new(thresholds);
        for d in decisions {
            b.add(d);
        }
        b.finish().sweep
    }

    #[test]
    fn the_sweep_trades_recall_for_false_positives() {
        let points = swept(&history(), &[5.0, 40.0, 80.0, 100.0]);
        let at = |i: usize| &points[i];
        // Six decisions are scored (d6, rejected by the baseline, is not).
        assert_eq!(at(0).flag_rate, Some(1.0));
        assert_eq!(at(0).confusion.recall, Some(1.0));
        assert_eq!(
            at(1).flag_rate,
            Some(3.0 / 6.0),
            "d1, d2 and d4 score 50 or more"
        );
        assert_eq!(at(2).confusion.counts.true_positive, 1);
        assert_eq!(at(2).confusion.counts.false_positive, 1);
        assert_eq!(at(2).fraud_value_caught["USD"], 10_000);
        assert_eq!(at(2).legit_value_flagged["USD"], 2_500);
        assert_eq!(at(3).flag_rate, Some(0.0));
        assert_eq!(at(3).confusion.recall, Some(0.0));
        assert_eq!(swept(&[], &[1.0])[0].flag_rate, None);
    }

    #[test]
    fn builders_merged_from_halves_equal_one_builder_over_all() {
        let all = history();
        let thresholds = [5.0, 40.0, 80.0];
        let mut whole = ReportBuilder::new(&thresholds);
        all.iter().for_each(|d| whole.add(d));
        let (mut left, mut right) = (
            ReportBuilder::new(&thresholds),
            ReportBuilder::new(&thresholds),
        );
        all[..3].iter().for_each(|d| left.add(d));
        all[3..].iter().for_each(|d| right.add(d));
        left.check(None);
        right.check(Some(DeterminismFault {
            decision_id: "d4".into(),
            recorded_action: Action::Accept,
            replayed_action: Action::Challenge,
            recorded_score: 1.0,
            replayed_score: 2.0,
        }));
        left.merge(right);
        let merged = left.finish();
        let whole = whole.finish();
        assert_eq!(merged.transitions, whole.transitions);
        assert_eq!(merged.candidate, whole.candidate);
        assert_eq!(merged.rules, whole.rules);
        assert_eq!(merged.sweep, whole.sweep);
        assert_eq!(merged.coverage, whole.coverage);
        assert_eq!(
            (merged.determinism.checked, merged.determinism.faults),
            (2, 1)
        );
    }

    #[test]
    fn an_empty_history_is_an_empty_report() {
        let r = Report::build(&[]);
        assert_eq!((r.coverage.replayed, r.changed), (0, 0));
        assert_eq!(r.candidate.at_reject.recall, None);
        assert_eq!(r.transitions.iter().map(|t| t.count).sum::<u64>(), 0);
    }
}
