//! Digests of replicated state: what this replica loaded, and what the database holds now.
//! Each is a hash of the rows that decide the state (list entries, the active set and the
//! current rollout, the model slots, the keys with their expiry and revocation, the newest
//! rate table, the live snoozes, the newest erasure), so any
//! change — including a deletion — changes it.

use std::collections::hash_map::DefaultHasher;
use std::error::Error;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arbiter_engine::store::Store;
use arbiter_redis::{ChangeKind, VersionCheck};
use async_trait::async_trait;

/// 0 means "nothing recorded": the next check reloads.
const UNKNOWN: u64 = 0;

pub struct Digests {
    store: Arc<dyn Store>,
    /// Per kind (index of `ChangeKind::ALL`), the digest taken before the last reload.
    loaded: [AtomicU64; ChangeKind::ALL.len()],
}

fn slot(kind: ChangeKind) -> usize {
    match kind {
        ChangeKind::Lists => 0,
        ChangeKind::Policy => 1,
        ChangeKind::Rollout => 2,
        ChangeKind::Model => 3,
        ChangeKind::Keys => 4,
        ChangeKind::Rates => 5,
        ChangeKind::Snoozes => 6,
        ChangeKind::Erasures => 7,
    }
}

fn finish(h: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    h.hash(&mut hasher);
    // Never UNKNOWN, so a real digest always differs from "nothing recorded".
    hasher.finish().max(1)
}

impl Digests {
    pub fn new(store: Arc<dyn Store>) -> Digests {
        Digests {
            store,
            loaded: Default::default(),
        }
    }

    /// The database's digest of `kind`.
    pub async fn current(
        &self,
        kind: ChangeKind,
    ) -> Result<u64, arbiter_engine::store::StoreError> {
        Ok(match kind {
            ChangeKind::Lists => {
                let mut entries: Vec<_> = self
                    .store
                    .find_list_entries(None, None)
                    .await?
                    .into_iter()
                    .map(|e| (e.id, e.expires_at.map(|t| t.timestamp_micros())))
                    .collect();
                entries.sort();
                finish(entries)
            }
            ChangeKind::Policy | ChangeKind::Rollout => {
                let active = self.store.active_policy_set().await?;
                let rollout = self
                    .store
                    .current_rollout()
                    .await?
                    .map(|r| (r.id, r.percent, r.candidate, format!("{:?}", r.mode)));
                finish((active, rollout))
            }
            ChangeKind::Model => finish(self.store.model_slots().await?),
            // What decides whether a key authenticates; not `last_used_at`, which moves with
            // every flush and would make every replica reload its keys each time.
            ChangeKind::Keys => {
                let keys: Vec<_> = self
                    .store
                    .all_keys()
                    .await?
                    .into_iter()
                    .map(|k| (k.id, k.expires_at, k.revoked_at))
                    .collect();
                finish(keys)
            }
            ChangeKind::Rates => finish(
                self.store
                    .current_rate_table()
                    .await?
                    .map(|t| (t.version, t.table.reporting_currency, t.table.rates)),
            ),
            ChangeKind::Snoozes => {
                // The live ones: a revocation drops one, a new one adds one (an expiry drops
                // one too, and the reload that follows is harmless).
                let filter = arbiter_engine::store::SnoozeFilter {
                    live_at: Some(chrono::Utc::now()),
                    ..Default::default()
                };
                let snoozes: Vec<_> = self
                    .store
                    .list_snoozes(&filter, crate::services::snoozes::MAX_LOADED)
                    .await?
                    .into_iter()
                    .map(|s| s.id)
                    .collect();
                finish(snoozes)
            }
            // The newest erasure: a new one changes it (the index of migration 0028).
            ChangeKind::Erasures => finish(self.store.latest_erasure().await?),
        })
    }

    /// Records the database's digest as loaded (call just before reloading).
    pub async fn record(&self, kind: ChangeKind) {
        let d = self.current(kind).await.unwrap_or(UNKNOWN);
        self.loaded[slot(kind)].store(d, Ordering::Relaxed);
    }

    pub fn forget(&self, kind: ChangeKind) {
        self.loaded[slot(kind)].store(UNKNOWN, Ordering::Relaxed);
    }
}

#[async_trait]
impl VersionCheck for Digests {
    async fn loaded(&self, kind: ChangeKind) -> Option<u64> {
        Some(self.loaded[slot(kind)].load(Ordering::Relaxed))
    }

    async fn durable(&self, kind: ChangeKind) -> Result<Option<u64>, Box<dyn Error + Send + Sync>> {
        Ok(Some(self.current(kind).await?))
    }
}
