//! Host bindings generated from the policy ABI, the single source of both sides of the
//! contract: `v2` from `policies/wit/policy.wit` (the current major, context as a byte
//! buffer) and `v1` from the frozen `policies/wit/v1/policy.wit` (typed context record),
//! kept so modules built for @1 and stored in existing data directories keep running.
//! Private to the crate: nothing outside the runtime sees a wasmtime or WIT type;
//! `convert` and `encode` translate to and from the engine's types.

pub(crate) mod v1 {
    wasmtime::component::bindgen!({
        path: "../../policies/wit/v1",
        world: "policy",
    });

    #[cfg(test)]
    pub(crate) use arbiter::policy::types::Reason;
    pub(crate) use arbiter::policy::types::{
        Action, Amount, Checkpoint, GraphFeatures, Velocity, WindowStats,
    };
}

pub(crate) mod v2 {
    wasmtime::component::bindgen!({
        path: "../../policies/wit",
        world: "policy",
    });

    pub(crate) use arbiter::policy::types::Action;
    #[cfg(test)]
    pub(crate) use arbiter::policy::types::Reason;
}
