//! Forgetting who an entity was (a person's erasure) without forgetting what it linked: the
//! entity keeps its links, counts, group and marks under a new name (the pseudonym the stored
//! decisions now hold), so the graph stays what a rebuild from the erased records would give,
//! and a later decision naming the old value finds nothing and starts a fresh entity.
//! Another replica's erasure reaches this one as pseudonyms only: it finds the entities to
//! rename by making the pseudonym of each of its own ([`LinkGraph::entity_values`]).

use crate::entity::EntityKind;
use crate::graph::LinkGraph;

impl LinkGraph {
    /// Renames the entity `(kind, from)` to `to`; false when the graph does not know it. An
    /// IP is not renamed while IPs are linked by network (`ip_prefix`): that entity is the
    /// network, shared by everyone in it, not the person's address. When `to` already names
    /// an entity (the person was erased before, came back and is erased again), this one
    /// keeps its links under a name no value reaches, and ages out as any other.
    pub fn rename(&mut self, kind: EntityKind, from: &str, to: &str) -> bool {
        if kind == EntityKind::Ip && self.config.ip_prefix {
            return false;
        }
        let Some(i) = self.lookup(kind, from) else {
            return false;
        };
        let mut key = self.interner.key(kind, to);
        if self.interner.get_by_key(&self.graph, kind, key).is_some() {
            key = self.interner.key(kind, &format!("{to}#{i}"));
        }
        self.interner.remove(&self.graph, i);
        let node = &mut self.graph[petgraph::graph::NodeIndex::new(i as usize)];
        self.string_bytes = self.string_bytes - node.value.len() + to.len();
        node.value = to.into();
        node.key = key;
        self.interner.insert(&self.graph, i);
        true
    }

    /// Every live entity as `(kind, value)`: what another replica's erasure is matched
    /// against, since it names the person's entities by pseudonym only.
    pub fn entity_values(&self) -> Vec<(EntityKind, Box<str>)> {
        self.graph
            .node_weights()
            .filter(|e| e.alive && !e.value.is_empty())
            .map(|e| (e.kind, e.value.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use crate::{Config, EntityKind, LinkGraph, Observation};

    fn graph() -> LinkGraph {
        LinkGraph::new(Config::default())
    }

    #[test]
    fn a_renamed_entity_keeps_its_links_and_the_old_value_starts_fresh() {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let mut g = graph();
        for user in ["alice", "bob"] {
            g.observe(
                &Observation::new(at)
                    .with(EntityKind::User, user)
                    .with(EntityKind::Device, "dev-1"),
            );
        }
        let before = g.link_count();
        assert!(g.rename(EntityKind::User, "alice", "erased:aa"));
        assert!(g.rename(EntityKind::Device, "dev-1", "erased:dd"));
        assert_eq!(g.link_count(), before);
        assert!(g.lookup(EntityKind::User, "alice").is_none());
        assert!(g.lookup(EntityKind::Device, "dev-1").is_none());
        let view = g
            .neighbourhood(EntityKind::Device, "erased:dd", 1, 10)
            .expect("renamed device");
        assert_eq!(view.neighbours.len(), 2);
        assert!(
            view.neighbours.iter().all(|n| n.entity.value != "alice"),
            "{view:?}"
        );
        // The old value is a stranger now.
        let fresh = g.score(
            &Observation::new(at)
                .with(EntityKind::User, "alice")
                .with(EntityKind::Device, "dev-1"),
        );
        assert_eq!(fresh.features.users_per_device, 0);
        assert!(!g.rename(EntityKind::User, "alice", "erased:aa"));
    }

    #[test]
    fn renaming_onto_an_existing_pseudonym_hides_the_second_entity() {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let mut g = graph();
        g.observe(
            &Observation::new(at)
                .with(EntityKind::User, "erased:aa")
                .with(EntityKind::Card, "c1"),
        );
        g.observe(
            &Observation::new(at)
                .with(EntityKind::User, "alice")
                .with(EntityKind::Card, "c2"),
        );
        assert!(g.rename(EntityKind::User, "alice", "erased:aa"));
        assert!(g.lookup(EntityKind::User, "alice").is_none());
        let kept = g
            .lookup(EntityKind::User, "erased:aa")
            .expect("first pseudonym");
        assert_eq!(g.node(kept).value.as_ref(), "erased:aa");
        assert_eq!(g.entity_count(), 4);
    }

    #[test]
    fn entity_values_name_every_live_entity_once_renamed_as_renamed() {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let mut g = graph();
        g.observe(
            &Observation::new(at)
                .with(EntityKind::User, "alice")
                .with(EntityKind::Device, "dev-1"),
        );
        assert!(g.rename(EntityKind::Device, "dev-1", "erased:dd"));
        let mut values: Vec<(EntityKind, String)> = g
            .entity_values()
            .into_iter()
            .map(|(k, v)| (k, v.into()))
            .collect();
        values.sort();
        assert_eq!(
            values,
            [
                (EntityKind::User, "alice".to_owned()),
                (EntityKind::Device, "erased:dd".to_owned())
            ]
        );
    }
}
