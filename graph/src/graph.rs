//! [`LinkGraph`]: the entity graph and its incrementally maintained indexes (intern table,
//! edge table, union-find groups, fraud-proximity field). Owns how one observation becomes
//! links and how links are counted and removed; scoring, marks, the reviewer view and
//! maintenance are further `impl` blocks in their own modules.
//!
//! Links form a star around the decision's user (its hub) plus one device–card link: at
//! most 7 links a decision instead of the 21 of a clique. The star keeps every "users per
//! X" count exact (X's user neighbours are the users who used X), the device–card link keeps
//! "cards per device" exact, and connectivity is the same as a clique's. What it drops is
//! direct co-occurrence between two non-user entities (which address went with which
//! email), which no feature reads.

use std::collections::HashMap;

use petgraph::graph::{EdgeIndex, NodeIndex};

use crate::config::Config;
use crate::edge_table::EdgeTable;
use crate::entity::{EntityKind, Observation, ip_key, stamp};
use crate::groups::{GroupStats, Groups, index};
use crate::hops::{self, FAR};
use crate::intern::Interner;
use crate::maintenance::{MaintenanceReport, Phase, Retired};
use crate::node::{Entity, Inner, Link};
use crate::view::FraudMark;

/// The link graph. Single-writer; share it through [`crate::SharedGraph`].
#[derive(Debug)]
pub struct LinkGraph {
    pub(crate) config: Config,
    pub(crate) graph: Inner,
    pub(crate) interner: Interner,
    pub(crate) edges: EdgeTable,
    pub(crate) groups: Groups,
    /// Hops to the nearest fraud mark per node index (`hops::FAR` beyond the bound).
    pub(crate) hops: Vec<u8>,
    pub(crate) marks: HashMap<u32, FraudMark>,
    /// Tombstoned slots that are safe to recycle (no union-find parent points at them).
    pub(crate) free: Vec<u32>,
    /// Tombstoned slots waiting for the next union-find rebuild before they may be recycled.
    pub(crate) quarantine: Vec<u32>,
    pub(crate) live: usize,
    pub(crate) string_bytes: usize,
    pub(crate) phase: Phase,
    pub(crate) report: MaintenanceReport,
    /// What the last maintenance swap replaced, waiting to be freed outside the lock.
    pub(crate) retired: Option<Retired>,
}

pub(crate) fn ni(i: u32) -> NodeIndex<u32> {
    NodeIndex::new(i as usize)
}

/// Counters a lone entity contributes to its group.
pub(crate) fn own_stats(e: &Entity) -> GroupStats {
    GroupStats {
        entities: u32::from(e.alive),
        users: u32::from(e.alive && e.kind == EntityKind::User),
        fraud_marked: u32::from(e.alive && e.marked),
    }
}

impl LinkGraph {
    pub fn new(config: Config) -> LinkGraph {
        let (n, m) = config.reserve;
        LinkGraph {
            graph: Inner::with_capacity(n, m),
            interner: Interner::with_capacity(n),
            edges: EdgeTable::with_capacity(m),
            groups: Groups::with_capacity(n),
            hops: Vec::with_capacity(n),
            marks: HashMap::new(),
            free: Vec::new(),
            quarantine: Vec::new(),
            live: 0,
            string_bytes: 0,
            phase: Phase::Idle,
            report: MaintenanceReport::default(),
            retired: None,
            config,
        }
    }

