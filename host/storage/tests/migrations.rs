//! Migrations that change data already stored, run over the data an older release wrote:
//! each test applies the migrations before the one under test from a copy of the folder,
//! writes rows as that release could, then applies the rest with the real folder.

#[macro_use]
mod support;

use sqlx::Connection;
use sqlx::migrate::Migrator;
use support::upgrade::{folder, migrations_before};

/// Three twins of one block entry (expired, expiring, for ever) and one other entry, as
/// releases before 0006 could store them; `ts` renders a time for the backend.
fn twins(ts: impl Fn(&str) -> String) -> Vec<String> {
    let row = |id: &str, list: &str, value: &str, expires: Option<&str>, created: &str| {
        format!(
            "INSERT INTO list_entries (id, list, kind, value, reason, expires_at, created_at, \
             created_by) VALUES ('{id}', '{list}', 'user', '{value}', 'r', {}, {}, 'key_1')",
            expires.map_or("NULL".to_owned(), &ts),
            ts(created)
        )
    };
    vec![
        row(
            "le_1",
            "block",
            "u-1",
            Some("2020-01-01T00:00:00.000000Z"),
            "2019-01-01T00:00:00.000000Z",
        ),
        row("le_2", "block", "u-1", None, "2019-02-01T00:00:00.000000Z"),
        row(
            "le_3",
            "block",
            "u-1",
            Some("2099-01-01T00:00:00.000000Z"),
            "2019-03-01T00:00:00.000000Z",
        ),
        row("le_4", "allow", "u-1", None, "2019-04-01T00:00:00.000000Z"),
    ]
}

/// Applies the migrations before 0006, writes twins, applies the rest and checks what is
/// kept; one body for both databases' connection types.
macro_rules! collapse_twins {
    ($conn:ty, $url:expr, $backend:literal, $ts:expr) => {{
        let mut conn = upgraded!($conn, $url, $backend, "0006", twins($ts));
        let kept: Vec<(String,)> = sqlx::query_as("SELECT id FROM list_entries ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .expect("read");
        let kept: Vec<String> = kept.into_iter().map(|(id,)| id).collect();
        // The twin in force longest (no expiry) stays; the other list's entry is no twin.
        assert_eq!(kept, ["le_2", "le_4"], $backend);
        let again = twins($ts)[0].replace("le_1", "le_9");
        let twin = sqlx::query(&again).execute(&mut conn).await;
        assert!(
            twin.is_err(),
            "{}: the unique index refuses a new twin",
            $backend
        );
        let _ = conn.close().await;
    }};
}

#[tokio::test]
async fn migration_0006_keeps_one_list_entry_per_identity_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    collapse_twins!(sqlx::SqliteConnection, &url, "sqlite", |t| format!("'{t}'"));
}

#[tokio::test]
async fn migration_0006_keeps_one_list_entry_per_identity_on_postgres() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    collapse_twins!(sqlx::PgConnection, &db.url, "postgres", |t| {
        format!("TIMESTAMPTZ '{t}'")
    });
}

/// A key row as releases before 0009 stored it (no name, no creator); `now` is a time
/// literal of the backend.
fn old_key(id: &str, scopes: &str, now: &str) -> String {
    format!(
        "INSERT INTO api_keys (id, hash, scopes, created_at) \
         VALUES ('{id}', 'h-{id}', '{scopes}', {now})"
    )
}

/// Applies the migrations before 0008, stores keys as older releases did (a `decide` key was
/// also the storefront's and the refunds caller's), applies the rest and checks that those
/// keys keep what they could do there, and nothing else changed.
macro_rules! split_scopes {
    ($conn:ty, $url:expr, $backend:literal, $now:literal) => {{
        let seed = [
            ("key_1", "decide"),
            ("key_2", "decide,policy:write"),
            ("key_3", "label:write"),
            ("key_4", "admin"),
        ]
        .map(|(id, scopes)| old_key(id, scopes, $now));
        let mut conn = upgraded!($conn, $url, $backend, "0008", seed);
        let keys: Vec<(String, String)> =
            sqlx::query_as("SELECT id, scopes FROM api_keys ORDER BY id")
                .fetch_all(&mut conn)
                .await
                .expect("read");
        let expected = [
            ("key_1", "decide,orders:write,refunds:write"),
            ("key_2", "decide,policy:write,orders:write,refunds:write"),
            ("key_3", "label:write"),
            ("key_4", "admin"),
        ];
        let keys: Vec<(&str, &str)> = keys.iter().map(|(i, s)| (i.as_str(), s.as_str())).collect();
        assert_eq!(keys, expected, $backend);
        let _ = conn.close().await;
    }};
}

