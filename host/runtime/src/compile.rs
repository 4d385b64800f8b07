//! Compiling an uploaded module to native code, once, at upload.
//!
//! Compilation is CPU-heavy — tens of milliseconds of one core for a typical policy, up to
//! seconds for a module near the size cap — so it must not run on a thread that serves
//! decisions: the HTTP edge calls [`PolicyRuntime::compile`] (or `validate`) inside
//! `spawn_blocking`. The result is an [`Artifact`] whose precompiled bytes are stored, so
//! a swap or a restart only deserializes them ([`PolicyRuntime::load`]).

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::PolicyRuntime;
use crate::abi;
use crate::error::ModuleError;
use crate::fault::error_chain;
use crate::pool::LoadedModule;

/// A compiled module, ready to store.
#[derive(Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Lower-case hex SHA-256 of the uploaded bytes: the module's content address (the same
    /// bytes uploaded twice are the same module).
    pub sha256: String,
    /// Size of the uploaded bytes.
    pub size_bytes: usize,
    /// Native code for this runtime's engine, loadable with [`PolicyRuntime::load`]. Only
    /// this wasmtime version and engine configuration can load it; after an upgrade the
    /// stored modules are recompiled from their original bytes.
    pub precompiled: Vec<u8>,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifact")
            .field("sha256", &self.sha256)
            .field("size_bytes", &self.size_bytes)
            .field("precompiled_bytes", &self.precompiled.len())
            .finish()
    }
}

/// The binary header of a WebAssembly core module (magic, version 1).
const CORE_MODULE_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
/// The magic every WebAssembly binary starts with.
const WASM_MAGIC: [u8; 4] = [0x00, 0x61, 0x73, 0x6d];

impl PolicyRuntime {
    /// Compiles an uploaded component and checks it speaks the ABI: size cap, a binary
    /// component (not a core module, not text), imports limited to
    /// `arbiter:policy/types@2.x` (or the older `@1.x`), an `evaluate` export of that
    /// world's type.
    ///
    /// CPU-heavy: call it off the serving threads (`spawn_blocking`). It does not run the
    /// module; [`validate`](Self::validate) does that too and is what an upload should use.
    pub fn compile(&self, wasm: &[u8]) -> Result<Artifact, ModuleError> {
        self.compile_component(wasm)
            .map(|(artifact, _component)| artifact)
    }

    /// [`compile`](Self::compile), also returning the compiled component.
    pub(crate) fn compile_component(
        &self,
        wasm: &[u8],
    ) -> Result<(Artifact, Component), ModuleError> {
        let limit = self.shared.config.max_module_bytes;
        if wasm.len() > limit {
            return Err(ModuleError::TooLarge {
                size: wasm.len(),
                limit,
            });
        }
        if !wasm.starts_with(&WASM_MAGIC) {
            return Err(ModuleError::NotWasm);
        }
        if wasm.starts_with(&CORE_MODULE_HEADER) {
            return Err(ModuleError::CoreModule);
        }
        let engine = &self.shared.engine;
        let component =
            Component::from_binary(engine, wasm).map_err(|error| ModuleError::Compile {
                reason: error.to_string(),
            })?;
        let abi = abi::check(engine, &component.component_type())?;
        // Linking type-checks `evaluate` against the bindings generated from the WIT file.
        LoadedModule::new(Arc::clone(&self.shared), &component, abi).map_err(|error| {
            ModuleError::Signature {
                reason: error_chain(&error),
            }
        })?;
        let precompiled = component
            .serialize()
            .map_err(|error| ModuleError::Compile {
                reason: format!("serializing the compiled module: {error}"),
            })?;
        let artifact = Artifact {
            sha256: hex::encode(Sha256::digest(wasm)),
            size_bytes: wasm.len(),
            precompiled,
        };
        Ok((artifact, component))
    }
}
