//! List entries, written once for both backends.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::lists::{ListEntry, ListKind};
use arbiter_engine::store::{ListInsert, ListStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::ListEntryRow;
use crate::sqlite::SqliteStore;

/// The select with one filter, newest first. Each filter shape is its own static statement so
/// each can use the `(kind, value)` index; no SQL is assembled from input.
macro_rules! select_entries {
    ($filter:literal) => {
        concat!(
            "SELECT id, list, kind, value, reason, expires_at, created_at, created_by \
             FROM list_entries ",
            $filter,
            " ORDER BY created_at DESC, id DESC"
        )
    };
}

macro_rules! list_store {
    ($store:ty) => {
        #[async_trait]
        impl ListStore for $store {
            async fn insert_list_entry(
                &self,
                entry: &ListEntry,
                now: DateTime<Utc>,
                actor: &Actor,
            ) -> Result<ListInsert, StoreError> {
                // INVARIANT: one row per (list, kind, value) — the unique index holds it. On
                // SQLite the write lock (`BEGIN IMMEDIATE`) makes the expired-twin delete, the
                // insert and the read of the live twin one step; on PostgreSQL a concurrent
                // twin makes this insert do nothing and the read below finds the winner.
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "DELETE FROM list_entries WHERE list = $1 AND kind = $2 AND value = $3 \
                     AND expires_at IS NOT NULL AND expires_at <= $4",
                )
                .bind(entry.list.as_str())
                .bind(entry.kind.as_str())
                .bind(&entry.value)
                .bind(<$store>::time(now))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                let inserted = sqlx::query(
                    "INSERT INTO list_entries (id, list, kind, value, reason, expires_at, \
                     created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (list, kind, value) DO NOTHING",
                )
                .bind(&entry.id)
                .bind(entry.list.as_str())
                .bind(entry.kind.as_str())
                .bind(&entry.value)
                .bind(&entry.reason)
                .bind(entry.expires_at.map(<$store>::time))
                .bind(<$store>::time(entry.created_at))
                .bind(&entry.created_by)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected();
                let outcome = if inserted == 1 {
                    <$store>::audit(&mut tx, actor, AuditRecord::list_added(entry)).await?;
                    ListInsert::Inserted
                } else {
                    let row: ListEntryRow<<$store as Dialect>::Time> = sqlx::query_as(
                        select_entries!("WHERE list = $1 AND kind = $2 AND value = $3"),
                    )
                    .bind(entry.list.as_str())
                    .bind(entry.kind.as_str())
                    .bind(&entry.value)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(store_error)?;
                    ListInsert::Existing(row.into_entry()?)
                };
                tx.commit().await.map_err(store_error)?;
                Ok(outcome)
            }

            async fn find_list_entries(
                &self,
                kind: Option<ListKind>,
                value: Option<&str>,
            ) -> Result<Vec<ListEntry>, StoreError> {
                let query = match (kind, value) {
                    (None, None) => sqlx::query_as(select_entries!("")),
                    (Some(k), None) => {
                        sqlx::query_as(select_entries!("WHERE kind = $1")).bind(k.as_str())
                    }
                    (None, Some(v)) => sqlx::query_as(select_entries!("WHERE value = $1")).bind(v),
                    (Some(k), Some(v)) => {
                        sqlx::query_as(select_entries!("WHERE kind = $1 AND value = $2"))
                            .bind(k.as_str())
                            .bind(v)
                    }
                };
                let rows: Vec<ListEntryRow<<$store as Dialect>::Time>> =
                    query.fetch_all(self.reader()).await.map_err(store_error)?;
                rows.into_iter().map(ListEntryRow::into_entry).collect()
            }

            async fn delete_list_entry(&self, id: &str, actor: &Actor) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                let deleted: Option<(String, String)> =
                    sqlx::query_as("DELETE FROM list_entries WHERE id = $1 RETURNING list, kind")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(store_error)?;
                let Some((list, kind)) = deleted else {
                    return Ok(false);
                };
                let record = AuditRecord::list_removed(id, &list, &kind);
                <$store>::audit(&mut tx, actor, record).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(true)
            }
        }
    };
}

list_store!(SqliteStore);
list_store!(PgStore);
