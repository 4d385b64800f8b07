//! The audit trail: who acted ([`Actor`]), what one change writes to the log
//! ([`AuditRecord`]), what the log holds ([`AuditEntry`]) and how it is searched
//! ([`AuditFilter`]).
//!
//! A store writes a change's record in the transaction that makes the change, so a crash,
//! a failed statement or a lost connection leaves both or neither. That is why a record is
//! built here from the change's own result (the version a module got, the rollout as it
//! ended) and never appended by a caller afterwards: the store traits take the [`Actor`] and
//! call the constructor that matches the change. No I/O here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::backtest::Backtest;
use crate::feedback::{Label, ModelSlot, ModelVersion, Resolution, TrainingJob};
use crate::keys::{ApiKey, CREATED_BY_BOOTSTRAP, CREATED_BY_CLI};
use crate::lists::ListEntry;
use crate::money::reporting::StoredRateTable;
use crate::policy_set::{Approval, PolicySet};
use crate::registry::{PolicyModule, Rollout, RolloutStatus};
use crate::snooze::RuleSnooze;

/// The log's action names, one per kind of change.
pub mod action {
    pub const KEY_CREATE: &str = "key.create";
    pub const KEY_REVOKE: &str = "key.revoke";
    pub const LIST_ADD: &str = "list.add";
    pub const LIST_REMOVE: &str = "list.remove";
    pub const POLICY_UPLOAD: &str = "policy.upload";
    pub const POLICY_SET_CREATE: &str = "policy_set.create";
    pub const POLICY_SET_ACTIVATE: &str = "policy_set.activate";
    pub const POLICY_SET_APPROVE: &str = "policy_set.approve";
    pub const ROLLOUT_START: &str = "rollout.start";
    pub const ROLLOUT_PROMOTE: &str = "rollout.promote";
    pub const ROLLOUT_ROLLBACK: &str = "rollout.rollback";
    pub const ROLLOUT_AUTO_ROLLBACK: &str = "rollout.auto_rollback";
    pub const ROLLOUT_GO_LIVE: &str = "rollout.go_live";
    pub const MODEL_TRAIN: &str = "model.train";
    pub const MODEL_CREATE: &str = "model.create";
    pub const MODEL_ACTIVATE: &str = "model.activate";
    pub const MODEL_SHADOW: &str = "model.shadow";
    pub const MODEL_SHADOW_STOP: &str = "model.shadow_stop";
    pub const REVIEW_RESOLVE: &str = "review.resolve";
    pub const REVIEW_ESCALATE: &str = "review.escalate";
    pub const REVIEW_CORRECT: &str = "review.correct";
    pub const LABEL_CREATE: &str = "label.create";
    pub const BACKTEST_START: &str = "backtest.start";
    pub const BACKTEST_CANCEL: &str = "backtest.cancel";
    pub const RATES_SET: &str = "rates.set";
    pub const SNOOZE_CREATE: &str = "snooze.create";
    pub const SNOOZE_REVOKE: &str = "snooze.revoke";
    pub const CHANNEL_ENABLE: &str = "channel.enable";
    pub const CHANNEL_DISABLE: &str = "channel.disable";
    pub const STATEMENT_IMPORT: &str = "statement.import";
    pub const RECONCILIATION_RUN: &str = "reconciliation.run";
    pub const RECONCILIATION_RESOLVE: &str = "reconciliation.resolve";
    pub const SUBJECT_ERASE: &str = "subject.erase";
    pub const SUBJECT_EXPORT: &str = "subject.export";

