//! [`SharedGraph`]: one link graph shared by every request thread. Owns the locking rule:
//! scores and views take the read lock; an observation, a mark or one maintenance chunk takes
//! the write lock for exactly that one update, so a decision never waits on a writer for
//! longer than one update (or one chunk of bounded work).

use std::time::Instant;

use chrono::{DateTime, Utc};
use parking_lot::{RwLock, RwLockWriteGuard};

use crate::entity::{EntityKind, Observation};
use crate::graph::LinkGraph;
use crate::label_marks::MarkPlan;
use crate::maintenance::MaintenanceReport;
use crate::score::Scored;
use crate::stats::GraphStats;
use crate::view::EntityView;

/// Work units of one maintenance chunk: at 1 M entities / 5 M links a chunk holds the write
/// lock for 15 µs at the median and about 0.1 ms at the 99th percentile (`benches/graph.rs`).
pub const MAINTENANCE_CHUNK: usize = 2048;

/// A [`LinkGraph`] behind a lock.
#[derive(Debug)]
pub struct SharedGraph {
    /// `parking_lot` rather than `std`: no poisoning (a panicking writer leaves the counters
    /// consistent up to the update it was in, which is better than failing every later
    /// decision), and `unlock_fair` so maintenance hands the lock to waiting readers between
    /// chunks instead of barging back in.
    inner: RwLock<LinkGraph>,
}

impl SharedGraph {
    pub fn new(graph: LinkGraph) -> SharedGraph {
        SharedGraph {
            inner: RwLock::new(graph),
        }
    }

    /// Features and reasons of `obs` before it is linked (read lock).
    pub fn score(&self, obs: &Observation<'_>) -> Scored {
        self.inner.read().score(obs)
    }

    /// Links `obs` (write lock, one update).
    pub fn observe(&self, obs: &Observation<'_>) {
        self.inner.write().observe(obs);
    }

    /// Links several observations under one write lock: for a batch of decisions made
    /// elsewhere (another replica's), given in chunks small enough that a reader waits at
    /// most one chunk.
    pub fn observe_all<'a>(&self, observations: impl IntoIterator<Item = Observation<'a>>) {
        let mut graph = self.inner.write();
        for obs in observations {
            graph.observe(&obs);
        }
    }

    pub fn mark_fraud(
        &self,
        kind: EntityKind,
        value: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> bool {
        self.inner.write().mark_fraud(kind, value, reason, at)
    }

    /// [`LinkGraph::entity_values`]: a copy taken under the read lock (the caller's work on
    /// it, a keyed hash per entity, runs outside).
    pub fn entity_values(&self) -> Vec<(EntityKind, Box<str>)> {
        self.inner.read().entity_values()
    }

    /// [`LinkGraph::rename`] (write lock, one update).
    pub fn rename(&self, kind: EntityKind, from: &str, to: &str) -> bool {
        self.inner.write().rename(kind, from, to)
    }

    pub fn unmark(&self, kind: EntityKind, value: &str) -> bool {
        self.inner.write().unmark(kind, value)
    }

    /// [`LinkGraph::settle`] (write lock, one update).
    pub fn settle(
        &self,
        kind: EntityKind,
        value: &str,
        plan: MarkPlan,
        reason: &str,
        at: DateTime<Utc>,
    ) {
        self.inner.write().settle(kind, value, plan, reason, at);
    }

    /// The reviewer view (read lock; the walk is bounded by `cap`).
    pub fn neighbourhood(
        &self,
        kind: EntityKind,
        value: &str,
        depth: u8,
        cap: usize,
    ) -> Option<EntityView> {
        self.inner.read().neighbourhood(kind, value, depth, cap)
    }

    pub fn stats(&self) -> GraphStats {
        self.inner.read().stats()
    }

    /// Runs one maintenance cycle at `now`, [`MAINTENANCE_CHUNK`] units per write lock,
    /// handing the lock over fairly between chunks. Blocking: call it from a background thread
    /// (e.g. every few minutes). A cycle already under way is continued, not restarted.
    pub fn maintain(&self, now: DateTime<Utc>) -> MaintenanceReport {
        let mut longest = 0u64;
        loop {
            let mut g = self.inner.write();
            let started = Instant::now();
            let done = g.maintain_step(now, MAINTENANCE_CHUNK);
            let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            longest = longest.max(took);
            let retired = g.take_retired();
            if done {
                let mut report = g.report;
                report.max_chunk_micros = longest;
                drop(g);
                drop(retired);
                return report;
            }
            RwLockWriteGuard::unlock_fair(g);
            drop(retired);
        }
    }

    /// Swaps in a graph built off-lock (e.g. a rebuild from the decision log).
    pub fn replace(&self, graph: LinkGraph) {
        *self.inner.write() = graph;
    }

    /// Runs `f` with shared access, for reads this type does not wrap.
    pub fn read<T>(&self, f: impl FnOnce(&LinkGraph) -> T) -> T {
        f(&self.inner.read())
    }
}
