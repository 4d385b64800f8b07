//! The outbox feed's walks on SQLite (`sql/outbox.rs` has the rest). Outbox rows are written
//! only inside the single writer's transactions (see `changes.rs`), so an id is taken and
//! committed before any larger one: id order is commit order, and a consumer paging by the
//! last id seen never passes a row that commits later — also from an id retention deleted.
//! Reads use the `query_only` pool.

use arbiter_transactions::TxError;

use super::SqliteStore;
use crate::sql::outbox::{HeadRow, Horizon};
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

    /// Up to `limit` rows after where the feed starts.
    pub(crate) async fn outbox_page_from(
        &self,
        start: Horizon,
        limit: u32,
    ) -> Result<Vec<OutboxRow<String>>, TxError> {
        self.outbox_page(start.id, limit).await
    }

    /// The first `limit` rows after `start` (none: the beginning), in feed order, inside
    /// retention's transaction.
    pub(crate) async fn outbox_head(
        conn: &mut sqlx::SqliteConnection,
        start: Option<Horizon>,
        limit: u32,
    ) -> Result<Vec<HeadRow<String>>, TxError> {
        sqlx::query_as(
            "SELECT id, NULL AS txid, created_at FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(start.map_or(0, |h| h.id))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await
        .map_err(db)
    }
}
