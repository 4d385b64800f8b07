//! The background job that cancels unpaid orders past their reservation's expiry.
//!
//! The durable work list is the `due_items` table, written with the order and removed with the
//! change that ends the wait, so expiries scheduled before a restart still happen after it.
//! Where the worker takes its work from depends on `--redis-url`:
//! - without Redis, it claims due rows from the database with leases (several replicas may
//!   run side by side);
//! - with Redis, every replica claims from one shared Redis queue (`{prefix}q:order.expire:*`,
//!   [`arbiter_redis::RedisDueDispatch`]) and the database is no longer polled for work. New
//!   orders are offered to Redis right after their commit; a repair sweep — at start and every
//!   `sweep_every` — offers Redis every due row it does not hold, so a Redis restart, a crash
//!   between the commit and the offer or a lost key delays an expiry by one sweep at most.
//!
//! Either way an order is cancelled once: the cancellation is a compare-and-set, and a
//! repeated delivery finds the order no longer unpaid.

use std::sync::Arc;
use std::time::Duration;

use arbiter_redis::{RedisDueDispatch, RedisDueDispatchConfig};
use arbiter_transactions::due::{DueDispatch, DueError, ORDER_EXPIRY};
use arbiter_transactions::orders::OrderService;
use tokio::sync::oneshot;
use tokio::time::MissedTickBehavior;

/// Most orders cancelled per claim; a full batch is followed at once by the next one.
const BATCH: u32 = 100;

/// The dispatcher of order expiries for this configuration: the shared Redis queue when a
/// Redis URL is given (connected lazily: Redis down at start is not an error), else none (the
/// database's own queue).
pub fn dispatcher(
    redis_url: Option<&str>,
    prefix: &str,
) -> anyhow::Result<Option<Arc<dyn DueDispatch>>> {
    let Some(url) = redis_url else {
        return Ok(None);
    };
    let dispatch = RedisDueDispatch::new(RedisDueDispatchConfig::new(url, prefix, ORDER_EXPIRY))?;
    Ok(Some(Arc::new(dispatch)))
}

/// The running worker. Dropping it stops the loop once its current batch is done (a batch is
/// a series of atomic changes, so stopping between them leaves nothing half-written).
pub struct ExpiryWorker {
    /// Never sent: its drop is the stop signal.
    _stop: oneshot::Sender<()>,
}

impl ExpiryWorker {
    /// Runs `orders.expire_due` every `interval`, and with `sweep_every` also
    /// `orders.sweep_expiries` at start and then at that period, until the returned worker is
    /// dropped. `sweep_every` matters only when `orders` dispatches through Redis.
    pub fn spawn(
        orders: OrderService,
        interval: Duration,
        sweep_every: Option<Duration>,
    ) -> ExpiryWorker {
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            // Without a sweep the timer still exists but its branch is disabled.
            let mut sweep = tokio::time::interval(sweep_every.unwrap_or(Duration::from_secs(3600)));
            sweep.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = sweep.tick(), if sweep_every.is_some() => run_sweep(&orders).await,
                    _ = tick.tick() => run_batches(&orders).await,
                }
            }
            tracing::debug!("order expiry worker stopped");
        });
        ExpiryWorker { _stop: stop }
    }
}

/// Expires due orders batch after batch until a batch comes back short or fails.
async fn run_batches(orders: &OrderService) {
    loop {
        match orders.expire_due(BATCH).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(cancelled = n, "expired unpaid orders");
                }
                if n < BATCH as usize {
                    return;
                }
            }
            // The dispatcher logs its own outage once; per tick it is only a debug line.
            Err(e @ DueError::Dispatch(_)) => {
                tracing::debug!(error = %e, "order expiry: dispatcher unavailable");
                return;
            }
            Err(e) => {
                // The items stay due (or leased): the next tick, another replica or the
                // lease's end retries them.
                tracing::warn!(error = %e, "order expiry failed");
                return;
            }
        }
    }
}

/// Puts every due expiry the dispatcher lost back into it.
async fn run_sweep(orders: &OrderService) {
    match orders.sweep_expiries().await {
        Ok(report) if report.restored > 0 => tracing::info!(
            due = report.due,
            restored = report.restored,
            "restored order expiries the dispatcher had lost"
        ),
        Ok(report) => tracing::debug!(due = report.due, "order expiry sweep: nothing lost"),
        Err(e) => tracing::warn!(error = %e, "order expiry sweep failed; it runs again later"),
    }
}
