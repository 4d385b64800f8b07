//! Migration 0026 over decisions an older release stored on PostgreSQL: they move into one
//! partition reaching to the end of the day (`decisions_legacy`), with their projections and
//! request ids; labels and reviews still find them; a repeated request is still answered with
//! the stored decision; and the legacy partition expires whole like any other, keeping the
//! labelled decision.

#[macro_use]
mod support;

use arbiter_engine::retention::PartitionStep;
use arbiter_engine::store::AppendOutcome;
use chrono::{Duration, Utc};
use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection};
use support::upgrade::{folder, migrations_before};

#[tokio::test]
async fn stored_decisions_move_into_the_legacy_partition_and_expire_with_it() {
    let Some(admin) = support::backends::postgres_url() else {
        eprintln!("DATABASE_URL not set: migration 0026 not tested");
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    let old = support::fixtures::decision("stored-before");
    let labelled = support::fixtures::decision("labelled-before");
    let mut seed = Vec::new();
    for d in [&old, &labelled] {
        let body = serde_json::to_string(d).expect("body").replace('\'', "''");
        seed.push(format!(
            "INSERT INTO decisions (decision_id, request_id, body_hash, event, action, score, \
             policy_set_version, model_version, created_at, body) VALUES \
             ('{}', '{}', 'h', 'payment.authorize', 'accept', 5, 1, NULL, \
             now() - interval '3 days', '{body}')",
            d.decision_id, d.request_id
        ));
        seed.push(format!(
            "INSERT INTO decision_features (decision_id, created_at, checkpoint, \
             policy_set_version, action, score, replay) VALUES \
             ('{}', now() - interval '3 days', 'payment.authorize', 1, 'accept', 5, '{{}}')",
            d.decision_id
        ));
    }
    seed.push(format!(
        "INSERT INTO labels (label_id, decision_id, label, source, created_by, created_at) \
         VALUES ('lab_before', '{}', 'fraud', 'analyst', 'key', now())",
        labelled.decision_id
    ));
    let mut conn = upgraded!(PgConnection, &db.url, "postgres", "0026", seed);
    // (Their projections went in 0029 with `decision_features`.)
    let placed: Vec<(String, String)> =
        sqlx::query_as("SELECT tableoid::regclass::text, decision_id FROM decisions ORDER BY 1, 2")
            .fetch_all(&mut conn)
            .await
            .expect("placed");
    let mut ids = [old.decision_id.0.clone(), labelled.decision_id.0.clone()];
    ids.sort();
    let expected: Vec<(String, String)> = ids
        .iter()
        .map(|id| ("decisions_legacy".to_owned(), id.clone()))
        .collect();
    assert_eq!(placed, expected);
    let _ = conn.close().await;

    let stores = arbiter_storage::connect_stores(Some(&db.url), std::path::Path::new("unused"))
        .await
        .expect("open the upgraded database");
    let store = stores.store;
    assert!(
        store
            .get_decision(&old.decision_id.0)
            .await
            .expect("read")
            .is_some()
    );
    let mut retried = support::fixtures::decision("stored-before");
    retried.created_at = Utc::now();
    match &store.insert_decisions(&[retried]).await.expect("insert")[0] {
        AppendOutcome::Existing(d) => assert_eq!(d.decision_id, old.decision_id),
        other => panic!("the stored decision answers its request: {other:?}"),
    }
    assert_eq!(
        store
            .labels_for_decision(&labelled.decision_id.0)
            .await
            .expect("labels")
            .len(),
        1
    );

    // The legacy partition ends with today: due once all of it is older than the age.
    let before = Utc::now() + Duration::days(2);
    let mut dropped = Vec::new();
    loop {
        match store.expire_partition(before).await.expect("step") {
            PartitionStep::Nothing => break,
            PartitionStep::Dropped { partition, deleted } => dropped.push((partition, deleted)),
            _ => {}
        }
    }
    assert_eq!(dropped, [("decisions_legacy".to_owned(), 1)]);
    assert!(
        store
            .get_decision(&old.decision_id.0)
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        store
            .get_decision(&labelled.decision_id.0)
            .await
            .expect("read")
            .is_some(),
        "the labelled one is kept"
    );
}
