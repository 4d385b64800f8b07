//! Managing list entries and keeping the in-memory snapshot the pipeline reads current.

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use thiserror::Error;
use tokio::sync::Mutex;

use arbiter_engine::audit::Actor;
use arbiter_engine::lists::{ListEntry, ListKind, ListName, ListSnapshot};
use arbiter_engine::request::longer_than;
use arbiter_engine::store::{ListInsert, Store, StoreError};

use crate::services::graph::GraphService;
use crate::services::replication::ChangeSignal;
use arbiter_redis::ChangeKind;

#[derive(Debug, Error)]
pub enum ListError {
    #[error("field `{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error("field `{field}` is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    /// List card fingerprints, never card numbers.
    #[error("field `{field}` looks like a raw card number")]
    RawCardNumber { field: &'static str },
    #[error("list entry `{0}` not found")]
    NotFound(String),
    /// The list already holds a live entry for this kind and value with another reason or
    /// expiry: the caller changes it by deleting that entry first.
    #[error(
        "the {list} list already holds {kind} `{value}` as entry `{id}` with another reason or expiry; delete it first to change it"
    )]
    Exists {
        list: &'static str,
        kind: &'static str,
        value: String,
        id: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`ListService::create`] did: added the entry, or found the identical one in force.
pub struct Created {
    pub entry: ListEntry,
    /// `false` when an identical live entry was there already and nothing changed.
    pub inserted: bool,
}

/// A list entry as a caller asks for it, before validation.
pub struct NewListEntry {
    pub list: String,
    pub kind: String,
    pub value: String,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// An entity as lists and snoozes name it: its kind, and its value normalised as the matching
/// decision field is (never a raw card number).
pub fn parse_entity(kind: &str, raw: &str) -> Result<(ListKind, String), ListError> {
    let kind = ListKind::parse(kind).ok_or_else(|| {
        invalid(
            "kind",
            format!("`{kind}` is not one of user, device, ip, card, email, phone, address"),
        )
    })?;
    let max = value_limit(kind);
    if longer_than(raw, max) {
        return Err(ListError::TooLong {
            field: "value",
            max,
        });
    }
    if arbiter_engine::card_scan::contains_card_number(raw.as_bytes()) {
        return Err(ListError::RawCardNumber { field: "value" });
    }
    let value = kind.normalise(raw).ok_or_else(|| {
        invalid(
            "value",
            format!("`{raw}` is not a valid {} value", kind.as_str()),
        )
    })?;
    Ok((kind, value))
}

pub struct ListService {
    store: Arc<dyn Store>,
    snapshot: Arc<ArcSwap<ListSnapshot>>,
    /// Block-list entities are fraud marks in the link graph.
    graph: Arc<GraphService>,
    /// Serialises reloads so a slow reload can never overwrite a newer one.
    reload_lock: Mutex<()>,
    /// Fired after a change made here, so other replicas reload.
    pub changes: ChangeSignal,
}

/// A list entry's reason.
pub const MAX_REASON_CHARS: usize = 500;

/// The longest value of `kind`: that of the decision field it matches (a longer one could
/// never match; an address is matched by its hash).
fn value_limit(kind: ListKind) -> usize {
    use arbiter_engine::request as limits;
    match kind {
        ListKind::User | ListKind::Device | ListKind::Card => limits::MAX_ID_CHARS,
        ListKind::Ip => limits::MAX_IP_CHARS,
        ListKind::Email => limits::MAX_EMAIL_CHARS,
        ListKind::Phone => limits::MAX_PHONE_CHARS,
        ListKind::Address => limits::MAX_ADDRESS_CHARS,
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ListError {
    ListError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl ListService {
    pub fn new(
        store: Arc<dyn Store>,
        snapshot: Arc<ArcSwap<ListSnapshot>>,
        graph: Arc<GraphService>,
    ) -> Self {
        ListService {
            store,
            snapshot,
            graph,
            reload_lock: Mutex::new(()),
            changes: ChangeSignal::default(),
        }
    }

    /// Rebuilds the snapshot from the database and swaps it in.
    pub async fn reload(&self) -> Result<usize, StoreError> {
        let _guard = self.reload_lock.lock().await;
        let now = Utc::now();
        let entries = self.store.find_list_entries(None, None).await?;
        self.graph.sync_block_list(&entries);
        let snapshot = ListSnapshot::new(entries.into_iter().filter(|e| e.is_live(now)));
        let len = snapshot.len;
        self.snapshot.store(Arc::new(snapshot));
        Ok(len)
    }

    /// Adds an entry. Idempotent: an identical live entry (same list, kind, value, reason and
    /// expiry) is returned as it is; one that differs in reason or expiry is a conflict.
    pub async fn create(&self, new: NewListEntry, actor: &Actor) -> Result<Created, ListError> {
        let list = ListName::parse(&new.list).ok_or_else(|| {
            invalid(
                "list",
                format!("`{}` is not one of block, allow, watch", new.list),
            )
        })?;
        if longer_than(&new.reason, MAX_REASON_CHARS) {
            return Err(ListError::TooLong {
                field: "reason",
                max: MAX_REASON_CHARS,
            });
        }
        let (kind, value) = parse_entity(&new.kind, &new.value)?;
        let now = Utc::now();
        if new.expires_at.is_some_and(|t| t <= now) {
            return Err(invalid("expires_at", "must be in the future"));
        }
        let entry = ListEntry {
            id: format!("le_{}", uuid::Uuid::now_v7().simple()),
            list,
            kind,
            value,
            reason: new.reason,
            expires_at: new.expires_at,
            created_at: now,
            created_by: actor.id.clone(),
        };
        match self.store.insert_list_entry(&entry, now, actor).await? {
            ListInsert::Inserted => {}
            ListInsert::Existing(live)
                if live.reason == entry.reason && live.expires_at == entry.expires_at =>
            {
                return Ok(Created {
                    entry: live,
                    inserted: false,
                });
            }
            ListInsert::Existing(live) => {
                return Err(ListError::Exists {
                    list: live.list.as_str(),
                    kind: live.kind.as_str(),
                    value: live.value,
                    id: live.id,
                });
            }
        }
        self.reload().await?;
        self.changes.fire(ChangeKind::Lists);
        Ok(Created {
            entry,
            inserted: true,
        })
    }

    /// Entries by kind and raw value (normalised here exactly as on create).
    pub async fn find(
        &self,
        kind: Option<&str>,
        value: Option<&str>,
    ) -> Result<Vec<ListEntry>, ListError> {
        let kind = match kind {
            Some(k) => Some(
                ListKind::parse(k).ok_or_else(|| invalid("kind", format!("unknown kind `{k}`")))?,
            ),
            None => None,
        };
        let value = match (kind, value) {
            (Some(k), Some(v)) => Some(k.normalise(v).unwrap_or_default()),
            (None, Some(_)) => return Err(invalid("value", "filtering by value needs `kind`")),
            (_, None) => None,
        };
        Ok(self.store.find_list_entries(kind, value.as_deref()).await?)
    }

    /// Reloads after entries changed outside this service (a person's erasure deleted
    /// theirs) and tells the other replicas.
    pub async fn changed(&self) -> Result<(), StoreError> {
        self.reload().await?;
        self.changes.fire(ChangeKind::Lists);
        Ok(())
    }

    pub async fn delete(&self, id: &str, actor: &Actor) -> Result<(), ListError> {
        if !self.store.delete_list_entry(id, actor).await? {
            return Err(ListError::NotFound(id.to_owned()));
        }
        self.reload().await?;
        self.changes.fire(ChangeKind::Lists);
        Ok(())
    }
}
