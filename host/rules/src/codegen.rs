//! From a checked [`Program`] to an `arbiter:policy@2` component.
//!
//! The generated module is small and closed: one function per rule file (`evaluate`)
//! plus a fixed set of helpers ([`helpers`]), one memory, a bump allocator released after
//! every call, and a data segment of the file's literals. No loop depends on anything but
//! the length of a text in the context, and every text is bounds-checked, so a compiled
//! rule cannot trap on a context the host writes; its worst-case fuel is computed
//! ([`cost`]) and a file that could exceed three quarters of the host's budget is refused here, at
//! compile time, rather than faulting on a decision.

pub mod component;
pub mod cost;
mod data;
mod emit;
mod evaluate;
mod expr;
mod helpers;
mod module;

pub use cost::Bounds;

use crate::check::ir::Program;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::syntax::span::Span;
use crate::verdict::VerdictLimits;

/// What the compiler must know about the host that will run the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileOptions {
    pub limits: VerdictLimits,
    /// The largest context the host can write, for the worst-case fuel.
    pub bounds: Bounds,
    /// The host's fuel budget per call; a file whose worst case exceeds three quarters of it is refused.
    pub fuel_per_call: u64,
}

/// A compiled rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub program: Program,
    /// The `arbiter:policy@2` component, ready for upload validation.
    pub component: Vec<u8>,
    /// Worst-case fuel of one call, as computed.
    pub fuel_bound: u64,
}

/// Compiles a checked program.
pub fn compile(program: &Program, options: &CompileOptions) -> Result<Compiled, Diagnostics> {
    let fuel_bound = cost::bound(program, &options.bounds);
    let budget = options.fuel_per_call / 4 * 3;
    if fuel_bound > budget {
        let mut costly: Vec<(u64, &str)> = program
            .rules
            .iter()
            .map(|rule| (cost::rule_bound(rule, &options.bounds), rule.name.as_str()))
            .collect();
        costly.sort_unstable_by_key(|(fuel, _)| std::cmp::Reverse(*fuel));
        let names: Vec<String> = costly
            .iter()
            .take(3)
            .map(|(fuel, name)| format!("`{name}` ({fuel})"))
            .collect();
        return Err(Diagnostics::one(
            Diagnostic::new(
                format!(
                    "on the largest context the host accepts, this file could use {fuel_bound} fuel \
                     per decision, more than three quarters of the budget of {}",
                    options.fuel_per_call
                ),
                Span::default(),
            )
            .with_help(format!(
                "the costliest rules: {}; split the file or test fewer long texts",
                names.join(", ")
            )),
        ));
    }
    let core = module::core_module(program, &options.limits);
    let component = component::componentize(core).map_err(|reason| {
        Diagnostics::one(Diagnostic::new(
            format!("internal compiler error: {reason}"),
            Span::default(),
        ))
    })?;
    Ok(Compiled {
        program: program.clone(),
        component,
        fuel_bound,
    })
}

/// The core module alone, for tests that inspect it.
pub fn core_module(program: &Program, limits: &VerdictLimits) -> Vec<u8> {
    module::core_module(program, limits)
}