    /// Every action, for the listing's filter and the API document.
    pub const ALL: [&str; 34] = [
        KEY_CREATE,
        KEY_REVOKE,
        LIST_ADD,
        LIST_REMOVE,
        POLICY_UPLOAD,
        POLICY_SET_CREATE,
        POLICY_SET_ACTIVATE,
        POLICY_SET_APPROVE,
        ROLLOUT_START,
        ROLLOUT_PROMOTE,
        ROLLOUT_ROLLBACK,
        ROLLOUT_AUTO_ROLLBACK,
        ROLLOUT_GO_LIVE,
        MODEL_TRAIN,
        MODEL_CREATE,
        MODEL_ACTIVATE,
        MODEL_SHADOW,
        MODEL_SHADOW_STOP,
        REVIEW_RESOLVE,
        REVIEW_ESCALATE,
        REVIEW_CORRECT,
        LABEL_CREATE,
        BACKTEST_START,
        BACKTEST_CANCEL,
        RATES_SET,
        SNOOZE_CREATE,
        SNOOZE_REVOKE,
        CHANNEL_ENABLE,
        CHANNEL_DISABLE,
        STATEMENT_IMPORT,
        RECONCILIATION_RUN,
        RECONCILIATION_RESOLVE,
        SUBJECT_ERASE,
        SUBJECT_EXPORT,
    ];
}

/// Who made a change: an API key, named as its minter named it, or the service itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The key's id, or [`Actor::SYSTEM`], [`CREATED_BY_BOOTSTRAP`], [`CREATED_BY_CLI`]:
    /// what the records' `created_by` columns hold.
    pub id: String,
    /// The key's name (what the log shows and is filtered by); the id again for the service.
    pub name: String,
}

impl Actor {
    /// The service acting on its own (a guard rolling a rollout back, the first start
    /// activating the bundled policies).
    pub const SYSTEM: &'static str = "system";

    pub fn key(key: &ApiKey) -> Actor {
        Actor {
            id: key.id.clone(),
            name: key.name.clone(),
        }
    }

    fn named(id: &str) -> Actor {
        Actor {
            id: id.to_owned(),
            name: id.to_owned(),
        }
    }

    pub fn system() -> Actor {
        Actor::named(Actor::SYSTEM)
    }

    /// The service minting the first admin key.
    pub fn bootstrap() -> Actor {
        Actor::named(CREATED_BY_BOOTSTRAP)
    }

    /// An operator at the command line, writing straight into the database.
    pub fn cli() -> Actor {
        Actor::named(CREATED_BY_CLI)
    }

    pub fn is_system(&self) -> bool {
        self.id == Actor::SYSTEM
    }
}

/// What one change adds to the log, besides who and when.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// One of [`action`].
    pub action: &'static str,
    /// What was changed, e.g. `geo@3`, `policy_set@4`, `rollout@2`, a key or review id.
    pub target: String,
    pub detail: Value,
}

impl AuditRecord {
    fn new(action: &'static str, target: impl Into<String>, detail: Value) -> AuditRecord {
        AuditRecord {
            action,
            target: target.into(),
            detail,
        }
    }

    /// A key minted. Its hash is not in the detail: the log is no place for credentials.
    pub fn key_created(key: &ApiKey) -> AuditRecord {
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        let detail = json!({"name": key.name, "scopes": scopes, "expires_at": key.expires_at});
        AuditRecord::new(action::KEY_CREATE, &key.id, detail)
    }

    pub fn key_revoked(key: &ApiKey) -> AuditRecord {
        AuditRecord::new(action::KEY_REVOKE, &key.id, json!({"name": key.name}))
    }

    /// An entry added to a list. The listed value (an e-mail, a card fingerprint, an IP) is
    /// personal data and stays in the list; the entry id leads to it while it exists.
    pub fn list_added(entry: &ListEntry) -> AuditRecord {
        let detail = json!({
            "list": entry.list.as_str(),
            "kind": entry.kind.as_str(),
            "reason": entry.reason,
            "expires_at": entry.expires_at,
        });
        AuditRecord::new(action::LIST_ADD, &entry.id, detail)
    }

    /// A person erased: the target is the pseudonym of the identifier they were named by
    /// (whoever holds the erasure key can tell whether a given person was erased; nobody can
    /// read who was). The detail says how they were named, how many identifiers of each kind
    /// were replaced and how many rows of each column changed, and names their entities by
    /// pseudonym (`entities`: what the other replicas rename in their link graphs): never a
    /// value.
    pub fn subject_erased(
        subject: &crate::erasure::Subject,
        pseudonym: &str,
        identifiers: &crate::erasure::Identifiers,
        pseudonyms: &crate::erasure::Pseudonyms,
        counts: &crate::erasure::ErasureCounts,
    ) -> AuditRecord {
        let entities: Vec<Value> = identifiers
            .entities()
            .filter_map(|(kind, value)| {
                pseudonyms
                    .of(value)
                    .map(|p| json!({"kind": kind.as_str(), "pseudonym": p}))
            })
            .collect();
        let detail = json!({
            "named_by": subject.kind.as_str(),
            "identifiers": identifiers.counts(),
            "entities": entities,
            "rewritten": counts.rewritten,
            "list_entries_removed": counts.list_entries_removed,
            "snoozes_removed": counts.snoozes_removed,
        });
        AuditRecord::new(action::SUBJECT_ERASE, pseudonym, detail)
    }

