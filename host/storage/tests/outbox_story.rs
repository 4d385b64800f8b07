//! The outbox feed over real storage (SQLite; PostgreSQL when `DATABASE_URL` is set): events
//! page in commit order by `next_after`, each exactly once, also while writers commit
//! concurrently; and, on PostgreSQL, an id that commits after a larger one is not passed.

#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbiter_transactions::TxError;
use arbiter_transactions::change::{Change, OutboxMessage};
use arbiter_transactions::outbox::{EventPage, FeedRead, MAX_LIMIT, OutboxEvent, page};
use arbiter_transactions::store::TransactionStore;
use chrono::Utc;
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};

on_every_backend!(events_page_in_commit_order_exactly_once);
on_every_backend!(a_reader_beside_concurrent_writers_sees_each_event_once_in_order);
on_every_backend!(
    retention_deletes_an_expired_prefix_never_past_the_relay_and_says_where_the_feed_starts
);

/// Commits one change carrying `messages` (topic, payload).
async fn write(store: &dyn TransactionStore, messages: Vec<(String, serde_json::Value)>) {
    write_at(store, messages, Utc::now()).await;
}

/// The same, decided at `at`.
async fn write_at(
    store: &dyn TransactionStore,
    messages: Vec<(String, serde_json::Value)>,
    at: chrono::DateTime<Utc>,
) {
    let change = Change {
        outbox: messages
            .into_iter()
            .map(|(topic, payload)| OutboxMessage { topic, payload })
            .collect(),
        at,
        ..Change::default()
    };
    store.apply(&change).await.expect("apply");
}

async fn next(store: &dyn TransactionStore, after: i64, limit: u32) -> EventPage {
    page(store, Some(after), Some(limit)).await.expect("page")
}

/// Pages from `after` until `want` events are seen or `deadline` passes.
async fn drain(
    store: &dyn TransactionStore,
    mut after: i64,
    want: usize,
    deadline: Duration,
) -> Vec<OutboxEvent> {
    let started = Instant::now();
    let mut seen = Vec::new();
    while seen.len() < want && started.elapsed() < deadline {
        let p = next(store, after, 5).await;
        if p.events.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        after = p.next_after;
        seen.extend(p.events);
    }
    seen
}

mod stories {
    use super::*;

