//! The PostgreSQL backend: the system of record when Arbiter runs as several replicas.
//!
//! One pool shared by reads and writes: PostgreSQL has real row-level concurrency, so writers
//! need no queue of their own. Structured values live in `JSONB` columns (bound as text and cast
//! with `$n::jsonb`, read back with `::text`), timestamps in `TIMESTAMPTZ`. The pool gives up
//! acquiring after a few seconds, so an unreachable database surfaces as
//! [`StoreError::Unavailable`] (a 503) instead of a request hanging.

mod decisions;
mod graph_feed;
mod partitions;
// The transaction core's stores (arbiter-transactions).
mod changes;
mod create_order;
mod outbox;

use std::time::Duration;

use arbiter_engine::store::{Health, StoreError};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::decision_events::DecisionEvents;
use crate::dialect::Serialized;
use crate::error::{StorageError, store_error};
use crate::group_commit::GroupCommit;

const MAX_CONNECTIONS: u32 = 16;
/// How long a query waits for a connection before the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the server lets one of our sessions sit idle inside a transaction before it ends
/// the session. Our transactions are milliseconds; one left open is a process cut off or hung
/// mid-transaction, whose open transaction holds back the cluster's oldest-running horizon and
/// with it every replica's graph feed and the outbox feed (both read only below it) until the
/// server notices — otherwise after TCP keep-alive, hours.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "30s";

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    /// Shared by reads and writes; the database arbitrates concurrent writers.
    pool: PgPool,
    /// Order creation, group-committed on one connection at a time (`group_commit`): one WAL
    /// flush per batch, and a hot SKU's row locked once per batch rather than once per order.
    group: GroupCommit<sqlx::Postgres>,
    /// Status changes, group-committed by a second writer beside the first. A batch is a
    /// series of round trips on one connection (about 1 ms per write on loopback), so one
    /// writer for both kinds saturates near 1,000 writes/s; PostgreSQL runs the two
    /// concurrently.
    changes: GroupCommit<sqlx::Postgres>,
    /// Whether decisions and reviews write their events to the outbox.
    pub(crate) decision_events: DecisionEvents,
    /// This process's name in the graph feed (`graph_feed`): random per start, so a replica
    /// skips the decisions it made itself and follows everyone else's.
    replica: std::sync::Arc<str>,
    /// Where the retention job's walk through an expiring decisions partition has got to.
    pub(crate) walk: std::sync::Arc<tokio::sync::Mutex<Option<partitions::Walk>>>,
}

impl PgStore {
    /// Connects and runs the migrations (sqlx serialises concurrent migrators with an advisory
    /// lock, so replicas may start together).
    pub async fn connect(options: PgConnectOptions) -> Result<PgStore, StorageError> {
        let backend = describe(&options);
        let options = session_limits(options, IDLE_IN_TRANSACTION_TIMEOUT);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|source| StorageError::Connect {
                backend: backend.clone(),
                source,
            })?;
        sqlx::migrate!("../../migrations/postgres")
            .run(&pool)
            .await
            .map_err(|source| StorageError::Migrate { backend, source })?;
        let group = GroupCommit::spawn(pool.clone(), None);
        let changes = GroupCommit::spawn(pool.clone(), None);
        Ok(PgStore {
            pool,
            group,
            changes,
            replica: format!("{:016x}", rand::random::<u64>()).into(),
            decision_events: DecisionEvents::default(),
            walk: Default::default(),
        })
    }

    /// Closes the pool, waiting for open connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl PgStore {
    /// A write transaction. PostgreSQL arbitrates concurrent writers row by row, so a plain
    /// `BEGIN` on the shared pool is all a write needs.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        self.pool.begin().await.map_err(store_error)
    }

    /// A write transaction in which no other writer inserts into or updates `table` until
    /// commit, whatever the number of replicas.
    pub(crate) async fn begin_serialized(
        &self,
        table: Serialized,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        let mut tx = self.begin_write().await?;
        // INVARIANT: SHARE ROW EXCLUSIVE conflicts with itself and with the ROW EXCLUSIVE lock
        // every INSERT, UPDATE and DELETE takes, so between here and commit no other
        // transaction writes `table` or takes this lock: a `max + 1` read-and-insert or a
        // check-then-insert runs for one writer at a time across replicas. Plain reads and
        // foreign-key checks are not blocked. Held until commit or rollback.
        let lock = match table {
            Serialized::PolicySets => "LOCK TABLE policy_sets IN SHARE ROW EXCLUSIVE MODE",
            Serialized::PolicyModules => "LOCK TABLE policy_modules IN SHARE ROW EXCLUSIVE MODE",
            Serialized::RateTables => "LOCK TABLE rate_tables IN SHARE ROW EXCLUSIVE MODE",
            Serialized::Rollouts => "LOCK TABLE rollouts IN SHARE ROW EXCLUSIVE MODE",
            Serialized::OutboxHorizon => "LOCK TABLE outbox_horizon IN SHARE ROW EXCLUSIVE MODE",
        };
        sqlx::query(lock)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        Ok(tx)
    }

    /// Where single-statement writes go: the shared pool (autocommit).
    pub(crate) fn writer(&self) -> &PgPool {
        &self.pool
    }

    /// The group-committed writer order creation runs on.
    pub(crate) fn order_writer(&self) -> &GroupCommit<sqlx::Postgres> {
        &self.group
    }

    /// The group-committed writer status changes run on, beside the order writer.
    pub(crate) fn change_writer(&self) -> &GroupCommit<sqlx::Postgres> {
        &self.changes
    }

    /// Where reads go: the one pool reads and writes share.
    pub(crate) fn reader(&self) -> &PgPool {
        &self.pool
    }
}

