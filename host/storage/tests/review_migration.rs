//! Migration 0015 over reviews an older release stored: each open review gets its decision's
//! checkpoint and reason codes, so the queue's filters find it like a new one.

#[macro_use]
mod support;

use sqlx::Connection;
use sqlx::migrate::Migrator;
use support::upgrade::{folder, migrations_before};

/// Stores a challenged decision with two reason codes (one given twice) and its open review as
/// a release before 0015 did, upgrades, and reads the review's new columns.
macro_rules! backfill_reviews {
    ($conn:ty, $url:expr, $backend:literal, $ts:expr) => {{
        let mut d = support::fixtures::decision("old-review");
        let mut geo = d.reasons[0].clone();
        geo.code = "geo.mismatch".into();
        d.reasons.push(geo.clone());
        d.reasons.push(geo);
        let body = serde_json::to_string(&d).expect("body").replace('\'', "''");
        let at = $ts("2026-01-01T00:00:00.000000Z");
        let seed = vec![
            format!(
                "INSERT INTO decisions (decision_id, request_id, body_hash, event, action, \
                 score, policy_set_version, model_version, created_at, body) VALUES \
                 ('{}', 'old-review', 'h', 'payment.authorize', 'challenge', 50, 1, NULL, \
                 {at}, '{body}')",
                d.decision_id
            ),
            format!(
                "INSERT INTO reviews (review_id, decision_id, status, opened_at) \
                 VALUES ('rev_old', '{}', 'open', {at})",
                d.decision_id
            ),
        ];
        let mut conn = upgraded!($conn, $url, $backend, "0015", seed);
        let (checkpoint, codes): (String, String) = sqlx::query_as(
            "SELECT checkpoint, reason_codes FROM reviews WHERE review_id = 'rev_old'",
        )
        .fetch_one(&mut conn)
        .await
        .expect("review");
        assert_eq!(checkpoint, "payment.authorize", $backend);
        let mut listed: Vec<&str> = codes.trim_matches(',').split(',').collect();
        listed.sort_unstable();
        assert_eq!(
            listed,
            ["geo.mismatch", "rule.velocity.user"],
            "{}: {codes}",
            $backend
        );
        assert!(codes.starts_with(',') && codes.ends_with(','), "{codes}");
        let _ = conn.close().await;
    }};
}

#[tokio::test]
async fn migration_0015_gives_stored_reviews_their_filters_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    backfill_reviews!(sqlx::SqliteConnection, &url, "sqlite", |t: &str| format!(
        "'{t}'"
    ));
}

#[tokio::test]
async fn migration_0015_gives_stored_reviews_their_filters_on_postgres() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    backfill_reviews!(sqlx::PgConnection, &db.url, "postgres", |t: &str| format!(
        "TIMESTAMPTZ '{t}'"
    ));
}
