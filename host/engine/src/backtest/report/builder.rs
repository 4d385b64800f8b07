//! [`ReportBuilder`]: folds replayed decisions into a [`Report`] one at a time, and merges
//! with the builders of other workers.

use std::collections::BTreeMap;

use super::{
    ACTIONS, CO_FIRING_PAIRS, CoFiring, Confusion, Coverage, DETERMINISM_EXAMPLES,
    DeterminismFault, EXAMPLES_PER_CELL, Replayed, Report, SweepPoint, Transition, Truth,
    add_money, index, merge_money,
};
use crate::action::Action;

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
