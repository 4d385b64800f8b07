//! Replay against the real pipeline: decisions made by `Pipeline::decide`, recorded as the
//! store would record them, then folded by a `Backtester`.

use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use chrono::Utc;

use super::*;
use crate::Decision;
use crate::action::Action;
use crate::clock::SystemClock;
use crate::context::EnrichedContext;
use crate::feedback::LabelKind;
use crate::lists::{ListEntry, ListKind, ListName, ListSnapshot};
use crate::money::RateTable;
use crate::pipeline::{ActivePolicy, Pipeline, PipelineState};
use crate::policy_set::{FailMode, PolicySet, Thresholds, Weights};
use crate::request::DecisionRequest;
use crate::routing::PolicyRouting;
use crate::stages::{ModuleResult, ReasonCode, RuleEvaluator};
use crate::velocity::InProcessVelocity;

/// A rule reading the context: rejects amounts above `limit` (major units), and scores
/// every amount by a share of it, so a replay that lost a context field would show.
struct AmountRule {
    limit: f64,
}

impl RuleEvaluator for AmountRule {
    fn evaluate(&self, ctx: &EnrichedContext) -> Vec<ModuleResult> {
        let amount = ctx.amount.as_ref().map_or(0.0, |a| a.approx);
        let over = amount > self.limit;
        vec![ModuleResult {
            name: "amount".into(),
            version: 1,
            fail_mode: FailMode::Open,
            action: if over { Action::Reject } else { Action::None },
            score: amount / 1000.0,
            reasons: over
                .then(|| ReasonCode {
                    code: "amount.high".into(),
                    detail: None,
                })
                .into_iter()
                .collect(),
            fault: None,
            fuel_used: 1,
            snoozed: false,
        }]
    }
}

fn set(version: i64, limit: f64) -> Arc<ActivePolicy> {
    Arc::new(ActivePolicy {
        set: PolicySet {
            version,
            thresholds: Thresholds::default(),
            weights: Weights::default(),
            policies: vec![],
        },
        rules: Arc::new(AmountRule { limit }),
    })
}

fn entry(kind: ListKind, value: &str, list: ListName) -> ListEntry {
    ListEntry {
        id: format!("le_{value}"),
        list,
        kind,
        value: value.into(),
        reason: "seen before".into(),
        expires_at: None,
        created_at: Utc::now(),
        created_by: "k".into(),
    }
}

fn lists() -> Vec<ListEntry> {
    vec![
        entry(ListKind::Device, "dev-blocked", ListName::Block),
        entry(ListKind::User, "u-watched", ListName::Watch),
    ]
}

async fn history(deciding: Arc<ActivePolicy>) -> Vec<Decision> {
    let state = PipelineState {
        lists: Arc::new(ArcSwap::from_pointee(ListSnapshot::new(lists()))),
        policy: Arc::new(ArcSwap::from_pointee(PolicyRouting::stable_only(deciding))),
        model: Arc::new(ArcSwapOption::empty()),
        shadow_model: Arc::new(ArcSwapOption::empty()),
        rates: Arc::new(ArcSwap::from_pointee(RateTable::default())),
        snoozes: Arc::default(),
    };
    let pipeline = Pipeline::new(
        state,
        Arc::new(InProcessVelocity::new(1 << 20)),
        None,
        Arc::new(SystemClock),
    );
    let mut out = Vec::new();
    for (i, (amount, user, device)) in [
        ("20.00", "u-1", "dev-1"),
        ("450.00", "u-2", "dev-2"),
        ("900.00", "u-3", "dev-3"),
        ("35.00", "u-watched", "dev-4"),
        ("60.00", "u-5", "dev-blocked"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = format!(
            r#"{{"request_id":"r{i}","event":"payment.authorize","amount":{{"value":"{amount}","currency":"USD"}},
                "user":{{"id":"{user}"}},"device":{{"id":"{device}"}}}}"#
        );
        let req = DecisionRequest::from_slice(body.as_bytes()).expect("valid");
        out.push(pipeline.decide(&req).await.expect("decides"));
    }
    out
}

fn backtester(candidate: Arc<ActivePolicy>) -> Backtester {
    Backtester {
        candidate,
        baseline: None,
        current_lists: None,
        candidate_model: None,
        labels: LabelPolicy::default(),
        sample: None,
        as_of: Utc::now(),
    }
}

fn run(b: &Backtester, decisions: &[RecordedDecision], labels: &[Option<LabelKind>]) -> Report {
    let mut builder = ReportBuilder::new(&[0.0, 0.5]);
    for (d, l) in decisions
        .iter()
        .zip(labels.iter().chain(std::iter::repeat(&None)))
    {
        b.fold(d, *l, &mut builder);
    }
    builder.finish()
}

