//! The rule language for analysts, and its compiler to WebAssembly.
//!
//! A fraud analyst writes rules as text (`policies/RULES.md` is the reference):
//!
//! ```text
//! rule geo_mismatch on order.create, payment.authorize
//!   when card.country != ip.country and amount > 200
//!   then challenge score +20
//!   reason "geo.mismatch" detail "card {card.country}, ip {ip.country}"
//! ```
//!
//! This crate turns such a file into an `arbiter:policy@2` component that the host uploads,
//! validates and runs like any hand-written module — same sandbox, rollout, shadow and
//! backtest — at compiled speed:
//!
//! 1. [`syntax`]: parse with spans;
//! 2. [`check`]: resolve attribute names against the context layout 2.0, type every
//!    expression, refuse rules that could never matter;
//! 3. [`codegen`]: emit a core module that reads the context buffer in place
//!    (`wasm-encoder`), prove its worst-case fuel against the host's budget, and wrap it as a
//!    component of the `@2` world (`wit-component`).
//!
//! [`interpret`] is the reference: the same program run directly on the same bytes. The
//! equivalence property test requires compiled and interpreted verdicts to be identical.
//!
//! Must not: know about HTTP, SQL or wasmtime. Errors are [`Diagnostics`] with spans.

pub mod check;
pub mod codegen;
pub mod diagnostic;
pub mod interpret;
pub mod syntax;
pub mod verdict;

/// The context layout 2.0, compiled from the SDK's own file so the offsets cannot drift.
#[path = "../../../policies/sdk/src/layout.rs"]
#[allow(dead_code, reason = "the compiler reads offsets; tests use the writer")]
pub mod layout;

pub use check::ir::{Action, Program};
pub use codegen::{Bounds, CompileOptions, Compiled};
pub use diagnostic::{Diagnostic, Diagnostics, Located};
pub use verdict::{Reason, Verdict};

/// Parses and checks a rule file.
pub fn check_source(source: &str) -> Result<Program, Diagnostics> {
    let file = syntax::parser::parse(source).map_err(Diagnostics::one)?;
    check::check(&file)
}

/// Parses, checks and compiles a rule file into an `arbiter:policy@2` component.
pub fn compile(source: &str, options: &CompileOptions) -> Result<Compiled, Diagnostics> {
    let program = check_source(source)?;
    codegen::compile(&program, options)
}
