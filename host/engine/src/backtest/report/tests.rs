//! The report's aggregates over a small hand-checked history.

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
