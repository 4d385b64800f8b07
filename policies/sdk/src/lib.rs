//! The guest SDK for Arbiter risk policies.
//!
//! A policy is a pure function `fn evaluate(ctx: &Context) -> Verdict` compiled to
//! `wasm32-unknown-unknown` and encoded as a component of the `arbiter:policy@2.0.0`
//! world. This crate owns the guest half of that contract: the [`Context`] that reads the
//! host's compact context buffer in place (layout in `policies/wit/policy.wit`), the
//! verdict types generated from the WIT file with builders, the one-line
//! [`export_policy!`] glue, and a [`testing`] module to build contexts in native unit tests.
//!
//! It deliberately offers no state, no clock, no randomness and no I/O: the host may call
//! `evaluate` on any instance, in any order, and replay it in backtests, so a verdict must
//! depend on the context alone.
//!
//! ```
//! use arbiter_policy_sdk::{Checkpoint, Context, Verdict};
//!
//! pub fn evaluate(ctx: &Context) -> Verdict {
//!     match ctx.attribute("promo_code") {
//!         Some(code) if ctx.checkpoint() == Checkpoint::PromoRedeem && ctx.is_proxy() => {
//!             Verdict::pass().challenge().score(20.0).reason("promo.proxy", code)
//!         }
//!         _ => Verdict::pass(),
//!     }
//! }
//! arbiter_policy_sdk::export_policy!(evaluate);
//! ```

#[doc(hidden)]
pub mod bindings;
mod context;
mod fields;
mod fixed;
#[doc(hidden)]
pub mod layout;
pub mod testing;
mod verdict;

pub use bindings::arbiter::policy::types::{Action, Reason, Verdict};
pub use context::{Context, LayoutError};
pub use fields::{Amount, Checkpoint, GraphFeatures, Velocity, WindowStats};
pub use fixed::{Fixed, fixed};

/// Wires a pure `fn(&Context) -> Verdict` to the component's `evaluate` export.
///
/// Invoke it once, at the root of a policy crate: `arbiter_policy_sdk::export_policy!(evaluate);`
/// (any path to a function works: `export_policy!(rules::evaluate)`). On `wasm32` it
/// emits the `evaluate` export and the component-type section the encoder reads; on the
/// host it compiles too, so the same crate runs its unit tests natively.
#[macro_export]
macro_rules! export_policy {
    ($evaluate:path) => {
        const _: () = {
            #[doc(hidden)]
            struct __ArbiterPolicy;

            impl $crate::__private::Guest for __ArbiterPolicy {
                fn evaluate(ctx: $crate::__private::Vec<u8>) -> $crate::Verdict {
                    // Spelled out so a wrong signature fails here, with this type in the error.
                    let evaluate: fn(&$crate::Context) -> $crate::Verdict = $evaluate;
                    $crate::__private::evaluate_buffer(ctx, evaluate)
                }
            }

            $crate::__private::export_world!(__ArbiterPolicy);
        };
    };
}

/// Not public API: what [`export_policy!`] expands to.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::__export_policy_world as export_world;
    pub use crate::bindings::Guest;
    pub use std::vec::Vec;

    use crate::{Context, Verdict};

    /// Reads the buffer the host passed and runs the policy on it. A buffer that is not
    /// layout 2.x panics, which in a module is a trap: the host records a fault.
    pub fn evaluate_buffer(bytes: Vec<u8>, evaluate: fn(&Context) -> Verdict) -> Verdict {
        match Context::from_bytes(bytes) {
            Ok(ctx) => evaluate(&ctx),
            Err(error) => panic!("{error}"),
        }
    }
}
