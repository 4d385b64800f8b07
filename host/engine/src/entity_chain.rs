//! Each entity's decisions as a chain: every decision records, per entity it names, the id of
//! the decision before it that named the same entity, and this replica keeps the newest
//! decision of each entity in memory ([`ChainHeads`]). An entity's decisions are then read by
//! walking its chain from the head, one primary-key lookup per decision, newest first.
//!
//! Why a chain and not an index on (entity, decision): an index row per entity per decision is
//! a write at a random place in a B-tree, seven per decision. Measured on the SQLite default
//! that cut unpaced decisions from ~6,900/s to ~2,600/s (every commit rewrote hundreds of
//! scattered index pages into the write-ahead log), and to ~5,300/s with the user alone;
//! on PostgreSQL by 16 % (BENCHMARKS.md, "Reviewer console"). The chain is written inside the
//! decision's own body, which is appended anyway: nothing is written at a random place.
//!
//! What the chain does not promise: heads live in one replica's memory. A replica links a
//! decision to the newest one *it* knew of, so with several replicas each entity's chain
//! holds the decisions of the replica that made the head, and the ones it linked to; after a
//! restart, heads are seeded from the decisions of the link graph's window, so an entity last
//! seen before that window has no head (its decisions are stored and still reached from any
//! later decision of the same user). A decision whose write failed or was a repeated request
//! gives its entities' heads back when no later decision took them.

use serde::{Deserialize, Serialize};

use crate::context::EnrichedContext;
use crate::decision::DecisionId;
use crate::generations::Sharded;
use crate::lists::ListKind;

/// Per kind of entity a decision names, the id of the previous decision that named the same
/// entity on the replica that made it; absent for an entity seen first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityChain {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl EntityChain {
    pub fn is_empty(&self) -> bool {
        *self == EntityChain::default()
    }

    /// The previous decision of the entity of `kind`.
    pub fn previous(&self, kind: ListKind) -> Option<&str> {
        self.slot(kind).as_deref()
    }

    /// Records `previous` as the decision before this one of the entity of `kind` (how a
    /// store reads a chain back).
    pub fn link(&mut self, kind: ListKind, previous: String) {
        *self.slot_mut(kind) = Some(previous);
    }

    fn slot(&self, kind: ListKind) -> &Option<String> {
        match kind {
            ListKind::User => &self.user,
            ListKind::Device => &self.device,
            ListKind::Ip => &self.ip,
            ListKind::Card => &self.card,
            ListKind::Email => &self.email,
            ListKind::Phone => &self.phone,
            ListKind::Address => &self.address,
        }
    }

    fn slot_mut(&mut self, kind: ListKind) -> &mut Option<String> {
        match kind {
            ListKind::User => &mut self.user,
            ListKind::Device => &mut self.device,
            ListKind::Ip => &mut self.ip,
            ListKind::Card => &mut self.card,
            ListKind::Email => &mut self.email,
            ListKind::Phone => &mut self.phone,
            ListKind::Address => &mut self.address,
        }
    }
}

/// The entities a context names: each present kind with its normalised value.
fn entities(ctx: &EnrichedContext) -> impl Iterator<Item = (ListKind, &str)> {
    ListKind::ALL
        .into_iter()
        .filter_map(|k| k.value_in(ctx).filter(|v| !v.is_empty()).map(|v| (k, v)))
}

/// The newest decision of each entity this replica knows of, bounded: an entity no decision
/// named for two generations (each `capacity / 2` entities of its shard) is forgotten
/// ([`crate::generations`]: a head is a 64-bit hash of the entity mapping to the 128 bits of a
/// decision id, behind one short lock, no allocation and no background work). Two entities
/// whose hashes collide share a chain; readers keep only the decisions that name the entity
/// they asked for.
pub struct ChainHeads {
    heads: Sharded<u128>,
}

fn id_text(bits: u128) -> String {
    DecisionId::from_bits(bits).0
}

impl ChainHeads {
    /// Heads for at most about `capacity` entities.
    pub fn new(capacity: u64) -> ChainHeads {
        ChainHeads {
            heads: Sharded::new(capacity),
        }
    }

    /// Makes `decision_id` the head of every entity `ctx` names and returns the previous
    /// heads: the decision's chain. Atomic per entity, so two decisions of one entity at once
    /// are chained one after the other, never both to the same predecessor. An id not made
    /// by [`crate::DecisionId::generate`] links nothing.
    pub fn advance(&self, ctx: &EnrichedContext, decision_id: &str) -> EntityChain {
        let mut chain = EntityChain::default();
        let Some(id) = DecisionId::bits(decision_id) else {
            return chain;
        };
        for (kind, value) in entities(ctx) {
            let previous = self.heads.lock((kind, value)).put(id);
            *chain.slot_mut(kind) = previous.map(id_text);
        }
        chain
    }

    /// Undoes [`ChainHeads::advance`] for a decision that was not stored: each entity whose
    /// head it still is gets its previous head back (or none). An entity a later decision has
    /// taken since keeps that one.
    pub fn rewind(&self, ctx: &EnrichedContext, decision_id: &str, chain: &EntityChain) {
        let Some(id) = DecisionId::bits(decision_id) else {
            return;
        };
        for (kind, value) in entities(ctx) {
            let mut head = self.heads.lock((kind, value));
            if head.get() != Some(&id) {
                continue;
            }
            match chain.previous(kind).and_then(DecisionId::bits) {
                Some(previous) => {
                    head.put(previous);
                }
                None => head.remove(),
            }
        }
    }

    /// Records `decision_id` as the head of `entities` where it is newer than theirs
    /// (decision ids are time-ordered): how heads are seeded from stored decisions at start.
    pub fn seed<'a>(
        &self,
        entities: impl IntoIterator<Item = (ListKind, &'a str)>,
        decision_id: &str,
    ) {
        let Some(id) = DecisionId::bits(decision_id) else {
            return;
        };
        for (kind, value) in entities {
            if value.is_empty() {
                continue;
            }
            let mut head = self.heads.lock((kind, value));
            if head.get().is_none_or(|&newest| newest < id) {
                head.put(id);
            }
        }
    }

    /// Moves the head of `(kind, from)` to `(kind, to)` (a person's erasure: the stored
    /// decisions now name the pseudonym `to`), so the chain is reached by its new name and a
    /// later decision naming `from` starts a new one.
    pub fn rename(&self, kind: ListKind, from: &str, to: &str) {
        let head = {
            let mut head = self.heads.lock((kind, from));
            let newest = head.get().copied();
            head.remove();
            newest
        };
        if let Some(head) = head {
            self.seed([(kind, to)], &id_text(head));
        }
    }

    /// The newest decision of an entity this replica knows of.
    pub fn head(&self, kind: ListKind, value: &str) -> Option<String> {
        self.heads.lock((kind, value)).get().copied().map(id_text)
    }
}

#[cfg(test)]
mod tests;
