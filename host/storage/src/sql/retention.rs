//! Retention ([`RetentionStore`]), written once for both backends: each call deletes one
//! batch of expired rows in one statement (its own short transaction), oldest first; what a
//! kind keeps is part of the statement (`arbiter_engine::retention`). The indexes it walks
//! are migration 0025's. Giving free pages back is SQLite's own (`PRAGMA incremental_vacuum`);
//! PostgreSQL's autovacuum reuses the space itself.

use arbiter_engine::retention::{Expiring, RetentionStore};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;

/// The oldest `$2` decisions before `$1` that nothing keeps: no label, no review, not an
/// order's or a payment's risk record. Their `decision_features` rows go with them (`ON DELETE
/// CASCADE`).
const EXPIRE_DECISIONS: &str = "DELETE FROM decisions WHERE decision_id IN (\
     SELECT d.decision_id FROM decisions d WHERE d.created_at < $1 \
     AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.decision_id = d.decision_id) \
     AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.decision_id) \
     AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.risk_decision_id = d.decision_id) \
     AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.risk_decision_id = d.decision_id) \
     ORDER BY d.created_at LIMIT $2)";

const EXPIRE_CALLBACKS: &str = "DELETE FROM channel_callbacks WHERE id IN (\
     SELECT id FROM channel_callbacks WHERE received_at < $1 ORDER BY received_at LIMIT $2)";

const EXPIRE_AUDIT: &str = "DELETE FROM audit_log WHERE id IN (\
     SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)";

fn statement(kind: Expiring) -> &'static str {
    match kind {
        Expiring::Decisions => EXPIRE_DECISIONS,
        Expiring::Callbacks => EXPIRE_CALLBACKS,
        Expiring::Audit => EXPIRE_AUDIT,
    }
}

/// `$reclaim`: how the backend gives free pages back (`reclaim_sqlite`, `reclaim_nothing`).
macro_rules! retention_store {
    ($store:ty, reclaim: $reclaim:ident) => {
        #[async_trait]
        impl RetentionStore for $store {
            async fn expire(
                &self,
                kind: Expiring,
                before: DateTime<Utc>,
                limit: u32,
            ) -> Result<u64, StoreError> {
                let done = sqlx::query(statement(kind))
                    .bind(<$store>::time(before))
                    .bind(i64::from(limit))
                    .execute(self.writer())
                    .await
                    .map_err(store_error)?;
                Ok(done.rows_affected())
            }

            async fn reclaim_space(&self, pages: u32) -> Result<u64, StoreError> {
                $reclaim(self, pages).await
            }
        }
    };
}

retention_store!(SqliteStore, reclaim: reclaim_sqlite);
retention_store!(PgStore, reclaim: reclaim_nothing);

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
