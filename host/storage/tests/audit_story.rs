//! The audit trail's stories, on every backend: each audited change writes exactly one entry
//! naming its actor, a no-op writes none, a change whose entry cannot be written is not made
//! at all (the crash story: the entry is written in the change's transaction, so a failure
//! between the two — here a trigger refusing the audit insert — leaves neither), and the log
//! filters and pages.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::audit::{Actor, AuditEntry, AuditFilter, action};
use arbiter_engine::feedback::{
    JobStatus, LabelKind, LabelSource, ModelSlot, NewLabel, Resolution, ResolveResult, Review,
    ReviewOutcome, ReviewStatus, TrainingJob,
};
use arbiter_engine::keys::Scope;
use arbiter_engine::lists::{ListKind, ListName};
use arbiter_engine::policy_set::{Thresholds, Weights};
use arbiter_engine::registry::{RolloutMode, RolloutStatus};
use arbiter_engine::store::{ModuleInsert, Store};
use chrono::{Duration, Utc};
use support::backends::{TestDb, backends};
use support::fixtures::{actor, api_key, decision, list_entry, now};
use support::registry::{policy_sets, precompiled, sha256, upload, wasm};

on_every_backend!(every_change_writes_one_entry_by_its_actor);
on_every_backend!(the_log_filters_and_pages);

/// The whole log, oldest first.
async fn log(store: &dyn Store) -> Vec<AuditEntry> {
    let mut all = store
        .list_audit(&AuditFilter::default(), 500)
        .await
        .expect("audit");
    all.reverse();
    all
}

fn actions(entries: &[AuditEntry]) -> Vec<(&str, &str)> {
    entries
        .iter()
        .map(|e| (e.action.as_str(), e.target.as_str()))
        .collect()
}

fn resolution() -> Resolution {
    Resolution {
        outcome: ReviewOutcome::Reject,
        label: LabelKind::Fraud,
        reviewer: "ana".into(),
        note: None,
    }
}

fn label(decision_id: &str, chargeback: &str) -> NewLabel {
    NewLabel {
        decision_id: decision_id.into(),
        kind: LabelKind::Chargeback,
        source: LabelSource::Chargeback,
        external_id: Some(chargeback.into()),
        note: None,
    }
}

fn job() -> TrainingJob {
    TrainingJob {
        job_id: TrainingJob::generate_id(),
        status: JobStatus::Running,
        created_by: actor().id,
        created_at: Utc::now(),
        finished_at: None,
        model_version: None,
        error: None,
    }
}

mod stories {
    use super::*;

