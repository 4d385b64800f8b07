//! Erasing a person: the store replaces their identifiers by pseudonyms in every stored
//! record and deletes the list entries and snoozes naming them (`ErasureStore`); then this
//! replica forgets them in memory — the lists and snoozes reloaded (and the other replicas
//! told), each entity renamed in the link graph, the chain heads and the mark book, their
//! velocity counters deleted — so their next decision starts fresh.
//!
//! What an erasure covers is what was stored when it ran: a decision about the person made
//! while it runs may keep their identifiers (run it again afterwards to catch it). Replicas
//! sharing a PostgreSQL database (with `--redis-url`) reload lists and snoozes at once, and
//! follow the erasure itself ([`ErasureService::follow`]): its audit entry names the person's
//! entities by pseudonym only, so each replica makes the pseudonym of every entity in its own
//! link graph under the shared key and renames those that match (chain heads and mark book
//! with them), and deletes their in-process velocity counters. A missed notification is caught
//! by the version check within two seconds.
//!
//! The key: `ARBITER_ERASURE_KEY`, or `<data-dir>/erasure.key` generated on first start.
//! Replicas that share a database must share it (a pseudonym made under another key does
//! not link to the first).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arbiter_engine::audit::Actor;
use arbiter_engine::erasure::{ErasureKey, Pseudonyms, Subject, SubjectKind};
use arbiter_engine::lists::ListKind;
use arbiter_engine::store::StoreError;
use arbiter_engine::velocity::{VelocityKind, VelocityStore};
use arbiter_redis::ChangeKind;
use arbiter_transactions::TxError;
use arbiter_transactions::store::TransactionStore;
use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

use crate::app_state::Services;
use crate::services::replication::ChangeSignal;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "erasure.key";

#[derive(Debug, Error)]
pub enum ErasureError {
    #[error("field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transactions(#[from] TxError),
}

/// What an erasure did. No identifier of the person is in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureReport {
    /// The pseudonym of the identifier the person was named by (the audit entry's target).
    pub subject: String,
    /// How many identifiers of each kind the person's records held (user, email, phone,
    /// device, ip, card, address).
    pub identifiers: BTreeMap<String, usize>,
    /// Rows rewritten per stored column (`table.column`).
    pub rewritten: BTreeMap<String, u64>,
    pub list_entries_removed: u64,
    pub snoozes_removed: u64,
    /// Entities this replica's link graph knew and now names by pseudonym.
    pub graph_entities_renamed: u64,
    /// Whether every velocity counter of theirs was deleted (false when Redis was
    /// unreachable: the counters then expire within a day).
    pub velocity_forgotten: bool,
}

/// The erasure key, the velocity store erasures delete counters from, and the transaction
/// core's store exports read orders from.
pub struct ErasureService {
    key: ErasureKey,
    velocity: Arc<dyn VelocityStore>,
    transactions: Arc<dyn TransactionStore>,
    /// One erasure or export at a time: each reads whole tables, and two at once would only
    /// take twice the I/O from the decisions beside them.
    running: tokio::sync::Mutex<()>,
    /// Fired after an erasure here, so the other replicas follow it.
    pub changes: ChangeSignal,
    /// The audit id of the last erasure this replica's memory reflects (its graph was built
    /// from records erased up to the newest at start).
    followed: AtomicI64,
}

/// Erasures read per page when following.
const FOLLOW_PAGE: u32 = 100;

fn velocity_kind(kind: ListKind) -> Option<VelocityKind> {
    match kind {
        ListKind::User => Some(VelocityKind::User),
        ListKind::Device => Some(VelocityKind::Device),
        ListKind::Card => Some(VelocityKind::Card),
        ListKind::Ip => Some(VelocityKind::Ip),
        ListKind::Email => Some(VelocityKind::Email),
        ListKind::Phone | ListKind::Address => None,
    }
}

/// The erasure key: `ARBITER_ERASURE_KEY` when set, else the data directory's file
/// (generated on first start).
pub fn load_key(data_dir: &Path) -> anyhow::Result<ErasureKey> {
    let secret = match std::env::var("ARBITER_ERASURE_KEY") {
        Ok(v) if !v.trim().is_empty() => v.trim().as_bytes().to_vec(),
        _ => crate::private_file::read_or_generate_secret(
            &data_dir.join(KEY_FILE),
            "the erasure key",
            "",
        )?,
    };
    ErasureKey::new(secret).ok_or_else(|| {
        anyhow::anyhow!(
            "the erasure key must be at least {} bytes",
            ErasureKey::MIN_BYTES
        )
    })
}

