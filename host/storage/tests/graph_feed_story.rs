//! The graph feed replicas follow (issue 18). PostgreSQL, where several replicas share one
//! database (needs `DATABASE_URL`): every new decision's entities are handed out once, with the
//! replica that wrote it, in commit order from a position; a row whose transaction is still
//! open is never passed, and lands ahead of the position once it commits; a rebuild's upper
//! bound and the window are respected; labels are a feed too; pruning takes only what aged
//! out. SQLite, one process per file, keeps no feed.

#[macro_use]
mod support;

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use arbiter_engine::Decision;
use arbiter_engine::feedback::{LabelKind, LabelSource, NewLabel};
use arbiter_engine::graph_feed::{FedDecision, FeedPosition, FeedRead, GraphFeed};
use arbiter_engine::store::Store;
use chrono::{Duration, Utc};
use sqlx::migrate::Migrator;
use sqlx::{Connection, Executor, PgConnection};
use support::upgrade::{folder, migrations_before};

/// A decision of `user` on `device`.
fn decision(request_id: &str, user: &str, device: &str) -> Decision {
    let mut d = support::fixtures::decision(request_id);
    d.context.user_id = user.into();
    d.context.device_id = Some(device.into());
    d
}

fn feed(store: &Arc<dyn Store>) -> &dyn GraphFeed {
    store.graph_feed().expect("PostgreSQL keeps a graph feed")
}

/// The next `want` rows after `after`, page by page (2 a page, so paging is exercised),
/// waiting up to 30 s for them: the horizon is the whole server's, so a transaction another
/// session holds open anywhere on it (a parallel test) holds the feed back until it ends.
async fn drain(feed: &dyn GraphFeed, after: &FeedPosition, want: usize) -> Vec<FedDecision> {
    let started = Instant::now();
    let mut at = after.clone();
    let mut all = Vec::new();
    while all.len() < want && started.elapsed() < StdDuration::from_secs(30) {
        let page = feed
            .decisions_after(&at, FeedRead::following(), 2)
            .await
            .expect("page");
        let Some(last) = page.last() else {
            tokio::time::sleep(StdDuration::from_millis(10)).await;
            continue;
        };
        at = last.position.clone();
        all.extend(page);
    }
    // Nothing beyond what was wanted.
    assert!(
        feed.decisions_after(&at, FeedRead::following(), 2)
            .await
            .expect("page")
            .is_empty()
    );
    all
}

fn users(rows: &[FedDecision]) -> Vec<&str> {
    rows.iter().map(|r| r.entities.user_id.as_str()).collect()
}