    pub async fn every_change_writes_one_entry_by_its_actor(store: Arc<dyn Store>) {
        let by = actor();
        let key = api_key("key_new", &[Scope::Decide], 0);
        store.insert_key(&key, &by).await.expect("key");
        store.revoke_key(&key.id, now(), &by).await.expect("revoke");
        store
            .revoke_key(&key.id, now(), &by)
            .await
            .expect("again: a no-op");

        let entry = list_entry("le_1", ListName::Block, ListKind::Email, "a@b.example", 0);
        store
            .insert_list_entry(&entry, now(), &by)
            .await
            .expect("add");
        store
            .insert_list_entry(&entry, now(), &by)
            .await
            .expect("twin: a no-op");
        assert!(store.delete_list_entry("le_1", &by).await.expect("remove"));
        assert!(
            !store
                .delete_list_entry("le_1", &by)
                .await
                .expect("gone: a no-op")
        );

        let bytes = wasm(1, 64);
        assert!(matches!(
            upload(&*store, "geo", &bytes).await,
            ModuleInsert::Created(_)
        ));
        let again = upload(&*store, "geo", &bytes).await;
        assert!(
            matches!(again, ModuleInsert::Existing(_)),
            "same bytes: a no-op"
        );
        policy_sets(&*store, 2).await;
        let started = store
            .start_rollout(1, 2, 10, RolloutMode::Live, None, &by)
            .await
            .expect("start");
        let rollout = match started {
            arbiter_engine::store::RolloutStart::Started(r) => r,
            other => panic!("nothing was active: {other:?}"),
        };
        let system = Actor::system();
        let ended = store
            .end_rollout(
                rollout.id,
                RolloutStatus::RolledBack,
                Some("guard"),
                &system,
            )
            .await
            .expect("end");
        assert!(ended.is_some());
        let again = store
            .end_rollout(rollout.id, RolloutStatus::Promoted, None, &by)
            .await
            .expect("ended: a no-op");
        assert!(again.is_none());

        let job = job();
        store.insert_job(&job, &by).await.expect("job");
        let model = serde_json::json!({"w": [1.0]});
        let v = store
            .insert_model_version(&model, Some(&job.job_id), &by)
            .await
            .expect("model");
        store
            .set_model_slot(ModelSlot::Shadow, Some(v.version), &by)
            .await
            .expect("shadow");
        store
            .set_model_slot(ModelSlot::Shadow, None, &by)
            .await
            .expect("stop");

        let d = decision("audit-1");
        store
            .insert_decisions(std::slice::from_ref(&d))
            .await
            .expect("decision");
        let review_id = Review::id_for(&d.decision_id.0);
        for _ in 0..2 {
            store
                .resolve_review(&review_id, &resolution(), &by, Utc::now())
                .await
                .expect("resolve (the second: a no-op)");
        }
        store
            .insert_label(&label(&d.decision_id.0, "cb_1"), &by)
            .await
            .expect("label");
        store
            .insert_label(&label(&d.decision_id.0, "cb_1"), &by)
            .await
            .expect("duplicate: a no-op");

        let entries = log(&*store).await;
        let job_target = job.job_id.as_str();
        let version = v.version.to_string();
        let mut expected = vec![
            (action::KEY_CREATE, "key_new"),
            (action::KEY_REVOKE, "key_new"),
            (action::LIST_ADD, "le_1"),
            (action::LIST_REMOVE, "le_1"),
            (action::POLICY_UPLOAD, "geo@1"),
            (action::POLICY_SET_CREATE, "policy_set@1"),
            (action::POLICY_SET_CREATE, "policy_set@2"),
            (action::POLICY_SET_ACTIVATE, "policy_set@1"),
        ];
        let rollout_target = format!("rollout@{}", rollout.id);
        expected.extend([
            (action::ROLLOUT_START, rollout_target.as_str()),
            (action::ROLLOUT_AUTO_ROLLBACK, rollout_target.as_str()),
            (action::MODEL_TRAIN, job_target),
            (action::MODEL_CREATE, version.as_str()),
            (action::MODEL_SHADOW, version.as_str()),
            (action::MODEL_SHADOW_STOP, "shadow"),
            (action::REVIEW_RESOLVE, review_id.as_str()),
        ]);
        let label_entry = entries.last().expect("entries");
        assert_eq!(label_entry.action, action::LABEL_CREATE);
        assert_eq!(label_entry.detail["external_id"], "cb_1");
        assert_eq!(
            actions(&entries[..entries.len() - 1]),
            expected,
            "{entries:#?}"
        );
        for e in &entries {
            let want = if e.action == action::ROLLOUT_AUTO_ROLLBACK {
                &system
            } else {
                &by
            };
            assert_eq!((&e.actor, &e.actor_id), (&want.name, &want.id), "{e:?}");
        }
        let key_entry = &entries[0];
        assert_eq!(key_entry.detail["scopes"], serde_json::json!(["decide"]));
        assert!(
            !key_entry.detail.to_string().contains(&key.hash),
            "no credential in the log"
        );
        assert!(
            !entries[2].detail.to_string().contains("a@b.example"),
            "the listed value stays in the list"
        );
    }

