//! Scoring one decision against the graph as it stands before the decision is linked:
//! the [`Features`] the pipeline records, the reasons, and the combined score in [0, 1].
//! Owns the weights and the reason rules; reads only O(1) per-node counters, union-find roots
//! and the proximity field, so a score costs a handful of lookups whatever the graph's size.
//!
//! The combined score is a noisy-OR, `1 - Π(1 - cᵢ)`, of the contributions below; each is 0
//! at or under its threshold (see [`crate::Thresholds`]), so ordinary sharing adds nothing.
//!
//! | code | contribution |
//! | --- | --- |
//! | `graph.shared_device` | 0.5 · min(1, (users on the device − threshold) / 6) |
//! | `graph.shared_identity` | 0.4 · the same ramp for the card / phone / address most over its threshold |
//! | `graph.card_testing` | 0.85 · max(min(1, (new cards in the burst window − threshold) / 7), ½ · min(1, (cards − threshold) / 20)) |
//! | `graph.near_fraud` | max(0.95 / 0.85 / 0.6 / 0.3 for 0 / 1 / 2 / 3 hops, 0.9 · min(1, 2 · fraud share), 0.95 · the weight of a weak mark on an entity the decision names) |
//! | `graph.fraud_ring` | 0.7 + 0.25 · min(1, (group users − min + 1) / 15) |

use serde::{Deserialize, Serialize};

use crate::entity::{EntityKind, Observation, stamp};
use crate::graph::LinkGraph;
use crate::groups::GroupStats;
use crate::hops::FAR;
use crate::node::Entity;

/// What the graph knows about a decision's entities, before the decision links them. The
/// engine records it as it is (`arbiter_engine::context::GraphFeatures` re-exports it), so
/// its serde names are a stored decision's and a policy module's context layout: renaming or
/// reordering a field is a change of both, and of the guest SDK's copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Live entities in the groups the decision's entities already belong to (IPs excluded;
    /// entities new to the graph count nothing).
    pub group_entities: u32,
    /// Distinct users in those groups.
    pub group_users: u32,
    pub users_per_device: u32,
    pub users_per_card: u32,
    pub users_per_address: u32,
    pub users_per_phone: u32,
    pub cards_per_device: u32,
    pub cards_per_user: u32,
    /// Hops from the decision's user to the nearest fraud-marked entity, counting the links
    /// this decision makes (0: the user is marked; 1: something it names is marked), up to the
    /// configured bound.
    pub hops_to_fraud: Option<u8>,
    /// Fraud-marked users among the users already linked to the decision's device, card,
    /// email, phone and address (a user linked through k of them counts k times).
    pub fraud_share_2hop: f32,
    /// The combined graph score in [0, 1].
    pub score: f32,
}

/// Why the graph scored a decision up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReasonCode {
    /// Many accounts behind one device.
    #[serde(rename = "graph.shared_device")]
    SharedDevice,
    /// Many accounts behind one card, phone or shipping address.
    #[serde(rename = "graph.shared_identity")]
    SharedIdentity,
    /// Many cards through one device or account, especially in a burst.
    #[serde(rename = "graph.card_testing")]
    CardTesting,
    /// A fraud-marked group of many accounts sharing identifiers.
    #[serde(rename = "graph.fraud_ring")]
    FraudRing,
    /// Within a few hops of a fraud-marked entity, or among fraud-marked users.
    #[serde(rename = "graph.near_fraud")]
    NearFraud,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::SharedDevice => "graph.shared_device",
            ReasonCode::SharedIdentity => "graph.shared_identity",
            ReasonCode::CardTesting => "graph.card_testing",
            ReasonCode::FraudRing => "graph.fraud_ring",
            ReasonCode::NearFraud => "graph.near_fraud",
        }
    }
}

/// A reason with a detail naming the linking entities as `kind:value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub detail: String,
}

/// A decision's graph features and reasons.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub features: Features,
    pub reasons: Vec<Reason>,
}

impl Scored {
    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}

const W_DEVICE: f32 = 0.5;
const W_IDENTITY: f32 = 0.4;
const W_CARD_TESTING: f32 = 0.85;
const W_HOPS: [f32; 7] = [0.95, 0.85, 0.6, 0.3, 0.2, 0.1, 0.05];
const W_SHARE: f32 = 0.9;
const RING_BASE: f32 = 0.7;
const RING_SPAN: f32 = 0.25;

