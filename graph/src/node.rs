//! What the petgraph graph stores: the node weight ([`Entity`]), the edge weight ([`Link`]) and
//! the card-burst counter. Owns the per-node counters the score reads in O(1); knows nothing
//! of groups, marks or ageing policy.

use petgraph::Undirected;
use petgraph::graph::Graph;

use crate::entity::EntityKind;

/// The petgraph graph under [`crate::LinkGraph`]. `Graph` (not `StableGraph`): node indices
/// key the union-find, the intern table and the hop field, so a node is never removed from
/// it; an evicted entity becomes a tombstone whose slot the link graph recycles itself, and
/// only after the next union-find rebuild (see `maintenance`). `StableGraph` would recycle a
/// freed slot on the very next `add_node`, while stale union-find parents may still point at
/// it. Edge indices, which `Graph::remove_edge` shifts, are never kept beyond one update
/// except in the edge table, which follows the shift.
pub(crate) type Inner = Graph<Entity, Link, Undirected, u32>;

/// One entity. 56 bytes; with petgraph's two list heads a node is one cache line (the node
/// vector is page-aligned), and the identity check and every count a score needs are in it.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    /// The normalised value, for views and details. Empty once the entity is evicted.
    pub value: Box<str>,
    /// Keyed hash of kind and value: the entity's identity in the intern table (see there).
    pub key: u64,
    pub first_seen: u32,
    pub last_seen: u32,
    /// Distinct users linked to it (exact: every decision links its user to all it names).
    pub users: u32,
    /// Distinct cards linked to it (users and devices link cards).
    pub cards: u32,
    /// Fraud-marked users linked to it.
    pub fraud_users: u32,
    /// New cards linked to it recently (card testing).
    pub burst: Burst,
    pub kind: EntityKind,
    /// False once evicted or expired (the slot then waits to be recycled).
    pub alive: bool,
    /// Carries a full fraud mark (the reason lives in the link graph's mark map).
    pub marked: bool,
    /// Neither takes nor passes proximity to fraud, like an IP: an established entity of a
    /// fraud-labelled decision (the victim's side; see `label_marks`). A weak mark, if it has
    /// one, counts only when a decision names it.
    pub shielded: bool,
}

impl Entity {
    pub fn new(kind: EntityKind, value: &str, key: u64, at: u32) -> Entity {
        Entity {
            value: value.into(),
            key,
            first_seen: at,
            last_seen: at,
            users: 0,
            cards: 0,
            fraud_users: 0,
            burst: Burst::default(),
            kind,
            alive: true,
            marked: false,
            shielded: false,
        }
    }

    /// Whether it stays out of groups and proximity (unless marked): an IP, or an entity
    /// shielded as a fraud's victim side.
    pub fn is_weak(&self) -> bool {
        self.kind.is_weak() || self.shielded
    }

    pub fn touch(&mut self, at: u32) {
        self.last_seen = self.last_seen.max(at);
        self.first_seen = self.first_seen.min(at);
    }
}

/// One link between two entities seen together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    pub first_seen: u32,
    pub last_seen: u32,
    pub count: u32,
}

/// Sliding-window count of new cards in 8 bytes: two fixed buckets of the window's length,
/// the older one weighted by how much of it still overlaps the window (the usual two-bucket
/// approximation). Exact to within one bucket's drift, which a threshold of a handful of
/// cards per hour does not notice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Burst {
    start: u32,
    cur: u16,
    prev: u16,
}

impl Burst {
    pub fn record(&mut self, at: u32, window: u32) {
        let bucket = at - at % window;
        if bucket > self.start {
            self.prev = if bucket - self.start == window {
                self.cur
            } else {
                0
            };
            self.cur = 0;
            self.start = bucket;
        }
        // Out-of-order instants (older than the current bucket) count as current: errs
        // towards seeing a burst, never away from it.
        self.cur = self.cur.saturating_add(1);
    }

    pub fn estimate(&self, at: u32, window: u32) -> f32 {
        let bucket = at - at % window;
        let into = (at - bucket) as f32 / window as f32;
        if bucket <= self.start {
            f32::from(self.cur) + f32::from(self.prev) * (1.0 - into)
        } else if bucket - self.start == window {
            f32::from(self.cur) * (1.0 - into)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_counts_within_the_window_and_forgets_after_it() {
        let w = 3600;
        let mut b = Burst::default();
        let t0 = 100 * w + 1800; // half-way into a bucket
        for i in 0..10 {
            b.record(t0 + i * 300, w); // ten cards over 50 minutes, across a bucket edge
        }
        let at = t0 + 9 * 300;
        let est = b.estimate(at, w);
        assert!((7.0..=10.0).contains(&est), "estimate {est}");
        assert!(b.estimate(at + 2 * w, w) < 0.5);
        assert_eq!(b.estimate(at + 3 * w, w), 0.0);
    }

    #[test]
    fn entity_fits_in_a_cache_line_with_its_list_heads() {
        assert_eq!(
            std::mem::size_of::<petgraph::graph::Node<Entity, u32>>(),
            64
        );
        assert_eq!(std::mem::size_of::<petgraph::graph::Edge<Link, u32>>(), 28);
    }
}