    pub async fn the_log_filters_and_pages(store: Arc<dyn Store>) {
        let ops = actor();
        let analyst = Actor {
            id: "key_2".into(),
            name: "fraud analyst".into(),
        };
        for i in 0..6 {
            let by = if i % 2 == 0 { &ops } else { &analyst };
            let id = format!("le_{i}");
            let entry = list_entry(
                &id,
                ListName::Watch,
                ListKind::Ip,
                &format!("10.0.0.{i}"),
                0,
            );
            store
                .insert_list_entry(&entry, now(), by)
                .await
                .expect("add");
        }
        let middle = log(&*store).await[3].at;
        assert!(store.delete_list_entry("le_5", &ops).await.expect("remove"));
        let all = log(&*store).await;
        assert_eq!(all.len(), 7);

        let page = |filter: AuditFilter, limit: u32| {
            let store = Arc::clone(&store);
            async move { store.list_audit(&filter, limit).await.expect("filtered") }
        };
        let targets = |entries: Vec<AuditEntry>| -> Vec<String> {
            entries.into_iter().map(|e| e.target).collect()
        };
        let by_name = AuditFilter {
            actor: Some("fraud analyst".into()),
            ..AuditFilter::default()
        };
        assert_eq!(targets(page(by_name, 10).await), ["le_5", "le_3", "le_1"]);
        let removals = AuditFilter {
            action: Some(action::LIST_REMOVE.into()),
            ..AuditFilter::default()
        };
        let removed = page(removals, 10).await;
        assert_eq!(targets(removed.clone()), ["le_5"]);
        assert_eq!(removed[0].actor, "risk team");
        let one_target = AuditFilter {
            target: Some("le_5".into()),
            ..AuditFilter::default()
        };
        assert_eq!(page(one_target, 10).await.len(), 2, "added, then removed");
        let since = AuditFilter {
            from: Some(middle),
            ..AuditFilter::default()
        };
        let recent = page(since, 10).await;
        assert!(recent.iter().all(|e| e.at >= middle));
        assert!(recent.len() >= 4 && recent.len() < 7, "{recent:?}");
        let before = AuditFilter {
            to: Some(all[0].at + Duration::microseconds(1)),
            ..AuditFilter::default()
        };
        assert!(page(before, 10).await.iter().all(|e| e.at <= all[0].at));

        // Pages of three, newest first, each starting below the last id of the one before.
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let filter = AuditFilter {
                before_id: cursor,
                ..AuditFilter::default()
            };
            let entries = page(filter, 3).await;
            if entries.is_empty() {
                break;
            }
            cursor = entries.last().map(|e| e.id);
            seen.extend(entries);
        }
        let newest_first: Vec<_> = all.into_iter().rev().collect();
        assert_eq!(seen, newest_first);
    }
}

