//! What a compiled rule file costs against the hand-written Rust modules it replaces, and
//! what compiling one costs.
//!
//! - `layer/*`: the six example policies on the runtime's sample contexts — as the six
//!   bundled Rust modules (`CompiledRuleSet`, as the decision path runs them) and as the one
//!   module compiled from `policies/rules/examples.rules`; the context is encoded once per
//!   decision in both, as the pipeline does.
//! - `module/geo_mismatch/*`: one policy alone, Rust module against the compiled
//!   `geo_mismatch` rules of the same file.
//! - `compile/*`: parse, check and compile a 50-rule file into a component, and the
//!   runtime's validation of the result (what an upload costs).
//!
//! Run with `cargo bench -p arbiter-rules --bench rules`. Targets (issue 24): a compiled
//! rule within 1.5x of the equivalent Rust module per call and for the layer; compiling a
//! 50-rule file in at most 50 ms.

use std::hint::black_box;
use std::sync::Arc;

use arbiter_engine::policy_set::{FailMode, ModuleRef};
use arbiter_engine::stages::RuleEvaluator;
use arbiter_rules::CompileOptions;
use arbiter_runtime::bundled::{self, BUNDLED};
use arbiter_runtime::{
    CompiledRuleSet, LoadedModule, PolicyRuntime, PreparedContext, RuntimeConfig, sample_contexts,
};
use criterion::{Criterion, criterion_group, criterion_main};

const EXAMPLES: &str = include_str!("../../../policies/rules/examples.rules");

/// The tests' support: the host's bounds and verdict limits.
#[path = "../tests/support/mod.rs"]
mod support;

fn options() -> CompileOptions {
    support::options()
}

fn load(runtime: &PolicyRuntime, component: &[u8]) -> Arc<LoadedModule> {
    let artifact = runtime.validate(component).expect("validates");
    runtime.load(&artifact.precompiled).expect("loads")
}

fn compile_rules(source: &str) -> Vec<u8> {
    arbiter_rules::compile(source, &options())
        .unwrap_or_else(|p| panic!("{}", p.render("bench.rules", source)))
        .component
}

fn set_of(modules: Vec<(String, Arc<LoadedModule>)>) -> CompiledRuleSet {
    CompiledRuleSet::new(
        modules
            .into_iter()
            .map(|(name, module)| {
                (
                    ModuleRef {
                        name,
                        version: 1,
                        fail_mode: FailMode::Open,
                    },
                    module,
                )
            })
            .collect(),
    )
}

/// The geo rules of the examples file alone.
fn geo_rules() -> String {
    EXAMPLES
        .split("\nrule ")
        .filter(|chunk| chunk.starts_with("geo_"))
        .map(|chunk| format!("rule {chunk}\n"))
        .collect()
}

/// A 50-rule file: the examples' 28 rules, and 22 of them again under new names.
fn fifty_rules() -> String {
    let rules: Vec<&str> = EXAMPLES.split("\nrule ").skip(1).collect();
    let mut out = String::new();
    for i in 0..50 {
        let body = rules[i % rules.len()];
        let (name, rest) = body
            .split_once(|c: char| c.is_whitespace())
            .expect("a name");
        out.push_str(&format!("rule {name}_{i} {rest}\n"));
    }
    out
}

fn bench(c: &mut Criterion) {
    let runtime = PolicyRuntime::new(RuntimeConfig::default()).expect("runtime");
    let contexts = sample_contexts();

    let rust = set_of(
        BUNDLED
            .iter()
            .map(|b| (b.name.to_string(), load(&runtime, b.component)))
            .collect(),
    );
    let file = set_of(vec![(
        "examples".into(),
        load(&runtime, &compile_rules(EXAMPLES)),
    )]);
    let mut group = c.benchmark_group("layer");
    group.bench_function("six_rust_modules", |b| {
        b.iter(|| {
            for ctx in &contexts {
                black_box(rust.evaluate(black_box(ctx)));
            }
        });
    });
    group.bench_function("one_rule_file", |b| {
        b.iter(|| {
            for ctx in &contexts {
                black_box(file.evaluate(black_box(ctx)));
            }
        });
    });
    group.finish();

    let geo_rust = load(
        &runtime,
        bundled::find("geo_mismatch").expect("bundled").component,
    );
    let geo_file = load(&runtime, &compile_rules(&geo_rules()));
    let prepared: Vec<PreparedContext<'_>> = contexts.iter().map(PreparedContext::new).collect();
    for p in &prepared {
        let _ = p.bytes();
    }
    let mut group = c.benchmark_group("module/geo_mismatch");
    group.bench_function("rust", |b| {
        b.iter(|| {
            for p in &prepared {
                black_box(geo_rust.evaluate_prepared(black_box(p)));
            }
        });
    });
    group.bench_function("rules", |b| {
        b.iter(|| {
            for p in &prepared {
                black_box(geo_file.evaluate_prepared(black_box(p)));
            }
        });
    });
    group.finish();

    let fifty = fifty_rules();
    let mut group = c.benchmark_group("compile");
    group.sample_size(20);
    group.bench_function("fifty_rules", |b| {
        b.iter(|| black_box(compile_rules(black_box(&fifty))));
    });
    let component = compile_rules(&fifty);
    group.bench_function("fifty_rules_validate", |b| {
        b.iter(|| black_box(runtime.validate(black_box(&component)).expect("validates")));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
