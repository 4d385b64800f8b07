//! Shared by the compiler's tests: compile a rule file the way the host does, run it in the
//! real runtime, and compare with the reference interpreter.

#![allow(dead_code, reason = "each test binary uses part of the support")]

pub mod generate;

use std::sync::Arc;

use arbiter_rules::codegen::Bounds;
use arbiter_rules::layout::text;
use arbiter_rules::verdict::VerdictLimits;
use arbiter_rules::{Action, CompileOptions, Program, Verdict};
use arbiter_runtime::{LoadedModule, PolicyRuntime, PreparedContext, RuntimeConfig};

/// The runtime's own verdict limits.
pub fn limits() -> VerdictLimits {
    VerdictLimits {
        max_reasons: u32::try_from(arbiter_runtime::MAX_REASONS).unwrap_or(0),
        max_detail_bytes: u32::try_from(arbiter_runtime::MAX_REASON_DETAIL_BYTES).unwrap_or(0),
    }
}

/// The host's bounds (the decision request's limits, four bytes a character), which the
/// tests' contexts stay within.
pub fn bounds() -> Bounds {
    let mut text_bytes = [512; text::COUNT];
    for (index, chars) in [
        (text::CURRENCY, 3),
        (text::EMAIL, 254),
        (text::EMAIL_DOMAIN, 254),
        (text::PHONE, 32),
        (text::IP, 64),
        (text::IP_COUNTRY, 8),
        (text::PAYMENT_METHOD, 32),
        (text::CARD_BIN, 8),
        (text::CARD_COUNTRY, 8),
        (text::SHIPPING_ADDRESS_HASH, 16),
        (text::SHIPPING_COUNTRY, 8),
    ] {
        text_bytes[index] = 4 * chars;
    }
    Bounds {
        text_bytes,
        attributes: 64,
        attribute_key_bytes: 256,
        attribute_value_bytes: 4096,
        watch_hits: 16,
        watch_hit_bytes: 64,
    }
}

pub fn options() -> CompileOptions {
    CompileOptions {
        limits: limits(),
        bounds: bounds(),
        fuel_per_call: RuntimeConfig::default().fuel_per_call,
    }
}

/// Bounds of the generated contexts (every text at most 64 bytes, four attributes, three
/// watch hits), so random files are rarely refused for fuel and the measured fuel is
/// still checked against a bound those contexts respect.
pub fn small_bounds() -> Bounds {
    Bounds {
        text_bytes: [64; text::COUNT],
        attributes: 4,
        attribute_key_bytes: 64,
        attribute_value_bytes: 64,
        watch_hits: 3,
        watch_hit_bytes: 64,
    }
}

pub fn runtime() -> PolicyRuntime {
    PolicyRuntime::new(RuntimeConfig::default()).expect("runtime starts")
}

/// A compiled rule file, validated and loaded as an upload would be.
pub struct Loaded {
    pub program: Program,
    pub module: Arc<LoadedModule>,
    pub fuel_bound: u64,
}

pub fn load(runtime: &PolicyRuntime, source: &str) -> Loaded {
    try_load(runtime, source)
        .unwrap_or_else(|problems| panic!("{}", problems.render("test.rules", source)))
}

/// [`load`], or the compiler's refusal.
pub fn try_load(
    runtime: &PolicyRuntime,
    source: &str,
) -> Result<Loaded, arbiter_rules::Diagnostics> {
    try_load_with(runtime, source, &options())
}

/// [`try_load`] with other compile options.
pub fn try_load_with(
    runtime: &PolicyRuntime,
    source: &str,
    options: &CompileOptions,
) -> Result<Loaded, arbiter_rules::Diagnostics> {
    let compiled = arbiter_rules::compile(source, options)?;
    let artifact = runtime
        .validate(&compiled.component)
        .unwrap_or_else(|error| panic!("upload validation refused the module: {error}"));
    let module = runtime.load(&artifact.precompiled).expect("loads");
    Ok(Loaded {
        program: compiled.program,
        module,
        fuel_bound: compiled.fuel_bound,
    })
}

/// The compiled module's verdict and fuel on `buf`, in the interpreter's terms.
pub fn run(loaded: &Loaded, buf: &[u8]) -> (Verdict, u64) {
    let outcome = loaded
        .module
        .evaluate_prepared(&PreparedContext::from_layout(buf.to_vec()));
    let verdict = outcome
        .result
        .unwrap_or_else(|fault| panic!("the compiled module faulted: {fault:?}"));
    let action = match verdict.action {
        arbiter_engine::Action::None => Action::None,
        arbiter_engine::Action::Accept => Action::Accept,
        arbiter_engine::Action::Challenge => Action::Challenge,
        arbiter_engine::Action::Reject => Action::Reject,
    };
    #[expect(
        clippy::cast_possible_truncation,
        reason = "widened from the ABI's f32"
    )]
    let score = verdict.score as f32;
    (
        Verdict {
            action,
            score,
            reasons: verdict
                .reasons
                .into_iter()
                .map(|r| arbiter_rules::Reason {
                    code: r.code,
                    detail: r.detail,
                })
                .collect(),
        },
        outcome.fuel_used,
    )
}

/// The interpreter's verdict on `buf`.
pub fn interpret(loaded: &Loaded, buf: &[u8]) -> Verdict {
    arbiter_rules::interpret::interpret(&loaded.program, buf, &limits())
}
