//! The maintenance pass: ageing, the entity cap, and the rebuild of the union-find groups and
//! the fraud-proximity field from what is still live. Owns the pass's state machine, which
//! advances in chunks of bounded work so a shared graph can release its write lock between
//! chunks (a decision waits at most one chunk, not one pass).
//!
//! One cycle, in order:
//! 1. **Expire** links whose `last_seen` is older than the window.
//! 2. **Sweep** entities left with no link, unmarked and not seen within the window; if live
//!    entities exceed the cap, histogram the rest by hours since last seen.
//! 3. **Evict** (only over the cap) least-recently-seen unmarked entities, oldest hour first,
//!    down to 90 % of the cap, removing their links.
//! 4. **Group init / union**: build a fresh union-find from live non-weak links.
//! 5. **Hops**: rebuild the proximity field from the marks; swap both in.
//!
//! Union-find cannot split a group, so deletions (1–3) leave groups and proximity stale
//! (too large, too close) until 5 swaps the rebuilt ones in. Traffic keeps flowing
//! throughout: new entities and links land in both the live and the next structures (the
//! `on_*` hooks). Entities removed in 1–3 are only tombstoned; their slots are recycled after
//! the swap, when no union-find parent can still point at them. Fraud-marked entities are
//! never expired or evicted (their links still age).

use std::mem;

use chrono::{DateTime, Utc};
use petgraph::graph::EdgeIndex;
use serde::{Deserialize, Serialize};

use crate::entity::stamp;
use crate::graph::{LinkGraph, own_stats};
use crate::groups::{Groups, index};
use crate::hops::{self, FAR};
pub(crate) use crate::phase::Phase;

/// The union-find forest and proximity field a completed cycle replaced.
#[derive(Debug)]
#[expect(
    dead_code,
    reason = "held only to be dropped later, outside the write lock"
)]
pub(crate) struct Retired {
    groups: Groups,
    hops: Vec<u8>,
}

/// What the last (or current) maintenance cycle did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceReport {
    pub links_expired: u64,
    pub entities_expired: u64,
    pub entities_evicted: u64,
    /// Chunks the cycle took.
    pub chunks: u32,
    /// Longest single chunk under the write lock, in microseconds (set by `SharedGraph`).
    pub max_chunk_micros: u64,
}

const HOUR: u32 = 3600;

fn hours_since(now: u32, seen: u32) -> u32 {
    now.saturating_sub(seen) / HOUR
}

impl LinkGraph {
    /// Runs a whole maintenance cycle at `now` in one go (start-up, tests, a graph that is
    /// not shared yet). Shared graphs use [`crate::SharedGraph::maintain`].
    pub fn maintain(&mut self, now: DateTime<Utc>) -> MaintenanceReport {
        while !self.maintain_step(now, usize::MAX) {}
        self.retired = None;
        self.report
    }

    /// The structures the last completed cycle replaced, for the caller to drop outside any
    /// lock.
    pub(crate) fn take_retired(&mut self) -> Option<Retired> {
        self.retired.take()
    }

    /// Whether a maintenance cycle is under way.
    pub fn maintaining(&self) -> bool {
        !matches!(self.phase, Phase::Idle)
    }

    /// Advances the maintenance cycle by about `budget` units of work (a unit is one link or
    /// entity looked at; removals count more), starting one if none is under way. Returns
    /// true when the cycle is complete. `now` is read when a cycle starts.
    pub fn maintain_step(&mut self, now: DateTime<Utc>, budget: usize) -> bool {
        let mut phase = mem::take(&mut self.phase);
        if matches!(phase, Phase::Idle) {
            self.report = MaintenanceReport::default();
            phase = Phase::Expire {
                now: stamp(now),
                cursor: 0,
            };
        }
        self.report.chunks += 1;
        let mut spent = 0usize;
        while spent < budget {
            phase = match phase {
                Phase::Idle => return true,
                Phase::Expire { now, cursor } => self.expire(now, cursor, budget, &mut spent),
                Phase::Sweep { now, cursor, hist } => {
                    self.sweep(now, cursor, hist, budget, &mut spent)
                }
                Phase::Evict {
                    now,
                    min_hours,
                    remaining,
                    cursor,
                    dying,
                } => self.evict(
                    (now, min_hours),
                    remaining,
                    cursor,
                    dying,
                    budget,
                    &mut spent,
                ),
                Phase::GroupInit { mut next } => {
                    while spent < budget && next.len() < self.graph.node_count() {
                        next.push(own_stats(self.node(index(next.len()))));
                        spent += 1;
                    }
                    if next.len() < self.graph.node_count() {
                        Phase::GroupInit { next }
                    } else {
                        Phase::GroupUnion { cursor: 0, next }
                    }
                }
                Phase::GroupUnion {
                    mut cursor,
                    mut next,
                } => {
                    while spent < budget && cursor < self.graph.edge_count() {
                        let (a, b) = self.ends(cursor);
                        if !self.node(a).is_weak() && !self.node(b).is_weak() {
                            next.union(a, b);
                            // Two random finds in the new forest: a few cache misses.
                            spent += 3;
                        }
                        cursor += 1;
                        spent += 1;
                    }
                    if cursor < self.graph.edge_count() {
                        Phase::GroupUnion { cursor, next }
                    } else {
                        Phase::Hops {
                            next,
                            field: vec![FAR; self.graph.node_count()],
                            marks: self.marks.keys().copied().collect(),
                            cursor: 0,
                        }
                    }
                }
                Phase::Hops {
                    next,
                    mut field,
                    marks,
                    mut cursor,
                } => {
                    let (max, hb) = (self.config.hops_bound(), self.config.hop_visit_budget);
                    while spent < budget && cursor < marks.len() {
                        let m = marks[cursor];
                        if self.node(m).marked {
                            field[m as usize] = 0;
                            spent += hops::spread(&self.graph, &mut field, m, max, hb);
                        }
                        cursor += 1;
                        spent += 1;
                    }
                    if cursor < marks.len() {
                        Phase::Hops {
                            next,
                            field,
                            marks,
                            cursor,
                        }
                    } else {
                        // The old forest and field are freed by whoever holds no lock
                        // (unmapping 16 MB takes milliseconds): see `take_retired`.
                        let groups = mem::replace(&mut self.groups, next);
                        let hops = mem::replace(&mut self.hops, field);
                        self.retired = Some(Retired { groups, hops });
                        self.free.append(&mut self.quarantine);
                        return true;
                    }
                }
            };
        }
        self.phase = phase;
        false
    }

