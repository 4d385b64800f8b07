//! Policy modules, policy sets and rollouts: uploading and validating modules, naming them in
//! versioned sets, rolling a candidate set out by traffic split (live or shadow), promoting,
//! rolling back (by hand or when a guard trips) — each change audited and swapped in without
//! a restart.

mod activation;
mod approvals;
mod error;
mod monitor;
mod registry;
mod rollouts;
pub mod rule_options;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use arbiter_engine::routing::PolicyRouting;
use arbiter_engine::store::Store;
use arbiter_runtime::{LoadedModule, PolicyRuntime};

pub use error::PolicyError;
pub use registry::{NewPolicySet, Upload};
pub use rollouts::{NewRollout, RolloutView};

use monitor::GuardMonitor;

use crate::services::replication::ChangeSignal;

pub struct PolicyService {
    store: Arc<dyn Store>,
    runtime: PolicyRuntime,
    /// The routing snapshot the pipeline reads; replaced whole by [`Self::reload`].
    routing: Arc<ArcSwap<PolicyRouting>>,
    /// Deserialized modules by (name, version), so a swap between sets that share modules
    /// loads nothing twice. A std mutex: held only for map lookups, never across an await.
    loaded: Mutex<HashMap<(String, i64), Arc<LoadedModule>>>,
    /// Serialises reloads so a slow one can never overwrite a newer snapshot.
    reload_lock: tokio::sync::Mutex<()>,
    /// Counts the current rollout's outcomes per arm for its guard.
    monitor: GuardMonitor,
    /// Instances created per module before a set goes live (about the request concurrency).
    prewarm: usize,
    /// Fired after a rollout change made here, so other replicas reload.
    pub changes: ChangeSignal,
    /// One permit per module compilation allowed at once: compiling is seconds of CPU for a
    /// large module, and uploads past the bound are refused rather than queued.
    /// An `Arc` so a permit can move into the blocking compile task.
    compile_slots: Arc<tokio::sync::Semaphore>,
    /// The bounds this service enforces.
    limits: PolicyLimits,
    /// What the rule compiler must know about this host (fuel, verdict limits, context size).
    rule_options: arbiter_rules::CompileOptions,
}

/// Bounds on what policy management may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyLimits {
    /// Module compilations running at once.
    pub compilations: u32,
    /// Modules one policy set may name.
    pub set_modules: u32,
    /// What a set needs before it takes live traffic, per deployment.
    pub activation: ActivationRules,
}

/// Guarded activation: evidence and a second pair of eyes before a set takes live traffic (a
/// live rollout with a share above zero, or a promotion). Off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivationRules {
    /// A successful backtest of the set, finished within this many days.
    pub backtest_within_days: Option<u32>,
    /// An approval of the set by a key other than the caller's (`policy:approve` or `admin`).
    pub approval: bool,
}

impl PolicyService {
    /// The version of the policy set serving traffic (the stable arm of a rollout).
    pub fn active_version(&self) -> i64 {
        self.routing.load().stable.set.version
    }

    pub fn new(
        store: Arc<dyn Store>,
        runtime: PolicyRuntime,
        routing: Arc<ArcSwap<PolicyRouting>>,
        prewarm: usize,
        limits: PolicyLimits,
    ) -> Arc<PolicyService> {
        let runtime_config = runtime.config();
        let rule_options = rule_options::compile_options(runtime_config);
        Arc::new(PolicyService {
            store,
            runtime,
            routing,
            loaded: Mutex::new(HashMap::new()),
            reload_lock: tokio::sync::Mutex::new(()),
            monitor: GuardMonitor::default(),
            prewarm,
            changes: ChangeSignal::default(),
            compile_slots: Arc::new(tokio::sync::Semaphore::new(limits.compilations as usize)),
            limits,
            rule_options,
        })
    }
}
