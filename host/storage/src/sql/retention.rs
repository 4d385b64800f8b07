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

/// The oldest `$2` decisions before `$1` that nothing keeps: no label, no review, not an
/// order's or a payment's risk record. Their `decision_features` rows go with them (`ON DELETE
/// CASCADE`). SQLite's one table.
const EXPIRE_DECISIONS: &str = "DELETE FROM decisions WHERE decision_id IN (\
     SELECT d.decision_id FROM decisions d WHERE d.created_at < $1 \
     AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.decision_id = d.decision_id) \
     AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.decision_id) \
     AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.risk_decision_id = d.decision_id) \
     AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.risk_decision_id = d.decision_id) \
     ORDER BY d.created_at LIMIT $2)";

/// PostgreSQL's batches: only decisions outside every time partition (the default partition;
/// the time partitions expire whole, `postgres/partitions.rs`), with their projections and
/// request ids (no foreign keys there: migration 0026). Returns how many decisions went.
const EXPIRE_DEFAULT_DECISIONS: &str = "WITH gone AS (DELETE FROM decisions_default \
     WHERE decision_id IN (\
     SELECT d.decision_id FROM decisions_default d WHERE d.created_at < $1 \
     AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.decision_id = d.decision_id) \
     AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.decision_id) \
     AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.risk_decision_id = d.decision_id) \
     AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.risk_decision_id = d.decision_id) \
     ORDER BY d.created_at LIMIT $2) RETURNING decision_id, request_id), \
     features AS (DELETE FROM decision_features_default \
     WHERE decision_id IN (SELECT decision_id FROM gone)), \
     requests AS (DELETE FROM decision_requests \
     WHERE request_id IN (SELECT request_id FROM gone)) \
     SELECT count(*) FROM gone";

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

fn statement(kind: Expiring) -> &'static str {
    match kind {
        Expiring::Decisions => EXPIRE_DECISIONS,
        Expiring::Callbacks => EXPIRE_CALLBACKS,
        Expiring::Audit => EXPIRE_AUDIT,
        // Two statements: `statement_expiry!`.
        Expiring::Statements => EXPIRE_STATEMENT_ROWS,
    }
}

/// A batch of statements' expiry on `$store`: up to `limit` rows, then (when fewer were left)
/// the statements whose rows are all gone. Returns rows and statements together.
macro_rules! statement_expiry {
    ($name:ident, $store:ty) => {
        async fn $name(
            store: &$store,
            before: DateTime<Utc>,
            limit: u32,
        ) -> Result<u64, StoreError> {
            let rows = sqlx::query(EXPIRE_STATEMENT_ROWS)
                .bind(<$store>::time(before))
                .bind(i64::from(limit))
                .execute(store.writer())
                .await
                .map_err(store_error)?
                .rows_affected();
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

statement_expiry!(expire_statements_sqlite, SqliteStore);
statement_expiry!(expire_statements_postgres, PgStore);

/// What each backend does its own way: `$expire` a batch of a kind (`expire_sqlite`,
/// `expire_postgres`), `$reclaim` free pages (`reclaim_sqlite`, `reclaim_nothing`), `$prepare`
/// and `$step` time partitions (`no_partitions`/`no_partition_step` on SQLite).
macro_rules! retention_store {
    ($store:ty, expire: $expire:ident, reclaim: $reclaim:ident, prepare: $prepare:ident,
     step: $step:ident) => {
        #[async_trait]
        impl RetentionStore for $store {
            async fn expire(
                &self,
                kind: Expiring,
                before: DateTime<Utc>,
                limit: u32,
            ) -> Result<u64, StoreError> {
                $expire(self, kind, before, limit).await
            }

            async fn prepare_partitions(
                &self,
                from: DateTime<Utc>,
                through: DateTime<Utc>,
                span: Duration,
            ) -> Result<u32, StoreError> {
                $prepare(self, from, through, span).await
            }

            async fn expire_partition(
                &self,
                before: DateTime<Utc>,
            ) -> Result<PartitionStep, StoreError> {
                $step(self, before).await
            }

            async fn reclaim_space(&self, pages: u32) -> Result<u64, StoreError> {
                $reclaim(self, pages).await
            }
        }
    };
}

retention_store!(SqliteStore, expire: expire_sqlite, reclaim: reclaim_sqlite,
                 prepare: no_partitions, step: no_partition_step);
retention_store!(PgStore, expire: expire_postgres, reclaim: reclaim_nothing,
                 prepare: prepare_postgres, step: step_postgres);

async fn expire_sqlite(
    store: &SqliteStore,
    kind: Expiring,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    if kind == Expiring::Statements {
        return expire_statements_sqlite(store, before, limit).await;
    }
    let done = sqlx::query(statement(kind))
        .bind(SqliteStore::time(before))
        .bind(i64::from(limit))
        .execute(store.writer())
        .await
        .map_err(store_error)?;
    Ok(done.rows_affected())
}

async fn expire_postgres(
    store: &PgStore,
    kind: Expiring,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    if kind == Expiring::Decisions {
        let n: i64 = sqlx::query_scalar(EXPIRE_DEFAULT_DECISIONS)
            .bind(PgStore::time(before))
            .bind(i64::from(limit))
            .fetch_one(store.writer())
            .await
            .map_err(store_error)?;
        return Ok(u64::try_from(n).unwrap_or(0));
    }
    if kind == Expiring::Statements {
        return expire_statements_postgres(store, before, limit).await;
    }
    let done = sqlx::query(statement(kind))
        .bind(PgStore::time(before))
        .bind(i64::from(limit))
        .execute(store.writer())
        .await
        .map_err(store_error)?;
    Ok(done.rows_affected())
}

async fn no_partitions(
    _: &SqliteStore,
    _: DateTime<Utc>,
    _: DateTime<Utc>,
    _: Duration,
) -> Result<u32, StoreError> {
    Ok(0)
}

async fn no_partition_step(_: &SqliteStore, _: DateTime<Utc>) -> Result<PartitionStep, StoreError> {
    Ok(PartitionStep::Nothing)
}

async fn prepare_postgres(
    store: &PgStore,
    from: DateTime<Utc>,
    through: DateTime<Utc>,
    span: Duration,
) -> Result<u32, StoreError> {
    store.prepare(from, through, span).await
}

async fn step_postgres(
    store: &PgStore,
    before: DateTime<Utc>,
) -> Result<PartitionStep, StoreError> {
    store.expire_partition_step(before).await
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

/// PostgreSQL: autovacuum reuses the space; nothing to give back here.
async fn reclaim_nothing(_: &PgStore, _: u32) -> Result<u64, StoreError> {
    Ok(0)
}
