//! Fraud marks from labels and the block list, kept in one book so that removing one source
//! leaves what the others still say. A block-list entry marks its entity fully. A label plans
//! a mark for each entity of its decision from that entity's history at the decision
//! (`arbiter_graph::label_marks`): the history is read from the stored decisions' entity
//! chains (how many earlier decisions named the entity, since when), so every replica that
//! applies the label — the one that recorded it, the followers, a replica starting later —
//! plans the same marks.

use std::collections::{HashMap, HashSet};

use arbiter_engine::Decision;
use arbiter_engine::feedback::LabelKind;
use arbiter_engine::lists::{ListEntry, ListKind, ListName};
use arbiter_graph::EntityKind;
use arbiter_graph::label_marks::{History, LabelSide, MarkPlan, history_wanted, plan};
use chrono::Utc;

use super::{GraphService, graph_kind};

type Entity = (EntityKind, String);

/// Who marks what.
#[derive(Debug, Default)]
pub(super) struct MarkBook {
    /// Entities on the block list (a full mark each).
    pub(super) listed: HashSet<Entity>,
    /// Per entity, the plan of each decision whose latest label is fraud-like.
    pub(super) labelled: HashMap<Entity, HashMap<String, MarkPlan>>,
}

impl MarkBook {
    /// What every source together wants for `entity`.
    fn wanted(&self, entity: &Entity) -> MarkPlan {
        if self.listed.contains(entity) {
            return MarkPlan::Full;
        }
        self.labelled
            .get(entity)
            .into_iter()
            .flat_map(HashMap::values)
            .fold(MarkPlan::Nothing, |a, &b| a.max(b))
    }
}

/// How a label of `kind` treats established entities; `None` for `legit`.
fn side(kind: LabelKind) -> Option<LabelSide> {
    match kind {
        LabelKind::Legit => None,
        LabelKind::AccountTakeover => Some(LabelSide::AccountTakeover),
        LabelKind::Fraud | LabelKind::Chargeback => Some(LabelSide::Fraud),
    }
}

/// The decision's entities, each with the kind its chain is kept under.
fn entities(decision: &Decision) -> Vec<(ListKind, Entity)> {
    ListKind::ALL
        .into_iter()
        .filter_map(|k| {
            k.value_in(&decision.context)
                .filter(|v| !v.is_empty())
                .map(|v| (k, (graph_kind(k), v.to_owned())))
        })
        .collect()
}

fn describe(kind: LabelKind, decision_id: &str, history: &History) -> String {
    match history.since {
        Some(since) if history.earlier > 0 => format!(
            "label {} on {decision_id}: {} earlier decision(s) since {}",
            kind.as_str(),
            history.earlier,
            since.format("%Y-%m-%d")
        ),
        _ => format!(
            "label {} on {decision_id}: new at that decision",
            kind.as_str()
        ),
    }
}

/// What a label means for each entity of its decision, read from their histories
/// ([`GraphService::plan_label`]) before anything is marked.
pub(super) struct LabelPlan {
    named: Vec<(ListKind, Entity)>,
    /// Per entity (for fraud-like labels): its plan and the reason a mark gives.
    plans: Vec<(Entity, MarkPlan, String)>,
}

impl GraphService {
    /// Applies a decision's latest label: a fraud-like one plans a mark for each of its
    /// entities; `legit` withdraws this decision's plans. Each entity then settles on what
    /// every label and the block list still want. Never fails: a history that cannot be read
    /// counts as none, which marks fully (the safe side, and how labels marked before).
    pub async fn apply_label(&self, decision: &Decision, kind: LabelKind) {
        let planned = self.plan_label(decision, kind).await;
        self.apply_plan(decision, kind, planned);
    }

    /// The reading half of [`apply_label`](Self::apply_label): each entity's history and the
    /// mark it plans. It reads only stored decisions, never the book, so plans for many
    /// labels may be read at once and applied after, in the labels' order.
    pub(super) async fn plan_label(&self, decision: &Decision, kind: LabelKind) -> LabelPlan {
        let id = decision.decision_id.0.as_str();
        let named = entities(decision);
        let mut plans = Vec::new();
        if let Some(side) = side(kind) {
            for (list_kind, entity) in &named {
                let history = self.history(decision, *list_kind, &entity.1).await;
                let planned = plan(entity.0, side, &history, decision.created_at);
                plans.push((entity.clone(), planned, describe(kind, id, &history)));
            }
        }
        LabelPlan { named, plans }
    }

    /// The marking half of [`apply_label`](Self::apply_label).
    pub(super) fn apply_plan(&self, decision: &Decision, kind: LabelKind, planned: LabelPlan) {
        let id = decision.decision_id.0.as_str();
        let LabelPlan { named, plans } = planned;
        let now = Utc::now();
        let mut book = self
            .marks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, entity) in &named {
            if let Some(by) = book.labelled.get_mut(entity) {
                by.remove(id);
                if by.is_empty() {
                    book.labelled.remove(entity);
                }
            }
        }
        let mut reasons = HashMap::new();
        for (entity, planned, reason) in plans {
            if planned != MarkPlan::Nothing {
                book.labelled
                    .entry(entity.clone())
                    .or_default()
                    .insert(id.to_owned(), planned);
            }
            reasons.insert(entity, reason);
        }
        for (_, entity) in &named {
            let reason = reasons
                .remove(entity)
                .unwrap_or_else(|| format!("label {} on {id}", kind.as_str()));
            self.settle(&book, entity, &reason, now);
        }
    }

    /// Marks every live block-list entity fully; an entity whose entry is gone settles on what
    /// labels still want.
    pub fn sync_block_list(&self, entries: &[ListEntry]) {
        let now = Utc::now();
        let wanted: HashSet<Entity> = entries
            .iter()
            .filter(|e| e.list == ListName::Block && e.is_live(now))
            .map(|e| (graph_kind(e.kind), e.value.clone()))
            .collect();
        let mut book = self
            .marks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed: Vec<Entity> = book.listed.symmetric_difference(&wanted).cloned().collect();
        book.listed = wanted;
        for entity in &changed {
            let reason = if book.listed.contains(entity) {
                "block list"
            } else {
                "label"
            };
            self.settle(&book, entity, reason, now);
        }
    }

    fn settle(&self, book: &MarkBook, entity: &Entity, reason: &str, at: chrono::DateTime<Utc>) {
        let wanted = book.wanted(entity);
        let reason = if book.listed.contains(entity) {
            "block list"
        } else {
            reason
        };
        self.graph.settle(entity.0, &entity.1, wanted, reason, at);
    }

    /// The entity's decisions before `decision`, along its chain, as far as the plan for its
    /// kind looks.
    async fn history(&self, decision: &Decision, kind: ListKind, value: &str) -> History {
        let wanted = history_wanted(graph_kind(kind));
        let Some(previous) = decision.chain.previous(kind).filter(|_| wanted > 0) else {
            return History::default();
        };
        match self.store.entity_decisions(kind, previous, wanted).await {
            Ok(past) => {
                // Chains of two entities whose hashes collide merge; keep this entity's own.
                let own = past
                    .iter()
                    .filter(|p| kind.value_in(&p.context) == Some(value));
                History {
                    earlier: own.clone().count() as u32,
                    since: own.map(|p| p.created_at).min(),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, kind = kind.as_str(), "could not read an entity's history for a label; marking it as new");
                History::default()
            }
        }
    }
}
