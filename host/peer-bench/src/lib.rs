//! The rules layer against its peers: the six example policies of `policies/examples`
//! expressed four ways, evaluated on the same contexts and checked to agree.
//!
//! - [`wasm`]: the real bundled policy components through the real runtime
//!   (`arbiter_runtime::CompiledRuleSet`), exactly as a decision runs them;
//! - [`rule_file`]: the six as one rule file (`policies/rules/examples.rules`) compiled by
//!   `arbiter-rules` into one module, through the same runtime;
//! - [`native`]: the same logic as plain Rust functions, the floor nothing can beat;
//! - [`cedar`]: the same logic as Cedar policies (`cedar-policy`), one `permit` per
//!   (rule, outcome) whose annotations carry the action, score and reason;
//! - [`zen`]: the same logic as a GoRules JDM decision graph (`zen-engine`), one decision
//!   table per rule.
//!
//! Every engine takes the engine's [`EnrichedContext`](arbiter_engine::EnrichedContext) and
//! answers a [`RulesVerdict`]; turning the context into the engine's own input (a WIT
//! record, a Cedar context, a zen variable) is part of what is measured, because every
//! real integration pays it on every decision.
//!
//! Must not: be a dependency of the service. This crate is its own cargo workspace so the
//! peers (zen-engine alone pulls in some 340 crates) never enter the service's dependency
//! tree, its lock file or CI's test build.

pub mod cases;
pub mod cedar;
pub mod native;
pub mod rule_file;
mod verdict;
pub mod wasm;
pub mod zen;

pub use verdict::{RulesEngine, RulesVerdict};

/// The reason codes the six rules can give. Engines whose outputs are strings they own
/// (Cedar annotations, zen variables) map them onto these so a verdict borrows instead of
/// allocating, as the native functions do.
pub const REASON_CODES: [&str; 10] = [
    "geo.mismatch",
    "account.new_high_value",
    "velocity.card_testing",
    "network.proxy_high_value",
    "promo.multi_account",
    "promo.new_account",
    "graph.fraud_linked",
    "graph.fraud_neighbourhood",
    "graph.large_group",
    "graph.cards_per_device",
];

/// The static spelling of a known reason code, or the code itself.
pub(crate) fn reason_code(code: &str) -> std::borrow::Cow<'static, str> {
    match REASON_CODES.iter().find(|known| **known == code) {
        Some(known) => std::borrow::Cow::Borrowed(known),
        None => std::borrow::Cow::Owned(code.to_owned()),
    }
}