    /// A person's records exported: to whom is the actor; whose is the pseudonym of the
    /// identifier they were named by; what, how many records of each kind.
    pub fn subject_exported(
        subject: &crate::erasure::Subject,
        pseudonym: &str,
        records: &std::collections::BTreeMap<&'static str, usize>,
    ) -> AuditRecord {
        let detail = json!({"named_by": subject.kind.as_str(), "records": records});
        AuditRecord::new(action::SUBJECT_EXPORT, pseudonym, detail)
    }

    pub fn list_removed(entry_id: &str, list: &str, kind: &str) -> AuditRecord {
        let detail = json!({"list": list, "kind": kind});
        AuditRecord::new(action::LIST_REMOVE, entry_id, detail)
    }

    pub fn module_uploaded(module: &PolicyModule) -> AuditRecord {
        let detail = json!({"sha256": module.sha256, "size_bytes": module.size_bytes});
        AuditRecord::new(action::POLICY_UPLOAD, module_target(module), detail)
    }

    pub fn policy_set_created(set: &PolicySet) -> AuditRecord {
        let detail = serde_json::to_value(set).unwrap_or(Value::Null);
        AuditRecord::new(action::POLICY_SET_CREATE, set_target(set.version), detail)
    }

    /// A new rate table: its version is the target, the table itself the detail.
    pub fn rates_set(table: &StoredRateTable) -> AuditRecord {
        let detail = serde_json::to_value(&table.table).unwrap_or(Value::Null);
        AuditRecord::new(
            action::RATES_SET,
            format!("rates@{}", table.version),
            detail,
        )
    }

    pub fn policy_set_activated(version: i64) -> AuditRecord {
        AuditRecord::new(action::POLICY_SET_ACTIVATE, set_target(version), json!({}))
    }

    pub fn policy_set_approved(approval: &Approval) -> AuditRecord {
        let detail = json!({"note": approval.note});
        AuditRecord::new(
            action::POLICY_SET_APPROVE,
            set_target(approval.version),
            detail,
        )
    }

    pub fn rollout_started(rollout: &Rollout) -> AuditRecord {
        let detail = serde_json::to_value(rollout).unwrap_or(Value::Null);
        AuditRecord::new(action::ROLLOUT_START, rollout_target(rollout.id), detail)
    }

    /// A shadow rollout turned live, for `percent` of users: the same run, now deciding.
    pub fn rollout_went_live(rollout: &Rollout) -> AuditRecord {
        let detail = json!({
            "from": "shadow",
            "percent": rollout.percent,
            "stable": rollout.stable,
            "candidate": rollout.candidate,
        });
        AuditRecord::new(action::ROLLOUT_GO_LIVE, rollout_target(rollout.id), detail)
    }

    /// A rollout ended by `actor`: promoted, rolled back by a person, or rolled back by the
    /// service when its guard tripped.
    pub fn rollout_ended(rollout: &Rollout, actor: &Actor) -> AuditRecord {
        let action = match rollout.status {
            RolloutStatus::Promoted => action::ROLLOUT_PROMOTE,
            _ if actor.is_system() => action::ROLLOUT_AUTO_ROLLBACK,
            _ => action::ROLLOUT_ROLLBACK,
        };
        let detail = json!({
            "status": rollout.status.as_str(),
            "reason": rollout.reason,
            "stable": rollout.stable,
            "candidate": rollout.candidate,
        });
        AuditRecord::new(action, rollout_target(rollout.id), detail)
    }

