//! The durable due-time queue: work that must happen at a time even if the process restarts
//! in between (cancelling an unpaid order when its reservation expires). A database
//! implementation lives in `arbiter-storage`; Redis can implement the same trait later.
//!
//! Delivery is at least once: a claimed item is leased, and an item whose lease runs out
//! without [`DueQueue::complete`] is claimed again. Handlers must therefore be idempotent (the
//! order expiry is: its transition is a compare-and-set).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::TxError;

/// The kind of the item that expires an unpaid order; its key is the order id.
pub const ORDER_EXPIRY: &str = "order.expire";

/// A unit of scheduled work, unique by `(kind, key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueItem {
    pub kind: String,
    pub key: String,
    pub due_at: DateTime<Utc>,
}

#[async_trait]
pub trait DueQueue: Send + Sync + 'static {
    /// Schedules (or re-schedules) `(kind, key)` at `due_at`.
    async fn schedule(&self, item: &DueItem) -> Result<(), TxError>;
    /// Up to `limit` items due at `now` and not leased, oldest first, each leased until
    /// `now + lease` so no other claimer takes it meanwhile.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<DueItem>, TxError>;
    /// Removes the item: it will not be claimed again.
    async fn complete(&self, kind: &str, key: &str) -> Result<(), TxError>;
}
