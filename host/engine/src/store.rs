//! The storage contract the engine needs. `arbiter-storage` implements it once for SQLite and
//! once for PostgreSQL; the engine never sees SQL. Every method that changes something an
//! operator is accountable for takes the [`Actor`] and writes the change's audit entry in
//! the change's own transaction ([`crate::audit`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::audit::{Actor, AuditEntry, AuditFilter};
use crate::backtest::BacktestStore;
use crate::decision::Decision;
use crate::feedback::FeedbackStore;
use crate::graph_feed::GraphFeed;
use crate::keys::ApiKey;
use crate::lists::{ListEntry, ListKind};
use crate::money::{RateTableWire, reporting::StoredRateTable};
use crate::policy_set::{Approval, ModuleRef, PolicySet, Thresholds, Weights};
use crate::registry::{Guard, PolicyModule, Rollout, RolloutMode, RolloutStatus, StoredModule};
use crate::session::ConsoleSession;
use crate::snooze::RuleSnooze;
use crate::usual::EntityHistoryStore;

#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// The database cannot be reached; the caller should retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
    /// A bounded write queue is full: nothing was written; the caller should retry shortly.
    #[error("storage is overloaded: {0}")]
    Overloaded(String),
}

/// The result of appending one decision.
#[derive(Debug, Clone, PartialEq)]
pub enum AppendOutcome {
    /// Written.
    Inserted,
    /// A decision with the same `request_id` was already stored; here it is.
    Existing(Box<Decision>),
}

#[async_trait]
pub trait DecisionStore: Send + Sync + 'static {
    /// Writes a batch in one transaction: all of it is durable when this returns `Ok`.
    /// One outcome per input, in order; a duplicate `request_id` is not an error.
    async fn insert_decisions(&self, batch: &[Decision]) -> Result<Vec<AppendOutcome>, StoreError>;
    async fn get_decision(&self, decision_id: &str) -> Result<Option<Decision>, StoreError>;
    async fn get_decision_by_request_id(
        &self,
        request_id: &str,
    ) -> Result<Option<Decision>, StoreError>;
    async fn count_decisions(&self) -> Result<u64, StoreError>;
    /// Decisions made at or after `since`, in decision-id (time) order, after `after_id`, at
    /// most `limit`: pages for rebuilding in-memory state (the link graph) at start.
    async fn decisions_page(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Decision>, StoreError>;
    /// The same pages as [`DecisionStore::decisions_page`], projected to the entities each
    /// decision names: what the link graph rebuilds from at start. Backends read the few
    /// fields from the stored body instead of decoding the whole decision (reasons, layer
    /// results), which is most of a rebuild's time. The default decodes whole pages.
    async fn decision_entities_page(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DecisionEntities>, StoreError> {
        let page = self.decisions_page(since, after_id, limit).await?;
        Ok(page.iter().map(DecisionEntities::of).collect())
    }

    /// The feed other replicas follow, where the backend can hold several replicas
    /// ([`crate::graph_feed`]); `None` for a database only one process uses.
    fn graph_feed(&self) -> Option<&dyn GraphFeed> {
        None
    }
}

/// The entities one stored decision names (the link graph's input), with its id (the page
/// cursor) and instant. Values are as the enriched context holds them, already normalised.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DecisionEntities {
    pub decision_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub user_id: String,
    pub device_id: Option<String>,
    pub card_fingerprint: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub shipping_address_hash: Option<String>,
    pub ip: Option<String>,
}

impl DecisionEntities {
    /// The projection of a whole decision.
    pub fn of(d: &Decision) -> DecisionEntities {
        let c = &d.context;
        DecisionEntities {
            decision_id: d.decision_id.0.clone(),
            created_at: d.created_at,
            user_id: c.user_id.clone(),
            device_id: c.device_id.clone(),
            card_fingerprint: c.card_fingerprint.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            shipping_address_hash: c.shipping_address_hash.clone(),
            ip: c.ip.clone(),
        }
    }
}

/// What inserting a list entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListInsert {
    Inserted,
    /// A live entry for the same list, kind and value was there already; nothing was written.
    Existing(ListEntry),
}

#[async_trait]
pub trait ListStore: Send + Sync + 'static {
    /// Inserts `entry` unless the same list already holds a live entry for the same kind and
    /// value, which is returned instead (one row per identity, so deleting it lifts it); an
    /// expired twin is replaced. `now` decides what is expired.
    async fn insert_list_entry(
        &self,
        entry: &ListEntry,
        now: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<ListInsert, StoreError>;
    /// Entries filtered by kind and normalised value (either may be absent), newest first.
    async fn find_list_entries(
        &self,
        kind: Option<ListKind>,
        value: Option<&str>,
    ) -> Result<Vec<ListEntry>, StoreError>;
    /// `true` when an entry was deleted.
    async fn delete_list_entry(&self, id: &str, actor: &Actor) -> Result<bool, StoreError>;
}

