//! The outbox feed's walks on PostgreSQL (`sql/outbox.rs` has the rest). Outbox ids come from
//! a sequence, and several transactions take ids at once: id 11 can commit (and be read) while
//! id 10's transaction is still open, so a feed of `id > after` would pass 10 for good.
//! Instead (migration `0005_outbox_feed.sql`) each row records the transaction that wrote it
//! (`txid`), and the feed
//!
//! - hands out only rows whose transaction is below the reading snapshot's `xmin`: every
//!   transaction below it has finished, and every transaction that can still commit (running
//!   now, or starting later) has a txid at or above it, so the rows handed out are final;
//! - orders them by `(txid, id)` and pages from the `(txid, id)` of the consumer's last event:
//!   any row that commits later has a larger txid than every row already handed out, so it
//!   lands ahead of the consumer, never behind.
//!
//! The order is the order in which the writing transactions took their ids, rows of one
//! transaction in id order. A step decided from another step's committed effect writes in a
//! later transaction, so it always comes later (an order's `order.paid` before its
//! `order.fulfilling`). The price: an event is visible in the feed only once every transaction
//! older than its own has finished — usually milliseconds; a long transaction on the server
//! delays the feed (never reorders or drops it).

use arbiter_transactions::TxError;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::sql::outbox::{HeadRow, Horizon};
use crate::transaction_rows::{OutboxRow, db};

/// Committed rows, below the running transactions' horizon, in feed order.
const FROM_START: &str = "SELECT id, topic, payload, created_at FROM outbox \
     WHERE txid < pg_snapshot_xmin(pg_current_snapshot()) \
     ORDER BY txid, id LIMIT $1";

/// The same, after the row with id `$2`.
const AFTER: &str = "SELECT o.id, o.topic, o.payload, o.created_at FROM outbox o \
     WHERE o.txid < pg_snapshot_xmin(pg_current_snapshot()) \
     AND (o.txid, o.id) > (SELECT c.txid, c.id FROM outbox c WHERE c.id = $2) \
     ORDER BY o.txid, o.id LIMIT $1";

/// The same, after where the feed starts (the last event retention deleted, `$2`, `$3`).
const FROM_HORIZON: &str = "SELECT id, topic, payload, created_at FROM outbox \
     WHERE txid < pg_snapshot_xmin(pg_current_snapshot()) \
     AND (txid, id) > ($2::text::xid8, $3) \
     ORDER BY txid, id LIMIT $1";

/// The feed's first final rows after `($1, $2)`, as retention weighs them.
const HEAD: &str = "SELECT id, txid::text::bigint AS txid, created_at FROM outbox \
     WHERE txid < pg_snapshot_xmin(pg_current_snapshot()) \
     AND (txid, id) > ($1::text::xid8, $2) \
     ORDER BY txid, id LIMIT $3";

impl PgStore {
    /// Up to `limit` final rows after the row with id `after` (0: from the start), in feed
    /// order.
    pub(crate) async fn outbox_page(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow<DateTime<Utc>>>, TxError> {
        let query =
            sqlx::query_as(if after > 0 { AFTER } else { FROM_START }).bind(i64::from(limit));
        let query = if after > 0 { query.bind(after) } else { query };
        query.fetch_all(&self.pool).await.map_err(db)
    }

    /// Up to `limit` final rows after where the feed starts, in feed order.
    pub(crate) async fn outbox_page_from(
        &self,
        start: Horizon,
        limit: u32,
    ) -> Result<Vec<OutboxRow<DateTime<Utc>>>, TxError> {
        sqlx::query_as(FROM_HORIZON)
            .bind(i64::from(limit))
            .bind(start.txid.unwrap_or(0).to_string())
            .bind(start.id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }

    /// The first `limit` final rows after `start` (none: the beginning), in feed order,
    /// inside retention's transaction.
    pub(crate) async fn outbox_head(
        conn: &mut sqlx::PgConnection,
        start: Option<Horizon>,
        limit: u32,
    ) -> Result<Vec<HeadRow<DateTime<Utc>>>, TxError> {
        let (txid, id) = start.map_or((0, 0), |h| (h.txid.unwrap_or(0), h.id));
        sqlx::query_as(HEAD)
            .bind(txid.to_string())
            .bind(id)
            .bind(i64::from(limit))
            .fetch_all(conn)
            .await
            .map_err(db)
    }
}
