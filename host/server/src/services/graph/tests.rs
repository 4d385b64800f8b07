//! Labels through the graph service on a real (SQLite) decision log: the history of each
//! entity of a labelled decision is read along the stored chains, so a takeover of an account
//! with a month of decisions shields the victim's side and marks the attacker's, a chargeback
//! marks the stolen card weakly, and a later `legit` label settles everything back.

use std::sync::Arc;

use arbiter_engine::action::Action;
use arbiter_engine::entity_chain::ChainHeads;
use arbiter_engine::feedback::LabelKind;
use arbiter_engine::money::RateTable;
use arbiter_engine::stages::GraphStage;
use arbiter_engine::store::Store;
use arbiter_engine::{Decision, DecisionId, DecisionRequest, EnrichedContext};
use arbiter_graph::Config;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::GraphService;

/// A payment by `user` on `device` with `card`, shipped to `address`, made at `at`, chained
/// to the earlier decisions of its entities as the decision service chains it.
fn decision(
    heads: &ChainHeads,
    request_id: &str,
    (user, device, card, address): (&str, &str, &str, &str),
    at: DateTime<Utc>,
) -> Decision {
    let body = json!({"request_id": request_id, "event": "payment.authorize",
        "amount": {"value": "40.00", "currency": "USD"},
        "user": {"id": user, "email": format!("{user}@mail.test")},
        "device": {"id": device, "ip": "203.0.113.9"},
        "payment": {"method": "card", "card_fingerprint": card},
        "shipping": {"address": address, "country": "US"}});
    let req = DecisionRequest::from_slice(body.to_string().as_bytes()).expect("valid request");
    let context = EnrichedContext::normalise(&req, &RateTable::default());
    let mut d = Decision {
        decision_id: DecisionId::generate(),
        request_id: request_id.into(),
        body_hash: req.body_hash.clone(),
        action: Action::Accept,
        score: 0.0,
        reasons: Vec::new(),
        policy_set_version: 1,
        model_version: None,
        created_at: at,
        context,
        layers: Default::default(),
        rollout: None,
        shadow: None,
        chain: Default::default(),
    };
    d.chain = heads.advance(&d.context, &d.decision_id.0);
    d
}

const VICTIM: (&str, &str, &str, &str) = ("victim", "victim-phone", "victim-card", "1 Home St");
const TAKEOVER: (&str, &str, &str, &str) =
    ("victim", "attacker-laptop", "victim-card", "9 Drop Rd");

/// A new SQLite store in a temporary directory (kept while the directory lives).
async fn sqlite_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = arbiter_storage::connect(None, dir.path())
        .await
        .expect("open SQLite");
    (dir, store)
}

/// A month of the victim's decisions and then the takeover, stored; the service built on them.
async fn taken_over() -> (tempfile::TempDir, GraphService, Decision) {
    let (dir, store) = sqlite_store().await;
    let heads = ChainHeads::new(1_000);
    let now = Utc::now();
    let mut log: Vec<Decision> = (0..4)
        .map(|i| {
            decision(
                &heads,
                &format!("v-{i}"),
                VICTIM,
                now - Duration::days(30 - 7 * i),
            )
        })
        .collect();
    let takeover = decision(&heads, "ato", TAKEOVER, now - Duration::hours(1));
    log.push(takeover.clone());
    store.insert_decisions(&log).await.expect("store");
    let service = GraphService::rebuild(&store, Config::default())
        .await
        .expect("build");
    (dir, service, takeover)
}

fn view(service: &GraphService, kind: &str, value: &str) -> arbiter_graph::EntityView {
    service
        .entity(kind, value)
        .expect("kind")
        .unwrap_or_else(|| panic!("{kind}:{value} unknown"))
}

fn context(user: &str, device: &str, card: &str) -> EnrichedContext {
    let heads = ChainHeads::new(10);
    decision(
        &heads,
        "probe",
        (user, device, card, "1 Home St"),
        Utc::now(),
    )
    .context
}

#[tokio::test]
async fn a_takeover_label_shields_the_victim_and_marks_the_attacker() {
    let (_dir, service, takeover) = taken_over().await;
    service
        .apply_label(&takeover, LabelKind::AccountTakeover)
        .await;

    for (kind, value) in [
        ("user", "victim"),
        ("card", "victim-card"),
        ("email", "victim@mail.test"),
    ] {
        let v = view(&service, kind, value);
        assert!(v.fraud_mark.is_none() && v.shielded, "{kind}: {v:?}");
    }
    let laptop = view(&service, "device", "attacker-laptop");
    let mark = laptop.fraud_mark.expect("the attacker's device is marked");
    assert_eq!(mark.weight, 1.0);
    assert!(mark.reason.contains("new at that decision"), "{mark:?}");
    assert!(
        view(&service, "address", "9 Drop Rd").fraud_mark.is_some(),
        "the drop address is the attacker's"
    );

    let layer = service.layer();
    let victim = layer.score(&context("victim", "victim-phone", "victim-card"));
    assert!(victim.reasons.is_empty(), "{victim:?}");
    assert_eq!(victim.features.hops_to_fraud, None);
    let next = layer.score(&context("another", "attacker-laptop", "other-card"));
    assert_eq!(next.features.hops_to_fraud, Some(1), "{next:?}");

    // A reviewer finds it was the customer after all.
    service.apply_label(&takeover, LabelKind::Legit).await;
    assert!(
        view(&service, "device", "attacker-laptop")
            .fraud_mark
            .is_none()
    );
    assert!(!view(&service, "user", "victim").shielded);
}

