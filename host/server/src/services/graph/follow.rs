//! Following the other replicas (issue 18): on a database several replicas share
//! (PostgreSQL), each replica pages through the graph feed (`arbiter_engine::graph_feed`) from
//! where its start-up build stopped, folds the decisions the others made into its link graph
//! and its entity-chain heads, and applies every label, so that within the lag every replica
//! holds the graph one replica serving all traffic would hold. The graph is order-insensitive
//! (counts, first and last seen, groups, hops), so a decision linked late links the same.
//!
//! The lag — from a decision's instant to its link on another replica — is the batch commit,
//! the wait until every older transaction has finished, and at most one poll interval. A
//! decision made within it is scored without the links of the others' most recent decisions;
//! it records what its replica saw. `arbiter_graph_follow_lag_seconds` measures it per
//! followed decision; `/readyz` reports how long the replica has been behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arbiter_engine::graph_feed::{FeedPosition, FeedRead, GraphFeed};
use arbiter_engine::store::{DecisionEntities, Store, StoreError};
use chrono::Utc;

use super::{GraphService, chain_entities, entities_observation};
use crate::metrics::names;

/// Rows read per page; a full page is followed at once by the next.
const PAGE: u32 = 1_000;
/// Followed decisions linked under one write lock: readers (scores) wait at most this many
/// links (~2 µs each).
const LINK_CHUNK: usize = 32;
/// Behind for longer than this, the replica reports itself degraded.
const DEGRADED_BEHIND: Duration = Duration::from_secs(5);
/// Expired feed rows deleted per statement, and how often pruning runs.
const PRUNE_BATCH: u32 = 5_000;
const PRUNE_EVERY: Duration = Duration::from_secs(300);

/// How the follower stands, for `/readyz` and the gauges.
#[derive(Debug)]
pub struct FollowStatus {
    /// When it last read the feed up to the horizon (milliseconds since `epoch`).
    caught_up_ms: AtomicU64,
    /// Whether the last read failed (the database went away).
    failing: AtomicBool,
    epoch: Instant,
}

/// What `/readyz` says about following.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FollowReport {
    /// Seconds since the replica last held every committed decision of the others.
    pub behind_seconds: f64,
    pub failing: bool,
}

impl FollowReport {
    pub fn degraded(&self) -> bool {
        self.failing || self.behind_seconds > DEGRADED_BEHIND.as_secs_f64()
    }
}

impl FollowStatus {
    fn new() -> FollowStatus {
        FollowStatus {
            caught_up_ms: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            epoch: Instant::now(),
        }
    }

    fn caught_up(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.caught_up_ms.store(ms, Ordering::Relaxed);
    }

    pub fn report(&self) -> FollowReport {
        let now = self.epoch.elapsed().as_millis() as u64;
        let behind = now.saturating_sub(self.caught_up_ms.load(Ordering::Relaxed));
        FollowReport {
            behind_seconds: behind as f64 / 1000.0,
            failing: self.failing.load(Ordering::Relaxed),
        }
    }
}

fn feed(store: &dyn Store) -> Result<&dyn GraphFeed, StoreError> {
    store
        .graph_feed()
        .ok_or_else(|| StoreError::Backend("this database keeps no graph feed".into()))
}

/// Where the follower stands in the two feeds.
struct Positions {
    decisions: FeedPosition,
    labels: FeedPosition,
}

/// The running follower of one replica.
pub(super) struct Follower {
    service: Arc<GraphService>,
    status: Arc<FollowStatus>,
    at: Positions,
}

impl Follower {
    /// Starts following from `start` (the horizon the graph was built up to) every `every`.
    pub(super) fn spawn(
        service: Arc<GraphService>,
        start: FeedPosition,
        every: Duration,
    ) -> Arc<FollowStatus> {
        let status = Arc::new(FollowStatus::new());
        status.caught_up();
        let mut follower = Follower {
            service,
            status: status.clone(),
            at: Positions {
                decisions: start.clone(),
                labels: start,
            },
        };
        tokio::spawn(async move {
            let mut last_prune = Instant::now();
            loop {
                let full = match follower.step().await {
                    Ok(full) => {
                        follower.status.failing.store(false, Ordering::Relaxed);
                        full
                    }
                    Err(e) => {
                        if !follower.status.failing.swap(true, Ordering::Relaxed) {
                            tracing::warn!(error = %e, "following the other replicas' decisions failed; retrying");
                        }
                        false
                    }
                };
                if last_prune.elapsed() >= PRUNE_EVERY {
                    last_prune = Instant::now();
                    follower.prune().await;
                }
                if !full {
                    tokio::time::sleep(every).await;
                }
            }
        });
        status
    }

    /// Reads one page of each feed and folds it in; `true` when a page was full (more waits).
    async fn step(&mut self) -> Result<bool, StoreError> {
        let store = self.service.store.clone();
        let feed = feed(store.as_ref())?;
        let own = feed.replica();
        let page = feed
            .decisions_after(&self.at.decisions, FeedRead::following(), PAGE)
            .await?;
        let started = Instant::now();
        let now = Utc::now();
        let lag = metrics::histogram!(names::GRAPH_FOLLOW_LAG_SECONDS);
        let others: Vec<&DecisionEntities> = page
            .iter()
            .filter(|d| d.replica != own)
            .map(|d| &d.entities)
            .collect();
        for chunk in others.chunks(LINK_CHUNK) {
            self.service
                .graph
                .observe_all(chunk.iter().map(|d| entities_observation(d)));
            for d in chunk {
                self.service.heads.seed(chain_entities(d), &d.decision_id);
                let behind = (now - d.created_at).to_std().unwrap_or_default();
                lag.record(behind.as_secs_f64());
            }
        }
        metrics::counter!(names::GRAPH_FOLLOWED_TOTAL).increment(others.len() as u64);
        metrics::histogram!(names::GRAPH_FOLLOW_FOLD_SECONDS)
            .record(started.elapsed().as_secs_f64());
        if let Some(last) = page.last() {
            self.at.decisions = last.position.clone();
        }
        let labels = feed.labels_after(&self.at.labels, PAGE).await?;
        for label in &labels {
            // A label names a decision; its entities are what it marks. Applying a label this
            // replica recorded itself again changes nothing.
            if let Some(decision) = store.get_decision(&label.decision_id).await? {
                self.service.apply_label(&decision, label.kind).await;
            }
            self.at.labels = label.position.clone();
        }
        let full = page.len() == PAGE as usize || labels.len() == PAGE as usize;
        if !full {
            self.status.caught_up();
        }
        Ok(full)
    }

    /// Deletes feed rows older than the graph's window, in small batches.
    async fn prune(&self) {
        let Ok(feed) = feed(self.service.store.as_ref()) else {
            return;
        };
        let window = chrono::Duration::from_std(self.service.window).unwrap_or_default();
        let before = Utc::now() - window;
        loop {
            match feed.prune_decisions(before, PRUNE_BATCH).await {
                Ok(n) if n == u64::from(PRUNE_BATCH) => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "pruning the graph feed failed");
                    break;
                }
            }
        }
    }
}
