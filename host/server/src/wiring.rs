//! The composition root: the only place that knows which backend runs and how the pieces fit.

use std::sync::Arc;

use anyhow::Context;
use arc_swap::{ArcSwap, ArcSwapOption};

use arbiter_engine::clock::SystemClock;
use arbiter_engine::lists::ListSnapshot;
use arbiter_engine::pipeline::{ActivePolicy, Pipeline, PipelineState};
use arbiter_engine::policy_set::{PolicySet, Thresholds, Weights};
use arbiter_engine::stages::NoModules;
use arbiter_engine::store::Store;
use arbiter_engine::velocity::InProcessVelocity;
use arbiter_storage::{DecisionLog, DecisionLogConfig};

use crate::app_state::{AppState, Services};
use crate::config::ServeConfig;
use crate::services::decisions::DecisionService;
use crate::services::keys::KeyService;
use crate::services::lists::ListService;

/// Opens the configured store (running migrations).
pub async fn open_store(config: &crate::config::StorageArgs) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    arbiter_storage::connect(config.database_url.as_deref(), &config.data_dir)
        .await
        .context("opening the database")
}

/// The policy set serving traffic; on a fresh database, creates and activates set 1.
async fn active_policy_set(store: &dyn Store) -> anyhow::Result<PolicySet> {
    let version = match store.active_policy_set().await? {
        Some(v) => v,
        None => {
            let set = store
                .insert_policy_set(Thresholds::default(), Weights::default(), &[])
                .await?;
            store.set_active_policy_set(set.version).await?;
            tracing::info!(version = set.version, "created the initial policy set");
            set.version
        }
    };
    store
        .get_policy_set(version)
        .await?
        .with_context(|| format!("active policy set {version} is missing"))
}

/// Builds every service over a store.
pub async fn build(config: &ServeConfig, store: Arc<dyn Store>) -> anyhow::Result<AppState> {
    let keys = KeyService::load(store.clone()).await?;
    if let Some(path) = keys.ensure_admin_key(&config.storage.data_dir).await? {
        // The path only: the key itself never reaches a log.
        tracing::info!(path = %path.display(), "created the first admin key");
    }

    let lists_snapshot = Arc::new(ArcSwap::from_pointee(ListSnapshot::default()));
    let lists = ListService::new(store.clone(), lists_snapshot.clone());
    let n = lists.reload().await?;
    tracing::info!(entries = n, "list snapshot loaded");

    let set = active_policy_set(store.as_ref()).await?;
    if !set.policies.is_empty() {
        anyhow::bail!(
            "policy set {} names modules, but this build has no policy runtime",
            set.version
        );
    }
    let state = PipelineState {
        lists: lists_snapshot,
        policy: Arc::new(ArcSwap::from_pointee(ActivePolicy {
            set,
            rules: Arc::new(NoModules),
        })),
        model: Arc::new(ArcSwapOption::empty()),
    };
    let pipeline = Arc::new(Pipeline::new(
        state,
        Arc::new(InProcessVelocity::new(config.velocity_capacity)),
        None,
        Arc::new(SystemClock),
    ));
    let log = DecisionLog::spawn(
        store.clone(),
        DecisionLogConfig {
            capacity: config.log_queue,
            max_batch: config.log_batch,
        },
    );
    Ok(AppState(Arc::new(Services {
        decisions: DecisionService::new(pipeline, store.clone(), log),
        lists,
        keys,
        store,
        metrics: crate::metrics::handle(),
    })))
}
