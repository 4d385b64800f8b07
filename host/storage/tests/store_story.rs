//! The store story, written once over `Arc<dyn Store>` and run against every backend
//! (`support::backends`): SQLite always, PostgreSQL when `DATABASE_URL` is set.

#[macro_use]
mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use arbiter_engine::keys::Scope;
use arbiter_engine::lists::{ListKind, ListName};
use arbiter_engine::policy_set::{Thresholds, Weights};
use arbiter_engine::store::{AppendOutcome, ListInsert, Store, StoreError};
use support::fixtures::{actor, api_key, decision, faulted_decision, list_entry, modules, now};

on_every_backend!(an_empty_store_answers);
on_every_backend!(a_decision_reads_back_as_written);
on_every_backend!(a_duplicate_request_gets_the_first_decision);
on_every_backend!(duplicates_inside_one_batch);
on_every_backend!(racing_batches_store_one_decision_per_request);
on_every_backend!(list_entries_are_found_by_kind_and_value_and_deleted);
on_every_backend!(a_list_holds_one_entry_per_identity);
on_every_backend!(keys_are_listed_oldest_first);
on_every_backend!(policy_sets_are_numbered_and_one_is_active);
on_every_backend!(decisions_page_in_time_order);

mod stories {
    use super::*;

    pub async fn decisions_page_in_time_order(store: Arc<dyn Store>) {
        let batch: Vec<_> = (0..5).map(|i| decision(&format!("page-{i}"))).collect();
        store.insert_decisions(&batch).await.expect("insert");
        let since = batch[0].created_at - chrono::Duration::seconds(1);
        let first = store.decisions_page(since, None, 3).await.expect("page 1");
        assert_eq!(first.len(), 3);
        let after = first.last().map(|d| d.decision_id.0.clone());
        let rest = store
            .decisions_page(since, after.as_deref(), 3)
            .await
            .expect("page 2");
        assert_eq!(rest.len(), 2);
        let mut ids: Vec<_> = first
            .iter()
            .chain(&rest)
            .map(|d| d.decision_id.0.clone())
            .collect();
        let mut expected: Vec<_> = batch.iter().map(|d| d.decision_id.0.clone()).collect();
        expected.sort();
        assert_eq!(ids, expected, "pages are in decision-id order without gaps");
        ids.dedup();
        assert_eq!(ids.len(), 5);
        let later = batch[0].created_at + chrono::Duration::hours(1);
        assert!(
            store
                .decisions_page(later, None, 10)
                .await
                .expect("none")
                .is_empty()
        );
    }

    pub async fn an_empty_store_answers(store: Arc<dyn Store>) {
        store.ping().await.expect("ping");
        assert_eq!(store.count_decisions().await.expect("count"), 0);
        assert_eq!(
            store.insert_decisions(&[]).await.expect("empty batch"),
            vec![]
        );
        assert_eq!(store.get_decision("dec_missing").await.expect("get"), None);
        assert_eq!(
            store.find_list_entries(None, None).await.expect("find"),
            vec![]
        );
        assert_eq!(store.all_keys().await.expect("keys"), vec![]);
        assert_eq!(store.active_policy_set().await.expect("active"), None);
    }

    pub async fn a_decision_reads_back_as_written(store: Arc<dyn Store>) {
        let d = decision("req-round-trip");
        let out = store
            .insert_decisions(std::slice::from_ref(&d))
            .await
            .expect("insert");
        assert_eq!(out, vec![AppendOutcome::Inserted]);
        let by_id = store
            .get_decision(&d.decision_id.0)
            .await
            .expect("get by id");
        assert_eq!(by_id.as_ref(), Some(&d), "by decision id");
        let by_request = store
            .get_decision_by_request_id(&d.request_id)
            .await
            .expect("get");
        assert_eq!(by_request.as_ref(), Some(&d), "by request id");
        let stored = by_request.expect("stored");
        assert_eq!(
            stored.score.to_bits(),
            d.score.to_bits(),
            "score is bit-identical"
        );
        assert_eq!(
            stored.created_at, d.created_at,
            "nanoseconds survive in the body"
        );
        assert_eq!(
            stored.context, d.context,
            "the enriched context is kept whole"
        );
        assert_eq!(
            store
                .get_decision_by_request_id("req-other")
                .await
                .expect("get"),
            None
        );
        assert_eq!(store.count_decisions().await.expect("count"), 1);
    }

