//! Builders for the values the stories store. A decision is built the way the engine builds
//! one (a validated request, normalised into its context) and filled with every kind of layer
//! result, so a round trip exercises the whole stored shape.

use std::collections::BTreeSet;

use arbiter_engine::action::Action;
use arbiter_engine::audit::Actor;
use arbiter_engine::context::GraphFeatures;
use arbiter_engine::decision::{Layer, LayerResults, Reason, StageTimings};
use arbiter_engine::keys::{ApiKey, Scope};
use arbiter_engine::lists::{ListEntry, ListKind, ListName};
use arbiter_engine::money::RateTable;
use arbiter_engine::policy_set::{FailMode, ModuleRef};
use arbiter_engine::stages::{Fault, FaultKind, ModuleResult, ReasonCode};
use arbiter_engine::{Decision, DecisionId, DecisionRequest, EnrichedContext};
use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Now, to the microsecond: both backends keep timestamp columns to the microsecond.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The key the stories act as: its name is what the audit log shows.
pub fn actor() -> Actor {
    Actor {
        id: "key_1".into(),
        name: "risk team".into(),
    }
}

/// A fully populated decision for `request_id`, with a fresh decision id.
pub fn decision(request_id: &str) -> Decision {
    let body = serde_json::json!({
        "request_id": request_id,
        "event": "payment.authorize",
        "amount": {"value": "129.99", "currency": "EUR"},
        "user": {"id": "U-42", "account_age_days": 3, "email": "Jane.Doe+x@Example.com"},
        "device": {"id": "Dev-1", "ip": "203.0.113.7", "ip_country": "de"},
        "payment": {"method": "card", "card_fingerprint": "fp_ABC", "card_bin": "424242"},
        "shipping": {"address": "1 Main St, Berlin", "country": "DE"},
        "attributes": {"promo": "SPRING", "items": 3, "ratio": 0.1, "tags": ["a", "é"]}
    });
    let req = DecisionRequest::from_slice(body.to_string().as_bytes()).expect("valid request");
    let mut context = EnrichedContext::normalise(&req, &RateTable::default());
    context.watch_hits = vec!["list.watch.email".into()];
    context.velocity.user.count_1h = 4;
    context.velocity.user.sum_1h = 519.96;
    let graph = GraphFeatures {
        group_entities: 5,
        users_per_device: 2,
        hops_to_fraud: Some(2),
        fraud_share_2hop: 0.3,
        score: 0.7,
        ..GraphFeatures::default()
    };
    context.graph = Some(graph);
    let layers = LayerResults {
        rules: vec![ModuleResult {
            name: "velocity".into(),
            version: 3,
            fail_mode: FailMode::Closed,
            action: Action::Challenge,
            score: 12.5,
            reasons: vec![ReasonCode {
                code: "rule.velocity.user".into(),
                detail: Some("4 in 1h".into()),
            }],
            fault: None,
            fuel_used: 1234,
            snoozed: false,
        }],
        graph: Some(arbiter_engine::stages::GraphOutcome {
            features: graph,
            reasons: Vec::new(),
        }),
        band: Some(Action::Challenge),
        timings: StageTimings {
            enrich_us: 3,
            rules_us: 40,
            ..StageTimings::default()
        },
        ..LayerResults::default()
    };
    Decision {
        decision_id: DecisionId::generate(),
        request_id: request_id.to_owned(),
        body_hash: req.body_hash.clone(),
        action: Action::Challenge,
        // Not exactly representable in decimal: must come back bit-identical all the same.
        score: 0.1 + 0.2 + 40.0 * std::f64::consts::FRAC_1_SQRT_2,
        reasons: vec![Reason {
            layer: Layer::Rule,
            code: "rule.velocity.user".into(),
            source: "velocity@3".into(),
            detail: None,
        }],
        policy_set_version: 1,
        model_version: Some(7),
        // Nanoseconds on purpose: the decision body keeps them.
        created_at: Utc::now(),
        context,
        layers,
        rollout: None,
        shadow: None,
        chain: Default::default(),
    }
}

/// A decision whose only rule module faulted, to tell it apart from [`decision`]'s.
pub fn faulted_decision(request_id: &str) -> Decision {
    let mut d = decision(request_id);
    d.action = Action::Accept;
    d.score = 1.0 / 3.0;
    d.layers.rules[0].fault = Some(Fault {
        kind: FaultKind::OutOfFuel,
        message: "fuel exhausted".into(),
    });
    d
}

pub fn list_entry(id: &str, list: ListName, kind: ListKind, value: &str, age_s: i64) -> ListEntry {
    ListEntry {
        id: id.to_owned(),
        list,
        kind,
        value: value.to_owned(),
        reason: format!("reason for {id}"),
        expires_at: (list == ListName::Watch).then(|| now() + Duration::days(30)),
        created_at: now() - Duration::seconds(age_s),
        created_by: "key_0123456789ab".into(),
    }
}

pub fn api_key(id: &str, scopes: &[Scope], age_s: i64) -> ApiKey {
    ApiKey {
        id: id.to_owned(),
        name: format!("{id} name"),
        hash: format!("{id:0>64}"),
        scopes: scopes.iter().copied().collect::<BTreeSet<_>>(),
        created_by: "key_creator".to_owned(),
        created_at: now() - Duration::seconds(age_s),
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
    }
}

pub fn modules() -> Vec<ModuleRef> {
    vec![
        ModuleRef {
            name: "velocity".into(),
            version: 3,
            fail_mode: FailMode::Closed,
        },
        ModuleRef {
            name: "geo_mismatch".into(),
            version: 1,
            fail_mode: FailMode::Open,
        },
    ]
}

/// Stores a decision of `request_id` made at `at`; `challenge` opens its review. Its id.
pub async fn decided(
    store: &dyn arbiter_engine::store::Store,
    request_id: &str,
    at: DateTime<Utc>,
    challenge: bool,
) -> String {
    let mut d = decision(request_id);
    d.action = if challenge {
        Action::Challenge
    } else {
        Action::Accept
    };
    d.created_at = at;
    store.insert_decisions(&[d.clone()]).await.expect("insert");
    d.decision_id.0
}
