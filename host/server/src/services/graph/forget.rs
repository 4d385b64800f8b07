//! A person's erasure as the link graph sees it: each of their entities takes its pseudonym
//! as its name in the graph, the chain heads and the mark book, so this replica holds what a
//! rebuild from the erased records would give, and the real value, seen again, is a stranger.

use arbiter_engine::lists::ListKind;

use super::{GraphService, graph_kind};

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
}
