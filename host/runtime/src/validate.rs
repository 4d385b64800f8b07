//! Upload validation: everything a module must pass before it is stored.
//!
//! 1. [`compile`](PolicyRuntime::compile): size cap, a binary component, ABI major (2,
//!    or the older 1), no imports beyond the ABI's types, an `evaluate` export of the
//!    right type.
//! 2. [`load`](PolicyRuntime::load) of the precompiled bytes just produced, so what is
//!    stored is known to load.
//! 3. The [sample contexts](crate::sample_contexts) on one instance, forward and then in
//!    reverse order, within the runtime's fuel, deadline and memory limits. A fault on any
//!    sample refuses the module. So does a sample whose verdict differs between the two
//!    passes: policies must be pure functions of the context (the host recycles
//!    instances, replays decisions and backtests), and a module that counts calls or
//!    caches earlier contexts in its memory answers differently the second time round.
//!
//! Like compilation, validation is CPU-heavy: run it off the serving threads.

use crate::PolicyRuntime;
use crate::compile::Artifact;
use crate::error::ModuleError;
use crate::outcome::ModuleOutcome;
use crate::pool::LoadedModule;
use crate::prepared::PreparedContext;
use crate::samples::sample_contexts;

impl PolicyRuntime {
    /// Validates an uploaded module and returns the artifact to store.
    pub fn validate(&self, wasm: &[u8]) -> Result<Artifact, ModuleError> {
        let artifact = self.compile(wasm)?;
        let module = self.load(&artifact.precompiled)?;
        check_samples(&module)?;
        Ok(artifact)
    }
}

/// Runs the samples forward then backward on one instance of `module`.
fn check_samples(module: &LoadedModule) -> Result<(), ModuleError> {
    let contexts = sample_contexts();
    let samples: Vec<PreparedContext<'_>> = contexts.iter().map(PreparedContext::new).collect();
    let mut instance = module
        .instantiate()
        .map_err(|error| ModuleError::Instantiate {
            reason: error.to_string(),
        })?;
    let shared = module.shared();
    let mut forward: Vec<ModuleOutcome> = Vec::with_capacity(samples.len());
    for (index, sample) in samples.iter().enumerate() {
        let (outcome, _reusable) = instance.call(shared, sample);
        if let Err(fault) = outcome.result {
            return Err(ModuleError::FailsSample { index, fault });
        }
        forward.push(outcome);
    }
    // Validation keeps the one instance regardless of the recycling quota: the point is
    // to see what state it carries from call to call.
    for (index, sample) in samples.iter().enumerate().rev() {
        let (outcome, _reusable) = instance.call(shared, sample);
        if let Err(fault) = outcome.result {
            return Err(ModuleError::FailsSample { index, fault });
        }
        if !outcome.same_answer(&forward[index]) {
            return Err(ModuleError::Stateful { sample: index });
        }
    }
    Ok(())
}
