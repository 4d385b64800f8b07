//! The storage contract the engine needs. `arbiter-storage` implements it once for SQLite and
//! once for PostgreSQL; the engine never sees SQL.

use async_trait::async_trait;
use thiserror::Error;

use crate::decision::Decision;
use crate::keys::ApiKey;
use crate::lists::{ListEntry, ListKind};
use crate::policy_set::{ModuleRef, PolicySet, Thresholds, Weights};

#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// The database cannot be reached; the caller should retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
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
}

#[async_trait]
pub trait ListStore: Send + Sync + 'static {
    async fn insert_list_entry(&self, entry: &ListEntry) -> Result<(), StoreError>;
    /// Entries filtered by kind and normalised value (either may be absent), newest first.
    async fn find_list_entries(
        &self,
        kind: Option<ListKind>,
        value: Option<&str>,
    ) -> Result<Vec<ListEntry>, StoreError>;
    /// `true` when an entry was deleted.
    async fn delete_list_entry(&self, id: &str) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    async fn insert_key(&self, key: &ApiKey) -> Result<(), StoreError>;
    async fn all_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
}

#[async_trait]
pub trait PolicySetStore: Send + Sync + 'static {
    /// Stores a new set under the next version number and returns it.
    async fn insert_policy_set(
        &self,
        thresholds: Thresholds,
        weights: Weights,
        policies: &[ModuleRef],
    ) -> Result<PolicySet, StoreError>;
    async fn get_policy_set(&self, version: i64) -> Result<Option<PolicySet>, StoreError>;
    /// The version serving traffic, if one was ever activated.
    async fn active_policy_set(&self) -> Result<Option<i64>, StoreError>;
    async fn set_active_policy_set(&self, version: i64) -> Result<(), StoreError>;
}

#[async_trait]
pub trait Health: Send + Sync + 'static {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Everything one backend provides.
pub trait Store: DecisionStore + ListStore + KeyStore + PolicySetStore + Health {}

impl<T: DecisionStore + ListStore + KeyStore + PolicySetStore + Health> Store for T {}
