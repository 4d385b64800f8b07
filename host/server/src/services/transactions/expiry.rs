//! The background job that cancels unpaid orders past their reservation's expiry. The work
//! list is the durable due queue (`due_items`), so expiries scheduled before a restart still
//! happen after it; claims are leased, so several replicas may run this loop side by side.

use std::time::Duration;

use arbiter_transactions::orders::OrderService;
use tokio::sync::oneshot;

/// Most orders cancelled per claim; a full batch is followed at once by the next one.
const BATCH: u32 = 100;

/// The running worker. Dropping it stops the loop once its current batch is done (a batch is
/// a series of atomic changes, so stopping between them leaves nothing half-written).
pub struct ExpiryWorker {
    /// Never sent: its drop is the stop signal.
    _stop: oneshot::Sender<()>,
}

impl ExpiryWorker {
    /// Runs `orders.expire_due` every `interval` until the returned worker is dropped.
    pub fn spawn(orders: OrderService, interval: Duration) -> ExpiryWorker {
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                loop {
                    match orders.expire_due(BATCH).await {
                        Ok(n) => {
                            if n > 0 {
                                tracing::info!(cancelled = n, "expired unpaid orders");
                            }
                            if n < BATCH as usize {
                                break;
                            }
                        }
                        Err(e) => {
                            // The items stay due: the next tick (or another replica) retries.
                            tracing::warn!(error = %e, "order expiry failed");
                            break;
                        }
                    }
                }
            }
            tracing::debug!("order expiry worker stopped");
        });
        ExpiryWorker { _stop: stop }
    }
}
