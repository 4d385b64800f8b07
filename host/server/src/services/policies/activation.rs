//! Turning stored sets into live ones: loading their modules (deserialize only, never compile),
//! pre-warming instances, and swapping the routing snapshot. Also the first-start seeding of
//! the bundled example policies as policy set 1.

use std::sync::{Arc, OnceLock};

use arbiter_engine::audit::Actor;
use arbiter_engine::pipeline::ActivePolicy;
use arbiter_engine::policy_set::{FailMode, ModuleRef, PolicySet, Thresholds, Weights};
use arbiter_engine::registry::RolloutStatus;
use arbiter_engine::routing::{CandidateRoute, PolicyRouting};
use arbiter_runtime::{Artifact, CompiledRuleSet, LoadedModule, PolicyRuntime, bundled};

use super::PolicyService;
use super::error::PolicyError;

/// The bundled examples compiled once per process (compiling costs tens of milliseconds of
/// CPU per module; a process that opens several fresh databases, such as the test suite,
/// pays it once).
fn bundled_artifacts(
    runtime: &PolicyRuntime,
) -> Result<&'static [(String, Artifact)], PolicyError> {
    static CACHE: OnceLock<Vec<(String, Artifact)>> = OnceLock::new();
    if let Some(done) = CACHE.get() {
        return Ok(done);
    }
    let mut out = Vec::new();
    for b in bundled::BUNDLED {
        out.push((b.name.to_owned(), runtime.validate(b.component)?));
    }
    Ok(CACHE.get_or_init(|| out))
}

impl PolicyService {
    /// A loaded module, from the cache or deserialized from the store.
    async fn module(&self, r: &ModuleRef) -> Result<Arc<LoadedModule>, PolicyError> {
        let key = (r.name.clone(), r.version);
        if let Some(m) = self.loaded_cache().get(&key) {
            return Ok(m.clone());
        }
        let stored = self
            .store
            .get_module(&r.name, r.version)
            .await?
            .ok_or_else(|| PolicyError::NotFound {
                what: "policy module",
                id: format!("{}@{}", r.name, r.version),
            })?;
        let runtime = self.runtime.clone();
        let loaded = tokio::task::spawn_blocking(move || runtime.load(&stored.precompiled))
            .await
            .map_err(|e| PolicyError::Runtime(e.to_string()))??;
        self.loaded_cache().insert(key, loaded.clone());
        Ok(loaded)
    }

    fn loaded_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(String, i64), Arc<LoadedModule>>>
    {
        match self.loaded.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Builds a set ready to evaluate, with warm instances.
    pub(super) async fn activate(&self, set: PolicySet) -> Result<Arc<ActivePolicy>, PolicyError> {
        let mut modules = Vec::with_capacity(set.policies.len());
        for r in &set.policies {
            modules.push((r.clone(), self.module(r).await?));
        }
        let rules = CompiledRuleSet::new(modules);
        let prewarm = self.prewarm;
        let rules = tokio::task::spawn_blocking(move || rules.prewarm(prewarm).map(|()| rules))
            .await
            .map_err(|e| PolicyError::Runtime(e.to_string()))??;
        Ok(Arc::new(ActivePolicy {
            set,
            rules: Arc::new(rules),
        }))
    }

    /// A stored set ready to replay (a backtest's candidate or baseline), and the fingerprint
    /// of each of its modules (`name@version:sha256`). Its modules come from the same cache as
    /// the live sets'; no instances are pre-warmed (a backtest's few workers make their own).
    pub async fn replayable(
        &self,
        version: i64,
    ) -> Result<(Arc<ActivePolicy>, Vec<String>), PolicyError> {
        let set = self.set_by_version(version).await?;
        let mut modules = Vec::with_capacity(set.policies.len());
        let mut prints = Vec::with_capacity(set.policies.len());
        for r in &set.policies {
            modules.push((r.clone(), self.module(r).await?));
            let sha = self
                .store
                .list_module_versions(&r.name)
                .await?
                .into_iter()
                .find(|m| m.version == r.version)
                .map(|m| m.sha256)
                .unwrap_or_default();
            prints.push(format!("{}@{}:{sha}", r.name, r.version));
        }
        Ok((
            Arc::new(ActivePolicy {
                set,
                rules: Arc::new(CompiledRuleSet::new(modules)),
            }),
            prints,
        ))
    }

    /// Rebuilds the routing snapshot from the database (active set and current rollout) and
    /// swaps it in. Everything is loaded and warmed before the swap.
    pub async fn reload(&self) -> Result<(), PolicyError> {
        let _guard = self.reload_lock.lock().await;
        let active = match self.store.active_policy_set().await? {
            Some(v) => v,
            None => self.seed().await?,
        };
        let stable = self.activate(self.set_by_version(active).await?).await?;
        let rollout = self
            .store
            .current_rollout()
            .await?
            .filter(|r| r.status == RolloutStatus::Active);
        let candidate = match &rollout {
            Some(r) => Some(CandidateRoute {
                rollout_id: r.id,
                policy: self
                    .activate(self.set_by_version(r.candidate).await?)
                    .await?,
                percent: r.percent,
                mode: r.mode,
            }),
            None => None,
        };
        self.monitor.reset(rollout.as_ref());
        self.routing
            .store(Arc::new(PolicyRouting { stable, candidate }));
        Ok(())
    }

    /// First start: stores the bundled examples and makes them policy set 1 (fail open).
    async fn seed(&self) -> Result<i64, PolicyError> {
        let runtime = self.runtime.clone();
        let artifacts =
            tokio::task::spawn_blocking(move || bundled_artifacts(&runtime).map(<[_]>::to_vec))
                .await
                .map_err(|e| PolicyError::Runtime(e.to_string()))??;
        let system = Actor::system();
        let mut refs = Vec::new();
        for (name, artifact) in artifacts {
            let wasm = bundled::find(&name)
                .map(|b| b.component)
                .unwrap_or_default();
            let inserted = self
                .store
                .insert_module(
                    &name,
                    &artifact.sha256,
                    artifact.size_bytes as i64,
                    wasm,
                    &artifact.precompiled,
                    None,
                    &system,
                )
                .await?;
            refs.push(ModuleRef {
                name,
                version: inserted.module().version,
                fail_mode: FailMode::Open,
            });
        }
        let set = self
            .store
            .insert_policy_set(Thresholds::default(), Weights::default(), &refs, &system)
            .await?;
        self.store
            .set_active_policy_set(set.version, &system)
            .await?;
        tracing::info!(
            version = set.version,
            modules = refs.len(),
            "seeded the example policies as the first policy set"
        );
        Ok(set.version)
    }
}
