//! The code `wit-bindgen` generates from `policies/wit/policy.wit` (`arbiter:policy@2`):
//! the verdict types and the canonical-ABI glue that hands over the context buffer (the
//! host copies it into memory the guest allocated; it arrives as an owned `Vec<u8>`) and
//! lowers a `verdict` back.
//!
//! This is the only module of the SDK (and of any policy) that holds unsafe code, and it
//! is all generated: the WIT file is the single source of both host and guest bindings,
//! so nothing here is written by hand. It is public only because the export macro expands
//! in the policy's crate and has to name it; authors use the re-exports at the crate root.

#![allow(
    unsafe_code,
    reason = "generated canonical-ABI glue; the ABI cannot be crossed without it"
)]
#![allow(missing_docs, reason = "generated; the WIT file carries the docs")]

wit_bindgen::generate!({
    world: "policy",
    path: "../wit",
    // The export macro is invoked from policy crates, so it is `#[macro_export]`ed and
    // told where the bindings live from the outside.
    pub_export_macro: true,
    export_macro_name: "__export_policy_world",
    default_bindings_module: "::arbiter_policy_sdk::bindings",
    // Verdicts compared in native unit tests.
    additional_derives: [PartialEq],
});