/// What revoking a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRevocation {
    /// Revoked now; the key as stored after it.
    Revoked(ApiKey),
    /// Revoked before (its `revoked_at` is the first revocation's); nothing was written.
    AlreadyRevoked(ApiKey),
}

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Stores a minted key; `actor` is who minted it (the key's `created_by`).
    async fn insert_key(&self, key: &ApiKey, actor: &Actor) -> Result<(), StoreError>;
    /// Every key, revoked and expired ones included, oldest first.
    async fn all_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// Sets the key's `revoked_at` to `at` unless it is set already. `None`: no such key.
    async fn revoke_key(
        &self,
        id: &str,
        at: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Option<KeyRevocation>, StoreError>;
    /// Moves each named key's `last_used_at` forward to the time given (never back, so
    /// replicas flushing out of order keep the latest), in one transaction. Unknown ids are
    /// skipped.
    async fn record_key_uses(&self, uses: &[(String, DateTime<Utc>)]) -> Result<(), StoreError>;
}

#[async_trait]
pub trait PolicySetStore: Send + Sync + 'static {
    /// Stores a new set under the next version number and returns it.
    async fn insert_policy_set(
        &self,
        thresholds: Thresholds,
        weights: Weights,
        policies: &[ModuleRef],
        actor: &Actor,
    ) -> Result<PolicySet, StoreError>;
    async fn get_policy_set(&self, version: i64) -> Result<Option<PolicySet>, StoreError>;
    /// Up to `limit` versions below `before` (all when `None`), newest first.
    async fn list_policy_sets(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PolicySet>, StoreError>;
    /// The version serving traffic, if one was ever activated.
    async fn active_policy_set(&self) -> Result<Option<i64>, StoreError>;
    async fn set_active_policy_set(&self, version: i64, actor: &Actor) -> Result<(), StoreError>;
    /// Records `approval` (audited); `false` when that key had approved that version already
    /// (nothing changes).
    async fn approve_policy_set(
        &self,
        approval: &Approval,
        actor: &Actor,
    ) -> Result<bool, StoreError>;
    /// The approvals of a version, oldest first.
    async fn policy_set_approvals(&self, version: i64) -> Result<Vec<Approval>, StoreError>;
}

/// Exchange-rate tables into the reporting currency, versioned 1, 2, 3, …; the newest is in
/// force.
#[async_trait]
pub trait RateStore: Send + Sync + 'static {
    /// Stores `table` as the next version, audited, and returns it as stored.
    async fn insert_rate_table(
        &self,
        table: &RateTableWire,
        actor: &Actor,
    ) -> Result<StoredRateTable, StoreError>;
    /// The newest table; `None` when none was ever set.
    async fn current_rate_table(&self) -> Result<Option<StoredRateTable>, StoreError>;
}

/// Which snoozes a listing shows; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnoozeFilter {
    pub kind: Option<ListKind>,
    /// A normalised value (with `kind`).
    pub value: Option<String>,
    pub rule: Option<String>,
    /// Only snoozes in force at this instant (neither revoked nor expired).
    pub live_at: Option<DateTime<Utc>>,
}

/// Rule snoozes: one rule silenced for one entity until an expiry, revocable.
#[async_trait]
pub trait SnoozeStore: Send + Sync + 'static {
    /// Stores `snooze` with its audit entry.
    async fn insert_snooze(&self, snooze: &RuleSnooze, actor: &Actor) -> Result<(), StoreError>;
    /// Newest first, at most `limit`.
    async fn list_snoozes(
        &self,
        filter: &SnoozeFilter,
        limit: u32,
    ) -> Result<Vec<RuleSnooze>, StoreError>;
    async fn get_snooze(&self, id: &str) -> Result<Option<RuleSnooze>, StoreError>;
    /// Revokes a snooze not yet revoked, with its audit entry; `false` when it was already
    /// revoked (or does not exist).
    async fn revoke_snooze(
        &self,
        id: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Reviewer console sessions.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session (and drops those a day past their expiry).
    async fn insert_session(&self, session: &ConsoleSession) -> Result<(), StoreError>;
    /// The session whose cookie secret hashes to `id_hash`.
    async fn get_session(&self, id_hash: &str) -> Result<Option<ConsoleSession>, StoreError>;
    /// Ends a session; `false` when it had ended already or does not exist.
    async fn end_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait Health: Send + Sync + 'static {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Everything one backend provides.
pub trait Store:
    DecisionStore
    + ListStore
    + KeyStore
    + PolicySetStore
    + PolicyModuleStore
    + RolloutStore
    + AuditStore
    + FeedbackStore
    + BacktestStore
    + RateStore
    + SnoozeStore
    + SessionStore
    + EntityHistoryStore
    + crate::erasure::ErasureStore
    + crate::retention::RetentionStore
    + Health
{
}

impl<
    T: DecisionStore
        + ListStore
        + KeyStore
        + PolicySetStore
        + PolicyModuleStore
        + RolloutStore
        + AuditStore
        + FeedbackStore
        + BacktestStore
        + RateStore
        + SnoozeStore
        + SessionStore
        + EntityHistoryStore
        + crate::erasure::ErasureStore
        + crate::retention::RetentionStore
        + Health,
> Store for T
{
}

/// The result of storing a module's bytes under a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleInsert {
    /// Stored under the next version for its name.
    Created(PolicyModule),
    /// The same bytes (same SHA-256) were already stored under this name; nothing was written.
    Existing(PolicyModule),
}

