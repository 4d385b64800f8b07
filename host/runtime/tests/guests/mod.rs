//! Hand-written policy components for the sandbox tests, as WAT text, for both ABI majors
//! the host runs ([`Abi`]).
//!
//! Each guest is a core module wrapped in the canonical ABI the way `wit-component`
//! wraps a real policy: the component imports the `arbiter:policy/types` interface (type
//! definitions only) and lifts the core `evaluate`:
//!
//! - `@1`: `func(ctx: context) -> verdict`. The `context` record flattens to more than 16
//!   core values, so the host passes it by pointer (one `i32`, memory allocated through
//!   the guest's `cabi_realloc`). Canonical ABI layout of `context` used here (size 480,
//!   align 8): `amount` option discriminant at 16, `amount.value` f64 at 24.
//! - `@2`: `func(ctx: list<u8>) -> verdict`. The host copies the buffer into memory from
//!   `cabi_realloc` and passes pointer and length. Context layout 2.0 used here:
//!   `present` u32 at 16 (bit 16: amount), amount value f64 at 32.
//!
//! The verdict flattens to more than one value, so the core function returns a pointer to
//! it. It is written at 64: `action` u8 at 64, `score` f32 at 68, `reasons` pointer and
//! length at 72 and 76; one reason record (20 bytes) lives at 96 and points at the code
//! `big_amount` at 128. (The verdict is the same record in both majors.)
//!
//! The common guest answers `accept` with score 0, or `reject` with score 50 and reason
//! `big_amount` when the amount is above 1000. A hostile guest runs its snippet only when
//! the amount is above 1000, so the same loaded module is good on small amounts and bad on
//! large ones, and the tests can check that a fault leaves the next call unaffected.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the guests"
)]

use std::collections::BTreeMap;

use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::context::{AmountView, EnrichedContext};
use arbiter_engine::velocity::VelocityFeatures;

mod types;

use types::types_import;

/// A major version of the policy ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    V1,
    V2,
}

/// Both majors, for tests that must hold for each.
pub const BOTH: [Abi; 2] = [Abi::V1, Abi::V2];

impl Abi {
    /// The package version a guest of this major is built against.
    pub fn version(self) -> &'static str {
        match self {
            Abi::V1 => "1.0.0",
            Abi::V2 => "2.0.0",
        }
    }
}

/// `$big`: whether the context at `$ctx` has an amount above 1000, and the parameters of
/// the core `evaluate`, in the shape of `abi`.
fn context_access(abi: Abi) -> (&'static str, &'static str) {
    match abi {
        Abi::V1 => (
            "(func $big (param $ctx i32) (result i32)
      (if (result i32) (i32.load8_u offset=16 (local.get $ctx))
        (then (f64.gt (f64.load offset=24 (local.get $ctx)) (f64.const 1000)))
        (else (i32.const 0))))",
            "(param $ctx i32)",
        ),
        Abi::V2 => (
            "(func $big (param $ctx i32) (result i32)
      (if (result i32) (i32.and (i32.load offset=16 (local.get $ctx)) (i32.const 0x10000))
        (then (f64.gt (f64.load offset=32 (local.get $ctx)) (f64.const 1000)))
        (else (i32.const 0))))",
            "(param $ctx i32) (param $len i32)",
        ),
    }
}

