//! A shadow rollout summarised like a backtest: the live set's answers against the shadow
//! candidate's, as recorded on each decision of the run so far, with the labels.

use chrono::{DateTime, Utc};

use super::labels::{Judged, LabelPolicy};
use super::report::{Replayed, ReportBuilder};
use crate::action::Action;
use crate::feedback::LabelKind;

/// One decision of a shadow run, as its stored row recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowRow {
    pub decision_id: String,
    pub created_at: DateTime<Utc>,
    /// What the live set answered.
    pub action: Action,
    pub shadow_action: Action,
    pub shadow_score: f64,
    /// ISO 4217 code and minor units, when the decision carried an amount.
    pub amount: Option<(String, i64)>,
    /// The shadow set's modules that fired.
    pub hits: Vec<String>,
    /// The latest label given up to the summary's `as_of`.
    pub label: Option<LabelKind>,
}

/// Folds shadow rows into `into`, with the labels judged at `as_of` by the default policy.
pub fn fold(row: ShadowRow, as_of: DateTime<Utc>, into: &mut ReportBuilder) {
    into.coverage().read += 1;
    let judged = LabelPolicy::default().judge(row.label, row.created_at, as_of);
    if judged == Judged::Excluded {
        into.coverage().excluded_labels += 1;
    }
    into.add(&Replayed {
        decision_id: row.decision_id,
        amount: row.amount,
        baseline: row.action,
        candidate: row.shadow_action,
        truth: judged.truth(),
        candidate_score: row.shadow_score,
        candidate_hits: row.hits,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::report::Report;

    fn summarise(rows: impl IntoIterator<Item = ShadowRow>, as_of: DateTime<Utc>) -> Report {
        let mut b = ReportBuilder::new(&[]);
        for row in rows {
            fold(row, as_of, &mut b);
        }
        b.finish()
    }

    fn row(
        id: &str,
        live: Action,
        shadow: Action,
        hits: &[&str],
        label: Option<LabelKind>,
    ) -> ShadowRow {
        ShadowRow {
            decision_id: id.into(),
            created_at: Utc::now(),
            action: live,
            shadow_action: shadow,
            shadow_score: 10.0,
            amount: Some(("EUR".into(), 1_000)),
            hits: hits.iter().map(|h| (*h).to_owned()).collect(),
            label,
        }
    }

    #[test]
    fn the_live_set_is_the_baseline_and_the_shadow_the_candidate() {
        use Action::{Accept, Reject};
        let r = summarise(
            [
                row("a", Accept, Reject, &["geo"], Some(LabelKind::Fraud)),
                row("b", Accept, Accept, &[], None),
                row(
                    "c",
                    Accept,
                    Reject,
                    &["geo", "velocity"],
                    Some(LabelKind::Legit),
                ),
            ],
            Utc::now(),
        );
        let moved = r.cell(Accept, Reject).expect("cell");
        assert_eq!((moved.count, moved.examples.len()), (2, 2));
        assert_eq!(moved.amount["EUR"], 2_000);
        assert_eq!(r.rules["geo"].hits, 2);
        assert_eq!(r.rules["geo"].unique, 1);
        assert_eq!(r.candidate.at_reject.counts.true_positive, 1);
        assert_eq!(r.candidate.at_reject.counts.false_positive, 1);
        assert_eq!((r.coverage.read, r.coverage.unlabelled), (3, 1));
    }
}