    pub async fn a_duplicate_request_gets_the_first_decision(store: Arc<dyn Store>) {
        let first = decision("req-dup");
        let again = faulted_decision("req-dup");
        assert_eq!(
            store
                .insert_decisions(std::slice::from_ref(&first))
                .await
                .expect("first"),
            vec![AppendOutcome::Inserted]
        );
        let out = store
            .insert_decisions(std::slice::from_ref(&again))
            .await
            .expect("duplicate is no error");
        assert_eq!(out, vec![AppendOutcome::Existing(Box::new(first.clone()))]);
        assert_eq!(
            store.get_decision(&again.decision_id.0).await.expect("get"),
            None
        );
        assert_eq!(store.count_decisions().await.expect("count"), 1);
    }

    pub async fn duplicates_inside_one_batch(store: Arc<dyn Store>) {
        let old = decision("req-old");
        store
            .insert_decisions(std::slice::from_ref(&old))
            .await
            .expect("old");
        let a = decision("req-b");
        let a_again = faulted_decision("req-b");
        let c = decision("req-a");
        let old_again = faulted_decision("req-old");
        let out = store
            .insert_decisions(&[a.clone(), a_again, c, old_again.clone(), old_again])
            .await
            .expect("batch");
        assert_eq!(
            out,
            vec![
                AppendOutcome::Inserted,
                AppendOutcome::Existing(Box::new(a.clone())),
                AppendOutcome::Inserted,
                AppendOutcome::Existing(Box::new(old.clone())),
                AppendOutcome::Existing(Box::new(old)),
            ]
        );
        assert_eq!(store.count_decisions().await.expect("count"), 3);
        assert_eq!(
            store
                .get_decision_by_request_id("req-b")
                .await
                .expect("get"),
            Some(a)
        );
    }

    /// Concurrent batches naming the same requests, in opposite orders (a deadlock if rows
    /// were locked in input order): each request is stored once, the loser gets the winner.
    pub async fn racing_batches_store_one_decision_per_request(store: Arc<dyn Store>) {
        for round in 0..5 {
            let shared: Vec<_> = (0..64).map(|i| format!("race-{round}-{i:02}")).collect();
            let left: Vec<_> = shared.iter().map(|r| decision(r)).collect();
            let right: Vec<_> = shared.iter().rev().map(|r| faulted_decision(r)).collect();
            let (l, r) = tokio::join!(
                spawn_insert(&store, left.clone()),
                spawn_insert(&store, right.clone())
            );
            for (i, request_id) in shared.iter().enumerate() {
                let j = shared.len() - 1 - i;
                let stored = store
                    .get_decision_by_request_id(request_id)
                    .await
                    .expect("get")
                    .expect("stored once");
                match (&l[i], &r[j]) {
                    (AppendOutcome::Inserted, AppendOutcome::Existing(won)) => {
                        assert_eq!(**won, left[i]);
                        assert_eq!(stored, left[i]);
                    }
                    (AppendOutcome::Existing(won), AppendOutcome::Inserted) => {
                        assert_eq!(**won, right[j]);
                        assert_eq!(stored, right[j]);
                    }
                    other => panic!("`{request_id}`: expected exactly one insert, got {other:?}"),
                }
            }
        }
        assert_eq!(store.count_decisions().await.expect("count"), 5 * 64);
    }

    async fn spawn_insert(
        store: &Arc<dyn Store>,
        batch: Vec<arbiter_engine::Decision>,
    ) -> Vec<AppendOutcome> {
        let store = Arc::clone(store);
        tokio::spawn(async move { store.insert_decisions(&batch).await })
            .await
            .expect("insert task")
            .expect("racing insert")
    }