#[tokio::test]
async fn migration_0008_keeps_what_decide_keys_could_do_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    split_scopes!(
        sqlx::SqliteConnection,
        &url,
        "sqlite",
        "'2026-01-01T00:00:00.000000Z'"
    );
}

#[tokio::test]
async fn migration_0008_keeps_what_decide_keys_could_do_on_postgres() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    split_scopes!(
        sqlx::PgConnection,
        &db.url,
        "postgres",
        "TIMESTAMPTZ '2026-01-01T00:00:00Z'"
    );
}

/// Applies the migrations before 0009, stores keys as older releases did (no name, no
/// creator), applies the rest and checks that each key is named after its id, its creator is
/// `unknown`, and it is neither expired, used nor revoked.
macro_rules! name_keys {
    ($conn:ty, $url:expr, $backend:literal, $now:literal) => {{
        let seed = ["key_0a", "key_0b"].map(|id| old_key(id, "decide", $now));
        let mut conn = upgraded!($conn, $url, $backend, "0009", seed);
        let keys: Vec<(String, String, String, bool)> = sqlx::query_as(
            "SELECT id, name, created_by, \
             expires_at IS NULL AND last_used_at IS NULL AND revoked_at IS NULL \
             FROM api_keys ORDER BY id",
        )
        .fetch_all(&mut conn)
        .await
        .expect("read");
        let expected = [
            ("key_0a", "key_0a", "unknown", true),
            ("key_0b", "key_0b", "unknown", true),
        ];
        let keys: Vec<(&str, &str, &str, bool)> = keys
            .iter()
            .map(|(i, n, c, open)| (i.as_str(), n.as_str(), c.as_str(), *open))
            .collect();
        assert_eq!(keys, expected, $backend);
        let _ = conn.close().await;
    }};
}

#[tokio::test]
async fn migration_0009_names_existing_keys_after_their_id_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    name_keys!(
        sqlx::SqliteConnection,
        &url,
        "sqlite",
        "'2026-01-01T00:00:00.000000Z'"
    );
}

#[tokio::test]
async fn migration_0009_names_existing_keys_after_their_id_on_postgres() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    name_keys!(
        sqlx::PgConnection,
        &db.url,
        "postgres",
        "TIMESTAMPTZ '2026-01-01T00:00:00Z'"
    );
}

/// Applies the migrations before 0010, stores audit entries as older releases did (the actor
/// is a key id, or `system`), applies the rest and checks that each keeps its id as
/// `actor_id` and is named after its key where the key still exists.
macro_rules! name_audit_actors {
    ($conn:ty, $url:expr, $backend:literal, $now:literal) => {{
        let audit = |actor: &str| {
            format!(
                "INSERT INTO audit_log (at, actor, action, target, detail) \
                 VALUES ({}, '{actor}', 'policy.upload', 'geo@1', '{{}}')",
                $now
            )
        };
        let seed = [
            format!(
                "INSERT INTO api_keys (id, name, hash, scopes, created_by, created_at) \
                 VALUES ('key_1', 'risk team', 'h', 'policy:write', 'cli', {})",
                $now
            ),
            audit("key_1"),
            audit("system"),
            audit("key_gone"),
        ];
        let mut conn = upgraded!($conn, $url, $backend, "0010", seed);
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT actor, actor_id FROM audit_log ORDER BY id")
                .fetch_all(&mut conn)
                .await
                .expect("read");
        let rows: Vec<(&str, &str)> = rows.iter().map(|(a, i)| (a.as_str(), i.as_str())).collect();
        let expected = [
            ("risk team", "key_1"),
            ("system", "system"),
            ("key_gone", "key_gone"),
        ];
        assert_eq!(rows, expected, $backend);
        let _ = conn.close().await;
    }};
}

#[tokio::test]
async fn migration_0010_names_audit_actors_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    name_audit_actors!(
        sqlx::SqliteConnection,
        &url,
        "sqlite",
        "'2026-01-01T00:00:00.000000Z'"
    );
}

#[tokio::test]
async fn migration_0010_names_audit_actors_on_postgres() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    name_audit_actors!(
        sqlx::PgConnection,
        &db.url,
        "postgres",
        "TIMESTAMPTZ '2026-01-01T00:00:00Z'"
    );
}

