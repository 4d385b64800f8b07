//! The databases a story runs against: SQLite in a fresh temporary directory ALWAYS, and
//! PostgreSQL in a database of its own ([`PgDatabase`]) when `DATABASE_URL` is set (CI always
//! sets it). A set but unreachable `DATABASE_URL` fails the test loudly instead of skipping.
//!
//! Each database is opened the way the service opens it (`arbiter_storage::Backend`, migrated)
//! and handed out through both contracts the one store implements: the risk host's
//! `Arc<dyn Store>` and the transaction core's `Arc<dyn TransactionStore>` ([`TestDb::view`]
//! picks the one a story takes).

use std::path::Path;
use std::sync::Arc;

use arbiter_engine::store::Store;
use arbiter_storage::{Backend, Stores};
use arbiter_transactions::store::TransactionStore;

use super::pg_database::PgDatabase;

/// One backend with an empty, migrated database.
pub struct TestDb {
    /// `sqlite` or `postgres`, for assertion messages.
    pub name: &'static str,
    /// The risk host's view of the store.
    pub store: Arc<dyn Store>,
    /// The transaction core's view of the same store.
    pub transactions: Arc<dyn TransactionStore>,
    /// How to open the same database again, as another replica would.
    backend: Backend,
    /// Dropped after the stores: removes the directory or database.
    cleanup: Cleanup,
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
    let backend = Backend::from_url(None, dir.path()).expect("the default backend");
    TestDb::open("sqlite", backend, Cleanup::Dir(dir)).await
}

/// A fresh database of its own on the PostgreSQL server `admin_url` names.
pub async fn postgres(admin_url: &str) -> TestDb {
    let db = PgDatabase::create(admin_url).await;
    let backend =
        Backend::from_url(Some(&db.url), Path::new("unused")).expect("the test database's URL");
    TestDb::open("postgres", backend, Cleanup::Database(db)).await
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

impl TestDb {
    async fn open(name: &'static str, backend: Backend, cleanup: Cleanup) -> TestDb {
        let Stores {
            store,
            transactions,
            ..
        } = backend
            .connect_stores()
            .await
            .unwrap_or_else(|e| panic!("open the {name} test database: {e}"));
        TestDb {
            name,
            store,
            transactions,
            backend,
            cleanup,
        }
    }

    /// The store as the story at hand takes it.
    pub fn view<S: StoreView>(&self) -> S {
        S::of(self)
    }

    /// A second store on the same database, as another replica has it: its own pool and its
    /// own group-commit writers.
    pub async fn replica(&self) -> Stores {
        self.backend
            .connect_stores()
            .await
            .unwrap_or_else(|e| panic!("open the {} test database again: {e}", self.name))
    }

    /// Runs `sql` (one or more statements) on a connection of its own, outside the store: to
    /// plant a fault the store must survive.
    pub async fn execute_raw(&self, sql: &str) {
        use sqlx::Connection;
        let done = match &self.backend {
            Backend::Sqlite(path) => {
                let mut conn = sqlx::SqliteConnection::connect_with(
                    &sqlx::sqlite::SqliteConnectOptions::new().filename(path),
                )
                .await
                .expect("open the SQLite file");
                sqlx::raw_sql(sql).execute(&mut conn).await.map(drop)
            }
            Backend::Postgres(options) => {
                let mut conn = sqlx::PgConnection::connect_with(options)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::raw_sql(sql).execute(&mut conn).await.map(drop)
            }
        };
        done.unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.name));
    }

    /// The PostgreSQL database's URL, for tests that also talk to it directly.
    pub fn postgres_url(&self) -> Option<&str> {
        match &self.cleanup {
            Cleanup::Database(db) => Some(&db.url),
            Cleanup::Dir(_) => None,
        }
    }
}

/// A contract of the store a story may take: `Arc<dyn Store>` or `Arc<dyn TransactionStore>`.
pub trait StoreView {
    fn of(db: &TestDb) -> Self;
}

impl StoreView for Arc<dyn Store> {
    fn of(db: &TestDb) -> Self {
        Arc::clone(&db.store)
    }
}

impl StoreView for Arc<dyn TransactionStore> {
    fn of(db: &TestDb) -> Self {
        Arc::clone(&db.transactions)
    }
}
