//! One backtest's settings, applied to one recorded decision at a time.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::labels::{Judged, LabelPolicy};
use super::replay::{Overrides, RecordedDecision, RecordedRow, replay};
use super::report::{DeterminismFault, Replayed, ReportBuilder};
use super::spec::Sample;
use crate::feedback::LabelKind;
use crate::lists::ListSnapshot;
use crate::pipeline::ActivePolicy;
use crate::stages::ModelStage;

/// Everything a worker needs to fold decisions into a report. Cheap to clone: workers each
/// hold one.
#[derive(Clone)]
pub struct Backtester {
    pub candidate: Arc<ActivePolicy>,
    /// `None`: each decision's recorded answer is the baseline.
    pub baseline: Option<Arc<ActivePolicy>>,
    /// The lists as they are now, when the backtest asked for them.
    pub current_lists: Option<Arc<ListSnapshot>>,
    /// The model to score the candidate's decisions with, when the backtest named one.
    pub candidate_model: Option<Arc<dyn ModelStage>>,
    pub labels: LabelPolicy,
    pub sample: Option<Sample>,
    /// When the backtest started: the maturity cut-off and the instant current list entries'
    /// expiries are judged at.
    pub as_of: DateTime<Utc>,
}

impl Backtester {
    fn overrides(&self) -> Overrides<'_> {
        Overrides {
            lists: self.current_lists.as_deref().map(|l| (l, self.as_of)),
            model: self.candidate_model.as_deref(),
        }
    }

    /// Whether replaying `set_version` with these overrides must reproduce `d` exactly: the
    /// set, the lists and the model are the ones that made it.
    fn reproduces(&self, set_version: i64, d: &RecordedDecision) -> bool {
        set_version == d.policy_set_version
            && self.current_lists.is_none()
            && self
                .candidate_model
                .as_ref()
                .is_none_or(|m| Some(m.version()) == d.model_version)
    }

    /// Decodes a stored row and folds it; a row whose replay input does not decode is read
    /// and skipped as `unreadable` (one corrupt row does not sink a month's backtest).
    pub fn fold_row(&self, row: RecordedRow, into: &mut ReportBuilder) {
        match row.decode() {
            Ok((d, label)) => self.fold(&d, label, into),
            Err(_) => {
                into.coverage().read += 1;
                *into
                    .coverage()
                    .skipped
                    .entry("unreadable".to_owned())
                    .or_default() += 1;
            }
        }
    }

    /// Folds one decision, whose latest label is `latest`, into `into`.
    pub fn fold(&self, d: &RecordedDecision, latest: Option<LabelKind>, into: &mut ReportBuilder) {
        into.coverage().read += 1;
        if let Some(sample) = &self.sample
            && !sample.keeps(&d.decision_id)
        {
            into.coverage().sampled_out += 1;
            return;
        }
        let candidate = replay(&self.candidate, d, self.overrides());
        let baseline = match &self.baseline {
            Some(set) => replay(
                set,
                d,
                Overrides {
                    model: None,
                    ..self.overrides()
                },
            ),
            None => super::replay::Verdict {
                action: d.action,
                score: d.score,
                rules: Vec::new(),
            },
        };
        if self.reproduces(self.candidate.set.version, d) {
            into.check(differs(d, &candidate));
        } else if let Some(set) = &self.baseline
            && set.set.version == d.policy_set_version
            && self.current_lists.is_none()
        {
            into.check(differs(d, &baseline));
        }
        let judged = self.labels.judge(latest, d.created_at, self.as_of);
        match judged {
            Judged::Immature => into.coverage().immature += 1,
            Judged::Excluded => into.coverage().excluded_labels += 1,
            Judged::Known(_) | Judged::Unlabelled => {}
        }
        into.add(&Replayed {
            decision_id: d.decision_id.clone(),
            amount: d.amount(),
            baseline: baseline.action,
            candidate: candidate.action,
            truth: judged.truth(),
            candidate_score: candidate.score,
            candidate_hits: candidate.fired(),
        });
    }
}

/// A determinism fault when `replayed` is not what `d` recorded (the score compared bit for
/// bit: the same function on the same inputs gives the same float).
fn differs(d: &RecordedDecision, replayed: &super::replay::Verdict) -> Option<DeterminismFault> {
    (replayed.action != d.action || replayed.score.to_bits() != d.score.to_bits()).then(|| {
        DeterminismFault {
            decision_id: d.decision_id.clone(),
            recorded_action: d.action,
            replayed_action: replayed.action,
            recorded_score: d.score,
            replayed_score: replayed.score,
        }
    })
}
