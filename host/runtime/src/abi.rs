//! The ABI check of an uploaded component: what it may import and what it must export.
//!
//! A policy built against `arbiter:policy@1.x` imports exactly one thing: the
//! `arbiter:policy/types@1.x` interface, which holds only type definitions (the world's
//! `use types.{context, verdict}`), plus the world-level aliases of those types. It
//! exports `evaluate`. Anything else it imports — a WASI interface, a host function, a
//! resource, another interface of the package — is a capability this host never grants,
//! and a module asking for one is refused with its name, rather than failing later with a
//! linker error. A `types` interface of another major version means the module was built
//! against an incompatible ABI.

use wasmtime::Engine;
use wasmtime::component::types::{self, ComponentItem};

use crate::error::ModuleError;

/// The one interface a policy may import, without its version.
const TYPES_INTERFACE: &str = "arbiter:policy/types";
/// The major version of the ABI this host speaks.
const ABI_MAJOR: &str = "1";
/// The function a policy must export.
pub(crate) const EVALUATE: &str = "evaluate";

/// Checks the imports and exports of a compiled component's type.
pub(crate) fn check(engine: &Engine, ty: &types::Component) -> Result<(), ModuleError> {
    for (name, import) in ty.imports(engine) {
        check_import(engine, name, &import.ty)?;
    }
    match ty.get_export(engine, EVALUATE).map(|export| export.ty) {
        Some(ComponentItem::ComponentFunc(_)) => Ok(()),
        _ => Err(ModuleError::MissingExport),
    }
}

fn check_import(engine: &Engine, name: &str, item: &ComponentItem) -> Result<(), ModuleError> {
    match item {
        // A type import (with an `eq` bound) grants nothing.
        ComponentItem::Type(_) => Ok(()),
        ComponentItem::ComponentInstance(instance) => {
            let Some(version) = name
                .strip_prefix(TYPES_INTERFACE)
                .and_then(|rest| rest.strip_prefix('@'))
                .or_else(|| (name == TYPES_INTERFACE).then_some(""))
            else {
                return Err(ModuleError::ForbiddenImport { name: name.into() });
            };
            if version.split('.').next() != Some(ABI_MAJOR) {
                let found = if version.is_empty() {
                    format!("{TYPES_INTERFACE} (unversioned)")
                } else {
                    format!("{TYPES_INTERFACE}@{version}")
                };
                return Err(ModuleError::AbiVersion { found });
            }
            // The interface must hold types only: a function smuggled into it would be a
            // host import under an innocent name.
            for (export, item) in instance.exports(engine) {
                if !matches!(item.ty, ComponentItem::Type(_)) {
                    return Err(ModuleError::ForbiddenImport {
                        name: format!("{name}#{export}"),
                    });
                }
            }
            Ok(())
        }
        ComponentItem::ComponentFunc(_)
        | ComponentItem::CoreFunc(_)
        | ComponentItem::Module(_)
        | ComponentItem::Component(_)
        | ComponentItem::Resource(_) => Err(ModuleError::ForbiddenImport { name: name.into() }),
    }
}