    pub fn training_started(job: &TrainingJob) -> AuditRecord {
        AuditRecord::new(action::MODEL_TRAIN, &job.job_id, json!({}))
    }

    pub fn backtest_started(b: &Backtest) -> AuditRecord {
        let detail = serde_json::to_value(&b.spec).unwrap_or_default();
        AuditRecord::new(action::BACKTEST_START, &b.backtest_id, detail)
    }

    pub fn backtest_cancelled(backtest_id: &str) -> AuditRecord {
        AuditRecord::new(action::BACKTEST_CANCEL, backtest_id, json!({}))
    }

    pub fn model_created(model: &ModelVersion) -> AuditRecord {
        let detail = json!({"job_id": model.job_id});
        AuditRecord::new(action::MODEL_CREATE, model.version.to_string(), detail)
    }

    /// `version` put in `slot`, or the shadow slot emptied (`None`).
    pub fn model_assigned(slot: ModelSlot, version: Option<i64>) -> AuditRecord {
        let action = match (slot, version) {
            (ModelSlot::Active, _) => action::MODEL_ACTIVATE,
            (ModelSlot::Shadow, Some(_)) => action::MODEL_SHADOW,
            (ModelSlot::Shadow, None) => action::MODEL_SHADOW_STOP,
        };
        let target = version.map_or_else(|| slot.as_str().to_owned(), |v| v.to_string());
        AuditRecord::new(action, target, json!({"slot": slot.as_str()}))
    }

    /// A review resolved (its label is part of the same change).
    pub fn review_resolved(
        review_id: &str,
        decision_id: &str,
        resolution: &Resolution,
    ) -> AuditRecord {
        let detail = json!({
            "decision_id": decision_id,
            "outcome": resolution.outcome.as_str(),
            "label": resolution.label.as_str(),
        });
        AuditRecord::new(action::REVIEW_RESOLVE, review_id, detail)
    }

    /// A review passed to a senior reviewer.
    pub fn review_escalated(review_id: &str, decision_id: &str, note: Option<&str>) -> AuditRecord {
        let detail = json!({"decision_id": decision_id, "note": note});
        AuditRecord::new(action::REVIEW_ESCALATE, review_id, detail)
    }

    /// A resolution replaced: what it was and what it is now (the new label is part of the
    /// same change).
    pub fn review_corrected(
        review_id: &str,
        decision_id: &str,
        before: Option<&Resolution>,
        after: &Resolution,
    ) -> AuditRecord {
        let detail = json!({
            "decision_id": decision_id,
            "from": before.map(|r| json!({"outcome": r.outcome.as_str(), "label": r.label.as_str()})),
            "outcome": after.outcome.as_str(),
            "label": after.label.as_str(),
        });
        AuditRecord::new(action::REVIEW_CORRECT, review_id, detail)
    }

    /// A rule silenced for an entity until its expiry.
    pub fn snooze_created(s: &RuleSnooze) -> AuditRecord {
        let detail = json!({
            "rule": s.rule,
            "kind": s.kind.as_str(),
            "value": s.value,
            "reason": s.reason,
            "expires_at": s.expires_at,
        });
        AuditRecord::new(action::SNOOZE_CREATE, &s.id, detail)
    }

    pub fn snooze_revoked(id: &str) -> AuditRecord {
        AuditRecord::new(action::SNOOZE_REVOKE, id, json!({}))
    }

    /// A payment channel switched on or off for new payments, and why.
    pub fn channel_switched(name: &str, enabled: bool, reason: &str) -> AuditRecord {
        let action = if enabled {
            action::CHANNEL_ENABLE
        } else {
            action::CHANNEL_DISABLE
        };
        AuditRecord::new(action, name, json!({"reason": reason}))
    }

    /// A channel statement archived for reconciliation: which file (its hash and size) and how
    /// many rows it read.
    pub fn statement_imported(
        id: &str,
        channel: &str,
        date: &str,
        sha256: &str,
        size_bytes: u64,
        rows: u64,
    ) -> AuditRecord {
        let detail = json!({
            "channel": channel,
            "date": date,
            "sha256": sha256,
            "size_bytes": size_bytes,
            "rows": rows,
        });
        AuditRecord::new(action::STATEMENT_IMPORT, id, detail)
    }

