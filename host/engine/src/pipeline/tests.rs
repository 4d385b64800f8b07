use chrono::Utc;

use super::*;
use crate::clock::SystemClock;
use crate::lists::{ListEntry, ListKind};
use crate::money::RateTable;
use crate::policy_set::{FailMode, Thresholds, Weights};
use crate::stages::{Fault, FaultKind, ModuleResult, NoModules, ReasonCode};
use crate::velocity::InProcessVelocity;

/// A rule evaluator with fixed results, standing in for a compiled module set.
struct Fixed(Vec<ModuleResult>);

impl RuleEvaluator for Fixed {
    fn evaluate(&self, _ctx: &EnrichedContext) -> Vec<ModuleResult> {
        self.0.clone()
    }
}

fn rule(action: Action, score: f64, fault: Option<FaultKind>, mode: FailMode) -> ModuleResult {
    ModuleResult {
        name: "r".into(),
        version: 3,
        fail_mode: mode,
        action,
        score,
        reasons: vec![ReasonCode {
            code: "r.hit".into(),
            detail: None,
        }],
        fault: fault.map(|kind| Fault {
            kind,
            message: "boom".into(),
        }),
        fuel_used: 10,
        snoozed: false,
    }
}

fn pipeline(entries: Vec<ListEntry>, rules: Arc<dyn RuleEvaluator>) -> Pipeline {
    let state = PipelineState {
        lists: Arc::new(ArcSwap::from_pointee(ListSnapshot::new(entries))),
        policy: Arc::new(ArcSwap::from_pointee(PolicyRouting::stable_only(Arc::new(
            ActivePolicy {
                set: PolicySet {
                    version: 7,
                    thresholds: Thresholds::default(),
                    weights: Weights::default(),
                    policies: vec![],
                },
                rules,
            },
        )))),
        model: Arc::new(ArcSwapOption::empty()),
        shadow_model: Arc::new(ArcSwapOption::empty()),
        rates: Arc::new(ArcSwap::from_pointee(RateTable::default())),
        snoozes: Arc::default(),
    };
    Pipeline::new(
        state,
        Arc::new(InProcessVelocity::new(1 << 20)),
        None,
        Arc::new(SystemClock),
    )
}

fn request(id: &str) -> DecisionRequest {
    DecisionRequest::from_slice(
        format!(
            r#"{{"request_id":"{id}","event":"payment.authorize","amount":{{"value":"10.00","currency":"USD"}},
                "user":{{"id":"u-1"}},"device":{{"id":"dev-9"}}}}"#
        )
        .as_bytes(),
    )
    .expect("valid")
}

fn block(kind: ListKind, value: &str, list: ListName) -> ListEntry {
    ListEntry {
        id: "le_1".into(),
        list,
        kind,
        value: value.into(),
        reason: "known bad".into(),
        expires_at: None,
        created_at: Utc::now(),
        created_by: "k".into(),
    }
}

#[tokio::test]
async fn no_rules_no_lists_accepts_with_the_set_version() {
    let d = pipeline(vec![], Arc::new(NoModules))
        .decide(&request("a"))
        .await
        .expect("decides");
    assert_eq!(d.action, Action::Accept);
    assert_eq!(d.policy_set_version, 7);
    assert!(d.reasons.is_empty());
}

#[tokio::test]
async fn block_short_circuits_to_reject_even_when_rules_would_accept() {
    let p = pipeline(
        vec![block(ListKind::Device, "dev-9", ListName::Block)],
        Arc::new(Fixed(vec![rule(Action::Accept, 0.0, None, FailMode::Open)])),
    );
    let d = p.decide(&request("b")).await.expect("decides");
    assert_eq!(d.action, Action::Reject);
    assert!(d.layers.short_circuited);
    assert!(
        d.layers.rules.is_empty(),
        "rules must not run after a block"
    );
    assert_eq!(d.reasons[0].code, "list.block.device");
}