/// 0 at or under `threshold`, rising linearly to 1 at `threshold + span`.
fn ramp(x: f32, threshold: u32, span: u32) -> f32 {
    ((x - threshold as f32) / span as f32).clamp(0.0, 1.0)
}

/// The non-user kinds whose user counts measure account sharing.
const SHARED: [EntityKind; 4] = [
    EntityKind::Device,
    EntityKind::Card,
    EntityKind::Phone,
    EntityKind::Address,
];

impl LinkGraph {
    /// Scores `obs` without changing the graph (a shared read lock is enough).
    pub fn score(&self, obs: &Observation<'_>) -> Scored {
        let th = &self.config.thresholds;
        let ids = self.lookup_all(obs);
        // The group slots and hop bytes the score reads next, all on their way at once.
        for i in ids.iter().flatten() {
            self.groups.prefetch(*i);
            std::hint::black_box(self.hops[*i as usize]);
        }
        let node = |k: EntityKind| ids[k.index()].map(|i| self.node(i));
        let name = |k: EntityKind| format!("{k}:{}", obs.get(k).unwrap_or_default());
        let users = |k: EntityKind| node(k).map_or(0, |e| e.users);
        let group = self.decision_group(&ids);
        let mut f = Features {
            group_entities: group.entities,
            group_users: group.users,
            users_per_device: users(EntityKind::Device),
            users_per_card: users(EntityKind::Card),
            users_per_address: users(EntityKind::Address),
            users_per_phone: users(EntityKind::Phone),
            cards_per_device: node(EntityKind::Device).map_or(0, |e| e.cards),
            cards_per_user: node(EntityKind::User).map_or(0, |e| e.cards),
            ..Features::default()
        };
        let mut reasons = Vec::new();
        let mut keep = 1.0f32;
        let mut add = |c: f32, code: ReasonCode, detail: String| {
            keep *= 1.0 - c.clamp(0.0, 1.0);
            reasons.push(Reason { code, detail });
        };

        if f.users_per_device > th.device_users {
            let c = W_DEVICE * ramp(f.users_per_device as f32, th.device_users, 6);
            let detail = format!("{} users={}", name(EntityKind::Device), f.users_per_device);
            add(c, ReasonCode::SharedDevice, detail);
        }

        let identity = [
            (EntityKind::Card, f.users_per_card, th.card_users),
            (EntityKind::Phone, f.users_per_phone, th.phone_users),
            (EntityKind::Address, f.users_per_address, th.address_users),
        ];
        let over: Vec<_> = identity.iter().filter(|(_, n, t)| n > t).collect();
        if !over.is_empty() {
            let c = over
                .iter()
                .map(|(_, n, t)| W_IDENTITY * ramp(*n as f32, *t, 6))
                .fold(0.0, f32::max);
            let detail: Vec<_> = over
                .iter()
                .map(|(k, n, _)| format!("{} users={n}", name(*k)))
                .collect();
            add(c, ReasonCode::SharedIdentity, detail.join(", "));
        }

        let (at, window) = (stamp(obs.at), self.config.burst_secs());
        let burst_of = |e: Option<&Entity>| e.map_or(0.0, |e| e.burst.estimate(at, window));
        let bursts = [
            (EntityKind::Device, burst_of(node(EntityKind::Device))),
            (EntityKind::User, burst_of(node(EntityKind::User))),
        ];
        let (burst_kind, burst) = if bursts[1].1 > bursts[0].1 {
            bursts[1]
        } else {
            bursts[0]
        };
        let cards = f.cards_per_device.max(f.cards_per_user);
        if burst > th.card_burst as f32 || cards > th.cards_total {
            let c = W_CARD_TESTING
                * ramp(burst, th.card_burst, 7).max(0.5 * ramp(cards as f32, th.cards_total, 20));
            let who = if obs.get(EntityKind::Device).is_some() {
                EntityKind::Device
            } else {
                burst_kind
            };
            let detail = format!("{} new_cards_in_window={burst:.0} cards={cards}", name(who));
            add(c, ReasonCode::CardTesting, detail);
        }

        let nearest = self.nearest_fraud(obs, &ids);
        f.hops_to_fraud = nearest.map(|(h, _)| h);
        let (mut fraud, mut linked) = (0u32, 0u32);
        for k in [
            EntityKind::Device,
            EntityKind::Card,
            EntityKind::Email,
            EntityKind::Phone,
            EntityKind::Address,
        ] {
            // A shielded entity (a victim's card) passes no proximity, and no fraud share.
            if let Some(e) = node(k).filter(|e| !e.shielded) {
                fraud = fraud.saturating_add(e.fraud_users);
                linked = linked.saturating_add(e.users);
            }
        }
        if linked > 0 {
            f.fraud_share_2hop = fraud as f32 / linked as f32;
        }
        // The strongest weak mark among the entities the decision names itself.
        let weak = EntityKind::ALL
            .into_iter()
            .filter_map(|k| {
                ids[k.index()]
                    .and_then(|i| self.weak_mark(i))
                    .map(|w| (w, k))
            })
            .fold(None, |best: Option<(f32, EntityKind)>, (w, k)| {
                if best.is_none_or(|(b, _)| w > b) {
                    Some((w, k))
                } else {
                    best
                }
            });
        if nearest.is_some() || fraud > 0 || weak.is_some() {
            let by_hops = nearest.map_or(0.0, |(h, _)| W_HOPS[usize::from(h).min(6)]);
            let by_share = W_SHARE * (2.0 * f.fraud_share_2hop).min(1.0);
            let by_weak = weak.map_or(0.0, |(w, _)| W_HOPS[0] * w);
            let mut parts = Vec::new();
            if let Some((h, k)) = nearest {
                parts.push(format!("{} hops={h}", name(k)));
            }
            if fraud > 0 {
                parts.push(format!("fraud_users={fraud}/{linked}"));
            }
            if let Some((w, k)) = weak {
                parts.push(format!("{} weak_mark={w:.2}", name(k)));
            }
            add(
                by_hops.max(by_share).max(by_weak),
                ReasonCode::NearFraud,
                parts.join("; "),
            );
        }

        let local = SHARED
            .into_iter()
            .map(|k| (k, users(k)))
            .max_by_key(|&(_, n)| n)
            .filter(|&(_, n)| n >= th.ring_local_users);
        if let Some((k, n)) = local
            && group.fraud_marked > 0
            && (th.ring_min_users..=th.ring_max_users).contains(&group.users)
        {
            let span = ramp(group.users as f32 + 1.0, th.ring_min_users, 15);
            let detail = format!(
                "group users={} entities={} fraud_marked={}; shared {} users={n}",
                group.users,
                group.entities,
                group.fraud_marked,
                name(k)
            );
            add(RING_BASE + RING_SPAN * span, ReasonCode::FraudRing, detail);
        }

        f.score = (1.0 - keep).clamp(0.0, 1.0);
        Scored {
            features: f,
            reasons,
        }
    }