/// Applies the migrations before 0011, stores two decisions as older releases did (body
/// only), applies the rest and checks that each got its backtest projection, equal to what a
/// new decision records: since 0029, in the decision's own columns.
macro_rules! project_decisions {
    ($conn:ty, $url:expr, $backend:literal, $ts:expr) => {{
        let mut with_model = support::fixtures::decision("old-1");
        with_model.layers.model = Some(arbiter_engine::stages::ModelOutcome {
            version: 7,
            probability: 0.1 + 0.2,
        });
        // A shadow result with one module that fired, one that found nothing and one that
        // faulted: only the first is a hit.
        let mut quiet = with_model.layers.rules[0].clone();
        quiet.name = "quiet".into();
        quiet.action = arbiter_engine::Action::None;
        quiet.score = 0.0;
        quiet.reasons.clear();
        let mut broken = with_model.layers.rules[0].clone();
        broken.name = "broken".into();
        broken.fault = support::fixtures::faulted_decision("x").layers.rules[0]
            .fault
            .clone();
        with_model.shadow = Some(arbiter_engine::decision::ShadowResult {
            policy_set_version: 2,
            action: arbiter_engine::Action::Reject,
            score: 91.25,
            reasons: Vec::new(),
            rules: vec![with_model.layers.rules[0].clone(), quiet, broken],
        });
        let mut blocked = support::fixtures::faulted_decision("old-2");
        blocked.layers.lists.verdict = Some(arbiter_engine::Action::Reject);
        blocked.context.graph = None;
        let decisions = [with_model, blocked];
        let seed: Vec<String> = decisions
            .iter()
            .map(|d| {
                let body = serde_json::to_string(d).expect("body").replace('\'', "''");
                format!(
                    "INSERT INTO decisions (decision_id, request_id, body_hash, event, action, \
                     score, policy_set_version, model_version, created_at, body) VALUES \
                     ('{}', '{}', 'h', 'payment.authorize', '{}', 1.5, 1, NULL, {}, '{body}')",
                    d.decision_id,
                    d.request_id,
                    d.action.as_str(),
                    $ts("2026-01-01T00:00:00.000000Z")
                )
            })
            .collect();
        let mut conn = upgraded!($conn, $url, $backend, "0011", seed);
        // The projection went again in 0029, its shadow answers and amounts into `decisions`
        // (a replay reads the stored decision; `compact_migration.rs` replays decisions stored
        // before it).
        for d in &decisions {
            let checkpoint: String =
                sqlx::query_scalar("SELECT event FROM decisions WHERE decision_id = $1")
                    .bind(&d.decision_id.0)
                    .fetch_one(&mut conn)
                    .await
                    .expect("projected");
            assert_eq!(checkpoint, "payment.authorize", $backend);
        }
        type Shadow = (
            Option<i64>,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<f64>,
            Option<String>,
        );
        let shadow: Shadow = sqlx::query_as(
            "SELECT amount_minor, currency, shadow_version, shadow_action, shadow_score, \
             shadow_hits FROM decisions WHERE decision_id = $1",
        )
        .bind(&decisions[0].decision_id.0)
        .fetch_one(&mut conn)
        .await
        .expect("projected");
        assert_eq!(
            shadow,
            (
                Some(12_999),
                Some("EUR".to_owned()),
                Some(2),
                Some("reject".to_owned()),
                Some(91.25),
                Some("velocity".to_owned())
            ),
            $backend
        );
        let none: Shadow = sqlx::query_as(
            "SELECT amount_minor, currency, shadow_version, shadow_action, shadow_score, \
             shadow_hits FROM decisions WHERE decision_id = $1",
        )
        .bind(&decisions[1].decision_id.0)
        .fetch_one(&mut conn)
        .await
        .expect("projected");
        assert_eq!((none.2, none.3, none.5), (None, None, None), $backend);
        let _ = conn.close().await;
    }};
}

#[tokio::test]
async fn migration_0011_projects_stored_decisions_for_backtests_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    project_decisions!(sqlx::SqliteConnection, &url, "sqlite", |t: &str| format!(
        "'{t}'"
    ));
}

#[tokio::test]
async fn migration_0011_projects_stored_decisions_for_backtests_on_postgres() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    project_decisions!(sqlx::PgConnection, &db.url, "postgres", |t: &str| format!(
        "TIMESTAMPTZ '{t}'"
    ));
}