#[tokio::test]
async fn allow_short_circuits_to_accept() {
    let p = pipeline(
        vec![block(ListKind::User, "u-1", ListName::Allow)],
        Arc::new(Fixed(vec![rule(
            Action::Reject,
            100.0,
            None,
            FailMode::Open,
        )])),
    );
    let d = p.decide(&request("c")).await.expect("decides");
    assert_eq!(d.action, Action::Accept);
}

#[tokio::test]
async fn watch_adds_score_and_rules_add_score_into_bands() {
    let p = pipeline(
        vec![block(ListKind::User, "u-1", ListName::Watch)],
        Arc::new(Fixed(vec![rule(Action::None, 25.0, None, FailMode::Open)])),
    );
    let d = p.decide(&request("d")).await.expect("decides");
    // 20 (watch) + 25 (rule) = 45: challenge band.
    assert_eq!(d.score, 45.0);
    assert_eq!(d.action, Action::Challenge);
    assert_eq!(d.context.watch_hits, vec!["list.watch.user".to_string()]);
    let codes: Vec<_> = d.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["list.watch.user", "r.hit", "score.challenge"]);
    assert_eq!(d.reasons[1].source, "r@3");
    let parts = d.layers.score_parts.expect("recorded");
    assert_eq!(
        (parts.lists, parts.rules, parts.graph, parts.model),
        (20.0, 25.0, 0.0, 0.0)
    );
}

#[tokio::test]
async fn rule_action_beats_a_lower_band() {
    let p = pipeline(
        vec![],
        Arc::new(Fixed(vec![rule(Action::Reject, 0.0, None, FailMode::Open)])),
    );
    assert_eq!(
        p.decide(&request("e")).await.expect("decides").action,
        Action::Reject
    );
}

#[tokio::test]
async fn faults_follow_the_fail_mode() {
    let open = pipeline(
        vec![],
        Arc::new(Fixed(vec![rule(
            Action::Reject,
            90.0,
            Some(FaultKind::Trap),
            FailMode::Open,
        )])),
    );
    let d = open.decide(&request("f")).await.expect("decides");
    assert_eq!(d.action, Action::Accept);
    assert!(d.reasons.iter().any(|r| r.code == "rule.fault"));
    let closed = pipeline(
        vec![],
        Arc::new(Fixed(vec![rule(
            Action::Accept,
            0.0,
            Some(FaultKind::OutOfFuel),
            FailMode::Closed,
        )])),
    );
    assert_eq!(
        closed.decide(&request("g")).await.expect("decides").action,
        Action::Challenge
    );
}

#[tokio::test]
async fn velocity_counts_only_committed_decisions() {
    let p = pipeline(vec![], Arc::new(NoModules));
    let first = p.decide(&request("h1")).await.expect("decides");
    assert_eq!(first.context.velocity.user.count_1h, 0);
    // Not committed: a second decision does not see it.
    let second = p.decide(&request("h2")).await.expect("decides");
    assert_eq!(second.context.velocity.user.count_1h, 0);
    p.after_commit(&first).await.expect("records");
    let third = p.decide(&request("h3")).await.expect("decides");
    assert_eq!(third.context.velocity.user.count_1h, 1);
    assert_eq!(third.context.velocity.device.map(|d| d.sum_1h), Some(10.0));
}

fn active(version: i64, rules: Arc<dyn RuleEvaluator>) -> Arc<ActivePolicy> {
    Arc::new(ActivePolicy {
        set: PolicySet {
            version,
            thresholds: Thresholds::default(),
            weights: Weights::default(),
            policies: vec![],
        },
        rules,
    })
}

fn with_candidate(mode: crate::registry::RolloutMode, percent: u8) -> Pipeline {
    let p = pipeline(vec![], Arc::new(NoModules));
    p.state.policy.store(Arc::new(PolicyRouting {
        stable: active(1, Arc::new(NoModules)),
        candidate: Some(crate::routing::CandidateRoute {
            rollout_id: 9,
            policy: active(
                2,
                Arc::new(Fixed(vec![rule(Action::Reject, 0.0, None, FailMode::Open)])),
            ),
            percent,
            mode,
        }),
    }));
    p
}