    pub async fn list_entries_are_found_by_kind_and_value_and_deleted(store: Arc<dyn Store>) {
        let oldest = list_entry("le_1", ListName::Block, ListKind::User, "u-1", 30);
        let watch = list_entry("le_2", ListName::Watch, ListKind::Email, "a@b.example", 20);
        let newest = list_entry("le_3", ListName::Allow, ListKind::User, "u-2", 10);
        for e in [&oldest, &watch, &newest] {
            let done = store
                .insert_list_entry(e, now(), &actor())
                .await
                .expect("insert entry");
            assert_eq!(done, ListInsert::Inserted);
        }
        let all = store.find_list_entries(None, None).await.expect("all");
        assert_eq!(
            all,
            vec![newest.clone(), watch.clone(), oldest.clone()],
            "newest first"
        );
        assert!(watch.expires_at.is_some(), "expiry round-trips");
        let users = store
            .find_list_entries(Some(ListKind::User), None)
            .await
            .expect("users");
        assert_eq!(users, vec![newest.clone(), oldest.clone()]);
        let one = store
            .find_list_entries(Some(ListKind::User), Some("u-1"))
            .await
            .expect("one");
        assert_eq!(one, vec![oldest.clone()]);
        let by_value = store
            .find_list_entries(None, Some("a@b.example"))
            .await
            .expect("value");
        assert_eq!(by_value, vec![watch.clone()]);
        let none = store
            .find_list_entries(Some(ListKind::Email), Some("u-1"))
            .await
            .expect("none");
        assert_eq!(none, vec![]);
        assert!(
            store
                .find_list_entries(Some(ListKind::Device), None)
                .await
                .expect("dev")
                .is_empty()
        );

        assert!(
            store
                .delete_list_entry("le_1", &actor())
                .await
                .expect("delete")
        );
        assert!(
            !store
                .delete_list_entry("le_1", &actor())
                .await
                .expect("delete again")
        );
        let users = store
            .find_list_entries(Some(ListKind::User), None)
            .await
            .expect("users");
        assert_eq!(users, vec![newest]);
        let again = store.insert_list_entry(&watch, now(), &actor()).await;
        assert_eq!(again.ok(), Some(ListInsert::Existing(watch.clone())));
        let mut same_id = watch.clone();
        same_id.value = "other@b.example".into();
        let again = store.insert_list_entry(&same_id, now(), &actor()).await;
        assert!(
            matches!(again, Err(StoreError::Backend(_))),
            "duplicate id: {again:?}"
        );
    }

    pub async fn a_list_holds_one_entry_per_identity(store: Arc<dyn Store>) {
        let first = list_entry("le_a", ListName::Block, ListKind::Email, "x@y.example", 30);
        store
            .insert_list_entry(&first, now(), &actor())
            .await
            .expect("first");
        // The same identity again, under another id and reason: the live one answers and
        // nothing is written.
        let mut twin = list_entry("le_b", ListName::Block, ListKind::Email, "x@y.example", 10);
        twin.reason = "again".into();
        let again = store
            .insert_list_entry(&twin, now(), &actor())
            .await
            .expect("twin");
        assert_eq!(again, ListInsert::Existing(first.clone()));
        let stored = store
            .find_list_entries(Some(ListKind::Email), Some("x@y.example"))
            .await
            .expect("find");
        assert_eq!(stored, vec![first.clone()], "one row");
        // Another list may hold the same value.
        let watch = list_entry("le_c", ListName::Watch, ListKind::Email, "x@y.example", 5);
        let other = store
            .insert_list_entry(&watch, now(), &actor())
            .await
            .expect("watch");
        assert_eq!(other, ListInsert::Inserted);
        // Deleting the one entry lifts the block.
        assert!(
            store
                .delete_list_entry("le_a", &actor())
                .await
                .expect("delete")
        );
        let blocks: Vec<_> = store
            .find_list_entries(Some(ListKind::Email), Some("x@y.example"))
            .await
            .expect("find")
            .into_iter()
            .filter(|e| e.list == ListName::Block)
            .collect();
        assert!(blocks.is_empty(), "no twin left in force: {blocks:?}");
        // An expired twin does not hold the identity: a new entry replaces it.
        let mut expired = list_entry("le_d", ListName::Allow, ListKind::User, "u-9", 60);
        expired.expires_at = Some(now() + chrono::Duration::seconds(1));
        store
            .insert_list_entry(&expired, now(), &actor())
            .await
            .expect("expiring");
        let fresh = list_entry("le_e", ListName::Allow, ListKind::User, "u-9", 0);
        let later = now() + chrono::Duration::seconds(2);
        let replaced = store
            .insert_list_entry(&fresh, later, &actor())
            .await
            .expect("fresh");
        assert_eq!(replaced, ListInsert::Inserted);
        let users = store
            .find_list_entries(Some(ListKind::User), Some("u-9"))
            .await
            .expect("find");
        assert_eq!(users, vec![fresh]);
    }

