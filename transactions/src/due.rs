//! Due-time work: things that must happen at a time even if the process restarts in between
//! (cancelling an unpaid order when its reservation expires).
//!
//! Two parts, so the database stays the truth while a shared dispatcher does the polling:
//! - [`DueQueue`], the durable queue (the `due_items` table, implemented by `arbiter-storage`).
//!   Its rows are written and removed in the same database transactions as the domain change
//!   that starts or ends the wait, so it is never out of step with the orders. On its own it
//!   is also a complete work queue (claim with leases): the single-node and no-Redis setup.
//! - [`DueDispatch`], an optional fast dispatcher for one kind of item shared by every replica
//!   (Redis, adapted in `arbiter-redis`). It may lose entries (a restart without persistence,
//!   a failed write after the database commit); [`restore_missing`] puts back every due row the
//!   dispatcher no longer holds, so nothing due is ever forgotten, only delayed by one sweep.
//!
//! Delivery is at least once either way: a claimed item is leased, and an item whose lease runs
//! out without being completed is claimed again; the sweep may also re-offer an item a worker
//! is just finishing. Handlers must therefore be idempotent (the order expiry is: its
//! transition is a compare-and-set).

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
    /// Reads, without leasing, up to `limit` items of `kind` due at `now` (leased or not),
    /// ordered by `(due_at, key)` and starting after `after` when given (keyset paging). The
    /// repair sweep's view of what must be pending somewhere.
    async fn pending_due(
        &self,
        kind: &str,
        now: DateTime<Utc>,
        after: Option<&DueItem>,
        limit: u32,
    ) -> Result<Vec<DueItem>, TxError>;
}

/// A key handed out by a [`DueDispatch`], with the token that proves the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueClaim {
    pub key: String,
    /// Current while this claimer holds the key; a newer claim (after the lease ran out)
    /// gets a newer token and makes this one stale.
    pub token: u64,
}

/// Why a dispatcher call failed. Nothing is lost by it: the durable row stays, and the sweep
/// or the lease brings the work back.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("while running `{op}` on the due dispatcher: {source}")]
    Unavailable {
        op: &'static str,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The dispatcher failed recently and is not retried before `retry` has passed (so a
    /// stalled dispatcher does not slow every order down).
    #[error("the due dispatcher is down; next attempt after its retry interval")]
    Down,
}

/// A shared dispatcher of one kind of due item (its keys only; the kind is the dispatcher's),
/// in front of the durable [`DueQueue`]. It must never be the only record of work: every
/// key in it has (or had) its row in the store.
#[async_trait]
pub trait DueDispatch: Send + Sync + 'static {
    /// Adds each `(key, due_at)` the dispatcher does not hold yet (neither waiting nor
    /// claimed); a key it holds keeps its time and its claim. Returns how many it added.
    async fn offer(&self, items: &[(String, DateTime<Utc>)]) -> Result<usize, DispatchError>;
    /// Up to `limit` keys due at `now`, each leased until `now + lease`; keys whose lease ran
    /// out are delivered again first.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<DueClaim>, DispatchError>;
    /// Removes a handled key. False when the claim was stale (the key was claimed again).
    async fn complete(&self, claim: &DueClaim) -> Result<bool, DispatchError>;
    /// Gives a claimed key back, to be claimed again at `at`. False when the claim was stale.
    async fn retry(&self, claim: &DueClaim, at: DateTime<Utc>) -> Result<bool, DispatchError>;
}

/// Either side of the due-work machinery failed.
#[derive(Debug, thiserror::Error)]
pub enum DueError {
    #[error(transparent)]
    Store(#[from] TxError),
    #[error(transparent)]
    Dispatch(#[from] DispatchError),
}

/// What one repair sweep found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Due rows of the kind in the store.
    pub due: usize,
    /// Of those, rows the dispatcher did not hold and now does.
    pub restored: usize,
}

/// Offers the dispatcher every row of `kind` the store holds that is due at `now`, in pages of
/// `page`; the dispatcher keeps what it already has. After it, every due row is waiting or
/// claimed in the dispatcher — whatever the dispatcher lost (restart, crash between the
/// database commit and the offer, a deleted key) is back.
///
/// Racing a worker is harmless: a row read just before the worker finishes it may be offered
/// again, and its next claim finds the order no longer unpaid and completes it.
pub async fn restore_missing(
    store: &dyn DueQueue,
    dispatch: &dyn DueDispatch,
    kind: &str,
    now: DateTime<Utc>,
    page: u32,
) -> Result<SweepReport, DueError> {
    let page = page.max(1);
    let mut report = SweepReport::default();
    let mut after: Option<DueItem> = None;
    loop {
        let items = store.pending_due(kind, now, after.as_ref(), page).await?;
        report.due += items.len();
        if !items.is_empty() {
            let offer: Vec<(String, DateTime<Utc>)> =
                items.iter().map(|i| (i.key.clone(), i.due_at)).collect();
            report.restored += dispatch.offer(&offer).await?;
        }
        if items.len() < page as usize {
            return Ok(report);
        }
        after = items.last().cloned();
    }
}

#[cfg(test)]
mod tests;