    fn ends(&self, e: usize) -> (u32, u32) {
        self.graph
            .edge_endpoints(EdgeIndex::new(e))
            .map(|(a, b)| (index(a.index()), index(b.index())))
            .unwrap_or_default()
    }

    fn expire(&mut self, now: u32, mut cursor: usize, budget: usize, spent: &mut usize) -> Phase {
        let cutoff = now.saturating_sub(self.config.window_secs());
        while *spent < budget && cursor < self.graph.edge_count() {
            let e = EdgeIndex::new(cursor);
            if self.graph[e].last_seen < cutoff {
                // Unlinking walks both ends' lists: count it as several units.
                *spent += 8;
                // The last link moves into `cursor`: look at the same slot again.
                self.remove_link(e);
                self.report.links_expired += 1;
            } else {
                cursor += 1;
                *spent += 1;
            }
        }
        if cursor < self.graph.edge_count() {
            return Phase::Expire { now, cursor };
        }
        // Over the cap: histogram the survivors of the sweep by age, for the eviction.
        let hours = self.config.window_secs() / HOUR + 2;
        let over = self.live > self.effective_entity_cap();
        Phase::Sweep {
            now,
            cursor: 0,
            hist: if over {
                vec![0; hours as usize]
            } else {
                Vec::new()
            },
        }
    }

    fn sweep(
        &mut self,
        now: u32,
        mut cursor: usize,
        mut hist: Vec<u32>,
        budget: usize,
        spent: &mut usize,
    ) -> Phase {
        let cutoff = now.saturating_sub(self.config.window_secs());
        while *spent < budget && cursor < self.graph.node_count() {
            let i = index(cursor);
            let e = self.node(i);
            if e.alive && !e.marked && !e.shielded {
                if e.last_seen < cutoff && self.isolated(i) {
                    self.retire(i);
                    self.bury(i);
                    self.report.entities_expired += 1;
                } else if let Some(last) = hist.len().checked_sub(1) {
                    let h = (hours_since(now, e.last_seen) as usize).min(last);
                    hist[h] += 1;
                }
            }
            cursor += 1;
            *spent += 1;
        }
        if cursor < self.graph.node_count() {
            return Phase::Sweep { now, cursor, hist };
        }
        let cap = self.effective_entity_cap();
        let low_water = cap - cap / 10;
        let excess = if hist.is_empty() || self.live <= cap {
            0
        } else {
            self.live - low_water
        };
        if excess == 0 {
            return Phase::GroupInit {
                next: Groups::with_capacity(self.graph.node_count()),
            };
        }
        // The youngest hour that still has to go: everything at least that old is evicted,
        // that hour itself in index order until the excess is gone.
        let mut acc = 0usize;
        let mut min_hours = 0u32;
        for (h, n) in hist.iter().enumerate().rev() {
            acc += *n as usize;
            min_hours = index(h);
            if acc >= excess {
                break;
            }
        }
        Phase::Evict {
            now,
            min_hours,
            remaining: excess,
            cursor: 0,
            dying: None,
        }
    }

    fn evict(
        &mut self,
        (now, min_hours): (u32, u32),
        mut remaining: usize,
        mut cursor: usize,
        mut dying: Option<u32>,
        budget: usize,
        spent: &mut usize,
    ) -> Phase {
        while *spent < budget {
            if let Some(d) = dying {
                *spent += 4;
                if !self.remove_first_link(d) {
                    self.bury(d);
                    dying = None;
                }
                continue;
            }
            if remaining == 0 || cursor >= self.graph.node_count() {
                return Phase::GroupInit {
                    next: Groups::with_capacity(self.graph.node_count()),
                };
            }
            let i = index(cursor);
            let e = self.node(i);
            if e.alive && !e.marked && !e.shielded && hours_since(now, e.last_seen) >= min_hours {
                self.retire(i);
                self.report.entities_evicted += 1;
                remaining -= 1;
                dying = Some(i);
            }
            cursor += 1;
            *spent += 1;
        }
        Phase::Evict {
            now,
            min_hours,
            remaining,
            cursor,
            dying,
        }
    }
}
