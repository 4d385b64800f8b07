//! The durable due-time queue on SQLite (`due_items`): schedule, claim with a lease, complete,
//! and the read-only page of due rows the dispatcher's repair sweep compares against.

use arbiter_transactions::TxError;
use arbiter_transactions::due::{DueItem, DueQueue};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::SqliteStore;
use crate::transaction_rows::{DueRow, db, sqlite_ts as ts};

type Time = String;

#[async_trait]
impl DueQueue for SqliteStore {
    async fn schedule(&self, item: &DueItem) -> Result<(), TxError> {
        sqlx::query(
            "INSERT INTO due_items (kind, key, due_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, key) DO UPDATE SET due_at = excluded.due_at, leased_until = NULL",
        )
        .bind(&item.kind)
        .bind(&item.key)
        .bind(ts(item.due_at))
        .execute(&self.writer)
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
        // INVARIANT: an item is leased to one claimer at a time. The select and the lease are
        // one statement on the single writer connection.
        let rows: Vec<DueRow<Time>> = sqlx::query_as(
            "UPDATE due_items SET leased_until = $1 WHERE (kind, key) IN ( \
             SELECT kind, key FROM due_items \
             WHERE due_at <= $2 AND (leased_until IS NULL OR leased_until <= $2) \
             ORDER BY due_at LIMIT $3) RETURNING kind, key, due_at",
        )
        .bind(ts(now + lease))
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(&self.writer)
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
            .execute(&self.writer)
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
        // Keyset paging on the primary key's order within one due time: `(due_at, key)` is
        // unique per kind, so no row is skipped or repeated across pages.
        let (after_at, after_key) = match after {
            Some(a) => (Some(ts(a.due_at)), Some(a.key.as_str())),
            None => (None, None),
        };
        let rows: Vec<DueRow<Time>> = sqlx::query_as(
            "SELECT kind, key, due_at FROM due_items \
             WHERE kind = $1 AND due_at <= $2 \
             AND ($3 IS NULL OR due_at > $3 OR (due_at = $3 AND key > $4)) \
             ORDER BY due_at, key LIMIT $5",
        )
        .bind(kind)
        .bind(ts(now))
        .bind(after_at)
        .bind(after_key)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(|r| r.into_item().map_err(TxError::from))
            .collect()
    }
}