    /// Builds a graph from a replay of the decision log (oldest first), then runs one full
    /// maintenance pass at the newest instant, which drops what has aged out and compacts
    /// the groups.
    pub fn rebuild<'a>(
        config: Config,
        observations: impl IntoIterator<Item = Observation<'a>>,
    ) -> LinkGraph {
        let mut g = LinkGraph::new(config);
        let mut latest = None;
        for obs in observations {
            latest = latest.max(Some(obs.at));
            g.observe(&obs);
        }
        if let Some(now) = latest {
            g.maintain(now);
        }
        g
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Live entities.
    pub fn entity_count(&self) -> usize {
        self.live
    }

    /// Live links.
    pub fn link_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Links the observation's entities: the hub (its user, else its first entity) to every
    /// other, and its device to its card. One update: O(entities named), whatever the size of
    /// the graph, plus a bounded propagation when a new link lands next to fraud.
    pub fn observe(&mut self, obs: &Observation<'_>) {
        let t = stamp(obs.at);
        let keys = self.keys(obs);
        let mut ids = [None::<u32>; 7];
        for (kind, value) in obs.entities() {
            if let Some(key) = keys[kind.index()] {
                ids[kind.index()] = Some(self.intern_keyed(kind, value, key, t));
            }
        }
        let mut present = ids.iter().flatten().copied();
        let Some(hub) = present.next() else {
            return;
        };
        // At most 7 links: the hub to each other entity, and the device to the card.
        let mut pairs = [(0u32, 0u32); 7];
        let mut n = 0;
        for x in present {
            pairs[n] = (hub, x);
            n += 1;
        }
        if let (Some(d), Some(c)) = (
            ids[EntityKind::Device.index()],
            ids[EntityKind::Card.index()],
        ) && hub != d
            && n < pairs.len()
        {
            pairs[n] = (d, c);
            n += 1;
        }
        // Every link's table slot is on its way before the first is needed.
        for &(a, b) in &pairs[..n] {
            self.edges.prefetch(a, b);
        }
        for &(a, b) in &pairs[..n] {
            self.link(a, b, t);
        }
        // The next decision naming these entities finds their group root in one step.
        for i in ids.iter().flatten() {
            self.groups.compress(*i);
        }
    }

    pub(crate) fn node(&self, i: u32) -> &Entity {
        &self.graph[ni(i)]
    }

    fn node_mut(&mut self, i: u32) -> &mut Entity {
        &mut self.graph[ni(i)]
    }

    /// The intern keys of the observation's entities, each table slot already on its way.
    pub(crate) fn keys(&self, obs: &Observation<'_>) -> [Option<u64>; 7] {
        let mut keys = [None; 7];
        for (kind, value) in obs.entities() {
            let key = if kind == EntityKind::Ip {
                self.interner
                    .key(kind, &ip_key(value, self.config.ip_prefix))
            } else {
                self.interner.key(kind, value)
            };
            self.interner.prefetch(key);
            keys[kind.index()] = Some(key);
        }
        keys
    }

    /// The nodes of the observation's entities, for those the graph knows. All probes are
    /// started before the first is awaited: a decision's misses overlap instead of queueing.
    pub(crate) fn lookup_all(&self, obs: &Observation<'_>) -> [Option<u32>; 7] {
        let keys = self.keys(obs);
        let mut ids = [None; 7];
        for kind in EntityKind::ALL {
            if let Some(key) = keys[kind.index()] {
                ids[kind.index()] = self.interner.get_by_key(&self.graph, kind, key);
            }
        }
        ids
    }

    /// The node of `(kind, value)`, if the graph knows it.
    pub(crate) fn lookup(&self, kind: EntityKind, value: &str) -> Option<u32> {
        let value = if kind == EntityKind::Ip {
            ip_key(value, self.config.ip_prefix)
        } else {
            value.into()
        };
        let key = self.interner.key(kind, &value);
        self.interner.get_by_key(&self.graph, kind, key)
    }

    /// The node of `(kind, value)`, created if new, seen at `t`.
    pub(crate) fn intern(&mut self, kind: EntityKind, value: &str, t: u32) -> u32 {
        let key = if kind == EntityKind::Ip {
            self.interner
                .key(kind, &ip_key(value, self.config.ip_prefix))
        } else {
            self.interner.key(kind, value)
        };
        self.intern_keyed(kind, value, key, t)
    }

    /// [`LinkGraph::intern`] with the key already computed.
    fn intern_keyed(&mut self, kind: EntityKind, value: &str, key: u64, t: u32) -> u32 {
        if let Some(i) = self.interner.get_by_key(&self.graph, kind, key) {
            self.node_mut(i).touch(t);
            return i;
        }
        let value = if kind == EntityKind::Ip {
            ip_key(value, self.config.ip_prefix)
        } else {
            value.into()
        };
        let entity = Entity::new(kind, &value, key, t);
        let stats = own_stats(&entity);
        self.live += 1;
        self.string_bytes += value.len();
        let (i, reused) = match self.free.pop() {
            Some(i) => {
                self.graph[ni(i)] = entity;
                self.groups.reset(i, stats);
                self.hops[i as usize] = FAR;
                (i, true)
            }
            None => {
                let i = index(self.graph.add_node(entity).index());
                self.groups.push(stats);
                self.hops.push(FAR);
                (i, false)
            }
        };
        self.interner.insert(&self.graph, i);
        self.phase.on_alloc(i, stats, reused);
        i
    }

    fn link(&mut self, a: u32, b: u32, t: u32) {
        if a == b {
            return;
        }
        if let Some(e) = self.edges.find(&self.graph, a, b) {
            let l = &mut self.graph[e];
            l.count = l.count.saturating_add(1);
            l.last_seen = l.last_seen.max(t);
            l.first_seen = l.first_seen.min(t);
            return;
        }
        let link = Link {
            first_seen: t,
            last_seen: t,
            count: 1,
        };
        let e = self.graph.add_edge(ni(a), ni(b), link);
        self.edges.insert(&self.graph, e);
        self.count_link(a, b, Some(t));
        if !self.node(a).is_weak() && !self.node(b).is_weak() {
            self.groups.union(a, b);
        }
        let (max, budget) = (self.config.hops_bound(), self.config.hop_visit_budget);
        hops::relax(&self.graph, &mut self.hops, a, b, max, budget);
        self.phase.on_link(&self.graph, a, b, max, budget);
    }

    /// Updates both ends' counters for a link added (`Some(at)`) or removed (`None`).
    fn count_link(&mut self, a: u32, b: u32, added: Option<u32>) {
        let window = self.config.burst_secs();
        for (x, y) in [(a, b), (b, a)] {
            let (ky, fraud_user) = {
                let ey = self.node(y);
                (ey.kind, ey.kind == EntityKind::User && ey.marked)
            };
            let ex = self.node_mut(x);
            let step = |v: u32| match added {
                Some(_) => v.saturating_add(1),
                None => v.saturating_sub(1),
            };
            if ky == EntityKind::User {
                ex.users = step(ex.users);
                if fraud_user {
                    ex.fraud_users = step(ex.fraud_users);
                }
            }
            if ky == EntityKind::Card {
                ex.cards = step(ex.cards);
                if let Some(t) = added {
                    ex.burst.record(t, window);
                }
            }
        }
    }

    /// Removes one link and its counts. Groups and proximity are left to the next rebuild.
    pub(crate) fn remove_link(&mut self, e: EdgeIndex<u32>) {
        let Some((a, b)) = self.graph.edge_endpoints(e) else {
            return;
        };
        let (a, b) = (index(a.index()), index(b.index()));
        self.edges.remove(&self.graph, a, b, e);
        self.graph.remove_edge(e);
        let last = self.graph.edge_count();
        if e.index() < last {
            self.edges.moved(&self.graph, last, e);
        }
        self.count_link(a, b, None);
    }

    /// Takes a live, unmarked entity out of the key space (its links may still be removed
    /// over several maintenance chunks; [`LinkGraph::bury`] ends it).
    pub(crate) fn retire(&mut self, i: u32) {
        self.interner.remove(&self.graph, i);
        let e = self.node_mut(i);
        let len = e.value.len();
        e.alive = false;
        e.value = Box::from("");
        self.live -= 1;
        self.string_bytes -= len;
    }

    /// A retired entity with no links left: its slot waits for the next group rebuild.
    pub(crate) fn bury(&mut self, i: u32) {
        self.quarantine.push(i);
    }

    /// Whether `i` has no link left (read from the node's own list heads).
    pub(crate) fn isolated(&self, i: u32) -> bool {
        use petgraph::Direction::{Incoming, Outgoing};
        self.graph.first_edge(ni(i), Outgoing).is_none()
            && self.graph.first_edge(ni(i), Incoming).is_none()
    }

    /// Removes the first of `i`'s remaining links; whether one was left.
    pub(crate) fn remove_first_link(&mut self, i: u32) -> bool {
        use petgraph::Direction::{Incoming, Outgoing};
        let first = self
            .graph
            .first_edge(ni(i), Outgoing)
            .or_else(|| self.graph.first_edge(ni(i), Incoming));
        match first {
            Some(e) => {
                self.remove_link(e);
                true
            }
            None => false,
        }
    }
}
