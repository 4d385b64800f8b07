//! Size and memory accounting of a [`LinkGraph`], for metrics and the benchmark. Owns the
//! estimate (capacities × element sizes, plus value bytes); measures nothing at run time.

use std::mem::size_of;

use petgraph::graph::{Edge, Node};
use serde::{Deserialize, Serialize};

use crate::graph::LinkGraph;
use crate::node::{Entity, Link};

/// Counts and estimated heap bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphStats {
    pub entities: usize,
    pub links: usize,
    pub fraud_marks: usize,
    /// Tombstoned node slots (waiting for recycling or recyclable).
    pub vacant_slots: usize,
    /// Nodes (petgraph node with its two list heads), union-find slots, hop bytes, intern
    /// table slots and value strings (plus an allocator word each).
    pub entity_bytes: usize,
    /// Edges (petgraph edge with its list links) and edge table slots.
    pub link_bytes: usize,
}

impl GraphStats {
    pub fn bytes_per_entity(&self) -> f64 {
        self.entity_bytes as f64 / self.entities.max(1) as f64
    }

    pub fn bytes_per_link(&self) -> f64 {
        self.link_bytes as f64 / self.links.max(1) as f64
    }
}

impl LinkGraph {
    /// Estimated bytes the live entities and links take: per entity its node, union-find
    /// slot, hop byte, intern slot, value and an allocator word; per link its edge and edge
    /// table slot. Unlike [`GraphStats`]'s figures it counts what is live, not what was
    /// reserved, so evicting lowers it: the eviction bound reads this one.
    pub fn live_bytes(&self) -> usize {
        let per_entity = size_of::<Node<Entity, u32>>() + 16 + 1 + 8 + size_of::<usize>();
        let per_link = size_of::<Edge<Link, u32>>() + 8;
        self.live * per_entity + self.string_bytes + self.graph.edge_count() * per_link
    }

    /// The entity bound in force now: `entity_cap`, or fewer entities when the graph's
    /// bytes are over `byte_cap` (the same share of entities as the bytes are over).
    pub(crate) fn effective_entity_cap(&self) -> usize {
        let bytes = self.live_bytes();
        let cap = self.config.entity_cap;
        if bytes <= self.config.byte_cap || self.live == 0 {
            return cap;
        }
        let fitting = (self.live as u128 * self.config.byte_cap as u128 / bytes as u128) as usize;
        cap.min(fitting)
    }

    pub fn stats(&self) -> GraphStats {
        let (node_cap, edge_cap) = self.graph.capacity();
        let strings = self.string_bytes + self.live * size_of::<usize>();
        GraphStats {
            entities: self.live,
            links: self.graph.edge_count(),
            fraud_marks: self.marks.len(),
            vacant_slots: self.graph.node_count() - self.live,
            entity_bytes: node_cap * size_of::<Node<Entity, u32>>()
                + self.groups.bytes()
                + self.hops.capacity()
                + self.interner.bytes()
                + strings,
            link_bytes: edge_cap * size_of::<Edge<Link, u32>>() + self.edges.bytes(),
        }
    }
}
