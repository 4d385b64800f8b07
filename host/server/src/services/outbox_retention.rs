//! Outbox retention (issue 21): events older than `--outbox-retention-secs` are deleted, a
//! small batch at a time, oldest first in feed order; with the relay on, never one it has not
//! published. The pull feed keeps working for what is kept and says where it starts
//! (`starts_after`); a consumer behind that is told its events expired (410).
//!
//! Each batch is one short transaction (at most [`BATCH`] rows; SQLite binds at most 440
//! parameters per statement), with a pause between batches, so decisions and orders, which
//! share the writer, never wait long behind it. Every replica runs it; the batches take turns
//! (`Serialized::OutboxHorizon`).

use std::sync::Arc;
use std::time::Duration;

use arbiter_transactions::store::TransactionStore;
use chrono::Utc;
use tokio::task::JoinHandle;

use crate::metrics::names;
use crate::services::outbox_relay::RELAY_NAME;

/// Events deleted per transaction.
pub const BATCH: u32 = 400;
/// The rest between two batches of one pass.
const PAUSE: Duration = Duration::from_millis(20);

/// The running retention; dropping it stops it.
pub struct OutboxRetention {
    task: JoinHandle<()>,
}

impl Drop for OutboxRetention {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OutboxRetention {
    /// Deletes events older than `keep` (none when `keep` is zero) every quarter of `keep`
    /// (at least every minute); only what the relay published when `relayed_only`.
    pub fn spawn(
        store: Arc<dyn TransactionStore>,
        keep: Duration,
        relayed_only: bool,
    ) -> Option<OutboxRetention> {
        if keep.is_zero() {
            return None;
        }
        let every = (keep / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = prune(&*store, keep, relayed_only).await {
                    tracing::warn!(error = %e, "outbox retention: a pass failed; next pass retries");
                }
            }
        });
        Some(OutboxRetention { task })
    }
}

/// One pass: batches until what is left is young enough (or unpublished). How many went.
pub async fn prune(
    store: &dyn TransactionStore,
    keep: Duration,
    relayed_only: bool,
) -> Result<u64, arbiter_transactions::TxError> {
    let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
    let before = Utc::now() - keep;
    // The relay's position bounds what may go; a relay that never ran has published nothing.
    let up_to = if relayed_only {
        Some(
            store
                .relay_position(RELAY_NAME)
                .await?
                .map_or(0, |p| p.after),
        )
    } else {
        None
    };
    let mut total = 0;
    loop {
        let deleted = store.prune_outbox(before, up_to, BATCH).await?;
        total += deleted;
        if deleted < u64::from(BATCH) {
            break;
        }
        tokio::time::sleep(PAUSE).await;
    }
    if total > 0 {
        metrics::counter!(names::OUTBOX_PRUNED_TOTAL).increment(total);
        tracing::info!(deleted = total, "outbox retention: expired events deleted");
    }
    Ok(total)
}
