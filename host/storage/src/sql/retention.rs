//! Retention ([`RetentionStore`]): each call deletes one batch of expired rows in one
//! statement (its own short transaction), oldest first; what a kind keeps is part of the
//! statement (`arbiter_engine::retention`). The indexes it walks are migration 0025's.
//! What differs by backend: PostgreSQL's decisions live in time partitions that expire whole
//! (`postgres/partitions.rs`), so its batches only take the decisions outside them; giving
//! free pages back is SQLite's own (`PRAGMA incremental_vacuum`), PostgreSQL's autovacuum
//! reuses the space itself.

use std::time::Duration;

use arbiter_engine::retention::{Expiring, PartitionStep, RetentionStore};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;

/// Nothing keeps decision `d`: no label, no review, not an order's or a payment's risk
/// record (`arbiter_engine::retention`). The one definition: SQLite's batches, PostgreSQL's
/// default partition and its partition walk (`postgres/partitions/expire.rs`) all use it.
macro_rules! unkept {
    () => {
        "(NOT EXISTS (SELECT 1 FROM labels l WHERE l.decision_id = d.decision_id) \
          AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.decision_id) \
          AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.risk_decision_id = d.decision_id) \
          AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.risk_decision_id = d.decision_id))"
    };
}
pub(crate) use unkept;

/// The oldest `$2` unkept decisions before `$1`. SQLite's one table.
const EXPIRE_DECISIONS: &str = concat!(
    "DELETE FROM decisions WHERE decision_id IN (\
     SELECT d.decision_id FROM decisions d WHERE d.created_at < $1 AND ",
    unkept!(),
    " ORDER BY d.created_at LIMIT $2)"
);

/// PostgreSQL's batches: only decisions outside every time partition (the default partition;
/// the time partitions expire whole, `postgres/partitions.rs`), with their request ids (no
/// foreign keys there: migration 0026). Returns how many decisions went.
const EXPIRE_DEFAULT_DECISIONS: &str = concat!(
    "WITH gone AS (DELETE FROM decisions_default WHERE decision_id IN (\
     SELECT d.decision_id FROM decisions_default d WHERE d.created_at < $1 AND ",
    unkept!(),
    " ORDER BY d.created_at LIMIT $2) RETURNING decision_id, request_id), \
     requests AS (DELETE FROM decision_requests \
     WHERE request_id IN (SELECT request_id FROM gone)) \
     SELECT count(*) FROM gone"
);

const EXPIRE_CALLBACKS: &str = "DELETE FROM channel_callbacks WHERE id IN (\
     SELECT id FROM channel_callbacks WHERE received_at < $1 ORDER BY received_at LIMIT $2)";

const EXPIRE_AUDIT: &str = "DELETE FROM audit_log WHERE id IN (\
     SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)";

/// The rows of statements imported before `$1` whose day has no open ticket, `$2` at most.
const EXPIRE_STATEMENT_ROWS: &str = "DELETE FROM recon_statement_rows \
     WHERE (statement_id, row_id) IN (SELECT r.statement_id, r.row_id \
     FROM recon_statements s JOIN recon_statement_rows r ON r.statement_id = s.id \
     WHERE s.imported_at < $1 AND s.expired_at IS NULL \
     AND NOT EXISTS (SELECT 1 FROM recon_tickets t WHERE t.channel = s.channel \
                     AND t.statement_date = s.statement_date AND t.status = 'OPEN') \
     LIMIT $2)";

/// Then those statements, once their rows are gone: the file's bytes (`$2`, empty) go, the
/// record stays, marked expired at `$3`; `$4` at most.
const EXPIRE_STATEMENTS: &str = "UPDATE recon_statements SET content = $2, expired_at = $3 \
     WHERE id IN (SELECT s.id FROM recon_statements s \
     WHERE s.imported_at < $1 AND s.expired_at IS NULL \
     AND NOT EXISTS (SELECT 1 FROM recon_tickets t WHERE t.channel = s.channel \
                     AND t.statement_date = s.statement_date AND t.status = 'OPEN') \
     AND NOT EXISTS (SELECT 1 FROM recon_statement_rows r WHERE r.statement_id = s.id) \
     ORDER BY s.imported_at LIMIT $4)";

