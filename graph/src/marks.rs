//! Fraud marks: a label or a block-list entry marks an entity; the graph keeps the mark,
//! counts it in the entity's group and in its neighbours' "fraud users", and spreads it
//! through the proximity field. Owns marking and unmarking; the reasons live in the link
//! graph's mark map.

use chrono::{DateTime, Utc};

use crate::entity::{EntityKind, stamp};
use crate::graph::{LinkGraph, ni};
use crate::groups::index;
use crate::hops;
use crate::view::FraudMark;

impl LinkGraph {
    /// Marks `(kind, value)` as fraud, for `reason`, at `at`. An entity the graph has not seen
    /// is created (unlinked) so the mark is there when it first appears; marked entities are
    /// never expired or evicted. Returns false if it was marked already (the reason is
    /// replaced).
    pub fn mark_fraud(
        &mut self,
        kind: EntityKind,
        value: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> bool {
        if value.is_empty() {
            return false;
        }
        let i = match self.lookup(kind, value) {
            Some(i) => i,
            None => self.intern(kind, value, stamp(at)),
        };
        let mark = FraudMark {
            reason: reason.to_owned(),
            marked_at: at,
        };
        self.marks.insert(i, mark);
        if self.node(i).marked {
            return false;
        }
        self.graph[ni(i)].marked = true;
        self.mark_changed(i, true);
        true
    }

    /// Removes the fraud mark of `(kind, value)`; whether there was one. Proximity around it
    /// is repaired at once (within the visit budget; the next maintenance pass completes it).
    pub fn unmark(&mut self, kind: EntityKind, value: &str) -> bool {
        let Some(i) = self.lookup(kind, value) else {
            return false;
        };
        if self.marks.remove(&i).is_none() {
            return false;
        }
        self.graph[ni(i)].marked = false;
        self.mark_changed(i, false);
        true
    }

    /// The mark on `(kind, value)`, if any.
    pub fn fraud_mark(&self, kind: EntityKind, value: &str) -> Option<&FraudMark> {
        self.lookup(kind, value).and_then(|i| self.marks.get(&i))
    }

    /// Fraud-marked entities.
    pub fn mark_count(&self) -> usize {
        self.marks.len()
    }

    fn mark_changed(&mut self, i: u32, marked: bool) {
        self.groups.add_fraud(i, if marked { 1 } else { -1 });
        if self.node(i).kind == EntityKind::User {
            let around: Vec<u32> = self
                .graph
                .neighbors(ni(i))
                .map(|n| index(n.index()))
                .collect();
            for n in around {
                let e = &mut self.graph[ni(n)];
                e.fraud_users = if marked {
                    e.fraud_users.saturating_add(1)
                } else {
                    e.fraud_users.saturating_sub(1)
                };
            }
        }
        let (max, budget) = (self.config.hops_bound(), self.config.hop_visit_budget);
        if marked {
            self.hops[i as usize] = 0;
            hops::spread(&self.graph, &mut self.hops, i, max, budget);
        } else {
            let g = &self.graph;
            hops::repair(g, &mut self.hops, i, |x| g[ni(x)].marked, max, budget);
        }
        let marks = self.marks.keys().copied();
        self.phase
            .on_mark(&self.graph, i, marked, marks, max, budget);
    }
}
