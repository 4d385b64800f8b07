//! Opening databases through the public entry points: URL forms, reopening, migrations that
//! run once, a corrupt row reported as such, and an unreachable server reported at connect.

mod support;

use std::time::Instant;

use arbiter_engine::store::StoreError;
use arbiter_storage::{Backend, StorageError, connect, migrate};
use support::fixtures::{actor, api_key, decision};

#[tokio::test]
async fn a_sqlite_file_keeps_its_data_across_reopening() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("nested/dir/risk.db");
    let url = format!("sqlite://{}", file.display());
    migrate(Some(&url), dir.path())
        .await
        .expect("migrate creates the file and its directory");
    assert!(file.exists());

    let d = decision("req-kept");
    {
        let store = connect(Some(&url), dir.path()).await.expect("open");
        store
            .insert_decisions(std::slice::from_ref(&d))
            .await
            .expect("insert");
    }
    // Opening again re-runs no migration and finds the decision.
    let store = connect(Some(&format!("sqlite:{}", file.display())), dir.path())
        .await
        .expect("reopen");
    assert_eq!(
        store.get_decision(&d.decision_id.0).await.expect("get"),
        Some(d)
    );
    assert!(
        !dir.path().join("arbiter.db").exists(),
        "the URL, not the data dir, was used"
    );
}

#[tokio::test]
async fn a_corrupt_row_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = connect(None, dir.path()).await.expect("open");
    store
        .insert_key(
            &api_key("key_ok", &[arbiter_engine::keys::Scope::Decide], 0),
            &actor(),
        )
        .await
        .expect("insert key");
    let raw = sqlx::SqlitePool::connect(&format!(
        "sqlite:{}",
        dir.path().join("arbiter.db").display()
    ))
    .await
    .expect("raw connection");
    sqlx::query("UPDATE api_keys SET scopes = 'decide,root'")
        .execute(&raw)
        .await
        .expect("corrupt the row");
    raw.close().await;
    let keys = store.all_keys().await;
    assert!(
        matches!(&keys, Err(StoreError::Corrupt(m)) if m.contains("`root`")),
        "{keys:?}"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_fails_at_connect_without_the_password() {
    let started = Instant::now();
    let url = "postgres://arbiter:s3cret@127.0.0.1:1/arbiter";
    let err = match connect(Some(url), std::path::Path::new(".")).await {
        Ok(_) => panic!("nothing listens on port 1"),
        Err(e) => e,
    };
    assert!(matches!(err, StorageError::Connect { .. }), "{err}");
    let shown = err.to_string();
    assert!(
        shown.contains("127.0.0.1:1/arbiter") && !shown.contains("s3cret"),
        "{shown}"
    );
    assert!(started.elapsed().as_secs() < 30, "gave up in bounded time");
}

#[tokio::test]
async fn an_unknown_scheme_is_refused_before_any_io() {
    let err = match connect(
        Some("mysql://db/arbiter"),
        std::path::Path::new("/nonexistent"),
    )
    .await
    {
        Ok(_) => panic!("mysql is not a backend"),
        Err(e) => e,
    };
    assert!(matches!(&err, StorageError::UnsupportedScheme { scheme } if scheme == "mysql"));
    assert_eq!(
        Backend::from_url(None, std::path::Path::new("/data"))
            .expect("default")
            .to_string(),
        "SQLite at `/data/arbiter.db`"
    );
}
