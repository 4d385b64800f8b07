//! Row types: what a query reads and writes, kept apart from the domain types (which carry no
//! sqlx derives). Read rows are generic over the timestamp column type — RFC 3339 text on
//! SQLite, `TIMESTAMPTZ` on PostgreSQL — so one conversion serves both backends.

use arbiter_engine::Decision;
use arbiter_engine::action::Action;
use arbiter_engine::audit::AuditEntry;
use arbiter_engine::backtest::replay::fired;
use arbiter_engine::feedback::reason_codes_column;
use arbiter_engine::keys::ApiKey;
use arbiter_engine::lists::ListEntry;
use arbiter_engine::policy_set::PolicySet;
use arbiter_engine::registry::{ModuleKind, PolicyModule, Rollout, StoredModule};
use arbiter_engine::store::StoreError;
use chrono::{DateTime, Utc};

use crate::columns::{
    from_json, parse_list_kind, parse_list_name, parse_rollout_mode, parse_rollout_status,
    parse_scopes, parse_timestamp,
};
use crate::stored_decision::{self, Packed};

/// A timestamp column as the backend returns it.
pub(crate) trait StoredTime {
    fn into_utc(self) -> Result<DateTime<Utc>, StoreError>;
}

impl StoredTime for String {
    fn into_utc(self) -> Result<DateTime<Utc>, StoreError> {
        parse_timestamp(&self)
    }
}

impl StoredTime for DateTime<Utc> {
    fn into_utc(self) -> Result<DateTime<Utc>, StoreError> {
        Ok(self)
    }
}

/// The columns of one `decisions` row: the indexed ones, copies of the decision's fields, and
/// the decision itself encoded (`stored_decision`), which is what a read returns.
pub(crate) struct DecisionInsert {
    pub decision_id: String,
    pub request_id: String,
    pub body_hash: String,
    pub event: &'static str,
    pub action: &'static str,
    pub score: f64,
    pub policy_set_version: i64,
    pub model_version: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub packed: Packed,
    /// Copies for label lookups and reports.
    pub order_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// The shadow candidate's set version, action, score and fired modules (comma-joined).
    pub shadow_version: Option<i64>,
    pub shadow_action: Option<&'static str>,
    pub shadow_score: Option<f64>,
    pub shadow_hits: Option<String>,
    /// Every layer's reason codes, for the review a challenge opens (`reason_codes_column`);
    /// empty for the decisions that open none, which are most and pay nothing for it.
    pub reason_codes: String,
    /// The outbox rows it writes once stored (decision events; empty while they are off).
    pub events: Vec<arbiter_transactions::change::OutboxMessage>,
}

impl DecisionInsert {
    pub fn new(d: &Decision) -> Result<DecisionInsert, StoreError> {
        Ok(DecisionInsert {
            decision_id: d.decision_id.0.clone(),
            request_id: d.request_id.clone(),
            body_hash: d.body_hash.clone(),
            event: d.context.checkpoint.as_str(),
            action: d.action.as_str(),
            score: d.score,
            policy_set_version: d.policy_set_version,
            model_version: d.model_version,
            created_at: d.created_at,
            packed: stored_decision::pack(d)?,
            order_id: d.context.order_id.clone(),
            amount_minor: d.context.amount.as_ref().map(|a| a.minor_units),
            currency: d.context.amount.as_ref().map(|a| a.currency.clone()),
            shadow_version: d.shadow.as_ref().map(|s| s.policy_set_version),
            shadow_action: d.shadow.as_ref().map(|s| s.action.as_str()),
            shadow_score: d.shadow.as_ref().map(|s| s.score),
            shadow_hits: d.shadow.as_ref().map(|s| fired(&s.rules).join(",")),
            reason_codes: if d.action == Action::Challenge {
                reason_codes_column(d.reasons.iter().map(|r| r.code.as_str()))
            } else {
                String::new()
            },
            events: Vec::new(),
        })
    }

