//! Picks the backend, once, from the database URL — the only place that knows both exist.
//!
//! No URL means the embedded default, SQLite at `<data_dir>/arbiter.db`; `sqlite:` names
//! another SQLite file; `postgres://` / `postgresql://` is PostgreSQL. Connecting always runs
//! the migrations, so a store handed out is one whose schema is current.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use arbiter_engine::store::Store;
use arbiter_transactions::due::DueQueue;
use arbiter_transactions::store::TransactionStore;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::decision_events::DecisionEvents;
use crate::error::StorageError;
use crate::postgres::{self, PgStore};
use crate::sqlite::{self, SqliteStore};

/// The file name of the embedded database inside the data directory.
pub const DEFAULT_SQLITE_FILE: &str = "arbiter.db";

/// A database chosen from a URL, not yet connected.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(PathBuf),
    /// Boxed: the options are large and a `Backend` is passed around by value.
    Postgres(Box<PgConnectOptions>),
}

impl Backend {
    /// Reads the URL's scheme; no I/O. An unknown scheme is an error that names it.
    pub fn from_url(database_url: Option<&str>, data_dir: &Path) -> Result<Backend, StorageError> {
        let Some(url) = database_url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Backend::Sqlite(data_dir.join(DEFAULT_SQLITE_FILE)));
        };
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "sqlite" => sqlite_path(url).map(Backend::Sqlite),
            "postgres" | "postgresql" => PgConnectOptions::from_str(url)
                .map(|options| Backend::Postgres(Box::new(options)))
                .map_err(|e| StorageError::InvalidUrl(format!("PostgreSQL URL: {e}"))),
            _ => Err(StorageError::UnsupportedScheme {
                scheme: scheme.to_owned(),
            }),
        }
    }

    /// Connects and migrates.
    pub async fn connect(&self) -> Result<Arc<dyn Store>, StorageError> {
        Ok(match self {
            Backend::Sqlite(path) => Arc::new(SqliteStore::open(path).await?),
            Backend::Postgres(options) => Arc::new(PgStore::connect((**options).clone()).await?),
        })
    }

    /// Connects and migrates once, and hands out the one store through each contract it
    /// implements: the risk host's and the transaction core's share one pool.
    pub async fn connect_stores(&self) -> Result<Stores, StorageError> {
        Ok(match self {
            Backend::Sqlite(path) => {
                let store = SqliteStore::open(path).await?;
                let events = store.decision_events.clone();
                Stores::of(Arc::new(store), events)
            }
            Backend::Postgres(options) => {
                let store = PgStore::connect((**options).clone()).await?;
                let events = store.decision_events.clone();
                Stores::of(Arc::new(store), events)
            }
        })
    }

    /// Connects, migrates and closes again: the `arbiter migrate` command.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        match self {
            Backend::Sqlite(path) => SqliteStore::open(path).await?.close().await,
            Backend::Postgres(options) => {
                PgStore::connect((**options).clone()).await?.close().await
            }
        }
        Ok(())
    }
}

/// Names the database without credentials, for logs: `SQLite at \`…\`` or
/// `PostgreSQL at \`host:port/db\``.
impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Sqlite(path) => f.write_str(&sqlite::describe(path)),
            Backend::Postgres(options) => f.write_str(&postgres::describe(options)),
        }
    }
}

/// Opens the database `database_url` names (or the data directory's SQLite file), migrated.
pub async fn connect(
    database_url: Option<&str>,
    data_dir: &Path,
) -> Result<Arc<dyn Store>, StorageError> {
    Backend::from_url(database_url, data_dir)?.connect().await
}

/// One connected backend seen through each contract it implements. Every field is the same
/// concrete store (one pool, one SQLite writer): a second pool would be a second writer.
#[derive(Clone)]
pub struct Stores {
    /// The risk host's store (decisions, lists, policies, keys, feedback).
    pub store: Arc<dyn Store>,
    /// The transaction core's store (catalogue, orders, payments, ledger, due queue).
    pub transactions: Arc<dyn TransactionStore>,
    /// The durable due-time queue (the same store). It stays the truth with Redis too: the
    /// server's wiring puts Redis in front of it as a dispatcher (`DueDispatch`), never in
    /// its place, because Redis may lose what it holds.
    pub due: Arc<dyn DueQueue>,
    /// Turns decision events on (`--decision-events`) for every view of this store.
    pub decision_events: DecisionEvents,
}

