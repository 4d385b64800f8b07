//! Entity interning: `(kind, value)` → node index. Owns the hash table and the entity key.
//!
//! An entity's identity is its kind and a 64-bit keyed SipHash of its value, stored in the
//! node: a lookup compares keys without reading the value string, which saves one dependent
//! cache miss per entity on every decision (a quarter of a score at a million entities). Two
//! distinct values of one kind would have to collide on a hash whose key is random per
//! process: with a million live entities and a hundred million values seen over a year, the
//! chance is about 10⁻⁶ a year, and its effect one entity's links counted as another's.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;
use petgraph::graph::NodeIndex;

use crate::entity::EntityKind;
use crate::node::Inner;

/// `(kind, value)` → node index, 4 bytes a slot plus one control byte.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    table: HashTable<u32>,
    /// SipHash with a per-process key: values (device ids, emails) come from callers, so a
    /// predictable hash would let anyone build colliding keys and slow every decision.
    hasher: RandomState,
}

impl Interner {
    pub fn with_capacity(n: usize) -> Interner {
        Interner {
            table: HashTable::with_capacity(n),
            hasher: RandomState::new(),
        }
    }

    /// The key of `(kind, value)`.
    pub fn key(&self, kind: EntityKind, value: &str) -> u64 {
        self.hasher.hash_one((kind.index(), value))
    }

    pub fn get(&self, g: &Inner, kind: EntityKind, value: &str) -> Option<u32> {
        let key = self.key(kind, value);
        self.table
            .find(key, |&i| {
                let e = &g[NodeIndex::new(i as usize)];
                e.key == key && e.kind == kind
            })
            .copied()
    }

    /// Registers node `i` (whose weight already holds kind and key).
    pub fn insert(&mut self, g: &Inner, i: u32) {
        let key = g[NodeIndex::new(i as usize)].key;
        self.table
            .insert_unique(key, i, |&j| g[NodeIndex::new(j as usize)].key);
    }

    /// Forgets node `i`.
    pub fn remove(&mut self, g: &Inner, i: u32) {
        let key = g[NodeIndex::new(i as usize)].key;
        if let Ok(entry) = self.table.find_entry(key, |&j| j == i) {
            entry.remove();
        }
    }

    pub fn bytes(&self) -> usize {
        // `capacity` is 7/8 of the buckets; each bucket is a u32 and a control byte.
        self.table.capacity() / 7 * 8 * 5
    }
}
