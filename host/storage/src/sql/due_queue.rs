//! The durable due-time queue (`due_items`), written once for both backends: schedule, claim
//! with a lease, complete, and the read-only page of due rows the dispatcher's repair sweep
//! compares against.

use arbiter_transactions::TxError;
use arbiter_transactions::due::{DueItem, DueQueue};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::dialect::Dialect;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::{DueRow, db};

/// `$skip_locked`: how the claim's subquery locks the rows it picks so a concurrent claimer
/// picks others instead of waiting (PostgreSQL); SQLite's single writer needs nothing.
macro_rules! due_queue {
    ($store:ty, skip_locked: $skip_locked:literal) => {
        #[async_trait]
        impl DueQueue for $store {
            async fn schedule(&self, item: &DueItem) -> Result<(), TxError> {
                sqlx::query(
                    "INSERT INTO due_items (kind, key, due_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (kind, key) DO UPDATE SET due_at = excluded.due_at, \
                     leased_until = NULL",
                )
                .bind(&item.kind)
                .bind(&item.key)
                .bind(<$store>::time(item.due_at))
                .execute(self.writer())
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn claim_due(
                &self,
                now: DateTime<Utc>,
                limit: u32,
                lease: Duration,
            ) -> Result<Vec<DueItem>, TxError> {
                // INVARIANT: an item is leased to one claimer at a time. The pick and the
                // lease are one statement: on SQLite on the single writer connection, on
                // PostgreSQL with the picked rows locked (`$skip_locked`).
                let rows: Vec<DueRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "UPDATE due_items SET leased_until = $1 WHERE (kind, key) IN ( \
                     SELECT kind, key FROM due_items \
                     WHERE due_at <= $2 AND (leased_until IS NULL OR leased_until <= $2) \
                     ORDER BY due_at LIMIT $3",
                    $skip_locked,
                    ") RETURNING kind, key, due_at"
                ))
                .bind(<$store>::time(now + lease))
                .bind(<$store>::time(now))
                .bind(i64::from(limit))
                .fetch_all(self.writer())
                .await
                .map_err(db)?;
                let mut items = rows
                    .into_iter()
                    .map(DueRow::into_item)
                    .collect::<Result<Vec<_>, _>>()?;
                items.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.key.cmp(&b.key)));
                Ok(items)
            }

            async fn complete(&self, kind: &str, key: &str) -> Result<(), TxError> {
                sqlx::query("DELETE FROM due_items WHERE kind = $1 AND key = $2")
                    .bind(kind)
                    .bind(key)
                    .execute(self.writer())
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn pending_due(
                &self,
                kind: &str,
                now: DateTime<Utc>,
                after: Option<&DueItem>,
                limit: u32,
            ) -> Result<Vec<DueItem>, TxError> {
                // Keyset paging on the primary key's order within one due time: `(due_at, key)`
                // is unique per kind, so no row is skipped or repeated across pages.
                let (after_at, after_key) = match after {
                    Some(a) => (Some(<$store>::time(a.due_at)), Some(a.key.as_str())),
                    None => (None, None),
                };
                let rows: Vec<DueRow<<$store as Dialect>::Time>> = sqlx::query_as(
                    "SELECT kind, key, due_at FROM due_items \
                     WHERE kind = $1 AND due_at <= $2 \
                     AND ($3 IS NULL OR due_at > $3 OR (due_at = $3 AND key > $4)) \
                     ORDER BY due_at, key LIMIT $5",
                )
                .bind(kind)
                .bind(<$store>::time(now))
                .bind(after_at)
                .bind(after_key)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                rows.into_iter()
                    .map(|r| r.into_item().map_err(TxError::from))
                    .collect()
            }
        }
    };
}

due_queue!(SqliteStore, skip_locked: "");
due_queue!(PgStore, skip_locked: " FOR UPDATE SKIP LOCKED");
