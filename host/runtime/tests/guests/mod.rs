//! Hand-written policy components for the sandbox tests, as WAT text.
//!
//! Each guest is a core module wrapped in the canonical ABI the way `wit-component`
//! wraps a real policy: the component imports the `arbiter:policy/types` interface (type
//! definitions only) and lifts the core `evaluate` as `func(ctx: context) -> verdict`.
//! The `context` record flattens to more than 16 core values, so the host passes it by
//! pointer (one `i32`, memory allocated through the guest's `cabi_realloc`); the verdict
//! flattens to more than one value, so the core function returns a pointer to it.
//!
//! Canonical ABI layout of `context` used here (size 480, align 8): `checkpoint` u8 at 0;
//! `amount` option discriminant at 16, `amount.value` f64 at 24; `is-proxy` at 136.
//! The verdict is written at 64: `action` u8 at 64, `score` f32 at 68, `reasons` pointer
//! and length at 72 and 76; one reason record (20 bytes) lives at 96 and points at the
//! code `big_amount` at 128.
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

/// The `arbiter:policy/types` interface at `version`, imported, with the world-level type
/// imports a real policy component carries.
fn types_import(version: &str, extra_export: &str) -> String {
    format!(
        r#"
  (type $types-ty
    (instance
      (type (;0;) (enum "order-create" "payment-authorize" "refund-request" "account-login" "promo-redeem"))
      (export (;1;) "checkpoint" (type (eq 0)))
      (type (;2;) (record (field "value" f64) (field "minor-units" s64) (field "currency" string)))
      (export (;3;) "amount" (type (eq 2)))
      (type (;4;) (record (field "count-1h" u32) (field "sum-1h" f64) (field "count-24h" u32) (field "sum-24h" f64)))
      (export (;5;) "window-stats" (type (eq 4)))
      (type (;6;) (option 5))
      (type (;7;) (record (field "user" 5) (field "device" 6) (field "card" 6) (field "ip" 6) (field "email" 6)))
      (export (;8;) "velocity" (type (eq 7)))
      (type (;9;) (option u8))
      (type (;10;) (record (field "group-entities" u32) (field "group-users" u32) (field "users-per-device" u32) (field "users-per-card" u32) (field "users-per-address" u32) (field "users-per-phone" u32) (field "cards-per-device" u32) (field "cards-per-user" u32) (field "hops-to-fraud" 9) (field "fraud-share-2hop" f32) (field "score" f32)))
      (export (;11;) "graph-features" (type (eq 10)))
      (type (;12;) (option 3))
      (type (;13;) (option u32))
      (type (;14;) (option string))
      (type (;15;) (tuple string string))
      (type (;16;) (list 15))
      (type (;17;) (option 11))
      (type (;18;) (list string))
      (type (;19;) (record (field "checkpoint" 1) (field "request-id" string) (field "amount" 12) (field "user-id" string) (field "account-age-days" 13) (field "email" 14) (field "email-domain" 14) (field "phone" 14) (field "device-id" 14) (field "ip" 14) (field "ip-country" 14) (field "is-proxy" bool) (field "payment-method" 14) (field "card-fingerprint" 14) (field "card-bin" 14) (field "card-country" 14) (field "shipping-address-hash" 14) (field "shipping-country" 14) (field "order-id" 14) (field "attributes" 16) (field "velocity" 8) (field "graph" 17) (field "watch-hits" 18)))
      (export (;20;) "context" (type (eq 19)))
      (type (;21;) (enum "none" "accept" "challenge" "reject"))
      (export (;22;) "action" (type (eq 21)))
      (type (;23;) (record (field "code" string) (field "detail" 14)))
      (export (;24;) "reason" (type (eq 23)))
      (type (;25;) (list 24))
      (type (;26;) (record (field "action" 22) (field "score" f32) (field "reasons" 25)))
      (export (;27;) "verdict" (type (eq 26)))
      {extra_export}
    )
  )
  (import "arbiter:policy/types@{version}" (instance $types (type $types-ty)))
  (alias export $types "context" (type $context-def))
  (import "context" (type $context (eq $context-def)))
  (alias export $types "verdict" (type $verdict-def))
  (import "verdict" (type $verdict (eq $verdict-def)))
"#
    )
}