/// The core module of a guest: memory, a bump allocator reset after every call, the
/// `big_amount` reason, and `evaluate` running `hostile` when the amount is above 1000.
fn core_module(abi: Abi, hostile: &str, extra: &str) -> String {
    let (big, params) = context_access(abi);
    format!(
        r#"
  (core module $m
    (memory (export "memory") 2)
    (global $heap (mut i32) (i32.const 4096))
    (global $calls (mut i32) (i32.const 0))
    (data (i32.const 96) "\80\00\00\00\0a\00\00\00\00")
    (data (i32.const 128) "big_amount")
    (data (i32.const 160) "\ff\fe\fd")
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      ;; align the bump pointer up to the requested alignment
      (local.set $ptr
        (i32.and
          (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr))
    (func (export "cabi_post_evaluate") (param i32)
      (global.set $heap (i32.const 4096)))
    {big}
    (func $recurse (param i32) (result i32)
      (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
    {extra}
    (func (export "evaluate") {params} (result i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (if (call $big (local.get $ctx)) (then {hostile}))
      (if (call $big (local.get $ctx))
        (then
          (i32.store8 (i32.const 64) (i32.const 3))
          (f32.store (i32.const 68) (f32.const 50))
          (i32.store (i32.const 72) (i32.const 96))
          (i32.store (i32.const 76) (i32.const 1)))
        (else
          (i32.store8 (i32.const 64) (i32.const 1))
          (f32.store (i32.const 68) (f32.const 0))
          (i32.store (i32.const 72) (i32.const 0))
          (i32.store (i32.const 76) (i32.const 0))))
      (i32.const 64))
  )
  (core instance $i (instantiate $m))
"#
    )
}

/// The lifted `evaluate` export of `abi`.
fn evaluate_export(abi: Abi) -> String {
    let param = match abi {
        Abi::V1 => "$context",
        Abi::V2 => "(list u8)",
    };
    format!(
        r#"
  (alias core export $i "memory" (core memory $memory))
  (alias core export $i "evaluate" (core func $evaluate-core))
  (alias core export $i "cabi_realloc" (core func $realloc))
  (alias core export $i "cabi_post_evaluate" (core func $post))
  (type $evaluate-ty (func (param "ctx" {param}) (result $verdict)))
  (func $evaluate (type $evaluate-ty)
    (canon lift (core func $evaluate-core) (memory $memory) (realloc $realloc)
      string-encoding=utf8 (post-return $post)))
  (export "evaluate" (func $evaluate))
"#
    )
}

/// A component of `abi` built against `version`, with `extra_export` in its types
/// interface, `import` (component-level import text), and the core module `core`.
fn component(abi: Abi, version: &str, extra_export: &str, import: &str, core: &str) -> Vec<u8> {
    assemble(&format!(
        "(component {} {import} {core} {})",
        types_import(abi, version, extra_export),
        evaluate_export(abi)
    ))
}

/// `text` with `from` replaced by `to`; `from` must occur (a guest that silently kept its
/// good code would make a test pass for the wrong reason).
fn patch(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "guest text lacks {from:?}");
    text.replace(from, to)
}

/// Assembles component text to the binary an upload carries.
pub fn assemble(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|error| panic!("invalid guest WAT: {error}\n{text}"))
}

/// A guest of `abi` that runs `hostile` on amounts above 1000.
pub fn guest(abi: Abi, hostile: &str) -> Vec<u8> {
    guest_with(abi, hostile, "")
}

/// [`guest`] with extra core functions (`extra`) the snippet may call.
pub fn guest_with(abi: Abi, hostile: &str, extra: &str) -> Vec<u8> {
    component(
        abi,
        abi.version(),
        "",
        "",
        &core_module(abi, hostile, extra),
    )
}

/// A well-behaved guest.
pub fn good(abi: Abi) -> Vec<u8> {
    guest(abi, "")
}

/// An infinite loop on large amounts.
pub fn infinite_loop(abi: Abi) -> Vec<u8> {
    guest(abi, "(loop $spin (br $spin))")
}

/// Grows memory a MiB at a time, forever, on large amounts.
pub fn memory_bomb(abi: Abi) -> Vec<u8> {
    guest(
        abi,
        "(loop $grow (drop (memory.grow (i32.const 16))) (br $grow))",
    )
}

/// `unreachable` on large amounts.
pub fn trap(abi: Abi) -> Vec<u8> {
    guest(abi, "unreachable")
}

/// Unbounded recursion on large amounts (a stack-overflow trap).
pub fn stack_overflow(abi: Abi) -> Vec<u8> {
    guest(abi, "(drop (call $recurse (i32.const 0)))")
}

/// Returns a verdict with `action` discriminant 9 (the enum has 4 cases) on large amounts.
pub fn invalid_enum(abi: Abi) -> Vec<u8> {
    guest(
        abi,
        "(i32.store8 (i32.const 64) (i32.const 9))
         (f32.store (i32.const 68) (f32.const 0))
         (i32.store (i32.const 72) (i32.const 0))
         (i32.store (i32.const 76) (i32.const 0))
         (return (i32.const 64))",
    )
}

/// Returns a reason whose code points far outside memory on large amounts.
pub fn out_of_bounds_string(abi: Abi) -> Vec<u8> {
    guest(
        abi,
        "(i32.store (i32.const 200) (i32.const 0x7fff0000))
         (i32.store (i32.const 204) (i32.const 100))
         (i32.store8 (i32.const 208) (i32.const 0))
         (i32.store8 (i32.const 64) (i32.const 3))
         (f32.store (i32.const 68) (f32.const 1))
         (i32.store (i32.const 72) (i32.const 200))
         (i32.store (i32.const 76) (i32.const 1))
         (return (i32.const 64))",
    )
}

/// Returns a reason code that is not UTF-8 on large amounts.
pub fn invalid_utf8(abi: Abi) -> Vec<u8> {
    guest(
        abi,
        "(i32.store (i32.const 200) (i32.const 160))
         (i32.store (i32.const 204) (i32.const 3))
         (i32.store8 (i32.const 208) (i32.const 0))
         (i32.store8 (i32.const 64) (i32.const 3))
         (f32.store (i32.const 68) (f32.const 1))
         (i32.store (i32.const 72) (i32.const 200))
         (i32.store (i32.const 76) (i32.const 1))
         (return (i32.const 64))",
    )
}

/// Returns a NaN score on large amounts (well-typed, but absurd).
pub fn nan_score(abi: Abi) -> Vec<u8> {
    guest(
        abi,
        "(i32.store8 (i32.const 64) (i32.const 3))
         (f32.store (i32.const 68) (f32.const nan))
         (i32.store (i32.const 72) (i32.const 0))
         (i32.store (i32.const 76) (i32.const 0))
         (return (i32.const 64))",
    )
}

/// Returns a verdict pointer outside memory on large amounts: the host cannot even read
/// the verdict record.
pub fn verdict_out_of_bounds(abi: Abi) -> Vec<u8> {
    guest(abi, "(return (i32.const 0x7ffffff0))")
}

/// A guest whose `cabi_realloc` hands the host a pointer outside its memory, so the context
/// (record or buffer) cannot be copied in: every call fails before the guest runs.
pub fn bad_allocator(abi: Abi) -> Vec<u8> {
    let core = patch(
        core_module(abi, "", ""),
        "(global.set $heap (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr))",
        "(global.set $heap (i32.add (local.get $ptr) (local.get 3)))
      (i32.const 0x7ffffff0))",
    );
    component(abi, abi.version(), "", "", &core)
}

/// Keeps a call counter and returns it as the score on every call: a stateful module.
pub fn stateful(abi: Abi) -> Vec<u8> {
    let core = patch(
        core_module(abi, "", ""),
        "(i32.const 64))\n  )",
        "(f32.store (i32.const 68) (f32.convert_i32_u (global.get $calls)))
             (i32.const 64))\n  )",
    );
    component(abi, abi.version(), "", "", &core)
}

