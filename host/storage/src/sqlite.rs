//! The SQLite backend: the embedded default, one file in the data directory.
//!
//! SQLite has one writer at a time, so writes go through a pool of exactly ONE connection:
//! writers queue in the pool (in process, fairly) instead of racing for the file lock and
//! failing with `SQLITE_BUSY`. Reads go through a separate small pool of `query_only`
//! connections; in WAL mode they never wait for the writer, so a health check or a lookup is not
//! stuck behind a batch of decisions. `synchronous = FULL` makes every commit durable before it
//! returns (a decision is durable before its 200); the decision log's group commit pays that
//! fsync once per batch rather than once per decision.

mod decisions;
// The transaction core's stores (arbiter-transactions).
mod changes;
mod create_order;
mod outbox;
mod private_files;

use std::path::Path;
use std::time::Duration;

use arbiter_engine::store::{Health, StoreError};
use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use crate::decision_events::DecisionEvents;
use crate::dialect::Serialized;
use crate::error::{StorageError, store_error};
use crate::group_commit::GroupCommit;

/// Readers: enough for the admin API and health checks next to the hot path, which reads from
/// in-memory snapshots rather than the database.
const READ_POOL_SIZE: u32 = 4;
/// How long a query waits for a free connection before the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A SQLite database with its writer and reader pools.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: SQLite's single writer, queued in process.
    writer: SqlitePool,
    /// `query_only` connections for reads, which WAL lets run beside the writer.
    reader: SqlitePool,
    /// The transaction core's hot writes, group-committed on the writer (`group_commit`).
    group: GroupCommit<sqlx::Sqlite>,
    /// Whether decisions and reviews write their events to the outbox.
    pub(crate) decision_events: DecisionEvents,
}

impl SqliteStore {
    /// Opens (creating the file and its directory if missing) and migrates the database at
    /// `path`.
    pub async fn open(path: &Path) -> Result<SqliteStore, StorageError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| StorageError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
        }
        private_files::make_private(path)?;
        let connect_error = |source| StorageError::Connect {
            backend: describe(path),
            source,
        };
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A new file keeps its free pages apart so retention can give them back
            // (`PRAGMA incremental_vacuum`); an older file keeps its mode until a `VACUUM`.
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .auto_vacuum(SqliteAutoVacuum::Incremental),
            )
            .await
            .map_err(connect_error)?;
        sqlx::migrate!("../../migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|source| StorageError::Migrate {
                backend: describe(path),
                source,
            })?;
        // Opened after the writer has created the file and switched it to WAL.
        let reader = SqlitePoolOptions::new()
            .max_connections(READ_POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(base.pragma("query_only", "ON"))
            .await
            .map_err(connect_error)?;
        let group = GroupCommit::spawn(writer.clone(), Some("BEGIN IMMEDIATE"));
        Ok(SqliteStore {
            writer,
            reader,
            group,
            decision_events: DecisionEvents::default(),
        })
    }

    /// Closes both pools, waiting for open connections to finish.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// A write transaction. `BEGIN IMMEDIATE` takes the file's write lock up front, so a
    /// transaction never fails half-way upgrading a read lock when another process (such as
    /// `arbiter migrate`) holds the file; it waits up to the busy timeout instead.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)
    }

    /// A write transaction in which no other writer touches `table` until commit.
    pub(crate) async fn begin_serialized(
        &self,
        _table: Serialized,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        // INVARIANT: every write transaction here is `BEGIN IMMEDIATE` on the single writer
        // connection, so no other writer (in this process or another) runs between its
        // statements: a `max + 1` read-and-insert or a check-then-insert sees no concurrent
        // change, whatever the table.
        self.begin_write().await
    }

    /// Where single-statement writes go: the one writer connection (autocommit).
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The group-committed writer order creation runs on.
    pub(crate) fn order_writer(&self) -> &GroupCommit<sqlx::Sqlite> {
        &self.group
    }

    /// The group-committed writer status changes run on: the same single writer.
    pub(crate) fn change_writer(&self) -> &GroupCommit<sqlx::Sqlite> {
        &self.group
    }

    /// Where reads go: the `query_only` pool beside the writer.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }
}

/// `SQLite at \`path\``, for error messages.
pub(crate) fn describe(path: &Path) -> String {
    format!("SQLite at `{}`", path.display())
}

#[async_trait]
impl Health for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(drop)
            .map_err(store_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pragma(pool: &SqlitePool, name: &str) -> i64 {
        let sql = format!("PRAGMA {name}");
        sqlx::query_scalar(&sql)
            .fetch_one(pool)
            .await
            .expect("pragma")
    }

    #[tokio::test]
    async fn connections_are_durable_and_readers_cannot_write() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = SqliteStore::open(&dir.path().join("a.db"))
            .await
            .expect("open");
        for pool in [&store.writer, &store.reader] {
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(pool)
                .await
                .expect("journal mode");
            assert_eq!(mode, "wal");
            assert_eq!(pragma(pool, "synchronous").await, 2, "FULL");
            assert_eq!(pragma(pool, "foreign_keys").await, 1);
            assert_eq!(pragma(pool, "busy_timeout").await, 5000);
        }
        assert_eq!(pragma(&store.writer, "query_only").await, 0);
        assert_eq!(pragma(&store.reader, "query_only").await, 1);
        let write = sqlx::query("DELETE FROM api_keys")
            .execute(&store.reader)
            .await;
        assert!(write.is_err(), "a reader connection refused the write");
        store.close().await;
    }
}
