//! The databases a story runs against: SQLite in a fresh temporary directory ALWAYS, and
//! PostgreSQL when `DATABASE_URL` is set (CI always sets it). A set but unreachable
//! `DATABASE_URL` fails the test loudly instead of skipping. Each PostgreSQL test gets a
//! database of its own, `arbiter_test_<random>`, dropped when the test ends (best effort, even
//! when it panics); no shared table is ever touched.

use std::sync::Arc;

use arbiter_engine::store::Store;
use sqlx::{Connection, Executor, PgConnection};

pub struct TestDb {
    /// `sqlite` or `postgres`, for assertion messages.
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    /// Dropped after `store`: removes the directory or database.
    _cleanup: Cleanup,
}

enum Cleanup {
    Dir(tempfile::TempDir),
    Database(PgDatabase),
}

/// Every configured backend, each with an empty, migrated database.
pub async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    if let Some(url) = postgres_url() {
        dbs.push(postgres(&url).await);
    }
    dbs
}

/// A fresh SQLite database in its own temporary directory, opened the way the service opens
/// it: no URL, the data directory's default file.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = arbiter_storage::connect(None, dir.path())
        .await
        .expect("open SQLite in a temporary directory");
    TestDb {
        name: "sqlite",
        store,
        _cleanup: Cleanup::Dir(dir),
    }
}

/// `DATABASE_URL`, when set. Anything but a PostgreSQL URL there is a mistake worth failing on.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    assert!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "DATABASE_URL must be a postgres:// URL for the storage tests"
    );
    Some(url)
}

pub async fn postgres(admin_url: &str) -> TestDb {
    let db = PgDatabase::create(admin_url).await;
    let store = arbiter_storage::connect(Some(&db.url), std::path::Path::new("unused"))
        .await
        .expect("connect to the test database");
    TestDb {
        name: "postgres",
        store,
        _cleanup: Cleanup::Database(db),
    }
}

/// A database of one test's own on the server `DATABASE_URL` names.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    /// `admin_url` with the database replaced.
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> PgDatabase {
        let mut admin = PgConnection::connect(admin_url)
            .await
            .expect("DATABASE_URL is set but PostgreSQL is unreachable");
        let name = format!("arbiter_test_{:016x}", rand::random::<u64>());
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(admin_url).expect("DATABASE_URL parses as a URL");
        url.set_path(&name);
        PgDatabase {
            admin_url: admin_url.to_owned(),
            name,
            url: url.into(),
        }
    }
}

impl Drop for PgDatabase {
    /// Drops the database from a thread of its own (a destructor cannot await, and may run
    /// during a panic). `WITH (FORCE)` ends the store's pooled connections.
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin.execute(sql.as_str()).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}
