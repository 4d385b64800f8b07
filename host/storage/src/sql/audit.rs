//! The audit log, written once for both backends: append-only, read newest first in pages
//! keyed by id. Ids increase in append order (an identity / rowid column); two PostgreSQL
//! replicas appending at once may commit out of id order, which only matters to a reader
//! paging at that instant. The detail is JSON: `JSONB` on PostgreSQL, text on SQLite.

use arbiter_engine::registry::AuditEntry;
use arbiter_engine::store::{AuditStore, StoreError};
use async_trait::async_trait;

use crate::columns::{stored_now, to_json};
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::AuditRow;
use crate::sqlite::SqliteStore;

/// `$jsonb`: the cast that makes a bound text a JSON column value; `$as_text`: the cast that
/// reads one back as text.
macro_rules! audit_store {
    ($store:ty, jsonb: $jsonb:literal, as_text: $as_text:literal) => {
        #[async_trait]
        impl AuditStore for $store {
            async fn append_audit(
                &self,
                actor: &str,
                action: &str,
                target: &str,
                detail: serde_json::Value,
            ) -> Result<AuditEntry, StoreError> {
                let at = stored_now();
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(concat!(
                    "INSERT INTO audit_log (at, actor, action, target, detail) \
                     VALUES ($1, $2, $3, $4, $5",
                    $jsonb,
                    ") RETURNING id"
                ))
                .bind(<$store>::time(at))
                .bind(actor)
                .bind(action)
                .bind(target)
                .bind(to_json(&detail, "audit detail")?)
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                Ok(AuditEntry {
                    id,
                    at,
                    actor: actor.to_owned(),
                    action: action.to_owned(),
                    target: target.to_owned(),
                    detail,
                })
            }

            async fn list_audit(
                &self,
                limit: u32,
                before_id: Option<i64>,
            ) -> Result<Vec<AuditEntry>, StoreError> {
                let rows: Vec<AuditRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT id, at, actor, action, target, detail",
                    $as_text,
                    " AS detail FROM audit_log \
                     WHERE id < COALESCE($1, 9223372036854775807) ORDER BY id DESC LIMIT $2"
                ))
                .bind(before_id)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(AuditRow::into_entry).collect()
            }
        }
    };
}

audit_store!(SqliteStore, jsonb: "", as_text: "");
audit_store!(PgStore, jsonb: "::jsonb", as_text: "::text");