    /// The union of the distinct groups the decision's non-weak entities belong to.
    fn decision_group(&self, ids: &[Option<u32>; 7]) -> GroupStats {
        let mut roots = [u32::MAX; 7];
        let mut total = GroupStats::default();
        for (slot, k) in EntityKind::ALL.into_iter().enumerate() {
            let Some(i) = ids[k.index()].filter(|&i| !self.node(i).is_weak()) else {
                continue;
            };
            let r = self.groups.find(i);
            if !roots.contains(&r) {
                roots[slot] = r;
                total.add(self.groups.stats(r));
            }
        }
        total
    }

    /// Hops from the decision's hub to fraud through the entities it names, and which one.
    fn nearest_fraud(
        &self,
        obs: &Observation<'_>,
        ids: &[Option<u32>; 7],
    ) -> Option<(u8, EntityKind)> {
        let hub = obs.entities().next().map(|(k, _)| k);
        let max = self.config.hops_bound();
        let mut best: Option<(u8, EntityKind)> = None;
        // The hub last, and only if strictly nearer: a detail should name the entity of this
        // decision that links it to fraud, not the user's older links.
        let order = EntityKind::ALL
            .into_iter()
            .filter(|&k| Some(k) != hub)
            .chain(hub);
        for k in order {
            let Some(i) = ids[k.index()] else { continue };
            let d = self.hops[i as usize];
            let h = match d {
                FAR => continue,
                _ if Some(k) == hub => d,
                0 => 1,
                _ if k.is_weak() => continue,
                _ => d + 1,
            };
            if h <= max && best.is_none_or(|(b, _)| h < b) {
                best = Some((h, k));
            }
        }
        best
    }
}
