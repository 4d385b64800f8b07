//! The retention job (issue 22): every kind with an age (`RetentionArgs`) is expired in
//! small batches, oldest first, with a pause between batches, so decisions — which share
//! SQLite's one writer — wait at most one batch. Each pass also gives some of SQLite's free
//! pages back to the file system, a few at a time (at most [`RECLAIM_PER_PASS`]); the rest
//! is reused by new rows meanwhile. Every replica runs it; two deleting at once
//! only find less to delete. What is kept whatever its age: `arbiter_engine::retention`.
//!
//! On PostgreSQL decisions live in time partitions: each pass (and the start, before the
//! first decision) makes the partitions for the next two spans, and expires due partitions a
//! step at a time (walk, detach, drop: `arbiter_storage`'s `postgres/partitions.rs`) before
//! the batches take what lies outside them.

use std::sync::Arc;
use std::time::Duration;

use arbiter_engine::retention::{Expiring, PartitionStep, RetentionStore};
use arbiter_engine::store::StoreError;
use chrono::Utc;
use tokio::task::JoinHandle;

use crate::config::RetentionArgs;
use crate::metrics::names;

/// Rows deleted per statement (and transaction): small, because on SQLite decisions wait for
/// the one writer while a batch (with its projections and index entries) is deleted
/// (BENCHMARKS.md, "Retention": 400 a batch took the endpoint's p99 from 18 to ~40 ms).
pub const BATCH: u32 = 128;
/// Free pages given back per step. Giving a page back moves a live page from the end of the
/// file into a hole, so a step is real writing: a few pages at a time.
/// (BENCHMARKS.md, "Retention": 256 a step stalled the writer into 503s, 32 into 100 ms.)
const RECLAIM_PAGES: u32 = 8;
/// Free pages given back per pass at most (4 KiB each: 16 MiB): the rest waits for the next
/// pass, and is reused by new rows meanwhile.
const RECLAIM_PER_PASS: u64 = 4_096;
/// The rest between two steps of giving pages back.
const RECLAIM_PAUSE: Duration = Duration::from_millis(50);
/// The rest between two batches or steps of one pass.
const PAUSE: Duration = Duration::from_millis(20);
/// How often a pass starts, at most (a quarter of the shortest age, at least every minute).
const EVERY_MAX: Duration = Duration::from_secs(60);

/// The running job; dropping it stops it.
pub struct Retention {
    task: JoinHandle<()>,
}

impl Drop for Retention {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Retention {
    /// Makes the first decisions partitions (PostgreSQL), then starts the job: it runs even
    /// when every kind is kept forever, to make the next partitions.
    pub async fn start(store: Arc<dyn RetentionStore>, args: RetentionArgs) -> Retention {
        if let Err(e) = prepare(store.as_ref(), &args).await {
            tracing::warn!(error = %e, "retention: decisions partitions not made; retried every pass");
        }
        let shortest = Expiring::ALL
            .iter()
            .filter_map(|k| args.keep(*k))
            .chain([args.partition_span()])
            .min()
            .unwrap_or(EVERY_MAX);
        let every = (shortest / 4).clamp(Duration::from_millis(100), EVERY_MAX);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = pass(store.as_ref(), &args).await {
                    tracing::warn!(error = %e, "retention: a pass failed; the next one retries");
                }
            }
        });
        Retention { task }
    }
}

/// Makes the decisions partitions for now and the next two spans (PostgreSQL).
async fn prepare(store: &dyn RetentionStore, args: &RetentionArgs) -> Result<u32, StoreError> {
    let span = args.partition_span();
    let now = Utc::now();
    let ahead = chrono::Duration::from_std(span * 2).unwrap_or(chrono::Duration::MAX);
    store.prepare_partitions(now, now + ahead, span).await
}

/// Expires the due decisions partitions a step at a time; how many decisions went.
async fn expire_partitions(
    store: &dyn RetentionStore,
    before: chrono::DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut deleted = 0;
    loop {
        match store.expire_partition(before).await? {
            PartitionStep::Nothing => return Ok(deleted),
            PartitionStep::Walked { .. } => {}
            PartitionStep::Detached { partition, kept } => {
                tracing::info!(%partition, kept, "retention: decisions partition detached");
            }
            PartitionStep::Dropped { deleted: n, .. } => deleted += n,
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// One pass over every kind with an age; how many rows went.
pub async fn pass(store: &dyn RetentionStore, args: &RetentionArgs) -> Result<u64, StoreError> {
    let made = prepare(store, args).await?;
    if made > 0 {
        tracing::info!(made, "retention: decisions partitions made");
    }
    let mut total = 0;
    for kind in Expiring::ALL {
        let Some(keep) = args.keep(kind) else {
            continue;
        };
        let before = Utc::now() - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        let mut deleted = 0;
        if kind == Expiring::Decisions {
            deleted += expire_partitions(store, before).await?;
        }
        loop {
            let n = store.expire(kind, before, BATCH).await?;
            deleted += n;
            if n < u64::from(BATCH) {
                break;
            }
            tokio::time::sleep(PAUSE).await;
        }
        if deleted > 0 {
            metrics::counter!(names::RETENTION_DELETED_TOTAL, "kind" => kind.as_str())
                .increment(deleted);
            tracing::info!(
                kind = kind.as_str(),
                deleted,
                "retention: expired rows deleted"
            );
        }
        total += deleted;
    }
    let mut pages = 0;
    while pages < RECLAIM_PER_PASS {
        let n = store.reclaim_space(RECLAIM_PAGES).await?;
        pages += n;
        if n < u64::from(RECLAIM_PAGES) {
            break;
        }
        tokio::time::sleep(RECLAIM_PAUSE).await;
    }
    if pages > 0 {
        metrics::counter!(names::RETENTION_RECLAIMED_PAGES_TOTAL).increment(pages);
    }
    Ok(total)
}