/// The subject a request names: exactly one of `user_id`, `email`, `phone`.
pub fn subject_of(
    user_id: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Subject, ErasureError> {
    let given: Vec<(SubjectKind, &str)> = [
        (SubjectKind::UserId, user_id),
        (SubjectKind::Email, email),
        (SubjectKind::Phone, phone),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let [(kind, raw)] = given[..] else {
        return Err(ErasureError::Invalid {
            field: "user_id",
            message: "name the person by exactly one of `user_id`, `email` or `phone`".into(),
        });
    };
    let max = match kind {
        SubjectKind::UserId => 256,
        SubjectKind::Email => 320,
        SubjectKind::Phone => 64,
    };
    if raw.is_empty() || arbiter_engine::request::longer_than(raw, max) {
        return Err(ErasureError::Invalid {
            field: kind.as_str(),
            message: format!("must be 1 to {max} characters"),
        });
    }
    Subject::new(kind, raw).ok_or_else(|| ErasureError::Invalid {
        field: kind.as_str(),
        message: "is empty once normalised".into(),
    })
}

impl ErasureService {
    pub fn new(
        key: ErasureKey,
        velocity: Arc<dyn VelocityStore>,
        transactions: Arc<dyn TransactionStore>,
    ) -> ErasureService {
        ErasureService {
            key,
            velocity,
            transactions,
            running: tokio::sync::Mutex::new(()),
            changes: ChangeSignal::default(),
            followed: AtomicI64::new(0),
        }
    }

    /// Starts following after the newest erasure (the graph is built from the records as
    /// they are now, erased already).
    pub async fn prime(&self, store: &dyn arbiter_engine::store::Store) -> Result<(), StoreError> {
        self.followed
            .store(store.latest_erasure().await?, Ordering::Relaxed);
        Ok(())
    }

    /// Applies to this replica's memory the erasures recorded since the last it followed
    /// (another replica ran them): each entity of this replica's link graph whose pseudonym
    /// one of them names takes it as its name, and its velocity counters go. How many entities
    /// were renamed.
    pub async fn follow(&self, app: &Services) -> Result<u64, ErasureError> {
        let _one_at_a_time = self.exclusive().await;
        let mut renamed = 0;
        loop {
            let after = self.followed.load(Ordering::Relaxed);
            let page = app.store.erasures_after(after, FOLLOW_PAGE).await?;
            let Some(last) = page.last().map(|e| e.id) else {
                return Ok(renamed);
            };
            let wanted: HashSet<(ListKind, &str)> = page
                .iter()
                .flat_map(|e| e.entities.iter().map(|(k, p)| (*k, p.as_str())))
                .collect();
            if !wanted.is_empty() {
                let mut counters = Vec::new();
                for (kind, value) in app.graph.entity_values() {
                    let pseudonym = self.key.pseudonym(&value);
                    if wanted.contains(&(kind, pseudonym.as_str())) {
                        if app.graph.rename(kind, &value, &pseudonym) {
                            renamed += 1;
                        }
                        if let Some(k) = velocity_kind(kind) {
                            counters.push((k, value.into()));
                        }
                    }
                }
                if let Err(e) = self.velocity.forget(&counters).await {
                    tracing::warn!(error = %e, "a followed erasure could not delete velocity counters");
                }
            }
            tracing::info!(
                erasures = page.len(),
                renamed,
                "followed erasures made elsewhere"
            );
            self.followed.store(last, Ordering::Relaxed);
            if page.len() < FOLLOW_PAGE as usize {
                return Ok(renamed);
            }
        }
    }

    /// Waits for any other erasure or export to finish.
    pub(crate) async fn exclusive(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.running.lock().await
    }

    pub(crate) fn transactions(&self) -> &dyn TransactionStore {
        self.transactions.as_ref()
    }

    /// The pseudonym `value` takes under this deployment's key.
    pub fn pseudonym(&self, value: &str) -> String {
        self.key.pseudonym(value)
    }

    /// Erases `subject` from the records and from this replica's memory.
    pub async fn erase(
        &self,
        app: &Services,
        subject: &Subject,
        actor: &Actor,
    ) -> Result<ErasureReport, ErasureError> {
        let _one_at_a_time = self.exclusive().await;
        let ids = app.store.subject_identifiers(subject).await?;
        let pseudonyms = Pseudonyms::new(&self.key, &ids);
        let pseudonym = self.key.pseudonym(&subject.value);
        let counts = app
            .store
            .erase_identifiers(subject, &pseudonym, &ids, &pseudonyms, actor)
            .await?;
        // The block list first: its reload unmarks the entities by their old names.
        if counts.list_entries_removed > 0 {
            app.lists.changed().await?;
        }
        if counts.snoozes_removed > 0 {
            app.snoozes.changed().await?;
        }
        let mut renamed = 0u64;
        for (kind, value) in ids.entities() {
            if let Some(to) = pseudonyms.of(value)
                && app.graph.rename(kind, value, to)
            {
                renamed += 1;
            }
        }
        let counters: Vec<(VelocityKind, String)> = ids
            .entities()
            .filter_map(|(k, v)| velocity_kind(k).map(|k| (k, v.to_owned())))
            .collect();
        let velocity_forgotten = match self.velocity.forget(&counters).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "an erasure could not delete shared velocity counters");
                false
            }
        };
        tracing::info!(
            subject = %pseudonym,
            identifiers = ids.entities().count(),
            graph_entities_renamed = renamed,
            "person erased"
        );
        self.changes.fire(ChangeKind::Erasures);
        Ok(ErasureReport {
            subject: pseudonym,
            identifiers: ids
                .counts()
                .into_iter()
                .map(|(k, n)| (k.to_owned(), n))
                .collect(),
            rewritten: counts.rewritten,
            list_entries_removed: counts.list_entries_removed,
            snoozes_removed: counts.snoozes_removed,
            graph_entities_renamed: renamed,
            velocity_forgotten,
        })
    }
}