    /// A reconciliation run recorded: what it read and found, what it opened and cleared, and
    /// whether it posted the statement's settlement.
    #[allow(clippy::too_many_arguments)]
    pub fn reconciliation_run(
        id: &str,
        channel: &str,
        date: &str,
        statement_id: &str,
        rows: u64,
        differences: u64,
        opened: u64,
        cleared: u64,
        settled: bool,
    ) -> AuditRecord {
        let detail = json!({
            "channel": channel,
            "date": date,
            "statement_id": statement_id,
            "rows": rows,
            "differences": differences,
            "opened": opened,
            "cleared": cleared,
            "settled": settled,
        });
        AuditRecord::new(action::RECONCILIATION_RUN, id, detail)
    }

    /// A difference ticket resolved by a person, with their note.
    pub fn reconciliation_resolved(
        id: &str,
        kind: &str,
        reference: &str,
        note: &str,
    ) -> AuditRecord {
        let detail = json!({"kind": kind, "reference": reference, "note": note});
        AuditRecord::new(action::RECONCILIATION_RESOLVE, id, detail)
    }

    pub fn label_created(label: &Label) -> AuditRecord {
        let detail = json!({
            "decision_id": label.decision_id,
            "label": label.kind.as_str(),
            "source": label.source.as_str(),
            "external_id": label.external_id,
        });
        AuditRecord::new(action::LABEL_CREATE, &label.label_id, detail)
    }
}

fn module_target(module: &PolicyModule) -> String {
    format!("{}@{}", module.name, module.version)
}

fn set_target(version: i64) -> String {
    format!("policy_set@{version}")
}

fn rollout_target(id: i64) -> String {
    format!("rollout@{id}")
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Increasing in append order; the paging cursor of the listing.
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The acting key's name (see [`Actor`]).
    pub actor: String,
    /// The acting key's id: names need not be unique.
    pub actor_id: String,
    /// One of [`action`].
    pub action: String,
    pub target: String,
    pub detail: Value,
}

/// What a listing of the log asks for; every filter is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// The acting key's name.
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// Entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Entries with an id below this one: the last id of the previous page.
    pub before_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::RolloutMode;

    fn rollout(status: RolloutStatus) -> Rollout {
        Rollout {
            id: 7,
            stable: 1,
            candidate: 2,
            percent: 10,
            mode: RolloutMode::Live,
            guard: None,
            status,
            reason: Some("guard tripped".into()),
            started_at: Utc::now(),
            ended_at: Some(Utc::now()),
            created_by: "key_1".into(),
        }
    }

    #[test]
    fn a_rollout_end_names_who_ended_it() {
        let person = Actor {
            id: "key_1".into(),
            name: "risk team".into(),
        };
        let promoted = AuditRecord::rollout_ended(&rollout(RolloutStatus::Promoted), &person);
        assert_eq!(promoted.action, action::ROLLOUT_PROMOTE);
        assert_eq!(promoted.target, "rollout@7");
        let by_person = AuditRecord::rollout_ended(&rollout(RolloutStatus::RolledBack), &person);
        assert_eq!(by_person.action, action::ROLLOUT_ROLLBACK);
        let by_guard =
            AuditRecord::rollout_ended(&rollout(RolloutStatus::RolledBack), &Actor::system());
        assert_eq!(by_guard.action, action::ROLLOUT_AUTO_ROLLBACK);
        assert_eq!(by_guard.detail["reason"], "guard tripped");
    }

    #[test]
    fn the_model_slot_decides_the_action() {
        let stop = AuditRecord::model_assigned(ModelSlot::Shadow, None);
        assert_eq!(
            (stop.action, stop.target.as_str()),
            (action::MODEL_SHADOW_STOP, "shadow")
        );
        let on = AuditRecord::model_assigned(ModelSlot::Active, Some(3));
        assert_eq!(
            (on.action, on.target.as_str()),
            (action::MODEL_ACTIVATE, "3")
        );
    }

    #[test]
    fn every_action_is_listed_once() {
        let unique: std::collections::BTreeSet<_> = action::ALL.iter().collect();
        assert_eq!(unique.len(), action::ALL.len());
    }
}
