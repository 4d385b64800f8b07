//! The audit log on PostgreSQL: append-only, read newest first in pages keyed by id.
//!
//! Ids come from an identity column, so they increase in append order; two replicas appending
//! at once may commit out of id order, which only matters to a reader paging at that instant.

use arbiter_engine::registry::AuditEntry;
use arbiter_engine::store::{AuditStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::columns::{stored_now, to_json};
use crate::error::store_error;
use crate::rows::AuditRow;

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        let at = stored_now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (at, actor, action, target, detail) \
             VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id",
        )
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(to_json(&detail, "audit detail")?)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
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
        let rows: Vec<AuditRow<DateTime<Utc>>> = sqlx::query_as(
            "SELECT id, at, actor, action, target, detail::text AS detail FROM audit_log \
             WHERE id < COALESCE($1, 9223372036854775807) ORDER BY id DESC LIMIT $2",
        )
        .bind(before_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(AuditRow::into_entry).collect()
    }
}
