//! PostgreSQL's decisions in time partitions (migration 0026, `postgres/partitions.rs`):
//! partitions are made ahead on a grid, a due one expires whole (walk, detach, drop) keeping
//! the labelled and reviewed decisions it held, request ids of the dropped ones are free again
//! while the kept ones still answer their request, a label for a dropped decision is refused,
//! and a decision that arrived before its partition existed moves in when it is made.

#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use arbiter_engine::feedback::{LabelInsert, LabelKind, LabelSource, NewLabel};
use arbiter_engine::retention::PartitionStep;
use arbiter_engine::store::AppendOutcome;
use chrono::{Duration, TimeZone, Utc};
use sqlx::PgPool;

use support::fixtures::{actor, decided, decision};

const DAY: StdDuration = StdDuration::from_secs(86_400);

/// The partition a decision's row is in.
async fn partition_of(pool: &PgPool, table: &str, id: &str) -> Option<String> {
    sqlx::query_scalar(&format!(
        "SELECT tableoid::regclass::text FROM {table} WHERE decision_id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .expect("partition")
}

fn label(decision_id: &str) -> NewLabel {
    NewLabel {
        decision_id: decision_id.to_owned(),
        kind: LabelKind::Fraud,
        source: LabelSource::Analyst,
        external_id: None,
        note: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_partition_goes_whole_and_keeps_what_labels_and_reviews_need() {
    let Some(admin) = support::backends::postgres_url() else {
        eprintln!("DATABASE_URL not set: PostgreSQL's partitions not tested");
        return;
    };
    let db = support::backends::postgres(&admin).await;
    let pool = PgPool::connect(db.postgres_url().expect("url"))
        .await
        .expect("connect");
    let store = db.store.as_ref();
    let now = Utc::now();
    let first = Utc
        .timestamp_opt((now - Duration::days(40)).timestamp() / 86_400 * 86_400, 0)
        .unwrap();

    // Made on a day grid from 40 days ago through tomorrow; asking again makes none.
    let made = store
        .prepare_partitions(now - Duration::days(40), now + Duration::days(1), DAY)
        .await
        .expect("prepare");
    let slots = (now + Duration::days(1) - first).num_days() + 1;
    assert_eq!(i64::from(made), slots);
    assert_eq!(
        store
            .prepare_partitions(now - Duration::days(40), now + Duration::days(1), DAY)
            .await
            .expect("again"),
        0
    );

    // Thirty days ago: three plain decisions, a labelled one and a reviewed one, in one day.
    let old_day = first + Duration::days(10) + Duration::hours(1);
    let mut plain = Vec::new();
    for i in 0..3 {
        plain.push(
            decided(
                store,
                &format!("old-{i}"),
                old_day + Duration::minutes(i),
                false,
            )
            .await,
        );
    }
    let labelled = decided(store, "old-labelled", old_day, false).await;
    assert!(matches!(
        store
            .insert_label(&label(&labelled), &actor())
            .await
            .expect("label"),
        LabelInsert::Created(_)
    ));
    let reviewed = decided(store, "old-reviewed", old_day, true).await;
    let young = decided(store, "young", now - Duration::hours(1), false).await;
    let old_partition = format!("decisions_p{}", old_day.format("%Y%m%d_000000"));
    assert_eq!(
        partition_of(&pool, "decisions", &plain[0]).await.as_deref(),
        Some(old_partition.as_str())
    );

    // Everything a week old goes: step by step, every due partition walked, detached, dropped.
    let before = now - Duration::days(7);
    let mut steps: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut kept, mut deleted) = (0, 0);
    loop {
        match store.expire_partition(before).await.expect("step") {
            PartitionStep::Nothing => break,
            PartitionStep::Walked { kept: k, .. } => {
                *steps.entry("walked").or_default() += 1;
                kept += k;
            }
            PartitionStep::Detached { kept: k, .. } => {
                *steps.entry("detached").or_default() += 1;
                kept += k;
            }
            PartitionStep::Dropped { deleted: d, .. } => {
                *steps.entry("dropped").or_default() += 1;
                deleted += d;
            }
        }
    }
    let due = u64::try_from((before - first).num_days()).expect("days");
    assert_eq!(steps.get("detached"), Some(&due), "{steps:?}");
    assert_eq!(steps.get("dropped"), Some(&due), "{steps:?}");
    assert_eq!((kept, deleted), (2, 3));
    let left: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class WHERE relkind IN ('r', 'p') \
         AND (relname LIKE 'decision%' OR relname LIKE 'expired%') ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    assert!(!left.contains(&old_partition), "{left:?}");
    assert!(!left.iter().any(|t| t.starts_with("expired")), "{left:?}");

    for id in &plain {
        assert!(
            store.get_decision(id).await.expect("read").is_none(),
            "{id} went"
        );
    }
    for id in [&labelled, &reviewed] {
        assert!(
            store.get_decision(id).await.expect("read").is_some(),
            "{id} kept"
        );
        assert_eq!(
            partition_of(&pool, "decisions", id).await.as_deref(),
            Some("decisions_held")
        );
    }
    assert!(store.get_decision(&young).await.expect("read").is_some());
    assert_eq!(
        store
            .labels_for_decision(&labelled)
            .await
            .expect("labels")
            .len(),
        1
    );

    // The dropped decision's request id is free again; the kept one still answers its request.
    let mut again = decision("old-0");
    again.created_at = now;
    assert_eq!(
        store.insert_decisions(&[again]).await.expect("insert")[0],
        AppendOutcome::Inserted
    );
    let mut retried = decision("old-labelled");
    retried.created_at = now;
    match &store.insert_decisions(&[retried]).await.expect("insert")[0] {
        AppendOutcome::Existing(d) => assert_eq!(d.decision_id.0, labelled),
        other => panic!("the kept decision answers its request: {other:?}"),
    }
    assert_eq!(
        store
            .get_decision_by_request_id("old-labelled")
            .await
            .expect("by request")
            .map(|d| d.decision_id.0),
        Some(labelled.clone())
    );

    // A label for a dropped decision is refused, not stored.
    assert_eq!(
        store
            .insert_label(&label(&plain[1]), &actor())
            .await
            .expect("label"),
        LabelInsert::NoDecision
    );

    // A decision dated past the last partition waits in the default one, then moves in.
    let later = decided(store, "later", now + Duration::days(5), false).await;
    assert_eq!(
        partition_of(&pool, "decisions", &later).await.as_deref(),
        Some("decisions_default")
    );
    store
        .prepare_partitions(now, now + Duration::days(6), DAY)
        .await
        .expect("prepare");
    let home = format!(
        "decisions_p{}",
        (now + Duration::days(5)).format("%Y%m%d_000000")
    );
    assert_eq!(
        partition_of(&pool, "decisions", &later).await.as_deref(),
        Some(home.as_str())
    );
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_labelled_while_its_partition_is_walked_is_kept() {
    let Some(admin) = support::backends::postgres_url() else {
        eprintln!("DATABASE_URL not set: PostgreSQL's partitions not tested");
        return;
    };
    let db = support::backends::postgres(&admin).await;
    let store = db.store.as_ref();
    let now = Utc::now();
    let old = now - Duration::days(20);
    store
        .prepare_partitions(old, old, DAY)
        .await
        .expect("prepare");
    let early = decided(store, "early", old, false).await;
    // Walk the partition to its end, then label the decision the walk already passed.
    let before = now - Duration::days(7);
    match store.expire_partition(before).await.expect("walk") {
        PartitionStep::Walked { kept: 0, .. } => {}
        other => panic!("a walk step first: {other:?}"),
    }
    assert!(matches!(
        store
            .insert_label(&label(&early), &actor())
            .await
            .expect("label"),
        LabelInsert::Created(_)
    ));
    match store.expire_partition(before).await.expect("detach") {
        PartitionStep::Detached { kept: 1, .. } => {}
        other => panic!("the late label keeps its decision: {other:?}"),
    }
    match store.expire_partition(before).await.expect("drop") {
        PartitionStep::Dropped { deleted: 0, .. } => {}
        other => panic!("nothing else was in it: {other:?}"),
    }
    let kept = store.get_decision(&early).await.expect("read");
    assert!(kept.is_some(), "labelled late, kept all the same");
    assert_eq!(
        store
            .labels_for_decision(&early)
            .await
            .expect("labels")
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_making_partitions_at_once_leave_no_gap() {
    let Some(admin) = support::backends::postgres_url() else {
        eprintln!("DATABASE_URL not set: PostgreSQL's partitions not tested");
        return;
    };
    let db = support::backends::postgres(&admin).await;
    let other = db.replica().await;
    let pool = PgPool::connect(db.postgres_url().expect("url"))
        .await
        .expect("connect");
    let now = Utc::now();
    let from = now - Duration::days(10);
    let (a, b) = tokio::join!(
        db.store.prepare_partitions(from, now, DAY),
        other.store.prepare_partitions(from, now, DAY)
    );
    let mut made = a.expect("one replica") + b.expect("the other");
    // One of them may have stopped where the other held the lock: the next pass goes on.
    loop {
        let n = db
            .store
            .prepare_partitions(from, now, DAY)
            .await
            .expect("again");
        if n == 0 {
            break;
        }
        made += n;
    }
    assert_eq!(made, 11, "each day from ten days ago to today, once");
    for days in 0..=10 {
        let id = decided(
            db.store.as_ref(),
            &format!("day-{days}"),
            now - Duration::days(days),
            false,
        )
        .await;
        let home = partition_of(&pool, "decisions", &id).await.expect("stored");
        assert!(home.starts_with("decisions_p"), "{days} days ago: {home}");
    }
    pool.close().await;
}
