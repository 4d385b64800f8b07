//! Upgrading a database an older release wrote: the migrations before a given one, seed rows
//! as that release stored them, then the rest (for the tests of migrations that change data).

use std::path::{Path, PathBuf};

/// The repository's migration folder for `backend` (`sqlite` or `postgres`).
pub fn folder(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(backend)
}

/// A copy of `backend`'s migrations numbered below `before`.
pub fn migrations_before(backend: &str, before: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for entry in std::fs::read_dir(folder(backend)).expect("migrations folder") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name < before {
            std::fs::copy(&path, dir.path().join(name)).expect("copy migration");
        }
    }
    dir
}

/// Connects to `$url`, applies `$backend`'s migrations numbered below `$before`, runs the
/// statements `$seed` (rows as that release wrote them), applies the rest and returns the
/// connection; one body for both databases' connection types.
#[allow(unused_macros, reason = "only the migration tests use it")]
macro_rules! upgraded {
    ($conn:ty, $url:expr, $backend:literal, $before:literal, $seed:expr) => {{
        let mut conn = <$conn>::connect($url).await.expect("connect");
        let old = migrations_before($backend, $before);
        Migrator::new(old.path())
            .await
            .expect("read old migrations")
            .run(&mut conn)
            .await
            .expect("old migrations");
        for sql in $seed {
            sqlx::query(&sql)
                .execute(&mut conn)
                .await
                .expect("seed row");
        }
        Migrator::new(folder($backend))
            .await
            .expect("read migrations")
            .run(&mut conn)
            .await
            .expect("the rest of the migrations");
        conn
    }};
}