fn recorded(decisions: &[Decision]) -> Vec<RecordedDecision> {
    decisions.iter().map(RecordedDecision::of).collect()
}

#[tokio::test]
async fn replaying_the_deciding_set_reproduces_every_decision() {
    let deciding = set(7, 800.0);
    let decisions = recorded(&history(deciding.clone()).await);
    // The history covers the paths a replay must reproduce: a rule's reject, a watch hit's
    // score, a block entry's short circuit.
    assert_eq!(decisions[2].action, Action::Reject);
    assert!(decisions[3].score > 0.0);
    assert_eq!(decisions[4].action, Action::Reject);
    assert!(decisions[4].input.list_verdict.is_some());
    let report = run(&backtester(deciding), &decisions, &[]);
    assert_eq!(report.determinism.checked, 5);
    assert_eq!(
        report.determinism.faults, 0,
        "{:?}",
        report.determinism.examples
    );
    assert_eq!(report.changed, 0);
    assert_eq!(report.coverage.replayed, 5);
}

#[tokio::test]
async fn a_stricter_candidate_moves_the_decisions_it_would_catch() {
    let decisions = recorded(&history(set(7, 800.0)).await);
    let labels = [
        Some(LabelKind::Legit),
        Some(LabelKind::Chargeback),
        None,
        Some(LabelKind::Legit),
    ];
    let report = run(&backtester(set(8, 400.0)), &decisions, &labels);
    assert_eq!(
        report.determinism.checked, 0,
        "another set is not an exactness check"
    );
    let moved = report.cell(Action::Accept, Action::Reject).expect("cell");
    assert_eq!(moved.count, 1);
    assert_eq!(moved.examples, [decisions[1].decision_id.clone()]);
    assert_eq!(moved.amount["USD"], 45_000);
    assert_eq!(report.changed, 1);
    let c = report.candidate.at_reject.counts;
    assert_eq!((c.true_positive, c.true_negative), (1, 2));
    let b = report.baseline.at_reject.counts;
    assert_eq!((b.false_negative, b.true_negative), (1, 2));
    assert_eq!(
        report.rules["amount"].hits,
        5 - 1,
        "every replay but the blocked one"
    );
    assert_eq!(report.baseline_rejected, 2);
}

#[tokio::test]
async fn current_lists_replace_the_recorded_verdict_and_watch_hits() {
    let deciding = set(7, 800.0);
    let decisions = recorded(&history(deciding.clone()).await);
    let mut b = backtester(deciding);
    b.current_lists = Some(Arc::new(ListSnapshot::new(vec![])));
    let report = run(&b, &decisions, &[]);
    // Unblocked, the device's 60.00 is accepted; unwatched, the user's score drops.
    assert_eq!(
        report
            .cell(Action::Reject, Action::Accept)
            .expect("cell")
            .examples,
        [decisions[4].decision_id.clone()]
    );
    assert_eq!(
        report.determinism.checked, 0,
        "other lists are not an exactness check"
    );
    let d3 = &decisions[3];
    let replayed = replay::replay(
        &b.candidate,
        d3,
        replay::Overrides {
            lists: Some((b.current_lists.as_deref().expect("set"), Utc::now())),
            model: None,
        },
    );
    assert!(
        replayed.score < d3.score,
        "{} vs {}",
        replayed.score,
        d3.score
    );
}

#[tokio::test]
async fn a_decision_that_does_not_reproduce_is_a_determinism_fault() {
    let deciding = set(7, 800.0);
    let mut decisions = recorded(&history(deciding.clone()).await);
    decisions[1].score += 1e-9;
    let report = run(&backtester(deciding), &decisions, &[]);
    assert_eq!(report.determinism.faults, 1);
    assert_eq!(
        report.determinism.examples[0].decision_id,
        decisions[1].decision_id
    );
}

#[tokio::test]
async fn a_sample_reads_everything_and_replays_its_share() {
    let decisions = recorded(&history(set(7, 800.0)).await);
    let mut b = backtester(set(7, 800.0));
    b.sample = Some(Sample { rate: 0.5, seed: 3 });
    let report = run(&b, &decisions, &[]);
    let kept = decisions
        .iter()
        .filter(|d| b.sample.expect("set").keeps(&d.decision_id))
        .count() as u64;
    assert_eq!(report.coverage.read, 5);
    assert_eq!(report.coverage.replayed, kept);
    assert_eq!(report.coverage.sampled_out, 5 - kept);
}
