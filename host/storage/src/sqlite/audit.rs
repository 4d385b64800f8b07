//! The audit log on SQLite: append-only, read newest first in pages keyed by id.

use arbiter_engine::registry::AuditEntry;
use arbiter_engine::store::{AuditStore, StoreError};
use async_trait::async_trait;

use super::SqliteStore;
use crate::columns::{stored_now, timestamp_text, to_json};
use crate::error::store_error;
use crate::rows::AuditRow;

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        let at = stored_now();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(timestamp_text(at))
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
        let rows: Vec<AuditRow<String>> = sqlx::query_as(
            "SELECT id, at, actor, action, target, detail FROM audit_log \
             WHERE id < COALESCE(?, 9223372036854775807) ORDER BY id DESC LIMIT ?",
        )
        .bind(before_id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(AuditRow::into_entry).collect()
    }
}
