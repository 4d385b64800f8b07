//! The reviewer's view of one entity (`GET /v1/graph/entities/{kind}/{value}`): the entity,
//! its counters and fraud mark, its group, and its neighbourhood breadth-first to a depth,
//! capped. Owns the serialisable shapes; reads the graph, never changes it.
//!
//! Like the score, the walk does not go on through IPs (an office IP would otherwise fill the
//! view with the whole office): an IP appears as a neighbour, its own users do not.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::{EntityKind, EntityRef, instant};
use crate::graph::{LinkGraph, ni};
use crate::groups::{GroupStats, index};
use crate::hops::FAR;
use crate::node::Link;

/// Most links one view examines before it stops (and says it was truncated), so a view of a
/// hub does not hold the graph's read lock, which linking decisions wait behind, for long.
/// Whole entities are expanded, in layer order, so a cut view is the same on every replica.
pub const VIEW_LINK_BUDGET: usize = 100_000;

/// A fraud mark: why, when and how strongly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FraudMark {
    pub reason: String,
    pub marked_at: DateTime<Utc>,
    /// 1 for a full mark (it spreads proximity to fraud); below 1 for a weak mark on an
    /// established entity of a fraud-labelled decision, which counts, scaled, only when a
    /// decision names the entity itself.
    pub weight: f32,
}

/// One entity and what surrounds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityView {
    pub entity: EntityRef,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub fraud_mark: Option<FraudMark>,
    /// Shielded as the established (victim's) side of a fraud-labelled decision: it neither
    /// takes nor passes proximity to fraud.
    pub shielded: bool,
    /// Hops to the nearest fraud-marked entity, within the configured bound.
    pub hops_to_fraud: Option<u8>,
    pub distinct_users: u32,
    pub distinct_cards: u32,
    pub group: GroupStats,
    /// Nearest first; within a depth strongest link first (most decisions), then by entity;
    /// at most the cap.
    pub neighbours: Vec<Neighbour>,
    /// Whether the cap cut the neighbourhood short.
    pub truncated: bool,
}

/// An entity within the neighbourhood, with its strongest link to the depth before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    pub entity: EntityRef,
    pub depth: u8,
    /// The entity one hop nearer the centre it is linked to.
    pub via: EntityRef,
    pub fraud_marked: bool,
    /// That link's first and last sighting and how many decisions made it.
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub count: u32,
}

impl LinkGraph {
    /// The view of `(kind, value)` with neighbours up to `depth` hops, at most `cap` of them;
    /// `None` if the graph does not know the entity.
    pub fn neighbourhood(
        &self,
        kind: EntityKind,
        value: &str,
        depth: u8,
        cap: usize,
    ) -> Option<EntityView> {
        let centre = self.lookup(kind, value)?;
        let e = self.node(centre);
        let entity_ref = |i: u32| {
            let n = self.node(i);
            EntityRef::new(n.kind, &*n.value)
        };
        let (neighbours, truncated) = self.walk(centre, depth, cap);
        let group = if kind.is_weak() {
            crate::graph::own_stats(e)
        } else {
            self.groups.stats(self.groups.find(centre))
        };
        let hops = self.hops[centre as usize];
        Some(EntityView {
            entity: entity_ref(centre),
            first_seen: instant(e.first_seen),
            last_seen: instant(e.last_seen),
            fraud_mark: self.marks.get(&centre).cloned(),
            shielded: e.shielded,
            hops_to_fraud: (hops != FAR).then_some(hops),
            distinct_users: e.users,
            distinct_cards: e.cards,
            group,
            neighbours,
            truncated,
        })
    }

    /// Breadth-first from `centre`, a layer at a time, so the view depends on the links alone
    /// and not on the order they arrived in (replicas that folded the same decisions in
    /// different orders show the same view): an entity is shown with its strongest link from
    /// the layer before (most decisions, then the earliest, then the via that comes first),
    /// and each layer is ordered strongest link first, then by entity. At most `cap`
    /// neighbours and [`VIEW_LINK_BUDGET`] links examined; either cuts the view short.
    fn walk(&self, centre: u32, depth: u8, cap: usize) -> (Vec<Neighbour>, bool) {
        let entity_ref = |i: u32| {
            let n = self.node(i);
            EntityRef::new(n.kind, &*n.value)
        };
        let key = |i: u32| {
            let n = self.node(i);
            (n.kind, &*n.value)
        };
        let mut neighbours = Vec::new();
        let mut seen = HashSet::from([centre]);
        let mut layer = vec![centre];
        let mut examined = 0usize;
        let mut truncated = false;
        for d in 0..depth {
            // Entity -> (position of its via in `layer`, the link).
            let mut next: HashMap<u32, (usize, Link)> = HashMap::new();
            for (pos, &n) in layer.iter().enumerate() {
                if n != centre && self.node(n).kind.is_weak() {
                    continue;
                }
                if examined >= VIEW_LINK_BUDGET {
                    truncated = true;
                    break;
                }
                for edge in self.graph.edges(ni(n)) {
                    use petgraph::visit::EdgeRef;
                    examined += 1;
                    let m = index(if edge.source() == ni(n) {
                        edge.target().index()
                    } else {
                        edge.source().index()
                    });
                    if !self.node(m).alive || seen.contains(&m) {
                        continue;
                    }
                    let link = *edge.weight();
                    next.entry(m)
                        .and_modify(|best| {
                            let stronger = (link.count, std::cmp::Reverse(link.first_seen))
                                > (best.1.count, std::cmp::Reverse(best.1.first_seen));
                            if stronger {
                                *best = (pos, link);
                            }
                        })
                        .or_insert((pos, link));
                }
            }
            let mut found: Vec<(u32, usize, Link)> = next
                .into_iter()
                .map(|(m, (pos, link))| (m, pos, link))
                .collect();
            found.sort_unstable_by(|a, b| b.2.count.cmp(&a.2.count).then(key(a.0).cmp(&key(b.0))));
            let room = cap - neighbours.len();
            if found.len() > room {
                found.truncate(room);
                truncated = true;
            }
            seen.extend(found.iter().map(|f| f.0));
            neighbours.extend(found.iter().map(|&(m, pos, link)| Neighbour {
                entity: entity_ref(m),
                depth: d + 1,
                via: entity_ref(layer[pos]),
                fraud_marked: self.node(m).marked,
                first_seen: instant(link.first_seen),
                last_seen: instant(link.last_seen),
                count: link.count,
            }));
            if truncated || found.is_empty() {
                break;
            }
            layer = found.into_iter().map(|f| f.0).collect();
        }
        (neighbours, truncated)
    }
}
