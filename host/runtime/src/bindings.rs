//! Host bindings generated from the policy ABI (`policies/wit/policy.wit`), the single
//! source of both sides of the contract. Private to the crate: nothing outside the runtime
//! sees a wasmtime or WIT type; `convert` translates to and from the engine's types.

wasmtime::component::bindgen!({
    path: "../../policies/wit",
    world: "policy",
});

#[cfg(test)]
pub(crate) use arbiter::policy::types::Reason;
pub(crate) use arbiter::policy::types::{
    Action, Amount, Checkpoint, GraphFeatures, Velocity, WindowStats,
};