#[tokio::test]
async fn sqlite_keeps_no_feed() {
    let db = support::backends::sqlite().await;
    assert!(db.store.graph_feed().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_replicas_decisions_come_once_in_commit_order_and_late_commits_land_ahead() {
    let Some(url) = support::backends::postgres_url() else {
        eprintln!("DATABASE_URL not set: PostgreSQL-only test has nothing to run against");
        return;
    };
    let db = support::backends::postgres(&url).await;
    let a = db.store.clone();
    let b = db.replica().await.store;
    // A third process, which writes nothing: it reads every row whole.
    let c = db.replica().await.store;
    assert_ne!(
        feed(&a).replica(),
        feed(&b).replica(),
        "each process has its own name"
    );

    let start = feed(&a).horizon().await.expect("horizon");
    let first = decision("f-1", "u1", "d1");
    a.insert_decisions(&[first.clone(), decision("f-2", "u2", "d1")])
        .await
        .expect("a writes");
    b.insert_decisions(&[decision("f-3", "u3", "d2")])
        .await
        .expect("b writes");
    // The same request again writes no second feed row.
    a.insert_decisions(std::slice::from_ref(&first))
        .await
        .expect("again");

    let seen = drain(feed(&c), &start, 3).await;
    assert_eq!(users(&seen), ["u1", "u2", "u3"]);
    // Its own rows come to a following process with their position and instant only.
    let to_b = drain(feed(&b), &start, 3).await;
    assert_eq!(users(&to_b), ["u1", "u2", ""]);
    assert_eq!(to_b[2].position, seen[2].position);
    assert_eq!(to_b[2].entities.device_id, None);
    // A start-up build reads them whole.
    let built = feed(&b)
        .decisions_after(&start, FeedRead::default(), 3)
        .await
        .expect("page");
    assert_eq!(users(&built), ["u1", "u2", "u3"]);
    let by_a: Vec<bool> = seen
        .iter()
        .map(|r| r.replica == feed(&a).replica())
        .collect();
    assert_eq!(by_a, [true, true, false], "each row names its replica");
    let row = &seen[0];
    assert_eq!(row.entities.decision_id, first.decision_id.0);
    assert_eq!(row.entities.device_id.as_deref(), Some("d1"));
    assert_eq!(row.entities.email, first.context.email);
    assert_eq!(
        row.entities.card_fingerprint,
        first.context.card_fingerprint
    );
    assert_eq!(
        row.entities.shipping_address_hash,
        first.context.shipping_address_hash
    );
    assert_eq!(row.entities.ip, first.context.ip);
    assert_eq!(
        row.entities.created_at,
        first.created_at.trunc_subsecs_micros(),
        "the instant as stored"
    );
    let at = seen.last().expect("rows").position.clone();

    // An older transaction still open holds everything after it back; once it commits, its
    // row comes first and nothing is passed.
    let mut older = PgConnection::connect(db.postgres_url().expect("url"))
        .await
        .expect("connect");
    older.execute("BEGIN").await.expect("begin");
    older
        .execute("SELECT pg_current_xact_id()")
        .await
        .expect("take a transaction id");
    a.insert_decisions(&[decision("f-4", "u4", "d3")])
        .await
        .expect("a newer decision commits");
    assert!(
        feed(&b)
            .decisions_after(&at, FeedRead::following(), 10)
            .await
            .expect("page")
            .is_empty(),
        "nothing passes the open transaction"
    );
    older
        .execute(
            "INSERT INTO decision_links (decision_id, replica, created_at, user_id) \
             VALUES ('dec_late', 'elsewhere', now(), 'u-late')",
        )
        .await
        .expect("the older transaction writes");
    older.execute("COMMIT").await.expect("commit");
    let later = drain(feed(&b), &at, 2).await;
    assert_eq!(users(&later), ["u-late", "u4"], "transaction order");

    // A rebuild reads up to a horizon and no further; the window leaves out what aged out.
    let horizon = feed(&a).horizon().await.expect("horizon");
    b.insert_decisions(&[decision("f-5", "u5", "d3")])
        .await
        .expect("after the horizon");
    let bounded = feed(&c)
        .decisions_after(
            &start,
            FeedRead {
                until: Some(horizon.txid),
                ..FeedRead::default()
            },
            100,
        )
        .await
        .expect("bounded");
    assert_eq!(users(&bounded), ["u1", "u2", "u3", "u-late", "u4"]);
    let mut old = decision("f-old", "u-old", "d9");
    old.created_at = Utc::now() - Duration::days(120);
    a.insert_decisions(&[old]).await.expect("an old decision");
    let recent = feed(&c)
        .decisions_after(
            &start,
            FeedRead {
                since: Some(Utc::now() - Duration::days(90)),
                ..FeedRead::default()
            },
            100,
        )
        .await
        .expect("window");
    let recent = users(&recent);
    assert!(!recent.contains(&"u-old"), "{recent:?}");
    assert!(recent.contains(&"u1"), "{recent:?}");

    // Labels are a feed as well.
    let label_start = feed(&b).horizon().await.expect("horizon");
    a.insert_label(
        &NewLabel {
            decision_id: first.decision_id.0.clone(),
            kind: LabelKind::AccountTakeover,
            source: LabelSource::Analyst,
            external_id: None,
            note: None,
        },
        &support::fixtures::actor(),
    )
    .await
    .expect("label");
    let started = Instant::now();
    let labels = loop {
        let labels = feed(&b)
            .labels_after(&label_start, 10)
            .await
            .expect("labels");
        if !labels.is_empty() || started.elapsed() > StdDuration::from_secs(30) {
            break labels;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    };
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].decision_id, first.decision_id.0);
    assert_eq!(labels[0].kind, LabelKind::AccountTakeover);
    assert!(
        feed(&b)
            .labels_after(&labels[0].position, 10)
            .await
            .expect("after")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_takes_the_oldest_rows_that_aged_out_and_only_them() {
    let Some(url) = support::backends::postgres_url() else {
        eprintln!("DATABASE_URL not set: PostgreSQL-only test has nothing to run against");
        return;
    };
    let db = support::backends::postgres(&url).await;
    let store = db.store.clone();
    let reader = db.replica().await.store;
    let start = feed(&store).horizon().await.expect("horizon");
    for i in 0..3 {
        let mut old = decision(&format!("old-{i}"), &format!("u-old-{i}"), "d");
        old.created_at = Utc::now() - Duration::days(100 + i);
        store.insert_decisions(&[old]).await.expect("old");
    }
    for i in 0..2 {
        store
            .insert_decisions(&[decision(&format!("new-{i}"), &format!("u-new-{i}"), "d")])
            .await
            .expect("new");
    }
    let cut = Utc::now() - Duration::days(90);
    assert_eq!(
        feed(&store).prune_decisions(cut, 2).await.expect("prune"),
        2
    );
    assert_eq!(
        feed(&store).prune_decisions(cut, 2).await.expect("prune"),
        1,
        "the rest of the old, then it stops at the young"
    );
    assert_eq!(
        feed(&store).prune_decisions(cut, 2).await.expect("prune"),
        0
    );
    assert_eq!(
        users(&drain(feed(&reader), &start, 2).await),
        ["u-new-0", "u-new-1"]
    );
}

/// Positions compare as transaction ids, not as their text: transaction 9 comes before
/// transaction 10 (a text sort would put "10" first and pass rows for good once txids grow a
/// digit). Rows are written with explicit old transaction ids, below every real one.
#[tokio::test]
async fn positions_order_as_numbers_not_as_text() {
    let Some(url) = support::backends::postgres_url() else {
        return;
    };
    let db = support::backends::postgres(&url).await;
    db.execute_raw(
        "INSERT INTO decision_links (txid, decision_id, replica, created_at, user_id) VALUES \
         ('10', 'dec_b', 'r', now(), 'u-ten'), ('9', 'dec_a', 'r', now(), 'u-nine'), \
         ('100', 'dec_c', 'r', now(), 'u-hundred')",
    )
    .await;
    let store = db.store.clone();
    let rows = drain(feed(&store), &FeedPosition::default(), 3).await;
    assert_eq!(users(&rows), ["u-nine", "u-ten", "u-hundred"]);
    assert_eq!(
        rows[1].position,
        FeedPosition {
            txid: 10,
            id: "dec_b".into()
        }
    );
    let after_nine = feed(&store)
        .decisions_after(&rows[0].position, FeedRead::following(), 10)
        .await
        .expect("page");
    assert_eq!(users(&after_nine), ["u-ten", "u-hundred"]);
}

/// Migration 0018 over decisions an older release stored: each becomes a feed row, so a
/// replica that starts on the upgraded database builds its graph from them.
#[tokio::test]
async fn migration_0018_puts_stored_decisions_in_the_feed() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    let d = decision("stored-before", "u-before", "d-before");
    let body = serde_json::to_string(&d).expect("body").replace('\'', "''");
    let seed = vec![format!(
        "INSERT INTO decisions (decision_id, request_id, body_hash, event, action, score, \
         policy_set_version, model_version, created_at, body) VALUES \
         ('{}', 'stored-before', 'h', 'payment.authorize', 'accept', 5, 1, NULL, now(), '{body}')",
        d.decision_id
    )];
    let conn = upgraded!(PgConnection, &db.url, "postgres", "0018", seed);
    let _ = conn.close().await;
    let stores = arbiter_storage::connect_stores(Some(&db.url), std::path::Path::new("unused"))
        .await
        .expect("open the upgraded database");
    let store = stores.store;
    let rows = drain(feed(&store), &FeedPosition::default(), 1).await;
    assert_eq!(users(&rows), ["u-before"]);
    let row = &rows[0].entities;
    assert_eq!(row.decision_id, d.decision_id.0);
    assert_eq!(row.device_id.as_deref(), Some("d-before"));
    assert_eq!(row.email, d.context.email);
    assert_eq!(row.card_fingerprint, d.context.card_fingerprint);
    assert_eq!(row.ip, d.context.ip);
    assert_eq!(rows[0].replica, "", "written by no replica that is running");
}

trait Micros {
    fn trunc_subsecs_micros(self) -> Self;
}

impl Micros for chrono::DateTime<Utc> {
    fn trunc_subsecs_micros(self) -> Self {
        chrono::SubsecRound::trunc_subsecs(self, 6)
    }
}
