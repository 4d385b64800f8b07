//! A loaded module: its pre-linked component and a pool of warm instances any request
//! thread can borrow.
//!
//! The pool is a `std::sync::Mutex<Vec<_>>` held only to push or pop (never across a call
//! into the guest), so contention is a few nanoseconds; a blocking mutex is right because
//! nothing awaits while holding it. The pool grows to the peak number of threads calling
//! the module at once and stays there; instances leave it when they fault or reach their
//! call quota.

use std::sync::{Arc, Mutex, PoisonError};

use arbiter_engine::context::EnrichedContext;
use arbiter_engine::stages::FaultKind;
use wasmtime::component::{Component, Linker};

use crate::abi::Abi;
use crate::bindings::{v1, v2};
use crate::engine::Shared;
use crate::error::ModuleError;
use crate::fault::fault;
use crate::instance::{LiveInstance, PolicyPre};
use crate::limits::Limits;
use crate::outcome::ModuleOutcome;
use crate::prepared::PreparedContext;

/// A module ready to evaluate contexts, shared by every policy set that names it.
pub struct LoadedModule {
    /// Type-checked against the world of the ABI major the module was built for and linked
    /// (against nothing: the linker is empty), so creating an instance is only the
    /// instantiation itself.
    pre: PolicyPre,
    /// Idle instances. A `Vec` used as a stack: the most recently used instance, whose
    /// memory is warm in cache, serves the next call.
    idle: Mutex<Vec<LiveInstance>>,
    /// The engine and limits; keeps the epoch ticking while this module can run.
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LoadedModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModule")
            .field("idle_instances", &self.idle_instances())
            .finish_non_exhaustive()
    }
}

impl LoadedModule {
    /// Links `component` (which must belong to `shared`'s engine) and checks that it
    /// exports `evaluate` with the type of the `abi` world (found by [`crate::abi::check`]).
    pub(crate) fn new(
        shared: Arc<Shared>,
        component: &Component,
        abi: Abi,
    ) -> Result<LoadedModule, wasmtime::Error> {
        let linker = Linker::<Limits>::new(&shared.engine);
        let instance_pre = linker.instantiate_pre(component)?;
        let pre = match abi {
            Abi::V1 => PolicyPre::V1(v1::PolicyPre::new(instance_pre)?),
            Abi::V2 => PolicyPre::V2(v2::PolicyPre::new(instance_pre)?),
        };
        Ok(LoadedModule {
            pre,
            idle: Mutex::new(Vec::new()),
            shared,
        })
    }

    /// Evaluates one context. Never fails: a trap, an exhausted budget or a malformed
    /// verdict is a fault in the outcome, and the next call is unaffected.
    pub fn evaluate(&self, ctx: &EnrichedContext) -> ModuleOutcome {
        self.evaluate_prepared(&PreparedContext::new(ctx))
    }

    /// [`evaluate`](Self::evaluate) on a context already prepared for the ABI, so a policy
    /// set encodes each decision's context once for all its modules.
    pub fn evaluate_prepared(&self, ctx: &PreparedContext<'_>) -> ModuleOutcome {
        let mut instance = match self.checkout() {
            Ok(instance) => instance,
            Err(error) => {
                tracing::warn!(error = %error, "policy module could not be instantiated");
                return ModuleOutcome {
                    result: Err(fault(
                        FaultKind::Unavailable,
                        format!("module could not be instantiated: {error}"),
                    )),
                    fuel_used: 0,
                };
            }
        };
        let (outcome, reusable) = instance.call(&self.shared, ctx);
        if reusable {
            self.idle().push(instance);
        }
        outcome
    }

    /// Makes sure at least `instances` idle instances are ready, so the first decisions
    /// after a swap pay no instantiation. Call it before the module's policy set goes live.
    pub fn prewarm(&self, instances: usize) -> Result<(), ModuleError> {
        let missing = instances.saturating_sub(self.idle_instances());
        let mut fresh = Vec::with_capacity(missing);
        for _ in 0..missing {
            fresh.push(
                self.instantiate()
                    .map_err(|error| ModuleError::Instantiate {
                        reason: error.to_string(),
                    })?,
            );
        }
        self.idle().extend(fresh);
        Ok(())
    }

    /// How many warm instances are waiting in the pool.
    pub fn idle_instances(&self) -> usize {
        self.idle().len()
    }

    /// A fresh instance that is not in the pool (upload validation runs its samples on one
    /// instance it keeps to itself).
    pub(crate) fn instantiate(&self) -> Result<LiveInstance, wasmtime::Error> {
        LiveInstance::new(&self.shared, &self.pre)
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    fn checkout(&self) -> Result<LiveInstance, wasmtime::Error> {
        // The guard is a temporary of this statement: the lock is released before a new
        // instance is created below.
        let idle = self.idle().pop();
        match idle {
            Some(instance) => Ok(instance),
            None => self.instantiate(),
        }
    }

    /// The pool; a poisoned lock is taken over, since a `Vec` push or pop cannot leave it
    /// inconsistent.
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<LiveInstance>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
