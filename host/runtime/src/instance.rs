//! One long-lived instance of a module: its own `Store` (memory, fuel, deadline, limits)
//! and the typed handle of its `evaluate` export, for the ABI major it was built against.
//!
//! Why long-lived: instantiating costs 70–90 µs (a fresh memory reservation, the data
//! image mapped, start-up code), a call on a warm instance about a microsecond (`@2`).
//! An instance is reused call after call until a call fails — a component instance
//! refuses re-entry after a trap, and after any error its memory may be in any state — or
//! until it has served its quota of calls (see
//! [`RuntimeConfig::instances_recycle_after`](crate::RuntimeConfig)). The caller then
//! drops it and the next call gets a fresh `Store`.

use wasmtime::Store;

use crate::bindings::{v1, v2};
use crate::convert;
use crate::engine::Shared;
use crate::fault::{classify, fault};
use crate::limits::Limits;
use crate::outcome::ModuleOutcome;
use crate::prepared::PreparedContext;
use arbiter_engine::stages::FaultKind;

/// A module linked against the world of the ABI major it was built for.
pub(crate) enum PolicyPre {
    V1(v1::PolicyPre<Limits>),
    V2(v2::PolicyPre<Limits>),
}

/// The typed `evaluate` export of one instance, of either major.
enum Policy {
    V1(v1::Policy),
    V2(v2::Policy),
}

/// A ready instance. Not shared: a call takes it out of the pool, so its store is only ever
/// used by one thread at a time.
pub(crate) struct LiveInstance {
    /// Owned, not shared: a store is single-threaded state (memory, globals, fuel), and
    /// owning it lets the pool hand it to exactly one caller at a time without locking.
    store: Store<Limits>,
    /// The typed `evaluate` export of the instance living in `store`.
    policy: Policy,
    /// Calls served, for recycling.
    calls: u64,
}

impl LiveInstance {
    /// Instantiates the module in a fresh store carrying the runtime's limits.
    pub(crate) fn new(shared: &Shared, pre: &PolicyPre) -> Result<LiveInstance, wasmtime::Error> {
        let mut store = Store::new(
            &shared.engine,
            Limits::new(shared.config.memory_limit_bytes),
        );
        store.limiter(|limits| limits);
        // Instantiation may run guest code (a start function): it gets one call's budget.
        store.set_fuel(shared.config.fuel_per_call)?;
        store.set_epoch_deadline(shared.deadline_ticks);
        let policy = match pre {
            PolicyPre::V1(pre) => Policy::V1(pre.instantiate(&mut store)?),
            PolicyPre::V2(pre) => Policy::V2(pre.instantiate(&mut store)?),
        };
        Ok(LiveInstance {
            store,
            policy,
            calls: 0,
        })
    }

    /// Calls `evaluate` with a full fuel budget and a fresh deadline, passing the context in
    /// the shape the module's ABI major takes. Returns the outcome and whether this instance
    /// may serve another call.
    pub(crate) fn call(
        &mut self,
        shared: &Shared,
        ctx: &PreparedContext<'_>,
    ) -> (ModuleOutcome, bool) {
        let budget = shared.config.fuel_per_call;
        if let Err(error) = self.store.set_fuel(budget) {
            let fault = fault(
                FaultKind::Unavailable,
                format!("cannot set the fuel budget: {error}"),
            );
            return (
                ModuleOutcome {
                    result: Err(fault),
                    fuel_used: 0,
                },
                false,
            );
        }
        self.store.set_epoch_deadline(shared.deadline_ticks);
        let called = match &self.policy {
            Policy::V2(policy) => policy
                .call_evaluate(&mut self.store, ctx.bytes())
                .map(convert::verdict_v2),
            Policy::V1(policy) => match ctx.record() {
                Some(record) => policy
                    .call_evaluate(&mut self.store, record)
                    .map(convert::verdict_v1),
                None => {
                    let fault = fault(
                        FaultKind::Unavailable,
                        "an arbiter:policy@1 module cannot read a context given as layout bytes"
                            .into(),
                    );
                    return (
                        ModuleOutcome {
                            result: Err(fault),
                            fuel_used: 0,
                        },
                        true,
                    );
                }
            },
        };
        // After a trap the store still reports what is left (zero after `OutOfFuel`).
        let fuel_used = budget.saturating_sub(self.store.get_fuel().unwrap_or(0));
        let memory_refused = self.store.data_mut().take_memory_refused();
        self.calls = self.calls.saturating_add(1);
        match called {
            Ok(result) => {
                let reusable = self.calls < shared.config.instances_recycle_after;
                (ModuleOutcome { result, fuel_used }, reusable)
            }
            Err(error) => {
                let fault = classify(&error, memory_refused, shared.config.memory_limit_bytes);
                (
                    ModuleOutcome {
                        result: Err(fault),
                        fuel_used,
                    },
                    false,
                )
            }
        }
    }
}
