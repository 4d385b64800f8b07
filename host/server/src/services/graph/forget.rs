//! A person's erasure as the link graph sees it: each of their entities takes its pseudonym
//! as its name in the graph, the chain heads and the mark book, so this replica holds what a
//! rebuild from the erased records would give, and the real value, seen again, is a stranger.

use arbiter_engine::lists::ListKind;
use arbiter_graph::EntityKind;

use super::{GraphService, graph_kind};

/// The list kind a graph entity's kind is (the inverse of `graph_kind`).
fn list_kind(kind: EntityKind) -> ListKind {
    match kind {
        EntityKind::User => ListKind::User,
        EntityKind::Device => ListKind::Device,
        EntityKind::Ip => ListKind::Ip,
        EntityKind::Card => ListKind::Card,
        EntityKind::Email => ListKind::Email,
        EntityKind::Phone => ListKind::Phone,
        EntityKind::Address => ListKind::Address,
    }
}

impl GraphService {
    /// Renames `(kind, from)` to `to` everywhere this replica keeps it; true when the graph
    /// knew the entity.
    pub fn rename(&self, kind: ListKind, from: &str, to: &str) -> bool {
        let entity = (graph_kind(kind), from.to_owned());
        let renamed = self.graph.rename(entity.0, from, to);
        self.heads.rename(kind, from, to);
        let mut book = self
            .marks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let pseudonym = (entity.0, to.to_owned());
        if book.listed.remove(&entity) {
            book.listed.insert(pseudonym.clone());
        }
        if let Some(plans) = book.labelled.remove(&entity) {
            book.labelled.entry(pseudonym).or_default().extend(plans);
        }
        renamed
    }

    /// Every entity this replica's graph holds, by list kind and value (a copy: the caller
    /// hashes each one outside the graph's lock).
    pub fn entity_values(&self) -> Vec<(ListKind, Box<str>)> {
        self.graph
            .entity_values()
            .into_iter()
            .map(|(kind, value)| (list_kind(kind), value))
            .collect()
    }
}
