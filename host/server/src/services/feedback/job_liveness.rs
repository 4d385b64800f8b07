//! Training jobs and backtests whose process died are not left `running` for ever. A job's
//! process writes a heartbeat while it trains (a backtest's progress write is its heartbeat);
//! a job whose heartbeat is older than [`ABANDONED_AFTER`] is marked failed — once at start,
//! so a crash is cleared by the restart, then every [`SWEEP_EVERY`] by whichever replica runs
//! the sweep (several replicas may share one PostgreSQL database, so a job cannot be failed
//! just because *this* process did not start it).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use arbiter_engine::store::{Store, StoreError};

/// How often a running job's process says it is alive.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// Silence after which a job's process is taken to be gone: four missed heartbeats.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(20);
/// How often the sweep looks for abandoned jobs after the one at start.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// What an abandoned job's `error` says.
pub const ABANDONED_ERROR: &str =
    "interrupted: the process running this job stopped (crash or restart) before it finished";

/// Marks failed every training job and backtest whose heartbeat stopped; returns their ids.
pub async fn fail_abandoned(store: &dyn Store) -> Result<Vec<String>, StoreError> {
    let silence = chrono::Duration::from_std(ABANDONED_AFTER).unwrap_or(chrono::Duration::MAX);
    let stale_before = Utc::now() - silence;
    let mut ids = store
        .fail_abandoned_jobs(stale_before, ABANDONED_ERROR)
        .await?;
    for id in &ids {
        tracing::warn!(job = %id, "training job abandoned by its process; marked failed");
    }
    let runs = store
        .fail_abandoned_backtests(stale_before, ABANDONED_ERROR)
        .await?;
    for id in &runs {
        tracing::warn!(backtest = %id, "backtest abandoned by its process; marked failed");
    }
    ids.extend(runs);
    Ok(ids)
}

/// Runs [`fail_abandoned`] every [`SWEEP_EVERY`] in the background.
pub fn spawn_sweep(store: Arc<dyn Store>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = fail_abandoned(store.as_ref()).await {
                tracing::warn!(error = %e, "abandoned training job sweep failed");
            }
        }
    });
}

/// Runs `work` while writing `job_id`'s heartbeat every [`HEARTBEAT_EVERY`].
pub async fn with_heartbeat<T>(
    store: &dyn Store,
    job_id: &str,
    work: impl Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => {
                if let Err(e) = store.heartbeat_job(job_id, Utc::now()).await {
                    tracing::warn!(job = %job_id, error = %e, "training job heartbeat failed");
                }
            }
        }
    }
}
