//! Fraud marks: a label or a block-list entry marks an entity; the graph keeps the mark,
//! counts it in the entity's group and in its neighbours' "fraud users", and spreads it
//! through the proximity field. Owns marking and unmarking; the reasons live in the link
//! graph's mark map.

use chrono::{DateTime, Utc};

use crate::entity::{EntityKind, stamp};
use crate::graph::{LinkGraph, ni};
use crate::groups::index;
use crate::hops;
use crate::label_marks::MarkPlan;
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
        let Some(i) = self.entity_at(kind, value, at) else {
            return false;
        };
        let mark = FraudMark {
            reason: reason.to_owned(),
            marked_at: at,
            weight: 1.0,
        };
        self.marks.insert(i, mark);
        if self.node(i).marked {
            return false;
        }
        self.graph[ni(i)].marked = true;
        self.mark_changed(i, true);
        true
    }

    /// Marks `(kind, value)` weakly (`weight` in (0, 1)): an established entity of a
    /// fraud-labelled decision, which may be the victim's. A weak mark does not spread, is not
    /// counted in groups or fraud users, and counts `weight` times a marked entity's
    /// contribution only when a decision names the entity itself; the entity is also
    /// shielded (see [`LinkGraph::shield`]). A full mark already there stays. Returns false if
    /// it was marked already.
    pub fn mark_weakly(
        &mut self,
        kind: EntityKind,
        value: &str,
        reason: &str,
        weight: f32,
        at: DateTime<Utc>,
    ) -> bool {
        let Some(i) = self.entity_at(kind, value, at) else {
            return false;
        };
        if self.node(i).marked {
            return false;
        }
        let mark = FraudMark {
            reason: reason.to_owned(),
            marked_at: at,
            weight: weight.clamp(0.0, 1.0),
        };
        let fresh = self.marks.insert(i, mark).is_none();
        self.set_shield(i, true);
        fresh
    }

    /// Shields `(kind, value)` (or lifts the shield): a shielded entity neither takes nor
    /// passes proximity to fraud, as an IP does not, so the links a fraud made to a victim's
    /// established account, e-mail or card do not put the victim next to the fraudster.
    /// Proximity around it is repaired at once. Returns whether anything changed.
    pub fn shield(&mut self, kind: EntityKind, value: &str, on: bool, at: DateTime<Utc>) -> bool {
        let i = if on {
            self.entity_at(kind, value, at)
        } else {
            self.lookup(kind, value)
        };
        i.is_some_and(|i| self.set_shield(i, on))
    }

    /// The entity `(kind, value)`, created unlinked at `at` if the graph has not seen it (a
    /// mark is there when it first appears); `None` for an empty value.
    fn entity_at(&mut self, kind: EntityKind, value: &str, at: DateTime<Utc>) -> Option<u32> {
        if value.is_empty() {
            return None;
        }
        Some(match self.lookup(kind, value) {
            Some(i) => i,
            None => self.intern(kind, value, stamp(at)),
        })
    }

    fn set_shield(&mut self, i: u32, on: bool) -> bool {
        if self.node(i).shielded == on {
            return false;
        }
        self.graph[ni(i)].shielded = on;
        if !on && !self.node(i).is_weak() {
            // Its links were kept out of groups while it was shielded; they join now. (A
            // shield cannot split a group at once: the next maintenance pass does.)
            let around: Vec<u32> = self
                .graph
                .neighbors(ni(i))
                .map(|n| index(n.index()))
                .filter(|&n| !self.node(n).is_weak())
                .collect();
            for n in around {
                self.groups.union(i, n);
                self.phase.on_join(i, n);
            }
        }
        let (max, budget) = (self.config.hops_bound(), self.config.hop_visit_budget);
        let g = &self.graph;
        // Shielded, `i` keeps only its own mark's value and passes none on: the repair of an
        // unmark recomputes exactly the values that could have come through it. Unshielded,
        // it takes the best of its neighbours' values and passes it on.
        hops::repair(g, &mut self.hops, i, |x| g[ni(x)].marked, max, budget);
        let marks = self.marks.keys().copied();
        self.phase.on_shield(marks);
        true
    }

    /// Removes the fraud mark of `(kind, value)`, full or weak; whether there was one.
    /// Proximity around a full mark is repaired at once (within the visit budget; the next
    /// maintenance pass completes it). A weak mark's shield stays until lifted.
    pub fn unmark(&mut self, kind: EntityKind, value: &str) -> bool {
        let Some(i) = self.lookup(kind, value) else {
            return false;
        };
        if self.marks.remove(&i).is_none() {
            return false;
        }
        if self.node(i).marked {
            self.graph[ni(i)].marked = false;
            self.mark_changed(i, false);
        }
        true
    }

    /// Puts `(kind, value)` in the state `plan` describes, whatever state it was in: a full
    /// mark (unshielded), a weak mark of that weight (shielded), a shield alone, or nothing.
    /// Idempotent, so every replica that hears of a label settles the entity the same way.
    pub fn settle(
        &mut self,
        kind: EntityKind,
        value: &str,
        plan: MarkPlan,
        reason: &str,
        at: DateTime<Utc>,
    ) {
        match plan {
            MarkPlan::Full => {
                self.shield(kind, value, false, at);
                self.mark_fraud(kind, value, reason, at);
            }
            MarkPlan::Weak(weight) => {
                // A full mark gives way; a weak one is replaced.
                self.unmark(kind, value);
                self.mark_weakly(kind, value, reason, weight, at);
            }
            MarkPlan::Shield => {
                self.unmark(kind, value);
                self.shield(kind, value, true, at);
            }
            MarkPlan::Nothing => {
                self.unmark(kind, value);
                self.shield(kind, value, false, at);
            }
        }
    }

    /// The weight of the mark on node `i` when it is weak (shielded and not fully marked).
    pub(crate) fn weak_mark(&self, i: u32) -> Option<f32> {
        let e = self.node(i);
        if !e.shielded || e.marked {
            return None;
        }
        self.marks.get(&i).map(|m| m.weight)
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
