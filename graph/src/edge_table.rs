//! Link lookup: endpoints → edge index in O(1), whatever the degrees. petgraph's `find_edge`
//! walks an adjacency list, which on a hub (a kiosk device, a carrier IP) costs a cache miss
//! per link on every decision. Owns the table only; the endpoints live in the graph's edges.

use petgraph::graph::{EdgeIndex, NodeIndex};

use crate::node::Inner;
use crate::open_table::OpenTable;

/// `{a, b}` → edge index, 8 bytes a slot (see `open_table`). A candidate is confirmed
/// against the edge's endpoints, in the edge an observation updates anyway.
#[derive(Debug, Default)]
pub(crate) struct EdgeTable {
    table: OpenTable,
}

/// Node indices are assigned by the graph, not chosen by callers, so a fixed mixer (the
/// splitmix64 finaliser) is safe here and cheaper than SipHash.
pub(crate) fn hash(a: u32, b: u32) -> u64 {
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

fn hash_of(g: &Inner, e: u32) -> u64 {
    let (a, b) = ends(g, e);
    hash(a, b)
}

impl EdgeTable {
    pub fn with_capacity(n: usize) -> EdgeTable {
        EdgeTable {
            table: OpenTable::with_capacity(n),
        }
    }

    /// Starts loading the slot of the link `{a, b}` (see [`OpenTable::prefetch`]).
    pub fn prefetch(&self, a: u32, b: u32) {
        self.table.prefetch(hash(a, b));
    }

    pub fn find(&self, g: &Inner, a: u32, b: u32) -> Option<EdgeIndex<u32>> {
        self.table
            .find(hash(a, b), |e| same(g, e, a, b))
            .map(|e| EdgeIndex::new(e as usize))
    }

    /// Registers edge `e`, already in the graph.
    pub fn insert(&mut self, g: &Inner, e: EdgeIndex<u32>) {
        let e = crate::groups::index(e.index());
        self.table.insert(hash_of(g, e), e, |x| hash_of(g, x));
    }

    /// Forgets edge `e` with endpoints `a`, `b`; call before `Graph::remove_edge`.
    pub fn remove(&mut self, g: &Inner, a: u32, b: u32, e: EdgeIndex<u32>) {
        let e = crate::groups::index(e.index());
        self.table.remove(hash(a, b), e, |x| hash_of(g, x));
    }

    /// After `Graph::remove_edge(e)` moved the former last edge (index `moved_from`) into
    /// slot `e`, points its entry at `e`.
    pub fn moved(&mut self, g: &Inner, moved_from: usize, e: EdgeIndex<u32>) {
        let to = crate::groups::index(e.index());
        let from = crate::groups::index(moved_from);
        self.table.replace(hash_of(g, to), from, to);
    }

    pub fn bytes(&self) -> usize {
        self.table.bytes()
    }
}
