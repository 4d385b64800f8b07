//! API keys: minting, listing and revoking named keys, the first-start admin key, and
//! authentication from an in-memory index (a request never waits on the database to check its
//! key unless the key is unknown). A revoked or expired key is refused by the index itself;
//! a revocation made here reloads it at once and tells the other replicas (`changes`), and the
//! sync task reloads it every [`LAST_USE_FLUSH_EVERY`] for changes made outside the server
//! (`arbiter keys revoke`, straight into the database). Last uses are kept in memory and
//! written in batches ([`last_use`]).

mod last_use;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use thiserror::Error;
use tokio::sync::Mutex;

use arbiter_engine::audit::Actor;
use arbiter_engine::keys::{self, ApiKey, KeySpec, NewKey, Scope};
use arbiter_engine::request::longer_than;
use arbiter_engine::store::{KeyRevocation, Store, StoreError};
use arbiter_redis::ChangeKind;

use crate::services::replication::ChangeSignal;
pub use last_use::LAST_USE_FLUSH_EVERY;
use last_use::LastUse;

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("field `{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error("field `{field}` is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("key `{0}` not found")]
    NotFound(String),
    #[error(
        "a key cannot revoke itself (so the last admin key cannot lock every operator out): \
         revoke `{0}` with another admin key, or with `arbiter keys revoke` on the host"
    )]
    RevokesItself(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A key's name.
pub const MAX_NAME_CHARS: usize = 100;

/// An unknown key triggers a reload at most this often, so a flood of bad keys cannot turn
/// into a flood of queries.
const MISS_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// A key as a caller asks for it, before validation.
pub struct NewKeyRequest {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// One key in the index, with its use not yet written.
struct Indexed {
    /// Shared with every request that authenticates with it, so none copies the record.
    key: Arc<ApiKey>,
    /// Carried from index to index on reload, so a use recorded just before one is kept.
    used: Arc<LastUse>,
}

pub struct KeyService {
    store: Arc<dyn Store>,
    /// Keys by hash, revoked and expired ones included (they are refused, not unknown, so
    /// they trigger no reload). Read on every request and replaced whole on reload.
    by_hash: ArcSwap<HashMap<String, Indexed>>,
    /// Serialises reloads so a slow reload can never overwrite a newer one.
    reload_lock: Mutex<()>,
    last_miss_reload: Mutex<Option<Instant>>,
    /// Fired after a change made here, so other replicas reload.
    pub changes: ChangeSignal,
}

/// Parses scope names, naming the bad one.
fn parse_scopes(names: &[String]) -> Result<BTreeSet<Scope>, KeyError> {
    if names.is_empty() {
        return Err(invalid("scopes", "at least one scope is required"));
    }
    names
        .iter()
        .map(|n| {
            Scope::parse(n).ok_or_else(|| {
                invalid(
                    "scopes",
                    format!(
                        "unknown scope `{n}` (expected one of: {})",
                        Scope::ALL.map(Scope::as_str).join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// Checks a request for a key at `now`, naming the field at fault.
pub fn validate(request: NewKeyRequest, now: DateTime<Utc>) -> Result<KeySpec, KeyError> {
    let name = request.name;
    if name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if longer_than(&name, MAX_NAME_CHARS) {
        return Err(KeyError::TooLong {
            field: "name",
            max: MAX_NAME_CHARS,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("name", "must not contain control characters"));
    }
    let scopes = parse_scopes(&request.scopes)?;
    if request.expires_at.is_some_and(|t| t <= now) {
        return Err(invalid("expires_at", "must be in the future"));
    }
    Ok(KeySpec {
        name,
        scopes,
        expires_at: request.expires_at,
    })
}

fn invalid(field: &str, message: impl Into<String>) -> KeyError {
    KeyError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl KeyService {
    pub async fn load(store: Arc<dyn Store>) -> Result<KeyService, StoreError> {
        let svc = KeyService {
            store,
            by_hash: ArcSwap::from_pointee(HashMap::new()),
            reload_lock: Mutex::new(()),
            last_miss_reload: Mutex::new(None),
            changes: ChangeSignal::default(),
        };
        svc.reload().await?;
        Ok(svc)
    }

    /// Rebuilds the index from the database and swaps it in.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let _guard = self.reload_lock.lock().await;
        let all = self.store.all_keys().await?;
        let old = self.by_hash.load();
        let slots: HashMap<&str, Arc<LastUse>> = old
            .values()
            .map(|i| (i.key.id.as_str(), i.used.clone()))
            .collect();
        let index = all
            .into_iter()
            .map(|k| {
                let used = slots.get(k.id.as_str()).cloned().unwrap_or_default();
                let key = Arc::new(k);
                (key.hash.clone(), Indexed { key, used })
            })
            .collect();
        self.by_hash.store(Arc::new(index));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.load().is_empty()
    }

    /// The key for a presented secret, if it is known, not revoked and not expired.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Arc<ApiKey>>, StoreError> {
        let hash = keys::hash_secret(secret);
        if let Some(found) = self.live(&hash) {
            return Ok(found);
        }
        // Perhaps created by another replica: reload, rate-limited.
        {
            let mut last = self.last_miss_reload.lock().await;
            if last.is_some_and(|t| t.elapsed() < MISS_RELOAD_INTERVAL) {
                return Ok(None);
            }
            *last = Some(Instant::now());
        }
        self.reload().await?;
        Ok(self.live(&hash).flatten())
    }

    /// The key with this id, if it is live (a console session's key); its use is recorded.
    pub fn live_by_id(&self, id: &str) -> Option<Arc<ApiKey>> {
        let index = self.by_hash.load();
        let found = index.values().find(|i| i.key.id == id)?;
        let now = Utc::now();
        if !found.key.is_live(now) {
            return None;
        }
        found.used.record(now);
        Some(found.key.clone())
    }

    /// `None` when the index does not know `hash`; `Some(None)` when it refuses the key; a
    /// key it accepts has its use recorded.
    fn live(&self, hash: &str) -> Option<Option<Arc<ApiKey>>> {
        let index = self.by_hash.load();
        let found = index.get(hash)?;
        let now = Utc::now();
        if !found.key.is_live(now) {
            return Some(None);
        }
        found.used.record(now);
        Some(Some(found.key.clone()))
    }

    /// Mints a key for `request`, minted by `actor` (a key, or the bootstrap, or the CLI).
    pub async fn create(&self, request: NewKeyRequest, actor: &Actor) -> Result<NewKey, KeyError> {
        self.mint(validate(request, Utc::now())?, actor).await
    }

    /// [`KeyService::create`] for a request already validated.
    pub async fn mint(&self, spec: KeySpec, actor: &Actor) -> Result<NewKey, KeyError> {
        let new = keys::mint(spec, &actor.id, Utc::now());
        self.store.insert_key(&new.record, actor).await?;
        self.reload().await?;
        self.changes.fire(ChangeKind::Keys);
        Ok(new)
    }

    /// Every key, oldest first, with this replica's uses not yet written folded in.
    pub async fn list(&self) -> Result<Vec<ApiKey>, KeyError> {
        let mut all = self.store.all_keys().await?;
        let index = self.by_hash.load();
        for key in &mut all {
            let pending = index.get(&key.hash).and_then(|i| i.used.peek());
            key.last_used_at = key.last_used_at.max(pending);
        }
        Ok(all)
    }

    /// Revokes the key `id`: refused from now on by this replica, and by the others as soon as
    /// they hear of it. Revoking it again changes nothing and answers it as already revoked.
    /// Refused when `actor` is the key itself: through the API, a key is always revoked by
    /// another, so at least one live admin key stays; the command line may revoke any.
    pub async fn revoke(&self, id: &str, actor: &Actor) -> Result<KeyRevocation, KeyError> {
        if actor.id == id {
            return Err(KeyError::RevokesItself(id.to_owned()));
        }
        let revocation = self
            .store
            .revoke_key(id, Utc::now(), actor)
            .await?
            .ok_or_else(|| KeyError::NotFound(id.to_owned()))?;
        if let KeyRevocation::Revoked(_) = revocation {
            self.reload().await?;
            self.changes.fire(ChangeKind::Keys);
        }
        Ok(revocation)
    }

    /// Writes the uses recorded since the last flush, in one batch. A failed write puts them
    /// back for the next one.
    pub async fn flush_last_uses(&self) -> Result<(), StoreError> {
        // The index itself, not a guard: it is held across the write.
        let index = self.by_hash.load_full();
        let taken: Vec<(&Indexed, DateTime<Utc>)> = index
            .values()
            .filter_map(|i| i.used.take().map(|t| (i, t)))
            .collect();
        let uses: Vec<(String, DateTime<Utc>)> =
            taken.iter().map(|(i, t)| (i.key.id.clone(), *t)).collect();
        let written = self.store.record_key_uses(&uses).await;
        if written.is_err() {
            for (i, t) in taken {
                i.used.restore(t);
            }
        }
        written
    }

    /// Every [`LAST_USE_FLUSH_EVERY`]: writes the recorded uses and reloads the index (which
    /// picks up keys revoked from the command line). Stops when the service is dropped.
    pub fn spawn_sync(self: &Arc<Self>) {
        let svc: Weak<KeyService> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LAST_USE_FLUSH_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(svc) = svc.upgrade() else { return };
                if let Err(e) = svc.flush_last_uses().await {
                    tracing::warn!(error = %e, "could not write the keys' last uses; retrying");
                }
                if let Err(e) = svc.reload().await {
                    tracing::warn!(error = %e, "could not reload the keys; retrying");
                }
            }
        });
    }

    /// On first start (no keys at all) mints an admin key and writes it to
    /// `<data_dir>/admin.key` with mode 0600. Returns the path when it did. The file is
    /// created before the key is minted: one already there (left from another database, or a
    /// link planted in its place) stops the start rather than being overwritten or followed.
    pub async fn ensure_admin_key(&self, data_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
        use anyhow::Context;
        if !self.is_empty() {
            return Ok(None);
        }
        let path = data_dir.join("admin.key");
        let file = crate::private_file::create_secret_file(&path).with_context(|| {
            format!(
                "creating {} for the first admin key (the database has no keys; \
                 move an old file away to mint a new one)",
                path.display()
            )
        })?;
        let request = NewKeyRequest {
            name: "first admin".into(),
            scopes: vec![Scope::Admin.as_str().into()],
            expires_at: None,
        };
        let written = match self.create(request, &Actor::bootstrap()).await {
            Ok(new) => crate::private_file::write_secret(file, &new.secret)
                .with_context(|| format!("writing {}", path.display())),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = written {
            // Leave no empty or partial key file behind to block the next start.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(Some(path))
    }
}
