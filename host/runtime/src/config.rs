//! The runtime's limits: how much a module may compute, for how long, with how much memory,
//! how large its upload may be, and how often its instances are replaced.
//!
//! Every field has a default that fits the decision path (a policy is a few hundred
//! instructions of threshold checks); the composition root may override them from its own
//! configuration. Only `fuel_per_call`, `deadline`, `memory_limit_bytes` and
//! `instances_recycle_after` act at call time; none of them is baked into compiled code,
//! so artifacts stay loadable when they change.

use std::time::Duration;

/// Limits applied to every policy module the runtime compiles, loads and runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Instruction budget of one `evaluate` call, in wasmtime fuel units (about one per
    /// WebAssembly instruction), including the guest's own copying of the context into its
    /// memory. Deterministic: the same module on the same context uses the same fuel, so a
    /// replay or a backtest faults exactly where the live decision did.
    ///
    /// Default: 1,000,000. The bundled examples use 700 to 14,000 per call (`fuel_used`
    /// on every result shows it: ~700 to take the context buffer and answer a pass, the
    /// rest mostly formatting reason details),
    /// so an honest policy has over fifty times its need, while a runaway one is stopped
    /// after well under a millisecond of guest time.
    pub fuel_per_call: u64,
    /// Wall-clock backstop for one call, enforced by epoch interruption. Fuel is the real
    /// limit; this catches what fuel cannot see (a pathologically slow instruction, a host
    /// stalled mid-call). It is set far above scheduler jitter because a call that is merely
    /// descheduled — say while an upload compiles on the same cores — must not fault.
    ///
    /// Default: 200 ms. The deadline fires between `deadline` and `deadline` + one tick
    /// ([`EPOCH_TICK`](crate::EPOCH_TICK)).
    pub deadline: Duration,
    /// Largest linear memory one instance may have. Growing past it traps the call with a
    /// `memory_limit` fault; a module whose *initial* memory exceeds it cannot be
    /// instantiated and is refused at upload.
    ///
    /// Default: 16 MiB (a Rust policy starts at about 1.1 MiB: 1 MiB of shadow stack plus
    /// its data).
    pub memory_limit_bytes: usize,
    /// Largest module upload accepted, in bytes.
    ///
    /// Default: 4 MiB (the bundled examples are about 30 KiB).
    pub max_module_bytes: usize,
    /// Calls after which an instance is dropped and a fresh one created. Policies must be
    /// pure; upload validation catches modules that visibly keep state, and recycling bounds
    /// what a module that slips through (or merely leaks memory) can accumulate.
    ///
    /// Default: 10,000 (instantiation costs under 100 µs, so recycling adds about 0.01 µs
    /// per call on average).
    pub instances_recycle_after: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            fuel_per_call: 1_000_000,
            deadline: Duration::from_millis(200),
            memory_limit_bytes: 16 << 20,
            max_module_bytes: 4 << 20,
            instances_recycle_after: 10_000,
        }
    }
}
