//! Retention over real storage (SQLite; PostgreSQL when `DATABASE_URL` is set): expired
//! decisions, callbacks and audit entries go a batch at a time, oldest first; a decision with
//! a label or a review stays whatever its age, and so does everything young; on SQLite the
//! freed pages are given back to the file system.

#[macro_use]
mod support;

use arbiter_engine::action::Action;
use arbiter_engine::feedback::{LabelKind, LabelSource, NewLabel};
use arbiter_engine::retention::Expiring;
use arbiter_engine::store::Store;
use arbiter_transactions::payment::{CallbackRecord, Verdict};
use arbiter_transactions::store::TransactionStore;
use chrono::{Duration, Utc};

use support::fixtures::{actor, decision};

/// Stores a decision made `age` ago; `challenge` opens its review.
async fn decided(store: &dyn Store, id: &str, age: Duration, challenge: bool) -> String {
    let mut d = decision(id);
    d.action = if challenge {
        Action::Challenge
    } else {
        Action::Accept
    };
    d.created_at = Utc::now() - age;
    store.insert_decisions(&[d.clone()]).await.expect("insert");
    d.decision_id.0
}

async fn exists(store: &dyn Store, id: &str) -> bool {
    store.get_decision(id).await.expect("read").is_some()
}

async fn callback(store: &dyn TransactionStore, age: Duration) {
    store
        .record_callback(&CallbackRecord {
            channel: "card".into(),
            event_id: None,
            raw: vec![b'x'; 2_000],
            verdict: Verdict::Applied,
            detail: None,
            received_at: Utc::now() - age,
        })
        .await
        .expect("record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_goes_in_batches_oldest_first_and_keeps_what_labels_and_reviews_need() {
    for db in support::backends::backends().await {
        let store = db.store.as_ref();
        let name = db.name;
        let month = Duration::days(30);
        let mut plain = Vec::new();
        for i in 0..5 {
            plain.push(
                decided(
                    store,
                    &format!("old-{i}"),
                    month + Duration::minutes(i),
                    false,
                )
                .await,
            );
        }
        let labelled = decided(store, "old-labelled", month, false).await;
        let label = NewLabel {
            decision_id: labelled.clone(),
            kind: LabelKind::Fraud,
            source: LabelSource::Customer,
            external_id: None,
            note: None,
        };
        store.insert_label(&label, &actor()).await.expect("label");
        let reviewed = decided(store, "old-reviewed", month, true).await;
        let young = decided(store, "young", Duration::hours(1), false).await;

        let before = Utc::now() - Duration::days(7);
        let mut batches = Vec::new();
        loop {
            let n = store
                .expire(Expiring::Decisions, before, 2)
                .await
                .expect("expire");
            batches.push(n);
            if n == 0 {
                break;
            }
        }
        assert_eq!(batches, [2, 2, 1, 0], "{name}");
        for id in &plain {
            assert!(!exists(store, id).await, "{name}: {id} expired");
        }
        for id in [&labelled, &reviewed, &young] {
            assert!(exists(store, id).await, "{name}: {id} is kept");
        }
        assert_eq!(
            store
                .labels_for_decision(&labelled)
                .await
                .expect("labels")
                .len(),
            1
        );

        // The audit: the label's entry is young; a cut after it takes it, one before does not.
        assert_eq!(
            store
                .expire(Expiring::Audit, before, 100)
                .await
                .expect("audit"),
            0,
            "{name}"
        );
        let later = Utc::now() + Duration::seconds(1);
        assert!(
            store
                .expire(Expiring::Audit, later, 100)
                .await
                .expect("audit")
                >= 1,
            "{name}"
        );

        let tx = db.transactions.as_ref();
        for _ in 0..3 {
            callback(tx, month).await;
        }
        callback(tx, Duration::minutes(1)).await;
        assert_eq!(
            store
                .expire(Expiring::Callbacks, before, 100)
                .await
                .expect("cb"),
            3,
            "{name}"
        );
        assert_eq!(
            store
                .expire(Expiring::Callbacks, before, 100)
                .await
                .expect("cb"),
            0,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_gives_the_freed_pages_back() {
    let db = support::backends::sqlite().await;
    let store = db.store.as_ref();
    let tx = db.transactions.as_ref();
    for _ in 0..400 {
        callback(tx, Duration::days(30)).await;
    }
    let deleted = store
        .expire(Expiring::Callbacks, Utc::now() - Duration::days(1), 1_000)
        .await
        .expect("expire");
    assert_eq!(deleted, 400);
    let mut reclaimed = 0;
    loop {
        let n = store.reclaim_space(64).await.expect("reclaim");
        assert!(n <= 64, "at most the pages asked for: {n}");
        if n == 0 {
            break;
        }
        reclaimed += n;
    }
    assert!(
        reclaimed >= 100,
        "~800 kB of callbacks freed {reclaimed} pages"
    );
}