/// A guest whose component imports `import` (component-level import text) besides the ABI.
pub fn importing(abi: Abi, import: &str) -> Vec<u8> {
    component(abi, abi.version(), "", import, &core_module(abi, "", ""))
}

/// A guest that puts a function into its `arbiter:policy/types` import.
pub fn function_in_types_interface(abi: Abi) -> Vec<u8> {
    component(
        abi,
        abi.version(),
        r#"(export "log" (func (param "msg" string)))"#,
        "",
        &core_module(abi, "", ""),
    )
}

/// A good guest in the shape of `abi` that says it is built against `version`.
pub fn abi_version(abi: Abi, version: &str) -> Vec<u8> {
    component(abi, version, "", "", &core_module(abi, "", ""))
}

/// A component that exports no `evaluate`.
pub fn without_evaluate(abi: Abi) -> Vec<u8> {
    assemble(&format!(
        "(component {} {})",
        types_import(abi, abi.version(), ""),
        core_module(abi, "", "")
    ))
}

/// A component whose `evaluate` has the wrong type (`func(x: u32) -> u32`).
pub fn wrong_signature() -> Vec<u8> {
    assemble(
        r#"(component
  (core module $m (func (export "evaluate") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (func (export "evaluate") (param "x" u32) (result u32)
    (canon lift (core func $i "evaluate"))))"#,
    )
}

/// A good guest whose initial memory (300 pages, 18.75 MiB) exceeds the 16 MiB cap.
pub fn huge_initial_memory(abi: Abi) -> Vec<u8> {
    let core = patch(
        core_module(abi, "", ""),
        "(memory (export \"memory\") 2)",
        "(memory (export \"memory\") 300)",
    );
    component(abi, abi.version(), "", "", &core)
}

/// A payment context with `amount` (USD, major units), or none.
pub fn context(amount: Option<f64>) -> EnrichedContext {
    EnrichedContext {
        checkpoint: Checkpoint::PaymentAuthorize,
        request_id: "req-test".into(),
        amount: amount.map(|value| AmountView {
            value: format!("{value:.2}"),
            minor_units: (value * 100.0).round() as i64,
            currency: "USD".into(),
            approx: value,
            reporting: None,
        }),
        user_id: "user-1".into(),
        account_age_days: Some(30),
        email: Some("a@example.com".into()),
        email_domain: Some("example.com".into()),
        phone: None,
        device_id: Some("dev-1".into()),
        ip: Some("203.0.113.9".into()),
        ip_country: Some("US".into()),
        is_proxy: false,
        payment_method: Some("card".into()),
        card_fingerprint: Some("fp-1".into()),
        card_bin: Some("424242".into()),
        card_country: Some("US".into()),
        shipping_address_hash: None,
        shipping_country: Some("US".into()),
        order_id: None,
        attributes: BTreeMap::from([("channel".to_owned(), serde_json::json!("web"))]),
        velocity: VelocityFeatures::default(),
        graph: None,
        watch_hits: Vec::new(),
        snoozed_rules: Vec::new(),
        model_score: None,
    }
}

/// A context the hostile snippets ignore.
pub fn small() -> EnrichedContext {
    context(Some(20.0))
}

/// A context that sets the hostile snippets off.
pub fn big() -> EnrichedContext {
    context(Some(5000.0))
}