/// `PostgreSQL at host:port/database`, for error messages: never the user or password.
/// `options` with the server-side limits every session of ours runs under.
fn session_limits(options: PgConnectOptions, idle_in_transaction: &str) -> PgConnectOptions {
    options.options([("idle_in_transaction_session_timeout", idle_in_transaction)])
}

pub(crate) fn describe(options: &PgConnectOptions) -> String {
    format!(
        "PostgreSQL at `{}:{}/{}`",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    )
}

#[async_trait]
impl Health for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(store_error)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::{Connection, PgConnection};

    use super::*;

    fn options() -> Option<PgConnectOptions> {
        let url = std::env::var("DATABASE_URL").ok()?;
        Some(PgConnectOptions::from_str(&url).expect("DATABASE_URL"))
    }

    #[tokio::test]
    async fn the_stores_sessions_carry_the_idle_in_transaction_limit() {
        let Some(options) = options() else {
            eprintln!("DATABASE_URL not set: PostgreSQL session limits not tested");
            return;
        };
        let store = PgStore::connect(options).await.expect("connect");
        let limit: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
            .fetch_one(&store.pool)
            .await
            .expect("show");
        assert_eq!(limit, IDLE_IN_TRANSACTION_TIMEOUT);
        store.close().await;
    }

    /// A session cut off mid-transaction is ended by the server, and its transaction with it,
    /// so it stops holding back the horizon the feeds read below.
    #[tokio::test]
    async fn a_transaction_left_idle_is_ended_by_the_server() {
        let Some(options) = options() else {
            eprintln!("DATABASE_URL not set: PostgreSQL session limits not tested");
            return;
        };
        let mut abandoned = PgConnection::connect_with(&session_limits(options.clone(), "1s"))
            .await
            .expect("connect");
        let mut observer = PgConnection::connect_with(&options).await.expect("connect");
        sqlx::query("BEGIN")
            .execute(&mut abandoned)
            .await
            .expect("begin");
        let xid: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
            .fetch_one(&mut abandoned)
            .await
            .expect("xid");
        let running = "SELECT pg_xact_status($1::text::xid8) = 'in progress'";
        let open: bool = sqlx::query_scalar(running)
            .bind(&xid)
            .fetch_one(&mut observer)
            .await
            .expect("status");
        assert!(open, "the transaction is open");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let still_open: bool = sqlx::query_scalar(running)
            .bind(&xid)
            .fetch_one(&mut observer)
            .await
            .expect("status");
        assert!(!still_open, "the server ended the idle transaction");
        assert!(
            sqlx::query("SELECT 1")
                .execute(&mut abandoned)
                .await
                .is_err(),
            "and its session"
        );
    }
}
