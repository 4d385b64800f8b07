//! Rule snoozes: silencing one rule for one entity for a while, listing and revoking them,
//! and keeping the snapshot the pipeline reads current (here and, through the change signal,
//! on every replica). A snooze names a rule that exists, an entity as lists name one, a
//! reason and a duration of at most a year; each change is audited.

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{Duration, Utc};
use thiserror::Error;
use tokio::sync::Mutex;

use arbiter_engine::audit::Actor;
use arbiter_engine::request::longer_than;
use arbiter_engine::snooze::{MAX_SNOOZE_DAYS, RuleSnooze, SnoozeSnapshot};
use arbiter_engine::store::{SnoozeFilter, Store, StoreError};
use arbiter_redis::ChangeKind;

use crate::services::lists::{ListError, parse_entity};
use crate::services::replication::ChangeSignal;

/// The most live snoozes loaded into the pipeline's snapshot (and the most one listing
/// shows); past it, [`SnoozeService::create`] refuses new ones.
pub const MAX_LOADED: u32 = 10_000;
/// A snooze's reason.
pub const MAX_REASON_CHARS: usize = 500;
/// How long a snooze lasts when the caller does not say.
pub const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Error)]
pub enum SnoozeError {
    #[error("field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The entity's kind or value is not one lists and snoozes take.
    #[error(transparent)]
    Entity(#[from] ListError),
    #[error("snooze `{0}` not found")]
    NotFound(String),
    #[error("{MAX_LOADED} snoozes are in force; revoke some before adding more")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> SnoozeError {
    SnoozeError::Invalid {
        field,
        message: message.into(),
    }
}

/// A snooze as a caller asks for it, before validation.
pub struct NewSnooze {
    pub rule: String,
    pub kind: String,
    pub value: String,
    pub reason: String,
    /// 1 to 365; [`DEFAULT_DAYS`] when `None`.
    pub days: Option<i64>,
}

pub struct SnoozeService {
    store: Arc<dyn Store>,
    snapshot: Arc<ArcSwap<SnoozeSnapshot>>,
    /// Serialises reloads so a slow reload can never overwrite a newer one.
    reload_lock: Mutex<()>,
    /// Fired after a change made here, so other replicas reload.
    pub changes: ChangeSignal,
}

impl SnoozeService {
    pub fn new(store: Arc<dyn Store>) -> SnoozeService {
        SnoozeService {
            store,
            snapshot: Arc::default(),
            reload_lock: Mutex::new(()),
            changes: ChangeSignal::default(),
        }
    }

    /// The slot the pipeline reads.
    pub fn slot(&self) -> Arc<ArcSwap<SnoozeSnapshot>> {
        self.snapshot.clone()
    }

    /// Loads the snoozes in force into the snapshot; returns how many.
    pub async fn reload(&self) -> Result<usize, StoreError> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let live = self.live().await?;
        let snapshot = SnoozeSnapshot::new(live);
        let len = snapshot.len;
        self.snapshot.store(Arc::new(snapshot));
        Ok(len)
    }

    async fn live(&self) -> Result<Vec<RuleSnooze>, StoreError> {
        let filter = SnoozeFilter {
            live_at: Some(Utc::now()),
            ..SnoozeFilter::default()
        };
        self.store.list_snoozes(&filter, MAX_LOADED).await
    }

    /// Silences `rule` for the entity until the snooze expires.
    pub async fn create(&self, new: NewSnooze, actor: &Actor) -> Result<RuleSnooze, SnoozeError> {
        let rule = new.rule.trim();
        if rule.is_empty() || self.store.list_module_versions(rule).await?.is_empty() {
            return Err(invalid(
                "rule",
                format!("`{rule}` is not a stored policy module or rule file"),
            ));
        }
        let (kind, value) = parse_entity(&new.kind, &new.value)?;
        let reason = new.reason.trim();
        if reason.is_empty() {
            return Err(invalid("reason", "say why the rule is snoozed"));
        }
        if longer_than(&new.reason, MAX_REASON_CHARS) {
            return Err(invalid(
                "reason",
                format!("longer than {MAX_REASON_CHARS} characters"),
            ));
        }
        let days = new.days.unwrap_or(DEFAULT_DAYS);
        if !(1..=MAX_SNOOZE_DAYS).contains(&days) {
            return Err(invalid(
                "days",
                format!("a snooze lasts 1 to {MAX_SNOOZE_DAYS} days"),
            ));
        }
        if self.snapshot.load().len >= MAX_LOADED as usize {
            return Err(SnoozeError::TooMany);
        }
        let now = Utc::now();
        let snooze = RuleSnooze {
            id: RuleSnooze::generate_id(),
            rule: rule.to_owned(),
            kind,
            value,
            reason: reason.to_owned(),
            expires_at: now + Duration::days(days),
            created_at: now,
            created_by: actor.id.clone(),
            created_by_name: actor.name.clone(),
            revoked_at: None,
        };
        self.store.insert_snooze(&snooze, actor).await?;
        self.changed().await?;
        Ok(snooze)
    }

    /// Snoozes, newest first: in force only (`all` false) or every one ever made.
    pub async fn list(
        &self,
        mut filter: SnoozeFilter,
        all: bool,
        limit: u32,
    ) -> Result<Vec<RuleSnooze>, SnoozeError> {
        if let (Some(kind), Some(raw)) = (filter.kind, filter.value.as_deref()) {
            // A value that is no entity of the kind names no snooze: nothing matches it.
            let Ok((_, value)) = parse_entity(kind.as_str(), raw) else {
                return Ok(Vec::new());
            };
            filter.value = Some(value);
        }
        filter.live_at = (!all).then(Utc::now);
        Ok(self.store.list_snoozes(&filter, limit).await?)
    }

    /// Ends a snooze now; revoking one already revoked changes nothing.
    pub async fn revoke(&self, id: &str, actor: &Actor) -> Result<RuleSnooze, SnoozeError> {
        if self.store.get_snooze(id).await?.is_none() {
            return Err(SnoozeError::NotFound(id.to_owned()));
        }
        if self.store.revoke_snooze(id, actor, Utc::now()).await? {
            self.changed().await?;
        }
        self.store
            .get_snooze(id)
            .await?
            .ok_or_else(|| SnoozeError::NotFound(id.to_owned()))
    }

    /// Reloads after snoozes changed (here, or by a person's erasure) and tells the other
    /// replicas.
    pub async fn changed(&self) -> Result<(), StoreError> {
        self.reload().await?;
        self.changes.fire(ChangeKind::Snoozes);
        Ok(())
    }
}
