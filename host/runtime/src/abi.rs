//! The ABI check of an uploaded component: what it may import, what it must export, and
//! which major version of the ABI it speaks.
//!
//! A policy built against `arbiter:policy@2.x` (or the frozen `@1.x`) imports exactly one
//! thing: the `arbiter:policy/types@<version>` interface, which holds only type
//! definitions (the world's `use types.{…}`), plus the world-level aliases of those
//! types. It exports `evaluate`. Anything else it imports — a WASI interface, a host
//! function, a resource, another interface of the package — is a capability this host
//! never grants, and a module asking for one is refused with its name, rather than failing
//! later with a linker error. The version of the `types` import says which world the
//! module was built against: major 2 or 1 is run with that world's bindings, any other
//! major is refused.

use wasmtime::Engine;
use wasmtime::component::types::{self, ComponentItem};

use crate::error::ModuleError;

/// The one interface a policy may import, without its version.
const TYPES_INTERFACE: &str = "arbiter:policy/types";
/// The function a policy must export.
pub(crate) const EVALUATE: &str = "evaluate";

/// A major version of the ABI this host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abi {
    /// `arbiter:policy@1`: the context as a typed record. Frozen; still run.
    V1,
    /// `arbiter:policy@2`: the context as a byte buffer (layout 2.x). Current.
    V2,
}

/// Checks the imports and exports of a compiled component's type and returns the ABI it
/// was built against. A component that imports no `types` interface (its world uses no
/// ABI type, which a real policy always does) is taken for the current major, so linking
/// reports what does not match it.
pub(crate) fn check(engine: &Engine, ty: &types::Component) -> Result<Abi, ModuleError> {
    let mut abi = None;
    for (name, import) in ty.imports(engine) {
        if let Some(found) = check_import(engine, name, &import.ty)? {
            abi = Some(found);
        }
    }
    match ty.get_export(engine, EVALUATE).map(|export| export.ty) {
        Some(ComponentItem::ComponentFunc(_)) => Ok(abi.unwrap_or(Abi::V2)),
        _ => Err(ModuleError::MissingExport),
    }
}

/// Checks one import; returns the ABI when it is the `types` interface.
fn check_import(
    engine: &Engine,
    name: &str,
    item: &ComponentItem,
) -> Result<Option<Abi>, ModuleError> {
    match item {
        // A type import (with an `eq` bound) grants nothing.
        ComponentItem::Type(_) => Ok(None),
        ComponentItem::ComponentInstance(instance) => {
            let Some(version) = name
                .strip_prefix(TYPES_INTERFACE)
                .and_then(|rest| rest.strip_prefix('@'))
                .or_else(|| (name == TYPES_INTERFACE).then_some(""))
            else {
                return Err(ModuleError::ForbiddenImport { name: name.into() });
            };
            let abi = match version.split('.').next() {
                Some("2") => Abi::V2,
                Some("1") => Abi::V1,
                _ => {
                    let found = if version.is_empty() {
                        format!("{TYPES_INTERFACE} (unversioned)")
                    } else {
                        format!("{TYPES_INTERFACE}@{version}")
                    };
                    return Err(ModuleError::AbiVersion { found });
                }
            };
            // The interface must hold types only: a function smuggled into it would be a
            // host import under an innocent name.
            for (export, item) in instance.exports(engine) {
                if !matches!(item.ty, ComponentItem::Type(_)) {
                    return Err(ModuleError::ForbiddenImport {
                        name: format!("{name}#{export}"),
                    });
                }
            }
            Ok(Some(abi))
        }
        ComponentItem::ComponentFunc(_)
        | ComponentItem::CoreFunc(_)
        | ComponentItem::Module(_)
        | ComponentItem::Component(_)
        | ComponentItem::Resource(_) => Err(ModuleError::ForbiddenImport { name: name.into() }),
    }
}
