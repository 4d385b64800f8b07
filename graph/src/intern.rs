//! Entity interning: `(kind, value)` → node index. Owns the table and the entity key.
//!
//! An entity's identity is its kind and a 64-bit keyed SipHash of its value, stored in the
//! node: a lookup compares keys without reading the value string, which saves one dependent
//! cache miss per entity on every decision (a quarter of a score at a million entities). Two
//! distinct values of one kind would have to collide on a hash whose key is random per
//! process: with a million live entities and a hundred million values seen over a year, the
//! chance is about 10⁻⁶ a year, and its effect one entity's links counted as another's.

use std::hash::{BuildHasher, RandomState};

use petgraph::graph::NodeIndex;

use crate::entity::EntityKind;
use crate::node::Inner;
use crate::open_table::OpenTable;

/// `(kind, value)` → node index, 8 bytes a slot (see `open_table`).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    table: OpenTable,
    /// SipHash with a per-process key: values (device ids, emails) come from callers, so a
    /// predictable hash would let anyone build colliding keys and slow every decision.
    hasher: RandomState,
}

fn key_of(g: &Inner, i: u32) -> u64 {
    g[NodeIndex::new(i as usize)].key
}

impl Interner {
    pub fn with_capacity(n: usize) -> Interner {
        Interner {
            table: OpenTable::with_capacity(n),
            hasher: RandomState::new(),
        }
    }

    /// The key of `(kind, value)`.
    pub fn key(&self, kind: EntityKind, value: &str) -> u64 {
        self.hasher.hash_one((kind.index(), value))
    }

    /// Starts loading the slot of `key` (see [`OpenTable::prefetch`]).
    pub fn prefetch(&self, key: u64) {
        self.table.prefetch(key);
    }

    /// The node whose kind and key are these.
    pub fn get_by_key(&self, g: &Inner, kind: EntityKind, key: u64) -> Option<u32> {
        self.table.find(key, |i| {
            let e = &g[NodeIndex::new(i as usize)];
            e.key == key && e.kind == kind
        })
    }

    /// Registers node `i` (whose weight already holds kind and key).
    pub fn insert(&mut self, g: &Inner, i: u32) {
        self.table.insert(key_of(g, i), i, |j| key_of(g, j));
    }

    /// Forgets node `i`.
    pub fn remove(&mut self, g: &Inner, i: u32) {
        self.table.remove(key_of(g, i), i, |j| key_of(g, j));
    }

    pub fn bytes(&self) -> usize {
        self.table.bytes()
    }
}
