//! The reviewer's view of one entity (`GET /v1/graph/entities/{kind}/{value}`): the entity,
//! its counters and fraud mark, its group, and its neighbourhood breadth-first to a depth,
//! capped. Owns the serialisable shapes; reads the graph, never changes it.
//!
//! Like the score, the walk does not go on through IPs (an office IP would otherwise fill the
//! view with the whole office): an IP appears as a neighbour, its own users do not.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::{EntityKind, EntityRef, instant};
use crate::graph::{LinkGraph, ni};
use crate::groups::{GroupStats, index};
use crate::hops::FAR;

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
    /// Breadth-first, nearest first, at most the cap.
    pub neighbours: Vec<Neighbour>,
    /// Whether the cap cut the neighbourhood short.
    pub truncated: bool,
}

/// An entity within the neighbourhood, with the link through which it was reached.
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
        let mut neighbours = Vec::new();
        let mut truncated = false;
        let mut seen = HashSet::from([centre]);
        let mut queue = VecDeque::from([(centre, 0u8)]);
        'walk: while let Some((n, d)) = queue.pop_front() {
            if d >= depth || (n != centre && self.node(n).kind.is_weak()) {
                continue;
            }
            for edge in self.graph.edges(ni(n)) {
                use petgraph::visit::EdgeRef;
                let m = index(if edge.source() == ni(n) {
                    edge.target().index()
                } else {
                    edge.source().index()
                });
                if !self.node(m).alive || !seen.insert(m) {
                    continue;
                }
                if neighbours.len() == cap {
                    truncated = true;
                    break 'walk;
                }
                let link = edge.weight();
                neighbours.push(Neighbour {
                    entity: entity_ref(m),
                    depth: d + 1,
                    via: entity_ref(n),
                    fraud_marked: self.node(m).marked,
                    first_seen: instant(link.first_seen),
                    last_seen: instant(link.last_seen),
                    count: link.count,
                });
                queue.push_back((m, d + 1));
            }
        }
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
}