    pub async fn keys_are_listed_oldest_first(store: Arc<dyn Store>) {
        let admin = api_key("key_admin", &[Scope::Admin], 20);
        let decide = api_key("key_decide", &[Scope::Decide, Scope::LabelWrite], 10);
        let none = api_key("key_none", &[], 5);
        for k in [&decide, &admin, &none] {
            store.insert_key(k, &actor()).await.expect("insert key");
        }
        assert_eq!(
            store.all_keys().await.expect("keys"),
            vec![admin.clone(), decide, none]
        );
        let mut same_hash = api_key("key_other", &[Scope::Decide], 0);
        same_hash.hash = admin.hash.clone();
        assert!(
            store.insert_key(&same_hash, &actor()).await.is_err(),
            "hashes are unique"
        );
    }

    pub async fn policy_sets_are_numbered_and_one_is_active(store: Arc<dyn Store>) {
        let t = Thresholds {
            challenge: 33.3,
            reject: 66.6,
        };
        let w = Weights {
            watch: 0.1,
            graph: 40.0,
            model: 1.0 / 3.0,
        };
        let v1 = store
            .insert_policy_set(t, w, &modules(), &actor())
            .await
            .expect("v1");
        let v2 = store
            .insert_policy_set(Thresholds::default(), Weights::default(), &[], &actor())
            .await
            .expect("v2");
        assert_eq!((v1.version, v2.version), (1, 2));
        assert_eq!(v1.policies, modules());
        assert_eq!(store.get_policy_set(1).await.expect("get"), Some(v1));
        assert_eq!(store.get_policy_set(2).await.expect("get"), Some(v2));
        assert_eq!(store.get_policy_set(3).await.expect("get"), None);

        assert_eq!(store.active_policy_set().await.expect("active"), None);
        store
            .set_active_policy_set(2, &actor())
            .await
            .expect("activate 2");
        assert_eq!(store.active_policy_set().await.expect("active"), Some(2));
        store
            .set_active_policy_set(1, &actor())
            .await
            .expect("roll back to 1");
        assert_eq!(store.active_policy_set().await.expect("active"), Some(1));
        let missing = store.set_active_policy_set(42, &actor()).await;
        assert!(
            matches!(&missing, Err(StoreError::Backend(m)) if m.contains("`42`")),
            "{missing:?}"
        );
        assert_eq!(store.active_policy_set().await.expect("active"), Some(1));

        // Concurrent inserts still get distinct, gap-free versions.
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let store = Arc::clone(&store);
            tasks.spawn(async move {
                store
                    .insert_policy_set(Thresholds::default(), Weights::default(), &[], &actor())
                    .await
                    .expect("concurrent insert")
                    .version
            });
        }
        let versions: BTreeSet<i64> = tasks.join_all().await.into_iter().collect();
        assert_eq!(versions, (3..=10).collect());
    }
}
