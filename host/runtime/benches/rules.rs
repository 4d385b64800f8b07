//! The runtime's costs on the decision path and on a swap, with the real example policies.
//!
//! - `module_call/*`: one call of one module on a warm instance (context encoded once, as
//!   the rules layer does), the encoding itself, and a fresh instance per call for
//!   comparison;
//! - `rules_layer/*`: the whole rules layer (encoding the context once plus every module)
//!   — the five policies named in issue 3, and all bundled examples;
//! - `swap/*`: loading (deserializing) a stored artifact, and compiling an upload;
//! - `tail latency`: medians and p99s from timing 100,000 individual calls, printed, since
//!   criterion reports means and medians of batches.
//!
//! Run with `cargo bench -p arbiter-runtime --bench rules`. Targets (issue 3): one module
//! call p99 <= 5 µs; the five-module rules layer median <= 10 µs.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbiter_engine::context::EnrichedContext;
use arbiter_engine::policy_set::{FailMode, ModuleRef};
use arbiter_engine::stages::RuleEvaluator;
use arbiter_runtime::bundled::{self, BUNDLED};
use arbiter_runtime::{
    CompiledRuleSet, LoadedModule, PolicyRuntime, PreparedContext, RuntimeConfig, sample_contexts,
};
use criterion::{Criterion, criterion_group, criterion_main};

/// The five policies the layer target names.
const FIVE: [&str; 5] = [
    "geo_mismatch",
    "new_account_high_value",
    "card_testing",
    "proxy_high_value",
    "promo_abuse",
];
/// The module measured alone: the heaviest on a full payment context.
const ONE: &str = "geo_mismatch";
const TAIL_CALLS: usize = 100_000;

/// A card payment with every field filled (the first sample context).
fn payment() -> EnrichedContext {
    sample_contexts().swap_remove(0)
}

/// A large first order on which several policies answer with reasons.
fn risky_order() -> EnrichedContext {
    sample_contexts().swap_remove(1)
}

fn runtime(config: RuntimeConfig) -> PolicyRuntime {
    PolicyRuntime::new(config).expect("runtime")
}

fn load(runtime: &PolicyRuntime, name: &str) -> Arc<LoadedModule> {
    let policy = bundled::find(name).expect("bundled policy");
    let artifact = runtime.validate(policy.component).expect("valid");
    let module = runtime.load(&artifact.precompiled).expect("loads");
    module.prewarm(1).expect("prewarm");
    module
}

fn rule_set(runtime: &PolicyRuntime, names: &[&str]) -> CompiledRuleSet {
    let modules = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let module_ref = ModuleRef {
                name: (*name).to_owned(),
                version: i64::try_from(index).unwrap_or(0) + 1,
                fail_mode: FailMode::Open,
            };
            (module_ref, load(runtime, name))
        })
        .collect();
    CompiledRuleSet::new(modules)
}

fn module_call(c: &mut Criterion) {
    let runtime = runtime(RuntimeConfig::default());
    let module = load(&runtime, ONE);
    let payment = payment();
    let prepared = PreparedContext::new(&payment);
    let mut group = c.benchmark_group("module_call");
    group.bench_function("warm_instance", |b| {
        b.iter(|| black_box(module.evaluate_prepared(black_box(&prepared))))
    });
    group.bench_function("context_encoding", |b| {
        b.iter(|| black_box(PreparedContext::new(black_box(&payment)).bytes().len()))
    });
    let fresh_runtime = runtime_fresh_every_call();
    let fresh = load(&fresh_runtime, ONE);
    group.bench_function("fresh_instance", |b| {
        b.iter(|| black_box(fresh.evaluate_prepared(black_box(&prepared))))
    });
    group.finish();
}

fn runtime_fresh_every_call() -> PolicyRuntime {
    runtime(RuntimeConfig {
        instances_recycle_after: 1,
        ..RuntimeConfig::default()
    })
}

fn rules_layer(c: &mut Criterion) {
    let runtime = runtime(RuntimeConfig::default());
    let all: Vec<&str> = BUNDLED.iter().map(|policy| policy.name).collect();
    let five = rule_set(&runtime, &FIVE);
    let every = rule_set(&runtime, &all);
    let (payment, risky) = (payment(), risky_order());
    let mut group = c.benchmark_group("rules_layer");
    group.bench_function("five_modules/payment", |b| {
        b.iter(|| black_box(five.evaluate(black_box(&payment))))
    });
    group.bench_function("five_modules/risky_order", |b| {
        b.iter(|| black_box(five.evaluate(black_box(&risky))))
    });
    group.bench_function(format!("all_{}_modules/payment", all.len()), |b| {
        b.iter(|| black_box(every.evaluate(black_box(&payment))))
    });
    group.finish();
}

fn swap(c: &mut Criterion) {
    let runtime = runtime(RuntimeConfig::default());
    let component = bundled::find(ONE).expect("bundled").component;
    let artifact = runtime.compile(component).expect("compiles");
    let mut group = c.benchmark_group("swap");
    group.bench_function("load_deserialize", |b| {
        b.iter(|| black_box(runtime.load(black_box(&artifact.precompiled))))
    });
    group.bench_function("load_and_prewarm_1", |b| {
        b.iter(|| {
            let module = runtime.load(&artifact.precompiled).expect("loads");
            module.prewarm(1).expect("prewarm");
            black_box(module)
        })
    });
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("compile", |b| {
        b.iter(|| black_box(runtime.compile(black_box(component))))
    });
    group.bench_function("validate", |b| {
        b.iter(|| black_box(runtime.validate(black_box(component))))
    });
    group.finish();
}

/// Times `TAIL_CALLS` individual calls and prints the distribution.
fn percentiles(label: &str, mut call: impl FnMut()) {
    for _ in 0..TAIL_CALLS / 10 {
        call();
    }
    let mut samples: Vec<Duration> = (0..TAIL_CALLS)
        .map(|_| {
            let started = Instant::now();
            call();
            started.elapsed()
        })
        .collect();
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    println!(
        "tail latency {label:<32} median {:>8.2?}  p90 {:>8.2?}  p99 {:>8.2?}  p99.9 {:>8.2?}  ({} calls)",
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        samples.len()
    );
}

fn tail_latency(_: &mut Criterion) {
    let runtime = runtime(RuntimeConfig::default());
    let payment = payment();
    let prepared = PreparedContext::new(&payment);
    for name in FIVE.iter().chain(["graph_ring"].iter()) {
        let module = load(&runtime, name);
        percentiles(&format!("module_call/{name}"), || {
            black_box(module.evaluate_prepared(black_box(&prepared)));
        });
    }
    let five = rule_set(&runtime, &FIVE);
    percentiles("rules_layer/five_modules/payment", || {
        black_box(five.evaluate(black_box(&payment)));
    });
    let risky = risky_order();
    percentiles("rules_layer/five_modules/risky", || {
        black_box(five.evaluate(black_box(&risky)));
    });
}

criterion_group!(benches, tail_latency, module_call, rules_layer, swap);
criterion_main!(benches);
