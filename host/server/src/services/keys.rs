//! API keys: minting, the first-start admin key, and authentication from an in-memory index
//! (a request never waits on the database to check its key unless the key is unknown).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::Utc;
use thiserror::Error;
use tokio::sync::Mutex;

use arbiter_engine::keys::{self, ApiKey, NewKey, Scope};
use arbiter_engine::store::{Store, StoreError};

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("field `{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An unknown key triggers a reload at most this often, so a flood of bad keys cannot turn
/// into a flood of queries.
const MISS_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

pub struct KeyService {
    store: Arc<dyn Store>,
    /// Keys by hash; replaced whole on reload.
    by_hash: ArcSwap<HashMap<String, ApiKey>>,
    last_miss_reload: Mutex<Option<Instant>>,
}

/// Parses scope names, naming the bad one.
pub fn parse_scopes(names: &[String]) -> Result<BTreeSet<Scope>, KeyError> {
    if names.is_empty() {
        return Err(KeyError::Invalid {
            field: "scopes".into(),
            message: "at least one scope is required".into(),
        });
    }
    names
        .iter()
        .map(|n| {
            Scope::parse(n).ok_or_else(|| KeyError::Invalid {
                field: "scopes".into(),
                message: format!(
                    "unknown scope `{n}` (expected one of: {})",
                    Scope::ALL.map(Scope::as_str).join(", ")
                ),
            })
        })
        .collect()
}

impl KeyService {
    pub async fn load(store: Arc<dyn Store>) -> Result<KeyService, StoreError> {
        let svc = KeyService {
            store,
            by_hash: ArcSwap::from_pointee(HashMap::new()),
            last_miss_reload: Mutex::new(None),
        };
        svc.reload().await?;
        Ok(svc)
    }

    async fn reload(&self) -> Result<(), StoreError> {
        let all = self.store.all_keys().await?;
        self.by_hash.store(Arc::new(
            all.into_iter().map(|k| (k.hash.clone(), k)).collect(),
        ));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.load().is_empty()
    }

    /// The key for a presented secret, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        let hash = keys::hash_secret(secret);
        if let Some(k) = self.by_hash.load().get(&hash) {
            return Ok(Some(k.clone()));
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
        Ok(self.by_hash.load().get(&hash).cloned())
    }

    pub async fn create(&self, scopes: BTreeSet<Scope>) -> Result<NewKey, KeyError> {
        let new = keys::mint(scopes, Utc::now());
        self.store.insert_key(&new.record).await?;
        self.reload().await?;
        Ok(new)
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
        let written = match self.create(BTreeSet::from([Scope::Admin])).await {
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
