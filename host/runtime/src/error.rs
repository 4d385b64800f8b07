//! Why a module was refused at upload, or why a stored artifact could not be loaded.
//!
//! These are errors of the *operation* (an upload, a swap), never of a decision: a module
//! that misbehaves while deciding produces a [`Fault`](arbiter_engine::stages::Fault)
//! value instead. Messages follow the workspace convention: lowercase, context after a
//! colon, user-supplied names in backticks.

use arbiter_engine::stages::{Fault, FaultKind};
use thiserror::Error;

/// A module failed validation, or an artifact could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModuleError {
    #[error("module exceeds the {limit_mib} MiB size cap: {size} bytes", limit_mib = limit / (1 << 20))]
    TooLarge { size: usize, limit: usize },
    #[error("module is not a WebAssembly binary (expected the `\\0asm` header)")]
    NotWasm,
    #[error(
        "module is a core WebAssembly module, not a component: `arbiter policy build` compiles a \
         policy crate and encodes its component (or run `wasm-tools component new` on it)"
    )]
    CoreModule,
    #[error("module does not compile: {reason}")]
    Compile { reason: String },
    #[error(
        "module is built for policy ABI `{found}`, but this host speaks `arbiter:policy@2.x` \
         (and the older `@1.x`)"
    )]
    AbiVersion { found: String },
    #[error(
        "module imports `{name}`: policies may import only the `arbiter:policy/types` \
         interface (no WASI, no host functions)"
    )]
    ForbiddenImport { name: String },
    #[error("module does not export the `evaluate` function of `arbiter:policy`")]
    MissingExport,
    #[error("module's exports do not match the `arbiter:policy` world it imports: {reason}")]
    Signature { reason: String },
    #[error("module cannot be instantiated within the runtime's limits: {reason}")]
    Instantiate { reason: String },
    #[error(
        "module faults on sample context {index} (`{name}`): {kind}: {message}; the context: {context}",
        name = crate::samples::SAMPLE_NAMES.get(*index).copied().unwrap_or("?"),
        kind = fault_name(fault.kind),
        message = fault.message,
        context = sample_json(*index)
    )]
    FailsSample { index: usize, fault: Fault },
    #[error(
        "module is not a pure function: sample context {sample} gave a different verdict \
         when evaluated again in another order"
    )]
    Stateful { sample: usize },
    #[error("stored module artifact cannot be loaded: {reason}")]
    Artifact { reason: String },
}

impl ModuleError {
    /// The stable problem code of this error at the HTTP edge.
    ///
    /// `invalid_module` (422) for everything the uploader can fix; `module_artifact` for an
    /// artifact the host itself stored that no longer loads (a server-side fault, 500).
    pub fn code(&self) -> &'static str {
        if self.is_invalid_module() {
            "invalid_module"
        } else {
            "module_artifact"
        }
    }

    /// Whether the module itself is at fault (as opposed to the host's stored artifact).
    pub fn is_invalid_module(&self) -> bool {
        !matches!(self, ModuleError::Artifact { .. })
    }
}

/// Sample context `index` as JSON, so an author can rerun it (`arbiter policy test
/// --context`).
fn sample_json(index: usize) -> String {
    crate::samples::sample_contexts()
        .get(index)
        .and_then(|ctx| serde_json::to_string(ctx).ok())
        .unwrap_or_default()
}

/// The name a fault kind has on the wire (`out_of_fuel`).
fn fault_name(kind: FaultKind) -> &'static str {
    match kind {
        FaultKind::Trap => "trap",
        FaultKind::OutOfFuel => "out_of_fuel",
        FaultKind::Deadline => "deadline",
        FaultKind::MemoryLimit => "memory_limit",
        FaultKind::MalformedOutput => "malformed_output",
        FaultKind::Unavailable => "unavailable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_limit_and_the_problem() {
        let too_large = ModuleError::TooLarge {
            size: 5_000_000,
            limit: 4 << 20,
        };
        assert_eq!(
            too_large.to_string(),
            "module exceeds the 4 MiB size cap: 5000000 bytes"
        );
        assert_eq!(too_large.code(), "invalid_module");
        let artifact = ModuleError::Artifact { reason: "x".into() };
        assert_eq!(artifact.code(), "module_artifact");
        let sample = ModuleError::FailsSample {
            index: 1,
            fault: Fault {
                kind: FaultKind::OutOfFuel,
                message: "fuel budget exhausted".into(),
            },
        };
        let text = sample.to_string();
        assert!(
            text.starts_with(
                "module faults on sample context 1 (`new_account_order`): out_of_fuel: \
                 fuel budget exhausted; the context: {\"checkpoint\":\"order.create\""
            ),
            "{text}"
        );
    }
}
