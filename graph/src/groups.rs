//! Connected groups by union-find over node indices, with per-group counters (entities,
//! distinct users, fraud-marked entities) kept at each root. Owns only the forest: which
//! links count (weak IP links do not) and when the forest is rebuilt is the link graph's
//! business.
//!
//! Union-find cannot delete: when links age out or entities are evicted, a group that should
//! split stays whole and its counters keep the departed. The maintenance pass therefore
//! builds a fresh forest from the live links (chunk by chunk, alongside traffic) and swaps
//! it in; between passes group statistics over-approximate, never under-approximate.

use serde::{Deserialize, Serialize};

/// Statistics of one connected group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupStats {
    /// Live entities in the group (IPs are never in a group but their own).
    pub entities: u32,
    /// Distinct users among them.
    pub users: u32,
    /// Fraud-marked entities among them.
    pub fraud_marked: u32,
}

impl GroupStats {
    pub(crate) fn add(&mut self, other: GroupStats) {
        self.entities = self.entities.saturating_add(other.entities);
        self.users = self.users.saturating_add(other.users);
        self.fraud_marked = self.fraud_marked.saturating_add(other.fraud_marked);
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    parent: u32,
    /// Meaningful at roots only.
    stats: GroupStats,
}

/// A union-find forest, one slot per node index, 16 bytes a slot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    slots: Vec<Slot>,
}

impl Groups {
    pub fn with_capacity(n: usize) -> Groups {
        Groups {
            slots: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Appends a singleton for the next node index.
    pub fn push(&mut self, stats: GroupStats) {
        let parent = index(self.slots.len());
        self.slots.push(Slot { parent, stats });
    }

    /// Makes `i` a singleton again (a recycled slot: nothing points at it, see the module doc
    /// of `maintenance`).
    pub fn reset(&mut self, i: u32, stats: GroupStats) {
        self.slots[i as usize] = Slot { parent: i, stats };
    }

    /// Starts loading the slot of `i` (its parent, and its stats if it is a root).
    pub fn prefetch(&self, i: u32) {
        std::hint::black_box(self.slots[i as usize].parent);
    }

    /// The root of `i` without path compression, for readers under a shared lock. Union by
    /// size keeps trees O(log n) deep; writers compress as they go, so this is a step or two.
    pub fn find(&self, mut i: u32) -> u32 {
        loop {
            let p = self.slots[i as usize].parent;
            if p == i {
                return i;
            }
            i = p;
        }
    }

    /// The root of `i`, halving the path on the way.
    pub fn find_mut(&mut self, mut i: u32) -> u32 {
        loop {
            let p = self.slots[i as usize].parent;
            if p == i {
                return i;
            }
            let gp = self.slots[p as usize].parent;
            self.slots[i as usize].parent = gp;
            i = gp;
        }
    }

    /// Points `i` and every node on its path straight at the root, so the next reader finds
    /// the root in one step (one cache miss instead of a chain of them).
    pub fn compress(&mut self, i: u32) {
        let root = self.find(i);
        let mut n = i;
        while n != root {
            let p = self.slots[n as usize].parent;
            self.slots[n as usize].parent = root;
            n = p;
        }
    }

    /// Merges the groups of `a` and `b`; returns whether they were apart.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find_mut(a), self.find_mut(b));
        if ra == rb {
            return false;
        }
        let (big, small) = if self.size(ra) >= self.size(rb) {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let moved = self.slots[small as usize].stats;
        self.slots[small as usize].parent = big;
        self.slots[big as usize].stats.add(moved);
        true
    }

    fn size(&self, root: u32) -> u32 {
        self.slots[root as usize].stats.entities
    }

    pub fn stats(&self, root: u32) -> GroupStats {
        self.slots[root as usize].stats
    }

    /// Adds `delta` fraud-marked entities to the group of `i` (a mark or an unmark).
    pub fn add_fraud(&mut self, i: u32, delta: i32) {
        let r = self.find_mut(i) as usize;
        let s = &mut self.slots[r].stats;
        s.fraud_marked = s.fraud_marked.saturating_add_signed(delta);
    }

    pub fn bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }
}

pub(crate) fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(users: u32) -> GroupStats {
        GroupStats {
            entities: 1,
            users,
            fraud_marked: 0,
        }
    }

    #[test]
    fn union_sums_counters_at_the_root() {
        let mut g = Groups::default();
        for i in 0..6 {
            g.push(one(u32::from(i % 2 == 0)));
        }
        assert!(g.union(0, 1));
        assert!(g.union(2, 3));
        assert!(g.union(1, 3));
        assert!(!g.union(0, 2));
        g.add_fraud(3, 1);
        let r = g.find(0);
        assert_eq!(
            g.stats(r),
            GroupStats {
                entities: 4,
                users: 2,
                fraud_marked: 1
            }
        );
        assert_eq!(g.find(4), 4);
        g.add_fraud(0, -1);
        assert_eq!(g.stats(g.find(2)).fraud_marked, 0);
        assert_eq!(std::mem::size_of::<Slot>(), 16);
    }
}