impl Stores {
    fn of<S: Store + TransactionStore>(
        concrete: Arc<S>,
        decision_events: DecisionEvents,
    ) -> Stores {
        Stores {
            store: concrete.clone(),
            transactions: concrete.clone(),
            due: concrete,
            decision_events,
        }
    }
}

/// [`connect`], with the transaction core's view of the same store.
pub async fn connect_stores(
    database_url: Option<&str>,
    data_dir: &Path,
) -> Result<Stores, StorageError> {
    Backend::from_url(database_url, data_dir)?
        .connect_stores()
        .await
}

/// Applies pending migrations to the database `database_url` names, then disconnects.
pub async fn migrate(database_url: Option<&str>, data_dir: &Path) -> Result<(), StorageError> {
    Backend::from_url(database_url, data_dir)?.migrate().await
}

/// The file a `sqlite:` URL names. Query parameters are refused rather than ignored: Arbiter
/// sets its own pragmas, and `:memory:` / `mode=memory` would give each pool its own empty
/// database and lose every decision at exit.
fn sqlite_path(url: &str) -> Result<PathBuf, StorageError> {
    if url.contains('?') || url.contains(":memory:") {
        return Err(StorageError::InvalidUrl(
            "SQLite URL must name a file, without parameters (in-memory databases are not supported)"
                .into(),
        ));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StorageError::InvalidUrl(format!("SQLite URL: {e}")))?;
    let path = options.get_filename();
    if path.as_os_str().is_empty() {
        return Err(StorageError::InvalidUrl("SQLite URL names no file".into()));
    }
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(url: Option<&str>) -> Result<Backend, StorageError> {
        Backend::from_url(url, Path::new("/var/lib/arbiter"))
    }

    #[test]
    fn no_url_is_sqlite_in_the_data_dir() {
        let backend = pick(None).expect("default backend");
        assert!(
            matches!(&backend, Backend::Sqlite(p) if p == Path::new("/var/lib/arbiter/arbiter.db"))
        );
        assert!(matches!(pick(Some("  ")), Ok(Backend::Sqlite(_))));
    }

    #[test]
    fn sqlite_urls_name_a_file() {
        for (url, path) in [
            ("sqlite:data/a.db", "data/a.db"),
            ("sqlite://data/a.db", "data/a.db"),
            ("sqlite:///tmp/a.db", "/tmp/a.db"),
        ] {
            assert!(
                matches!(pick(Some(url)), Ok(Backend::Sqlite(p)) if p == Path::new(path)),
                "{url}"
            );
        }
        for url in [
            "sqlite::memory:",
            "sqlite:a.db?mode=memory",
            "sqlite:",
            "sqlite://",
        ] {
            assert!(
                matches!(pick(Some(url)), Err(StorageError::InvalidUrl(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn postgres_urls_are_postgres_and_display_hides_the_password() {
        for url in [
            "postgres://u:secret@db:5433/arbiter",
            "postgresql://u:secret@db:5433/arbiter",
        ] {
            let backend = pick(Some(url)).expect("postgres backend");
            assert!(matches!(backend, Backend::Postgres(_)));
            let shown = backend.to_string();
            assert_eq!(shown, "PostgreSQL at `db:5433/arbiter`");
        }
    }

    #[test]
    fn other_schemes_are_named_in_the_error() {
        let err = pick(Some("mysql://db/arbiter")).expect_err("mysql is not supported");
        assert!(err.to_string().contains("`mysql`"), "{err}");
        let err = pick(Some("arbiter.db")).expect_err("a bare path has no scheme");
        assert!(matches!(err, StorageError::UnsupportedScheme { .. }));
    }
}
