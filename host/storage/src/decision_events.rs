//! Decision events (issue 21, on per deployment with `--decision-events`): a new decision
//! writes `decision.made` to the outbox, a challenge also `review.opened`, and a resolved review
//! `review.resolved`, each in the transaction that stores what it announces, so the relay
//! publishes them like the transaction core's events: every one once, none before its commit,
//! in order. A data lake or a case system follows decisions without reading the database.
//!
//! They carry no personal data: ids of ours, the checkpoint, action, score, reason codes and
//! versions; never the request's context, the client's request or order id (free text a
//! client could fill with anything) or a reviewer's note or name.
//!
//! Off by default: they cost an outbox row per decision on the decision path.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arbiter_engine::Decision;
use arbiter_engine::feedback::Resolution;
use arbiter_engine::store::StoreError;
use arbiter_transactions::TxError;
use arbiter_transactions::change::OutboxMessage;
use serde_json::json;

/// The switch the stores read on each batch; shared by every view of one store.
#[derive(Debug, Clone, Default)]
pub struct DecisionEvents(Arc<AtomicBool>);

impl DecisionEvents {
    /// From now on, decisions and reviews write their events.
    pub fn enable(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub(crate) fn on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The events a newly stored decision writes at its `created_at`: `decision.made`, then
/// `review.opened` when it is a challenge (which opens its review in the same transaction).
pub(crate) fn of_decision(d: &Decision, review_id: Option<&str>) -> Vec<OutboxMessage> {
    let reason_codes: Vec<&str> = d.reasons.iter().map(|r| r.code.as_str()).collect();
    let made = json!({
        "decision_id": d.decision_id.0,
        "checkpoint": d.context.checkpoint.as_str(),
        "action": d.action.as_str(),
        "score": d.score,
        "reason_codes": reason_codes,
        "policy_set_version": d.policy_set_version,
        "model_version": d.model_version,
    });
    let mut rows = vec![message("decision.made", made)];
    if let Some(review_id) = review_id {
        let opened = json!({
            "review_id": review_id,
            "decision_id": d.decision_id.0,
            "checkpoint": d.context.checkpoint.as_str(),
            "reason_codes": reason_codes,
        });
        rows.push(message("review.opened", opened));
    }
    rows
}

/// `review.resolved`: the outcome and label a review was closed with (not the reviewer's note
/// or name).
pub(crate) fn review_resolved(
    review_id: &str,
    decision_id: &str,
    resolution: &Resolution,
) -> OutboxMessage {
    let payload = json!({
        "review_id": review_id,
        "decision_id": decision_id,
        "outcome": resolution.outcome.as_str(),
        "label": resolution.label.as_str(),
    });
    message("review.resolved", payload)
}

fn message(topic: &str, payload: serde_json::Value) -> OutboxMessage {
    OutboxMessage {
        topic: topic.to_owned(),
        payload,
    }
}

/// The decision log's error for a failed outbox write (which the transaction core's
/// `insert_outbox` reports as its own).
pub(crate) fn store_error(e: TxError) -> StoreError {
    match e {
        TxError::Store(e) => e,
        other => StoreError::Backend(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_is_shared_by_its_clones_and_off_until_enabled() {
        let events = DecisionEvents::default();
        let view = events.clone();
        assert!(!view.on());
        events.enable();
        assert!(view.on());
    }
}