    /// A challenged decision opens a review in the same transaction.
    pub fn opens_review(&self) -> bool {
        self.action == "challenge"
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ListEntryRow<T> {
    id: String,
    list: String,
    kind: String,
    value: String,
    reason: String,
    expires_at: Option<T>,
    created_at: T,
    created_by: String,
}

impl<T: StoredTime> ListEntryRow<T> {
    pub fn into_entry(self) -> Result<ListEntry, StoreError> {
        Ok(ListEntry {
            id: self.id,
            list: parse_list_name(&self.list)?,
            kind: parse_list_kind(&self.kind)?,
            value: self.value,
            reason: self.reason,
            expires_at: self.expires_at.map(StoredTime::into_utc).transpose()?,
            created_at: self.created_at.into_utc()?,
            created_by: self.created_by,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow<T> {
    id: String,
    name: String,
    hash: String,
    scopes: String,
    created_by: String,
    created_at: T,
    expires_at: Option<T>,
    last_used_at: Option<T>,
    revoked_at: Option<T>,
}

impl<T: StoredTime> KeyRow<T> {
    pub fn into_key(self) -> Result<ApiKey, StoreError> {
        let optional = |t: Option<T>| t.map(StoredTime::into_utc).transpose();
        Ok(ApiKey {
            id: self.id,
            name: self.name,
            hash: self.hash,
            scopes: parse_scopes(&self.scopes)?,
            created_by: self.created_by,
            created_at: self.created_at.into_utc()?,
            expires_at: optional(self.expires_at)?,
            last_used_at: optional(self.last_used_at)?,
            revoked_at: optional(self.revoked_at)?,
        })
    }
}

/// JSON columns read as text (PostgreSQL selects them with `::text`).
#[derive(sqlx::FromRow)]
pub(crate) struct PolicySetRow {
    version: i64,
    thresholds: String,
    weights: String,
    policies: String,
}

impl PolicySetRow {
    pub fn into_policy_set(self) -> Result<PolicySet, StoreError> {
        Ok(PolicySet {
            version: self.version,
            thresholds: from_json(&self.thresholds, "policy set thresholds")?,
            weights: from_json(&self.weights, "policy set weights")?,
            policies: from_json(&self.policies, "policy set modules")?,
        })
    }
}

/// A module version without its bytes: [`module_columns!`].
#[derive(sqlx::FromRow)]
pub(crate) struct ModuleRow<T> {
    name: String,
    version: i64,
    sha256: String,
    size_bytes: i64,
    created_at: T,
    created_by: String,
    from_rules: bool,
}

/// The columns of a [`ModuleRow`], the same in both dialects; a macro so that statements stay
/// `concat!`-ed static strings.
macro_rules! module_columns {
    () => {
        "name, version, sha256, size_bytes, created_at, created_by, \
         source IS NOT NULL AS from_rules"
    };
}
pub(crate) use module_columns;

impl<T: StoredTime> ModuleRow<T> {
    pub fn into_module(self) -> Result<PolicyModule, StoreError> {
        Ok(PolicyModule {
            name: self.name,
            version: self.version,
            sha256: self.sha256,
            size_bytes: self.size_bytes,
            created_at: self.created_at.into_utc()?,
            created_by: self.created_by,
            kind: if self.from_rules {
                ModuleKind::Rules
            } else {
                ModuleKind::Wasm
            },
        })
    }
}

/// A module version with its bytes: [`module_columns!`], `wasm, precompiled, source`.
#[derive(sqlx::FromRow)]
pub(crate) struct StoredModuleRow<T> {
    name: String,
    version: i64,
    sha256: String,
    size_bytes: i64,
    created_at: T,
    created_by: String,
    from_rules: bool,
    wasm: Vec<u8>,
    precompiled: Vec<u8>,
    source: Option<String>,
}

impl<T: StoredTime> StoredModuleRow<T> {
    pub fn into_stored(self) -> Result<StoredModule, StoreError> {
        let module = ModuleRow {
            name: self.name,
            version: self.version,
            sha256: self.sha256,
            size_bytes: self.size_bytes,
            created_at: self.created_at,
            created_by: self.created_by,
            from_rules: self.from_rules,
        }
        .into_module()?;
        Ok(StoredModule {
            module,
            wasm: self.wasm,
            precompiled: self.precompiled,
            source: self.source,
        })
    }
}

/// One `rollouts` row; `guard` is JSON text (PostgreSQL selects it with `::text`).
#[derive(sqlx::FromRow)]
pub(crate) struct RolloutRow<T> {
    id: i64,
    stable: i64,
    candidate: i64,
    percent: i32,
    mode: String,
    guard: Option<String>,
    status: String,
    reason: Option<String>,
    started_at: T,
    ended_at: Option<T>,
    created_by: String,
}

impl<T: StoredTime> RolloutRow<T> {
    pub fn into_rollout(self) -> Result<Rollout, StoreError> {
        Ok(Rollout {
            id: self.id,
            stable: self.stable,
            candidate: self.candidate,
            percent: u8::try_from(self.percent)
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("rollout percent `{}`", self.percent))
                })?,
            mode: parse_rollout_mode(&self.mode)?,
            guard: self
                .guard
                .map(|g| from_json(&g, "rollout guard"))
                .transpose()?,
            status: parse_rollout_status(&self.status)?,
            reason: self.reason,
            started_at: self.started_at.into_utc()?,
            ended_at: self.ended_at.map(StoredTime::into_utc).transpose()?,
            created_by: self.created_by,
        })
    }
}

/// One `audit_log` row; `detail` is JSON text (PostgreSQL selects it with `::text`).
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow<T> {
    id: i64,
    at: T,
    actor: String,
    actor_id: String,
    action: String,
    target: String,
    detail: String,
}

impl<T: StoredTime> AuditRow<T> {
    pub fn into_entry(self) -> Result<AuditEntry, StoreError> {
        Ok(AuditEntry {
            id: self.id,
            at: self.at.into_utc()?,
            actor: self.actor,
            actor_id: self.actor_id,
            action: self.action,
            target: self.target,
            detail: from_json(&self.detail, "audit detail")?,
        })
    }
}