impl ModuleInsert {
    /// The stored version, new or not.
    pub fn module(&self) -> &PolicyModule {
        match self {
            ModuleInsert::Created(m) | ModuleInsert::Existing(m) => m,
        }
    }
}

#[async_trait]
pub trait PolicyModuleStore: Send + Sync + 'static {
    /// Stores module bytes under `name`: the next version for that name (1, 2, 3, … with no
    /// gap, whatever the concurrency), or the existing version when the same `sha256` is
    /// already stored under `name`. The caller has validated the bytes and computed `sha256`
    /// (lowercase hex) and `size_bytes` from `wasm`; `precompiled` is the runtime's serialized
    /// compilation of it; `source` is the rule file it was compiled from, if it was.
    #[expect(clippy::too_many_arguments, reason = "one row's columns")]
    async fn insert_module(
        &self,
        name: &str,
        sha256: &str,
        size_bytes: i64,
        wasm: &[u8],
        precompiled: &[u8],
        source: Option<&str>,
        actor: &Actor,
    ) -> Result<ModuleInsert, StoreError>;
    /// One version with its bytes.
    async fn get_module(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<StoredModule>, StoreError>;
    /// Every version of every module, without bytes, ordered by name then version.
    async fn list_modules(&self) -> Result<Vec<PolicyModule>, StoreError>;
    /// The versions of one module, without bytes, oldest first; empty for an unknown name.
    async fn list_module_versions(&self, name: &str) -> Result<Vec<PolicyModule>, StoreError>;
}

/// The result of asking to start a rollout. Another active rollout is an expected answer (the
/// HTTP edge turns it into a 409 naming it), not a store failure, so it is a value here rather
/// than a [`StoreError`].
#[derive(Debug, Clone, PartialEq)]
pub enum RolloutStart {
    /// Stored as the one active rollout.
    Started(Rollout),
    /// Nothing was written: this rollout is active and must end first.
    AlreadyActive(Rollout),
}

#[async_trait]
pub trait RolloutStore: Send + Sync + 'static {
    /// Starts a rollout of `candidate` against `stable` (the caller passes the active policy
    /// set version), unless one is already active. Both versions must exist: naming a missing
    /// one is a [`StoreError::Backend`] that names it. `percent` above 100 is refused the same
    /// way.
    async fn start_rollout(
        &self,
        stable: i64,
        candidate: i64,
        percent: u8,
        mode: RolloutMode,
        guard: Option<Guard>,
        actor: &Actor,
    ) -> Result<RolloutStart, StoreError>;
    /// The active rollout, if any.
    async fn current_rollout(&self) -> Result<Option<Rollout>, StoreError>;
    /// Turns active shadow rollout `id` live for `percent` of users (audited, in the same
    /// transaction). `None` when `id` is not an active shadow rollout (ended, or live
    /// already), so two callers racing turn it live once.
    async fn go_live(
        &self,
        id: i64,
        percent: u8,
        actor: &Actor,
    ) -> Result<Option<Rollout>, StoreError>;
    /// Ends rollout `id` as [`RolloutStatus::Promoted`] (the candidate becomes the active
    /// policy set, in the same transaction) or [`RolloutStatus::RolledBack`] (the active set
    /// is left alone), recording `reason`. Only an active rollout ends: `None` when `id` is
    /// unknown or already ended, so replicas racing to end the same rollout end it once and
    /// exactly one of them gets `Some`. Ending as `Active` is a [`StoreError::Backend`].
    async fn end_rollout(
        &self,
        id: i64,
        status: RolloutStatus,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<Option<Rollout>, StoreError>;
}

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// At most `limit` entries matching `filter`, newest first. There is no way to append
    /// here: each change's store method writes its own entry in its own transaction.
    async fn list_audit(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}