#[tokio::test]
async fn a_live_candidate_decides_for_its_slice_only() {
    let all = with_candidate(crate::registry::RolloutMode::Live, 100);
    let d = all.decide(&request("r1")).await.expect("decides");
    assert_eq!((d.policy_set_version, d.action), (2, Action::Reject));
    assert_eq!(
        d.rollout.map(|r| r.arm),
        Some(crate::routing::Arm::Candidate)
    );
    let none = with_candidate(crate::registry::RolloutMode::Live, 0);
    let d = none.decide(&request("r2")).await.expect("decides");
    assert_eq!((d.policy_set_version, d.action), (1, Action::Accept));
    assert_eq!(d.rollout.map(|r| r.arm), Some(crate::routing::Arm::Stable));
}

#[tokio::test]
async fn a_shadow_candidate_is_recorded_never_enforced() {
    let p = with_candidate(crate::registry::RolloutMode::Shadow, 100);
    let d = p.decide(&request("s1")).await.expect("decides");
    assert_eq!((d.policy_set_version, d.action), (1, Action::Accept));
    let shadow = d.shadow.expect("shadow result");
    assert_eq!(
        (shadow.policy_set_version, shadow.action),
        (2, Action::Reject)
    );
}

/// A model with a fixed probability.
struct FixedModel(i64, f64);

impl ModelStage for FixedModel {
    fn version(&self) -> i64 {
        self.0
    }
    fn probability(&self, _ctx: &EnrichedContext) -> f64 {
        self.1
    }
}

#[tokio::test]
async fn the_active_model_scores_and_the_shadow_model_is_only_recorded() {
    let p = pipeline(vec![], Arc::new(NoModules));
    p.state
        .shadow_model
        .store(Some(Arc::new(Box::new(FixedModel(9, 0.99)))));
    let shadow_only = p.decide(&request("m1")).await.expect("decides");
    assert_eq!(shadow_only.model_version, None);
    assert_eq!(shadow_only.score, 0.0, "the challenger never scores");
    assert_eq!(
        shadow_only.layers.model_shadow,
        Some(ModelOutcome {
            version: 9,
            probability: 0.99
        })
    );
    p.state
        .model
        .store(Some(Arc::new(Box::new(FixedModel(4, 0.5)))));
    let both = p.decide(&request("m2")).await.expect("decides");
    assert_eq!(both.model_version, Some(4));
    assert_eq!(both.score, 0.5 * Weights::default().model);
    assert_eq!(
        both.layers.score_parts.map(|p| p.model),
        Some(both.score),
        "the model's share is recorded"
    );
    assert_eq!(both.layers.model_shadow.map(|m| m.version), Some(9));
}

#[tokio::test]
async fn a_snoozed_rule_is_recorded_but_counts_for_nothing() {
    let p = pipeline(
        vec![],
        Arc::new(Fixed(vec![rule(
            Action::Reject,
            90.0,
            None,
            FailMode::Closed,
        )])),
    );
    let loud = p.decide(&request("s1")).await.expect("decides");
    assert_eq!(loud.action, Action::Reject);

    p.state
        .snoozes
        .store(Arc::new(crate::snooze::SnoozeSnapshot::new([
            crate::snooze::RuleSnooze {
                id: "snz_1".into(),
                rule: "r".into(),
                kind: ListKind::User,
                value: "u-1".into(),
                reason: "known customer".into(),
                expires_at: Utc::now() + chrono::Duration::days(1),
                created_at: Utc::now(),
                created_by: "key_1".into(),
                created_by_name: "ann".into(),
                revoked_at: None,
            },
        ])));
    let quiet = p.decide(&request("s2")).await.expect("decides");
    assert_eq!(
        quiet.context.snoozed_rules,
        ["r"],
        "the decision records it"
    );
    assert_eq!(quiet.action, Action::Accept);
    assert_eq!(quiet.score, 0.0);
    assert!(
        quiet.reasons.iter().all(|r| r.code != "r.hit"),
        "{:?}",
        quiet.reasons
    );
    let r = &quiet.layers.rules[0];
    assert!(r.snoozed);
    assert_eq!(
        (r.action, r.score),
        (Action::Reject, 90.0),
        "what it said is kept"
    );
}
