//! The outbox feed's page on SQLite (`sql/outbox.rs` has the rest). Outbox rows are written
//! only inside the single writer's transactions (see `changes.rs`), so an id is taken and
//! committed before any larger one: id order is commit order, and a consumer paging by the
//! last id seen never passes a row that commits later. Reads use the `query_only` pool.

use arbiter_transactions::TxError;

use super::SqliteStore;
use crate::transaction_rows::{OutboxRow, db};

impl SqliteStore {
    /// Up to `limit` rows after id `after` (0: from the start), in id order.
    pub(crate) async fn outbox_page(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow<String>>, TxError> {
        sqlx::query_as(
            "SELECT id, topic, payload, created_at FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)
    }
}