#[tokio::test]
async fn a_fraud_label_marks_the_established_card_weakly_with_its_history() {
    let (_dir, service, takeover) = taken_over().await;
    service.apply_label(&takeover, LabelKind::Chargeback).await;
    let card = view(&service, "card", "victim-card");
    let mark = card.fraud_mark.clone().expect("weakly marked");
    assert!(mark.weight < 1.0 && card.shielded, "{card:?}");
    assert!(
        mark.reason.contains("4 earlier decision(s) since"),
        "the mark records the history: {mark:?}"
    );
    let owner = service
        .layer()
        .score(&context("victim", "victim-phone", "victim-card"));
    assert!(owner.features.score < 0.3, "{owner:?}");
    assert!(
        owner
            .reasons
            .iter()
            .any(|r| r.detail.as_deref().is_some_and(|d| d.contains("weak_mark"))),
        "{owner:?}"
    );
}

/// A restart reads the plans of many labels at once; what it marks must be what applying the
/// same labels one at a time, in order, marks — the reasons too, which name the last label
/// that settled an entity. Forty customers share six devices and four cards over a month; a
/// dozen of their decisions are labelled fraud or takeover (more than a start-up reads at once).
#[tokio::test]
async fn a_restart_marks_what_the_labels_marked_one_at_a_time() {
    use arbiter_engine::audit::Actor;
    use arbiter_engine::feedback::{LabelSource, NewLabel};

    let (_dir, store) = sqlite_store().await;
    let heads = ChainHeads::new(1_000);
    let now = Utc::now();
    let names: Vec<(String, String, String, String)> = (0..40)
        .map(|i| {
            (
                format!("user-{}", i % 25),
                format!("device-{}", i % 6),
                format!("card-{}", i % 4),
                format!("{} Shared St", i % 3),
            )
        })
        .collect();
    let log: Vec<Decision> = names
        .iter()
        .enumerate()
        .map(|(i, (u, d, c, a))| {
            let at = now - Duration::hours(24 * 30 - 17 * i as i64);
            decision(&heads, &format!("r-{i}"), (u, d, c, a), at)
        })
        .collect();
    store.insert_decisions(&log).await.expect("store");
    for (n, d) in log.iter().enumerate().filter(|(i, _)| i % 3 == 1) {
        let kind = if n % 2 == 0 {
            LabelKind::AccountTakeover
        } else {
            LabelKind::Fraud
        };
        let label = NewLabel {
            decision_id: d.decision_id.0.clone(),
            kind,
            source: LabelSource::Analyst,
            external_id: None,
            note: None,
        };
        store
            .insert_label(&label, &Actor::system())
            .await
            .expect("label");
    }
    let labels = store
        .fraud_labelled_decisions(now - Duration::days(90))
        .await
        .expect("labels");
    assert_eq!(labels.len(), 13);
    assert!(labels.len() > super::LABEL_PLANS_AT_ONCE);

    let restarted = GraphService::rebuild(&store, Config::default())
        .await
        .expect("build");
    // The same decisions without labels, then each label applied as it arrives.
    let (_fresh_dir, unlabelled) = sqlite_store().await;
    unlabelled.insert_decisions(&log).await.expect("store");
    let live = GraphService::rebuild(&unlabelled, Config::default())
        .await
        .expect("build");
    for (d, kind) in &labels {
        live.apply_label(d, *kind).await;
    }

    let marks = |service: &GraphService| {
        let mut seen = Vec::new();
        for (u, d, c, a) in &names {
            for (kind, value) in [("user", u), ("device", d), ("card", c), ("address", a)] {
                let v = view(service, kind, value);
                let mark = v.fraud_mark.map(|m| (m.reason, m.weight));
                seen.push((kind, value.clone(), mark, v.shielded));
            }
        }
        seen
    };
    let after_restart = marks(&restarted);
    assert!(
        after_restart.iter().filter(|m| m.2.is_some()).count() >= 10,
        "the labels marked something: {after_restart:?}"
    );
    assert_eq!(after_restart, marks(&live));
}
