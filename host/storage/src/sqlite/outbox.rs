//! The outbox feed on SQLite. Outbox rows are written only inside the single writer's
//! transactions (see `changes.rs`), so an id is taken and committed before any larger one:
//! id order is commit order, and a consumer paging by the last id seen never passes a row that
//! commits later. Reads use the `query_only` pool; nothing is marked published.

use arbiter_transactions::TxError;
use arbiter_transactions::outbox::OutboxEvent;
use arbiter_transactions::store::OutboxStore;
use async_trait::async_trait;

use super::SqliteStore;
use crate::transaction_rows::{OutboxRow, db};

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Option<Vec<OutboxEvent>>, TxError> {
        if after > 0 {
            let known: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)")
                    .bind(after)
                    .fetch_one(&self.reader)
                    .await
                    .map_err(db)?;
            if !known {
                return Ok(None);
            }
        }
        let rows: Vec<OutboxRow<String>> = sqlx::query_as(
            "SELECT id, topic, payload, created_at FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        let events = rows
            .into_iter()
            .map(OutboxRow::into_event)
            .collect::<Result<_, _>>()?;
        Ok(Some(events))
    }
}