    pub async fn events_page_in_commit_order_exactly_once(store: Arc<dyn TransactionStore>) {
        let store = &*store;
        let empty = next(store, 0, 10).await;
        assert!(empty.events.is_empty());
        assert_eq!(empty.next_after, 0, "an empty feed stays at the start");

        let mut written = Vec::new();
        for i in 0..30 {
            let parts = if i % 3 == 0 { 2 } else { 1 };
            let messages: Vec<_> = (0..parts)
                .map(|part| (format!("t.{i}"), json!({"i": i, "part": part})))
                .collect();
            written.extend(messages.clone());
            write(store, messages).await;
        }
        assert_eq!(written.len(), 40);
        // On PostgreSQL an event shows once every older transaction on the server has ended
        // (other tests' too): wait for that, then the feed is final.
        let all = drain(store, 0, 40, Duration::from_secs(60)).await;
        assert_eq!(all.len(), 40, "every committed event shows");

        let (mut after, mut seen, mut pages) = (0, Vec::new(), 0);
        loop {
            let p = next(store, after, 7).await;
            if p.events.is_empty() {
                assert_eq!(p.next_after, after, "an empty page keeps the position");
                break;
            }
            assert!(p.events.len() <= 7);
            assert_eq!(p.next_after, p.events.last().map(|e| e.id).unwrap_or(0));
            pages += 1;
            after = p.next_after;
            seen.extend(p.events);
        }
        assert_eq!(pages, 6, "40 events in pages of 7");
        let got: Vec<_> = seen
            .iter()
            .map(|e| (e.topic.clone(), e.payload.clone()))
            .collect();
        assert_eq!(got, written, "every event once, in the order committed");
        assert!(seen.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(seen, all, "the same whatever the page size");

        // One page can hold everything; the limit bounds it.
        assert_eq!(next(store, 0, MAX_LIMIT).await.events.len(), 40);
        assert_eq!(next(store, 0, 1).await.events.len(), 1);
        // Paging from the middle continues there.
        let middle = seen[19].id;
        let rest = next(store, middle, MAX_LIMIT).await;
        assert_eq!(rest.events, seen[20..]);
        // An `after` that names no event is refused, naming it.
        let unknown = after + 1_000;
        assert_eq!(
            store.events_after(unknown, 10).await.expect("read"),
            FeedRead::Unknown
        );
        match page(store, Some(unknown), None).await {
            Err(TxError::Invalid { field, .. }) => assert_eq!(field, "after"),
            other => panic!("{other:?}"),
        }
    }

    pub async fn retention_deletes_an_expired_prefix_never_past_the_relay_and_says_where_the_feed_starts(
        store: Arc<dyn TransactionStore>,
    ) {
        let store = &*store;
        let now = Utc::now();
        let old = now - chrono::Duration::hours(2);
        for i in 0..6 {
            write_at(store, vec![(format!("old.{i}"), json!({"i": i}))], old).await;
        }
        for i in 6..10 {
            write_at(store, vec![(format!("new.{i}"), json!({"i": i}))], now).await;
        }
        let all = drain(store, 0, 10, Duration::from_secs(60)).await;
        let ids: Vec<i64> = all.iter().map(|e| e.id).collect();
        assert_eq!(ids.len(), 10);
        let before = now - chrono::Duration::hours(1);
        assert_eq!(store.feed_start().await.expect("start"), 0);

        // A relay that published nothing keeps everything; one at the 4th event, the first 4.
        assert_eq!(
            store
                .prune_outbox(before, Some(0), 400)
                .await
                .expect("prune"),
            0
        );
        assert_eq!(
            store
                .prune_outbox(before, Some(ids[3]), 400)
                .await
                .expect("prune"),
            4
        );
        assert_eq!(store.feed_start().await.expect("start"), ids[3]);
        let from_start = next(store, 0, 100).await;
        assert_eq!(
            from_start.events,
            all[4..],
            "the feed now starts at the 5th"
        );
        assert_eq!(from_start.starts_after, ids[3]);
        // The position retention stopped at reads on; one behind it is told it expired.
        assert_eq!(next(store, ids[3], 100).await.events, all[4..]);
        assert_eq!(
            store.events_after(ids[1], 10).await.expect("read"),
            FeedRead::Expired
        );
        match page(store, Some(ids[1]), None).await {
            Err(TxError::EventsExpired {
                after,
                starts_after,
            }) => assert_eq!((after, starts_after), (ids[1], ids[3])),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            store
                .prune_outbox(before, Some(ids[3]), 400)
                .await
                .expect("prune"),
            0,
            "nothing past the relay"
        );

        // Without a relay, by age alone, in batches; the young events stay.
        assert_eq!(store.prune_outbox(before, None, 1).await.expect("prune"), 1);
        assert_eq!(
            store.prune_outbox(before, None, 400).await.expect("prune"),
            1
        );
        assert_eq!(
            store.prune_outbox(before, None, 400).await.expect("prune"),
            0
        );
        assert_eq!(store.feed_start().await.expect("start"), ids[5]);
        assert_eq!(next(store, 0, 100).await.events, all[6..]);
        assert_eq!(next(store, ids[5], 100).await.events, all[6..]);
        assert_eq!(next(store, ids[7], 100).await.events, all[8..]);
        // Everything young: a prune at a later cut-off takes the rest, and the feed is empty
        // but still starts where it says.
        let later = now + chrono::Duration::seconds(1);
        assert_eq!(
            store.prune_outbox(later, None, 400).await.expect("prune"),
            4
        );
        let empty = next(store, ids[9], 100).await;
        assert!(empty.events.is_empty());
        assert_eq!(empty.starts_after, ids[9]);
        write(store, vec![("after".into(), json!({}))]).await;
        let fresh = drain(store, ids[9], 1, Duration::from_secs(60)).await;
        assert_eq!(fresh.len(), 1, "new events follow where the feed starts");
    }

    pub async fn a_reader_beside_concurrent_writers_sees_each_event_once_in_order(
        store: Arc<dyn TransactionStore>,
    ) {
        const WRITERS: usize = 8;
        const EACH: usize = 15;
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    for n in 0..EACH {
                        write(&*store, vec![(format!("w{w}"), json!({"n": n}))]).await;
                    }
                })
            })
            .collect();
        let reader = {
            let store = Arc::clone(&store);
            tokio::spawn(
                async move { drain(&*store, 0, WRITERS * EACH, Duration::from_secs(60)).await },
            )
        };
        for w in writers {
            w.await.expect("writer");
        }
        let seen = reader.await.expect("reader");
        let mut per_writer: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for e in &seen {
            per_writer
                .entry(e.topic.clone())
                .or_default()
                .push(e.payload["n"].as_i64().expect("n"));
        }
        assert_eq!(seen.len(), WRITERS * EACH, "each event exactly once");
        let in_order: Vec<i64> = (0..EACH as i64).collect();
        for (writer, ns) in per_writer {
            assert_eq!(ns, in_order, "{writer}'s events in the order it wrote them");
        }
    }
}