/// Makes every audit insert fail, as a crash between the change and its entry would.
async fn refuse_audit_writes(db: &TestDb) {
    let sql = if db.name == "sqlite" {
        "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log \
         BEGIN SELECT RAISE(ABORT, 'audit write refused'); END;"
    } else {
        "CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'audit write refused'; END $$; \
         CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log \
         FOR EACH ROW EXECUTE FUNCTION audit_refused();"
    };
    db.execute_raw(sql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_entry_cannot_be_written_is_not_made() {
    for db in backends().await {
        eprintln!(
            "a_change_whose_entry_cannot_be_written_is_not_made: {}",
            db.name
        );
        let store = db.store.clone();
        let by = actor();
        // What the changes below act on, made while the log still takes entries.
        policy_sets(&*store, 2).await;
        let old_key = api_key("key_old", &[Scope::Decide], 0);
        store.insert_key(&old_key, &by).await.expect("key");
        let listed = list_entry("le_old", ListName::Block, ListKind::Ip, "10.1.1.1", 0);
        store
            .insert_list_entry(&listed, now(), &by)
            .await
            .expect("list");
        let d = decision("audit-crash");
        store
            .insert_decisions(std::slice::from_ref(&d))
            .await
            .expect("decision");
        let review_id = Review::id_for(&d.decision_id.0);
        let before = log(&*store).await;

        refuse_audit_writes(&db).await;
        let fails = |what: &str, failed: bool| assert!(failed, "{}: {what} succeeded", db.name);
        let new_key = api_key("key_new", &[Scope::Admin], 0);
        fails("key create", store.insert_key(&new_key, &by).await.is_err());
        fails(
            "key revoke",
            store.revoke_key("key_old", now(), &by).await.is_err(),
        );
        let entry = list_entry("le_new", ListName::Block, ListKind::Ip, "10.2.2.2", 0);
        fails(
            "list add",
            store.insert_list_entry(&entry, now(), &by).await.is_err(),
        );
        fails(
            "list remove",
            store.delete_list_entry("le_old", &by).await.is_err(),
        );
        let bytes = wasm(7, 64);
        let upload = store
            .insert_module(
                "geo",
                &sha256(&bytes),
                64,
                &bytes,
                &precompiled(&bytes),
                None,
                &by,
            )
            .await;
        fails("module upload", upload.is_err());
        let set = store
            .insert_policy_set(Thresholds::default(), Weights::default(), &[], &by)
            .await;
        fails("policy set", set.is_err());
        fails(
            "activate",
            store.set_active_policy_set(2, &by).await.is_err(),
        );
        let rollout = store
            .start_rollout(1, 2, 10, RolloutMode::Live, None, &by)
            .await;
        fails("rollout", rollout.is_err());
        let job = job();
        fails("training job", store.insert_job(&job, &by).await.is_err());
        let model = store
            .insert_model_version(&serde_json::json!({}), None, &by)
            .await;
        fails("model", model.is_err());
        let slot = store.set_model_slot(ModelSlot::Shadow, Some(1), &by).await;
        fails("model slot", slot.is_err());
        let resolved = store
            .resolve_review(&review_id, &resolution(), &by, Utc::now())
            .await;
        fails("review", resolved.is_err());
        let labelled = store
            .insert_label(&label(&d.decision_id.0, "cb_9"), &by)
            .await;
        fails("label", labelled.is_err());

        // Nothing of any of them is there.
        let keys = store.all_keys().await.expect("keys");
        assert!(keys.iter().all(|k| k.id != "key_new"), "{}", db.name);
        let old = keys.iter().find(|k| k.id == "key_old").expect("old key");
        assert_eq!(old.revoked_at, None, "{}", db.name);
        let entries = store.find_list_entries(None, None).await.expect("lists");
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["le_old"], "{}", db.name);
        assert_eq!(store.list_modules().await.expect("modules"), vec![]);
        assert_eq!(store.get_policy_set(3).await.expect("set 3"), None);
        assert_eq!(store.active_policy_set().await.expect("active"), Some(1));
        assert_eq!(store.current_rollout().await.expect("rollout"), None);
        assert_eq!(store.get_job(&job.job_id).await.expect("job"), None);
        assert_eq!(store.list_model_versions().await.expect("models"), vec![]);
        assert_eq!(store.model_slots().await.expect("slots"), (None, None));
        let review = store
            .get_review(&review_id)
            .await
            .expect("review")
            .expect("open");
        assert_eq!(review.status, ReviewStatus::Open, "{}", db.name);
        let labels = store
            .labels_for_decision(&d.decision_id.0)
            .await
            .expect("labels");
        assert_eq!(labels, vec![], "{}", db.name);
        assert_eq!(log(&*store).await, before, "{}: no entry either", db.name);

        // Once the log takes entries again, the same changes go through whole.
        let drop = if db.name == "sqlite" {
            "DROP TRIGGER audit_refused"
        } else {
            "DROP TRIGGER audit_refused ON audit_log"
        };
        db.execute_raw(drop).await;
        let again = store
            .resolve_review(&review_id, &resolution(), &by, Utc::now())
            .await
            .expect("resolve");
        assert!(matches!(again, ResolveResult::Resolved(_)), "{}", db.name);
        assert_eq!(log(&*store).await.len(), before.len() + 1, "{}", db.name);
    }
}
