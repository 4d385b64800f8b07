//! The state of the maintenance cycle ([`Phase`]) and how live traffic keeps the structures
//! being rebuilt up to date while a cycle is under way (the `on_*` hooks the link graph calls
//! on every new entity, link and mark). Owns those hooks only; the cycle itself is in
//! `maintenance`.

use crate::groups::{GroupStats, Groups};
use crate::hops::{self, FAR};
use crate::node::Inner;

/// Where the current cycle is.
#[derive(Debug, Default)]
pub(crate) enum Phase {
    #[default]
    Idle,
    Expire {
        now: u32,
        cursor: usize,
    },
    Sweep {
        now: u32,
        cursor: usize,
        hist: Vec<u32>,
    },
    Evict {
        now: u32,
        min_hours: u32,
        remaining: usize,
        cursor: usize,
        dying: Option<u32>,
    },
    GroupInit {
        next: Groups,
    },
    GroupUnion {
        cursor: usize,
        next: Groups,
    },
    Hops {
        next: Groups,
        field: Vec<u8>,
        marks: Vec<u32>,
        cursor: usize,
    },
}

impl Phase {
    /// A node was created (`reused`: in a recycled slot).
    pub fn on_alloc(&mut self, i: u32, stats: GroupStats, reused: bool) {
        match self {
            // Init copies nodes in index order: a slot it already passed must be refreshed,
            // one it has not reached will be copied as it is.
            Phase::GroupInit { next } if (i as usize) < next.len() => next.reset(i, stats),
            Phase::GroupUnion { next, .. } | Phase::Hops { next, .. } => {
                if reused {
                    next.reset(i, stats);
                } else {
                    next.push(stats);
                }
            }
            _ => {}
        }
        if let Phase::Hops { field, .. } = self {
            if reused {
                field[i as usize] = FAR;
            } else {
                field.push(FAR);
            }
        }
    }

    /// A new link. During the union scan it needs nothing: new links are appended, and the
    /// scan runs to the end of the edge list.
    pub fn on_link(&mut self, g: &Inner, a: u32, b: u32, max: u8, budget: usize) {
        if let Phase::Hops { next, field, .. } = self {
            if !g[crate::graph::ni(a)].is_weak() && !g[crate::graph::ni(b)].is_weak() {
                next.union(a, b);
            }
            hops::relax(g, field, a, b, max, budget);
        }
    }

    /// `i` gained (`marked`) or lost its fraud mark; `marks` are all marks now.
    pub fn on_mark(
        &mut self,
        g: &Inner,
        i: u32,
        marked: bool,
        marks: impl Iterator<Item = u32>,
        max: u8,
        budget: usize,
    ) {
        let delta = if marked { 1 } else { -1 };
        match self {
            Phase::GroupInit { next } if (i as usize) < next.len() => next.add_fraud(i, delta),
            Phase::GroupUnion { next, .. } => next.add_fraud(i, delta),
            Phase::Hops {
                next,
                field,
                marks: pending,
                cursor,
            } => {
                next.add_fraud(i, delta);
                if marked {
                    field[i as usize] = 0;
                    hops::spread(g, field, i, max, budget);
                } else {
                    // Distances only grow on an unmark: restart the field from the marks.
                    field.fill(FAR);
                    *pending = marks.collect();
                    *cursor = 0;
                }
            }
            _ => {}
        }
    }

    /// `a` and `b`, linked already, now belong together (an end was unshielded): the forest
    /// being built joins them too, unless its edge scan is still to come.
    pub fn on_join(&mut self, a: u32, b: u32) {
        if let Phase::GroupUnion { next, .. } | Phase::Hops { next, .. } = self {
            next.union(a, b);
        }
    }

    /// An entity was shielded or unshielded: distances may change either way, so a field
    /// being built restarts from the marks (`marks` are all marks now).
    pub fn on_shield(&mut self, marks: impl Iterator<Item = u32>) {
        if let Phase::Hops {
            field,
            marks: pending,
            cursor,
            ..
        } = self
        {
            field.fill(FAR);
            *pending = marks.collect();
            *cursor = 0;
        }
    }
}