/// The core module of a guest: memory, a bump allocator reset after every call, the
/// `big_amount` reason, and `evaluate` running `hostile` when the amount is above 1000.
fn core_module(hostile: &str, extra: &str) -> String {
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
    (func $big (param $ctx i32) (result i32)
      (if (result i32) (i32.load8_u offset=16 (local.get $ctx))
        (then (f64.gt (f64.load offset=24 (local.get $ctx)) (f64.const 1000)))
        (else (i32.const 0))))
    (func $recurse (param i32) (result i32)
      (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
    {extra}
    (func (export "evaluate") (param $ctx i32) (result i32)
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

/// The lifted `evaluate` export.
const EVALUATE_EXPORT: &str = r#"
  (alias core export $i "memory" (core memory $memory))
  (alias core export $i "evaluate" (core func $evaluate-core))
  (alias core export $i "cabi_realloc" (core func $realloc))
  (alias core export $i "cabi_post_evaluate" (core func $post))
  (type $evaluate-ty (func (param "ctx" $context) (result $verdict)))
  (func $evaluate (type $evaluate-ty)
    (canon lift (core func $evaluate-core) (memory $memory) (realloc $realloc)
      string-encoding=utf8 (post-return $post)))
  (export "evaluate" (func $evaluate))
"#;

/// Assembles component text to the binary an upload carries.
pub fn assemble(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|error| panic!("invalid guest WAT: {error}\n{text}"))
}

/// A guest built against ABI 1.0.0 that runs `hostile` on amounts above 1000.
pub fn guest(hostile: &str) -> Vec<u8> {
    guest_with(hostile, "")
}

/// [`guest`] with extra core functions (`extra`) the snippet may call.
pub fn guest_with(hostile: &str, extra: &str) -> Vec<u8> {
    assemble(&format!(
        "(component {} {} {})",
        types_import("1.0.0", ""),
        core_module(hostile, extra),
        EVALUATE_EXPORT
    ))
}

/// A well-behaved guest.
pub fn good() -> Vec<u8> {
    guest("")
}

/// An infinite loop on large amounts.
pub fn infinite_loop() -> Vec<u8> {
    guest("(loop $spin (br $spin))")
}

/// Grows memory a MiB at a time, forever, on large amounts.
pub fn memory_bomb() -> Vec<u8> {
    guest("(loop $grow (drop (memory.grow (i32.const 16))) (br $grow))")
}

/// `unreachable` on large amounts.
pub fn trap() -> Vec<u8> {
    guest("unreachable")
}

/// Unbounded recursion on large amounts (a stack-overflow trap).
pub fn stack_overflow() -> Vec<u8> {
    guest("(drop (call $recurse (i32.const 0)))")
}

/// Returns a verdict with `action` discriminant 9 (the enum has 4 cases) on large amounts.
pub fn invalid_enum() -> Vec<u8> {
    guest(
        "(i32.store8 (i32.const 64) (i32.const 9))
         (f32.store (i32.const 68) (f32.const 0))
         (i32.store (i32.const 72) (i32.const 0))
         (i32.store (i32.const 76) (i32.const 0))
         (return (i32.const 64))",
    )
}

/// Returns a reason whose code points far outside memory on large amounts.
pub fn out_of_bounds_string() -> Vec<u8> {
    guest(
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
pub fn invalid_utf8() -> Vec<u8> {
    guest(
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
pub fn nan_score() -> Vec<u8> {
    guest(
        "(i32.store8 (i32.const 64) (i32.const 3))
         (f32.store (i32.const 68) (f32.const nan))
         (i32.store (i32.const 72) (i32.const 0))
         (i32.store (i32.const 76) (i32.const 0))
         (return (i32.const 64))",
    )
}

/// Keeps a call counter and returns it as the score on every call: a stateful module.
pub fn stateful() -> Vec<u8> {
    assemble(&format!(
        "(component {} {} {})",
        types_import("1.0.0", ""),
        core_module("", "").replace(
            "(i32.const 64))\n  )",
            "(f32.store (i32.const 68) (f32.convert_i32_u (global.get $calls)))
             (i32.const 64))\n  )",
        ),
        EVALUATE_EXPORT
    ))
}

/// A guest whose component imports `import` (component-level import text) besides the ABI.
pub fn importing(import: &str) -> Vec<u8> {
    assemble(&format!(
        "(component {} {import} {} {})",
        types_import("1.0.0", ""),
        core_module("", ""),
        EVALUATE_EXPORT
    ))
}

/// A guest that puts a function into its `arbiter:policy/types` import.
pub fn function_in_types_interface() -> Vec<u8> {
    assemble(&format!(
        "(component {} {} {})",
        types_import("1.0.0", r#"(export "log" (func (param "msg" string)))"#),
        core_module("", ""),
        EVALUATE_EXPORT
    ))
}

/// A good guest built against another version of the ABI.
pub fn abi_version(version: &str) -> Vec<u8> {
    assemble(&format!(
        "(component {} {} {})",
        types_import(version, ""),
        core_module("", ""),
        EVALUATE_EXPORT
    ))
}

/// A component that exports no `evaluate`.
pub fn without_evaluate() -> Vec<u8> {
    assemble(&format!(
        "(component {} {})",
        types_import("1.0.0", ""),
        core_module("", "")
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
pub fn huge_initial_memory() -> Vec<u8> {
    assemble(&format!(
        "(component {} {} {})",
        types_import("1.0.0", ""),
        core_module("", "").replace(
            "(memory (export \"memory\") 2)",
            "(memory (export \"memory\") 300)"
        ),
        EVALUATE_EXPORT
    ))
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
