//! The expiry half of [`OrderService`]: cancelling unpaid orders whose reservation ran out,
//! claimed from the store's due queue or from a shared dispatcher, and the sweep that keeps the
//! dispatcher complete; plus offering a new order's expiry to the dispatcher.

use chrono::{DateTime, Duration, Utc};

use super::{OrderService, Settled};
use crate::due::{DueClaim, DueDispatch, DueError, ORDER_EXPIRY, SweepReport, restore_missing};
use crate::error::TxError;
use crate::ids::OrderId;
use crate::order::Order;

/// How long a claimed expiry item is leased before another worker may retry it.
const EXPIRY_LEASE: Duration = Duration::seconds(60);
/// How long a dispatched expiry whose handling failed (the database unreachable) waits before
/// it is claimed again.
const EXPIRY_RETRY: Duration = Duration::seconds(5);
/// Rows read per page by the repair sweep.
const SWEEP_PAGE: u32 = 500;

impl OrderService {
    /// Cancels every unpaid order whose expiry is due, up to `limit` claimed items; returns how
    /// many it cancelled. Safe to run from several workers and to re-run after a crash. Claims
    /// from the dispatcher when one is configured, else from the store's queue.
    pub async fn expire_due(&self, limit: u32) -> Result<usize, DueError> {
        match &self.expiry_dispatch {
            Some(dispatch) => self.expire_dispatched(dispatch.as_ref(), limit).await,
            None => Ok(self.expire_from_store(limit).await?),
        }
    }

    /// Puts every due `order.expire` row the dispatcher lost back into it (a no-op without a
    /// dispatcher: the store's queue is then the work list itself). Run at start and
    /// periodically; an order's expiry is therefore late by at most one sweep period, never
    /// lost.
    pub async fn sweep_expiries(&self) -> Result<SweepReport, DueError> {
        let Some(dispatch) = &self.expiry_dispatch else {
            return Ok(SweepReport::default());
        };
        let now = self.clock.now();
        restore_missing(
            self.store.as_ref(),
            dispatch.as_ref(),
            ORDER_EXPIRY,
            now,
            SWEEP_PAGE,
        )
        .await
    }

    async fn expire_from_store(&self, limit: u32) -> Result<usize, TxError> {
        let now = self.clock.now();
        let mut cancelled = 0;
        for item in self.store.claim_due(now, limit, EXPIRY_LEASE).await? {
            if item.kind != ORDER_EXPIRY {
                continue;
            }
            match self.expire(&OrderId(item.key)).await? {
                Expiry::Cancelled => cancelled += 1,
                // Paid or cancelled meanwhile: the next claim (after the lease) sees the new
                // status; a channel that could not be asked is asked after the lease.
                Expiry::Moved | Expiry::Done | Expiry::Later => {}
            }
        }
        Ok(cancelled)
    }

    /// The dispatcher's loop body: claim, handle, complete. A key whose handling failed is
    /// given back for a later attempt (or, if even that fails, left to its lease).
    async fn expire_dispatched(
        &self,
        dispatch: &dyn DueDispatch,
        limit: u32,
    ) -> Result<usize, DueError> {
        let now = self.clock.now();
        let claims = dispatch.claim(now, limit, EXPIRY_LEASE).await?;
        let mut cancelled = 0;
        for (i, claim) in claims.iter().enumerate() {
            match self.expire(&OrderId(claim.key.clone())).await {
                Ok(Expiry::Cancelled) => {
                    cancelled += 1;
                    dispatch.complete(claim).await?;
                }
                Ok(Expiry::Done) => {
                    dispatch.complete(claim).await?;
                }
                // Moved under us: claim it again at once and look at the new status.
                Ok(Expiry::Moved) => {
                    dispatch.retry(claim, now).await?;
                }
                Ok(Expiry::Later) => {
                    dispatch.retry(claim, now + EXPIRY_RETRY).await?;
                }
                Err(e) => {
                    // The store is failing: every key of this batch waits for a later try.
                    give_back(dispatch, &claims[i..], now + EXPIRY_RETRY).await;
                    return Err(e.into());
                }
            }
        }
        Ok(cancelled)
    }

    /// Cancels the order if it is still unpaid. Its due row goes with the cancellation (same
    /// transaction); an order that is no longer unpaid (or gone) has its row removed here, so
    /// no sweep offers it again.
    async fn expire(&self, id: &OrderId) -> Result<Expiry, TxError> {
        match self.store.order(id).await? {
            Some(order) if order.status.is_unpaid() => {
                // A payment paid at the last second is applied instead of the cancellation;
                // a channel that cannot be asked now is asked again later.
                match self.payments_settled(&order).await? {
                    Settled::Closed => {}
                    Settled::Paid => return Ok(Expiry::Moved),
                    Settled::Undecided => return Ok(Expiry::Later),
                }
                match self.cancel_unpaid(&order, "reservation expired").await {
                    Ok(()) => Ok(Expiry::Cancelled),
                    Err(TxError::StatusChanged { .. }) => Ok(Expiry::Moved),
                    Err(e) => Err(e),
                }
            }
            _ => {
                self.store.complete(ORDER_EXPIRY, id.as_str()).await?;
                Ok(Expiry::Done)
            }
        }
    }

    /// Offers a new order's expiry to the dispatcher, if there is one. Best effort by design:
    /// a dispatcher failure must not fail the order. The row written with the order is the
    /// truth, the dispatcher reports its own outage, and [`OrderService::sweep_expiries`]
    /// offers the row again once it is due.
    pub(super) async fn offer_expiry(&self, order: &Order) {
        if let Some(dispatch) = &self.expiry_dispatch {
            let _repaired_by_the_sweep = dispatch
                .offer(&[(order.id.0.clone(), order.expires_at)])
                .await;
        }
    }
}

/// What handling one due expiry did.
enum Expiry {
    Cancelled,
    /// The status moved between the read and the compare-and-set: look again.
    Moved,
    /// Nothing to do (paid, cancelled, rejected or gone); the row is removed.
    Done,
    /// A payment's channel could not be asked whether it was paid: try again later.
    Later,
}

/// Gives claimed keys back to run at `at`. A failure here is left to the keys' leases.
async fn give_back(dispatch: &dyn DueDispatch, claims: &[DueClaim], at: DateTime<Utc>) {
    for claim in claims {
        if dispatch.retry(claim, at).await.is_err() {
            return;
        }
    }
}