/// The batches written once for both backends: `$batch` runs one delete (`$1` the cut, `$2`
/// the limit), `$statements` a batch of statements' expiry (up to `limit` rows, then, when
/// fewer were left, the statements whose rows are all gone; rows and statements together).
macro_rules! batches {
    ($store:ty, batch: $batch:ident, statements: $statements:ident) => {
        async fn $batch(
            store: &$store,
            sql: &str,
            before: DateTime<Utc>,
            limit: u32,
        ) -> Result<u64, StoreError> {
            Ok(sqlx::query(sql)
                .bind(<$store>::time(before))
                .bind(i64::from(limit))
                .execute(store.writer())
                .await
                .map_err(store_error)?
                .rows_affected())
        }

        async fn $statements(
            store: &$store,
            before: DateTime<Utc>,
            limit: u32,
        ) -> Result<u64, StoreError> {
            let rows = $batch(store, EXPIRE_STATEMENT_ROWS, before, limit).await?;
            if rows >= u64::from(limit) {
                return Ok(rows);
            }
            let statements = sqlx::query(EXPIRE_STATEMENTS)
                .bind(<$store>::time(before))
                .bind(Vec::<u8>::new())
                .bind(<$store>::time(Utc::now()))
                .bind(i64::from(limit))
                .execute(store.writer())
                .await
                .map_err(store_error)?
                .rows_affected();
            Ok(rows + statements)
        }
    };
}

batches!(SqliteStore, batch: sqlite_batch, statements: sqlite_statements);
batches!(PgStore, batch: postgres_batch, statements: postgres_statements);

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn expire(
        &self,
        kind: Expiring,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        match kind {
            Expiring::Decisions => sqlite_batch(self, EXPIRE_DECISIONS, before, limit).await,
            Expiring::Callbacks => sqlite_batch(self, EXPIRE_CALLBACKS, before, limit).await,
            Expiring::Audit => sqlite_batch(self, EXPIRE_AUDIT, before, limit).await,
            Expiring::Statements => sqlite_statements(self, before, limit).await,
        }
    }

    async fn reclaim_space(&self, pages: u32) -> Result<u64, StoreError> {
        reclaim_sqlite(self, pages).await
    }
}

#[async_trait]
impl RetentionStore for PgStore {
    async fn expire(
        &self,
        kind: Expiring,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        match kind {
            Expiring::Decisions => {
                let n: i64 = sqlx::query_scalar(EXPIRE_DEFAULT_DECISIONS)
                    .bind(PgStore::time(before))
                    .bind(i64::from(limit))
                    .fetch_one(self.writer())
                    .await
                    .map_err(store_error)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
            Expiring::Callbacks => postgres_batch(self, EXPIRE_CALLBACKS, before, limit).await,
            Expiring::Audit => postgres_batch(self, EXPIRE_AUDIT, before, limit).await,
            Expiring::Statements => postgres_statements(self, before, limit).await,
        }
    }

    async fn prepare_partitions(
        &self,
        from: DateTime<Utc>,
        through: DateTime<Utc>,
        span: Duration,
    ) -> Result<u32, StoreError> {
        self.prepare(from, through, span).await
    }

    async fn expire_partition(&self, before: DateTime<Utc>) -> Result<PartitionStep, StoreError> {
        self.expire_partition_step(before).await
    }
}

/// SQLite's incremental vacuum: up to `pages` free pages off the end of the file; how many
/// went (the free list's count before and after).
async fn reclaim_sqlite(store: &SqliteStore, pages: u32) -> Result<u64, StoreError> {
    // A number, not input: the pragma takes no bound parameter.
    let vacuum = format!("PRAGMA incremental_vacuum({pages})");
    let mut conn = store.writer().acquire().await.map_err(store_error)?;
    let free = |n: i64| u64::try_from(n).unwrap_or(0);
    let before: i64 = sqlx::query_scalar("PRAGMA freelist_count")
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
    sqlx::query(&vacuum)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    let after: i64 = sqlx::query_scalar("PRAGMA freelist_count")
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(free(before).saturating_sub(free(after)))
}
