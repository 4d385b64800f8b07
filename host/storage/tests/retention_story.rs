//! Retention over real storage (SQLite; PostgreSQL when `DATABASE_URL` is set): expired
//! decisions, callbacks and audit entries go a batch at a time, oldest first; a decision with
//! a label or a review stays whatever its age, and so does everything young; on SQLite the
//! freed pages are given back to the file system. An old statement loses its file and rows
//! (not its record) unless its day has an open ticket, and gets them back with the same file.

#[macro_use]
mod support;

use arbiter_engine::audit::Actor;
use arbiter_engine::feedback::{LabelKind, LabelSource, NewLabel};
use arbiter_engine::retention::Expiring;
use arbiter_engine::store::Store;
use arbiter_transactions::payment::{CallbackRecord, Verdict};
use arbiter_transactions::reconciliation::archive::{Imported, StoredStatement, prepare};
use arbiter_transactions::store::TransactionStore;
use chrono::{Duration, NaiveDate, Utc};

use support::fixtures::actor;

/// Stores a decision made `age` ago; `challenge` opens its review.
async fn decided(store: &dyn Store, id: &str, age: Duration, challenge: bool) -> String {
    support::fixtures::decided(store, id, Utc::now() - age, challenge).await
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

/// Imports `tag`'s card statement of `day`, imported `age` ago.
async fn statement(
    store: &dyn TransactionStore,
    tag: &str,
    day: NaiveDate,
    age: Duration,
) -> (StoredStatement, Vec<u8>) {
    let bytes = support::statements::card_statement(tag, &day.to_string());
    let prepared = prepare("card", day, bytes.clone(), "admin", Utc::now() - age).expect("reads");
    match store
        .import_statement(&prepared, &Actor::cli())
        .await
        .expect("import")
    {
        Imported::New(s) => (s, bytes),
        other => panic!("a new file: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_statement_loses_its_file_and_rows_unless_its_day_has_an_open_ticket() {
    for db in support::backends::backends().await {
        let store = db.store.as_ref();
        let tx = db.transactions.as_ref();
        let name = db.name;
        let month = Duration::days(30);
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("day");
        let (old, old_bytes) = statement(tx, "old", day(6), month).await;
        let (ticketed, _) = statement(tx, "ticketed", day(7), month).await;
        let (young, young_bytes) = statement(tx, "young", day(8), Duration::hours(1)).await;
        // A run of the ticketed day left a difference open.
        db.execute_raw(&format!(
            "INSERT INTO recon_runs (id, channel, statement_date, statement_id, row_count, \
             matched, pending, by_kind, clean, ran_by, ran_at) VALUES ('run_t', 'card', \
             '2026-11-07', '{}', 3, 2, 0, '{{}}', FALSE, 'admin', '2026-11-08T00:00:00Z'); \
             INSERT INTO recon_tickets (id, run_id, channel, statement_date, kind, reference, \
             detail, status, opened_at) VALUES ('tkt_t', 'run_t', 'card', '2026-11-07', \
             'missing_at_channel', 'pay_x', 'x', 'OPEN', '2026-11-08T00:00:00Z')",
            ticketed.id
        ))
        .await;

        let before = Utc::now() - Duration::days(7);
        let mut batches = Vec::new();
        loop {
            let n = store
                .expire(Expiring::Statements, before, 2)
                .await
                .expect("expire");
            batches.push(n);
            if n == 0 {
                break;
            }
        }
        // Three rows (two, then one), then the statement itself.
        assert_eq!(batches, [2, 2, 0], "{name}");
        let expired = tx.statement(&old.id).await.expect("read").expect("kept");
        assert!(expired.expired_at.is_some(), "{name}: {expired:?}");
        assert_eq!(
            (expired.row_count, expired.sha256.as_str()),
            (3, old.sha256.as_str()),
            "{name}: the record stays"
        );
        assert_eq!(tx.statement_rows(&old.id).await.expect("rows"), []);
        assert_eq!(
            tx.statement_content(&old.id).await.expect("content"),
            Some(Vec::new())
        );
        for kept in [&ticketed, &young] {
            let now = tx.statement(&kept.id).await.expect("read").expect("kept");
            assert_eq!(now.expired_at, None, "{name}: {}", kept.id);
            assert_eq!(tx.statement_rows(&kept.id).await.expect("rows").len(), 3);
        }
        assert_eq!(
            tx.statement_content(&young.id).await.expect("content"),
            Some(young_bytes)
        );

        // The same file again brings the file and its rows back, under the same statement.
        let again = prepare("card", day(6), old_bytes.clone(), "admin", Utc::now()).expect("reads");
        match tx
            .import_statement(&again, &Actor::cli())
            .await
            .expect("import")
        {
            Imported::New(s) => {
                assert_eq!((s.id.as_str(), s.expired_at), (old.id.as_str(), None));
            }
            other => panic!("{name}: restored, not already held: {other:?}"),
        }
        assert_eq!(tx.statement_rows(&old.id).await.expect("rows"), again.rows);
        assert_eq!(
            tx.statement_content(&old.id).await.expect("content"),
            Some(old_bytes)
        );
        assert!(
            matches!(
                tx.import_statement(&again, &Actor::cli())
                    .await
                    .expect("import"),
                Imported::Existing(_)
            ),
            "{name}: and once restored, it is held"
        );
    }
}
