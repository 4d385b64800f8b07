//! Loading a stored artifact: deserializing precompiled native code, which takes
//! microseconds to a millisecond, so a policy swap or a restart never compiles.
//!
//! This is the one place in the workspace with `unsafe` code: wasmtime cannot verify that
//! precompiled bytes are well-formed machine code, so `Component::deserialize` is unsafe.

use std::sync::Arc;

use wasmtime::component::Component;

use crate::PolicyRuntime;
use crate::abi;
use crate::error::ModuleError;
use crate::fault::error_chain;
use crate::pool::LoadedModule;

impl PolicyRuntime {
    /// Loads an [`Artifact::precompiled`](crate::Artifact) produced by this runtime's
    /// [`compile`](Self::compile) or [`validate`](Self::validate).
    ///
    /// The bytes are executed as native code: pass only bytes the host itself produced and
    /// stored (read back from its own storage), never bytes from a request. Bytes from
    /// another wasmtime version or engine configuration are refused with
    /// [`ModuleError::Artifact`]; recompile the original module then.
    pub fn load(&self, precompiled: &[u8]) -> Result<Arc<LoadedModule>, ModuleError> {
        let engine = &self.shared.engine;
        #[expect(
            unsafe_code,
            reason = "deserializing precompiled code is the point of storing it (see SAFETY)"
        )]
        // SAFETY: `Component::deserialize` requires bytes that a wasmtime `Engine` produced
        // with `serialize`/`precompile_component`, unmodified. `load`'s contract (above) is
        // that `precompiled` is an `Artifact::precompiled` this runtime produced and the host
        // stored in its own storage next to the module's SHA-256, which only the upload path
        // writes after validation. Wasmtime itself checks the header: the wasmtime version,
        // the target and every code-generation setting must match this engine, so bytes from
        // another build or configuration are refused with an error, not run.
        let component =
            unsafe { Component::deserialize(engine, precompiled) }.map_err(|error| {
                ModuleError::Artifact {
                    reason: error_chain(&error),
                }
            })?;
        // Stored artifacts passed the ABI check at upload; this only finds their major again.
        let abi = abi::check(engine, &component.component_type()).map_err(|error| {
            ModuleError::Artifact {
                reason: error.to_string(),
            }
        })?;
        let module =
            LoadedModule::new(Arc::clone(&self.shared), &component, abi).map_err(|error| {
                ModuleError::Artifact {
                    reason: error_chain(&error),
                }
            })?;
        Ok(Arc::new(module))
    }
}
