//! The sandboxed WebAssembly policy runtime: wasmtime behind a narrow API.
//!
//! Owns turning policy modules (components of the `arbiter:policy@2` world,
//! `policies/wit/policy.wit`, or of the frozen `@1` world, `policies/wit/v1/policy.wit`)
//! into rules the decision engine can call:
//!
//! - [`PolicyRuntime::validate`] (upload): compile, check the ABI, run the sample contexts
//!   twice in two orders, and return an [`Artifact`] with precompiled code to store;
//! - [`PolicyRuntime::load`] (swap, restart): deserialize a stored artifact into a
//!   [`LoadedModule`] — no compilation on the decision path;
//! - [`CompiledRuleSet`]: the modules of one policy-set version as the engine's
//!   [`RuleEvaluator`](arbiter_engine::stages::RuleEvaluator).
//!
//! Sandbox: no WASI and no host functions are linked, so a module can only compute on the
//! context it is given. Each call runs under a deterministic fuel budget, a wall-clock
//! epoch deadline and a memory cap ([`RuntimeConfig`]). A module that traps, runs out of
//! budget or returns a malformed verdict yields a [`Fault`](arbiter_engine::stages::Fault)
//! value; the host never crashes, and the next call gets a fresh instance.
//!
//! Contract for policy authors: `evaluate` must be a pure function of its context. The
//! runtime keeps instances alive across calls for speed (a call on a warm instance costs
//! about a microsecond, creating an instance nearly a hundred), recycles them every
//! [`RuntimeConfig::instances_recycle_after`] calls and after any fault, replays contexts
//! in backtests, and refuses at upload a module whose verdicts depend on earlier calls.
//!
//! Must not: know about HTTP, SQL or storage (it takes and returns bytes), or let a
//! wasmtime type escape its API.

mod abi;
mod bindings;
pub mod bundled;
mod compile;
mod config;
mod convert;
mod encode;
mod engine;
mod epoch;
mod error;
mod fault;
mod instance;
mod limits;
mod load;
mod outcome;
mod pool;
mod prepared;
mod rule_set;
mod samples;
mod validate;

use std::sync::Arc;

pub use compile::Artifact;
pub use config::RuntimeConfig;
pub use convert::{MAX_REASON_CODE_BYTES, MAX_REASON_DETAIL_BYTES, MAX_REASONS};
pub use epoch::EPOCH_TICK;
pub use error::ModuleError;
pub use outcome::{ModuleOutcome, Verdict};
pub use pool::LoadedModule;
pub use prepared::PreparedContext;
pub use rule_set::CompiledRuleSet;
pub use samples::{SAMPLE_NAMES, sample_contexts};

/// The runtime: one engine, its limits and its epoch ticker. Cheap to clone; clones share
/// everything. Create one per process.
#[derive(Debug, Clone)]
pub struct PolicyRuntime {
    /// Shared with every module this runtime loads (see [`engine`]).
    shared: Arc<engine::Shared>,
}

/// The runtime could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the policy runtime: {reason}")]
pub struct StartError {
    reason: String,
}

impl PolicyRuntime {
    /// Builds the engine and starts the epoch ticker thread (stopped when the runtime and
    /// every module it loaded are dropped).
    pub fn new(config: RuntimeConfig) -> Result<PolicyRuntime, StartError> {
        let shared = engine::Shared::new(config).map_err(|error| StartError {
            reason: fault::error_chain(&error),
        })?;
        Ok(PolicyRuntime { shared })
    }

    /// The limits this runtime applies.
    pub fn config(&self) -> &RuntimeConfig {
        &self.shared.config
    }
}