/// PostgreSQL only (SQLite has one writer, so ids commit in order there): sequence values are
/// taken at insert, so a larger id can commit first. The feed must neither pass the smaller id
/// while its transaction is open nor show an aborted one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_that_commits_after_a_larger_one_is_not_passed() {
    let Some(url) = support::backends::postgres_url() else {
        eprintln!("DATABASE_URL not set: PostgreSQL-only test has nothing to run against");
        return;
    };
    let db = support::backends::postgres(&url).await;
    let store: Arc<dyn TransactionStore> = db.view();
    let db_url = db.postgres_url().expect("a PostgreSQL test database");
    let (mut early, mut late) = (
        PgConnection::connect(db_url).await.expect("connect"),
        PgConnection::connect(db_url).await.expect("connect"),
    );
    let insert = |topic: &str| {
        format!(
            "INSERT INTO outbox (topic, payload, created_at) VALUES ('{topic}', '{{}}', now()) \
             RETURNING id"
        )
    };

    // `early` takes id 1 and stays open; `late` takes id 2 and commits.
    early.execute("BEGIN").await.expect("begin");
    let first: i64 = sqlx::query_scalar(&insert("early"))
        .fetch_one(&mut early)
        .await
        .expect("insert");
    late.execute("BEGIN").await.expect("begin");
    let second: i64 = sqlx::query_scalar(&insert("late"))
        .fetch_one(&mut late)
        .await
        .expect("insert");
    late.execute("COMMIT").await.expect("commit");
    assert!(first < second);
    // A naive `id > 0` feed would hand out `second` now and never `first`.
    let visible: Vec<i64> = sqlx::query_scalar("SELECT id FROM outbox")
        .fetch_all(&mut late)
        .await
        .expect("read");
    assert_eq!(visible, [second], "the larger id is committed and visible");
    let p = next(&*store, 0, 10).await;
    assert!(p.events.is_empty(), "nothing passes the open transaction");
    assert_eq!(p.next_after, 0);

    // A transaction that rolls back leaves nothing and holds nothing up.
    let mut aborted = PgConnection::connect(db_url).await.expect("connect");
    aborted.execute("BEGIN").await.expect("begin");
    sqlx::query(&insert("aborted"))
        .execute(&mut aborted)
        .await
        .expect("insert");
    aborted.execute("ROLLBACK").await.expect("rollback");

    early.execute("COMMIT").await.expect("commit");
    let seen = drain(&*store, 0, 2, Duration::from_secs(30)).await;
    let ids: Vec<i64> = seen.iter().map(|e| e.id).collect();
    assert_eq!(ids, [first, second]);
    let after = seen.last().map(|e| e.id).unwrap_or(0);
    assert!(next(&*store, after, 10).await.events.is_empty());

    // Transaction order, not id order: `older` takes its transaction id first, `newer` then
    // writes and commits, `older` writes (a larger id) and commits last. The feed hands out
    // `older`'s event first, and a consumer paging from `after` sees both.
    let (mut older, mut newer) = (early, late);
    older.execute("BEGIN").await.expect("begin");
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut older)
        .await
        .expect("take a transaction id");
    newer.execute("BEGIN").await.expect("begin");
    let newer_id: i64 = sqlx::query_scalar(&insert("newer"))
        .fetch_one(&mut newer)
        .await
        .expect("insert");
    newer.execute("COMMIT").await.expect("commit");
    assert!(
        next(&*store, after, 10).await.events.is_empty(),
        "`newer` waits for the older open transaction"
    );
    let older_id: i64 = sqlx::query_scalar(&insert("older"))
        .fetch_one(&mut older)
        .await
        .expect("insert");
    older.execute("COMMIT").await.expect("commit");
    assert!(older_id > newer_id);
    let seen = drain(&*store, after, 2, Duration::from_secs(30)).await;
    let topics: Vec<&str> = seen.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["older", "newer"]);
    drop(store);
}
