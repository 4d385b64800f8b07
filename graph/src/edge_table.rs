//! Link lookup: endpoints → edge index in O(1), whatever the degrees. petgraph's `find_edge`
//! walks an adjacency list, which on a hub (a kiosk device, a carrier IP) costs a cache miss
//! per link on every decision. Owns the table only; the endpoints live in the graph's edges.

use hashbrown::HashTable;
use petgraph::graph::{EdgeIndex, NodeIndex};

use crate::node::Inner;

/// `{a, b}` → edge index, 4 bytes a slot plus one control byte.
#[derive(Debug, Default)]
pub(crate) struct EdgeTable {
    table: HashTable<u32>,
}

/// Node indices are assigned by the graph, not chosen by callers, so a fixed mixer (the
/// splitmix64 finaliser) is safe here and cheaper than SipHash.
fn hash(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut z = (u64::from(lo) << 32 | u64::from(hi)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn ends(g: &Inner, e: u32) -> (u32, u32) {
    g.edge_endpoints(EdgeIndex::new(e as usize))
        .map(|(a, b)| (node(a), node(b)))
        .unwrap_or((u32::MAX, u32::MAX))
}

fn node(n: NodeIndex<u32>) -> u32 {
    crate::groups::index(n.index())
}

fn same(g: &Inner, e: u32, a: u32, b: u32) -> bool {
    let (x, y) = ends(g, e);
    (x, y) == (a, b) || (x, y) == (b, a)
}

impl EdgeTable {
    pub fn with_capacity(n: usize) -> EdgeTable {
        EdgeTable {
            table: HashTable::with_capacity(n),
        }
    }

    pub fn find(&self, g: &Inner, a: u32, b: u32) -> Option<EdgeIndex<u32>> {
        self.table
            .find(hash(a, b), |&e| same(g, e, a, b))
            .map(|&e| EdgeIndex::new(e as usize))
    }

    /// Registers edge `e`, already in the graph.
    pub fn insert(&mut self, g: &Inner, e: EdgeIndex<u32>) {
        let e = crate::groups::index(e.index());
        let (a, b) = ends(g, e);
        self.table.insert_unique(hash(a, b), e, |&x| {
            let (a, b) = ends(g, x);
            hash(a, b)
        });
    }

    /// Forgets edge `e` with endpoints `a`, `b`; call before `Graph::remove_edge`.
    pub fn remove(&mut self, a: u32, b: u32, e: EdgeIndex<u32>) {
        let e = crate::groups::index(e.index());
        if let Ok(entry) = self.table.find_entry(hash(a, b), |&x| x == e) {
            entry.remove();
        }
    }

    /// After `Graph::remove_edge(e)` moved the former last edge (index `moved_from`) into
    /// slot `e`, points its entry at `e`.
    pub fn moved(&mut self, g: &Inner, moved_from: usize, e: EdgeIndex<u32>) {
        let to = crate::groups::index(e.index());
        let from = crate::groups::index(moved_from);
        let (a, b) = ends(g, to);
        if let Some(slot) = self.table.find_mut(hash(a, b), |&x| x == from) {
            *slot = to;
        }
    }

    pub fn bytes(&self) -> usize {
        // `capacity` is 7/8 of the buckets; each bucket is a u32 and a control byte.
        self.table.capacity() / 7 * 8 * 5
    }
}
