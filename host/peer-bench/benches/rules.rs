//! The six-rule layer in WASM (the real runtime), native Rust, Cedar and zen, on the same
//! contexts in the same run, on one thread.
//!
//! - `rules_layer/<engine>`: from the engine's `EnrichedContext` to the combined verdict,
//!   rotating through every case of `arbiter_peer_bench::cases` (so branch predictors and
//!   caches see a realistic mix, not one context on repeat);
//! - `parts/<engine>/{input,evaluate}`: the same split in two — turning the context into
//!   the engine's input, and evaluating a prebuilt input — to show where the time goes;
//! - `tail latency`: median, p90, p99 and p99.9 of 100,000 individually timed calls per
//!   engine, printed, since criterion reports means and medians of batches. Each timing
//!   includes one `Instant::now()` pair (about 20–40 ns here).
//!
//! Before anything is timed, every engine is checked to give every case its documented
//! verdict; the bench refuses to measure engines that disagree.
//!
//! Run: `cargo bench --manifest-path host/peer-bench/Cargo.toml` (see the README).

use std::hint::black_box;
use std::time::{Duration, Instant};

use arbiter_engine::EnrichedContext;
use arbiter_peer_bench::RulesEngine;
use arbiter_peer_bench::cases::{self, Case};
use arbiter_peer_bench::cedar::Cedar;
use arbiter_peer_bench::native::Native;
use arbiter_peer_bench::rule_file::RuleFile;
use arbiter_peer_bench::wasm::{self, Wasm};
use arbiter_peer_bench::zen::Zen;
use arbiter_runtime::{CompiledRuleSet, PolicyRuntime, PreparedContext, RuntimeConfig};
use criterion::{Criterion, criterion_group, criterion_main};

const TAIL_CALLS: usize = 100_000;

struct Engines {
    native: Native,
    wasm: Wasm,
    rules: RuleFile,
    cedar: Cedar,
    zen: Zen,
}

impl Engines {
    fn new() -> Engines {
        Engines {
            native: Native,
            wasm: Wasm::new(),
            rules: RuleFile::new(),
            cedar: Cedar::new(),
            zen: Zen::new(),
        }
    }

    fn all(&self) -> [&dyn RulesEngine; 5] {
        [
            &self.wasm,
            &self.rules,
            &self.native,
            &self.cedar,
            &self.zen,
        ]
    }
}

fn contexts() -> Vec<EnrichedContext> {
    cases::all().into_iter().map(|case| case.context).collect()
}

/// Refuses to benchmark engines that do not agree with the documented verdicts.
fn check(engines: &Engines, cases: &[Case]) {
    for case in cases {
        let want = case.expected.verdict();
        for engine in engines.all() {
            let got = engine.evaluate(&case.context).sorted();
            assert_eq!(got, want, "{} on `{}`", engine.name(), case.name);
        }
    }
}

/// Calls `call` with each item in turn, forever.
fn rotate<T>(items: &[T], mut call: impl FnMut(&T)) -> impl FnMut() {
    let mut next = 0;
    move || {
        call(&items[next]);
        next = (next + 1) % items.len();
    }
}

struct Tail {
    median: Duration,
    p99: Duration,
}

/// Times `TAIL_CALLS` individual calls and prints the distribution.
fn percentiles(label: &str, mut call: impl FnMut()) -> Tail {
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
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    let mean = samples.iter().sum::<Duration>() / u32::try_from(samples.len()).unwrap_or(1);
    println!(
        "tail latency {label:<24} median {:>9.2?}  p90 {:>9.2?}  p99 {:>9.2?}  p99.9 {:>9.2?}  mean {:>9.2?}",
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        mean,
    );
    Tail {
        median: at(0.5),
        p99: at(0.99),
    }
}

fn tail_latency(_: &mut Criterion) {
    let engines = Engines::new();
    let cases = cases::all();
    check(&engines, &cases);
    let contexts = contexts();
    println!(
        "\n{} contexts, {TAIL_CALLS} calls per engine, one thread\n",
        contexts.len()
    );
    let mut layer = Vec::new();
    for engine in engines.all() {
        let tail = percentiles(
            &format!("rules_layer/{}", engine.name()),
            rotate(&contexts, |ctx| {
                black_box(engine.evaluate(black_box(ctx)));
            }),
        );
        layer.push((engine.name(), tail));
    }
    println!();
    parts_tail(&engines, &contexts);
    summary(&layer);
    fuel(&engines, &cases);
}

fn parts_tail(engines: &Engines, contexts: &[EnrichedContext]) {
    percentiles(
        "parts/wasm/input",
        rotate(contexts, |ctx| {
            // `bytes()` encodes: `new` alone only borrows the context.
            black_box(PreparedContext::new(black_box(ctx)).bytes().len());
        }),
    );
    let prepared: Vec<PreparedContext<'_>> = contexts.iter().map(PreparedContext::new).collect();
    let modules = module_set();
    percentiles(
        "parts/wasm/evaluate",
        rotate(&prepared, |ctx| {
            for (_, module) in modules.modules() {
                black_box(module.evaluate_prepared(black_box(ctx)));
            }
        }),
    );
    percentiles(
        "parts/cedar/input",
        rotate(contexts, |ctx| {
            black_box(engines.cedar.request(black_box(ctx)));
        }),
    );
    let requests: Vec<_> = contexts
        .iter()
        .map(|ctx| engines.cedar.request(ctx))
        .collect();
    percentiles(
        "parts/cedar/evaluate",
        rotate(&requests, |request| {
            black_box(engines.cedar.decide(black_box(request)));
        }),
    );
    percentiles(
        "parts/zen/input",
        rotate(contexts, |ctx| {
            black_box(Zen::input(black_box(ctx)));
        }),
    );
    // zen's variables are `Rc` trees (not `Send`), so they are built here, on this thread.
    let inputs: Vec<_> = contexts.iter().map(Zen::input).collect();
    percentiles(
        "parts/zen/evaluate",
        rotate(&inputs, |input| {
            black_box(engines.zen.decide(black_box(input.clone())));
        }),
    );
    println!();
}

fn summary(layer: &[(&str, Tail)]) {
    let find = |name: &str| {
        layer
            .iter()
            .find(|(engine, _)| *engine == name)
            .map(|(_, tail)| tail)
            .expect("every engine was timed")
    };
    let (wasm, rules, cedar, zen) = (find("wasm"), find("rules"), find("cedar"), find("zen"));
    let (peer, best) = if cedar.median <= zen.median {
        ("cedar", cedar)
    } else {
        ("zen", zen)
    };
    let ratio = |peer: Duration, wasm: Duration| peer.as_secs_f64() / wasm.as_secs_f64();
    println!(
        "faster peer: {peer}; it takes {:.2}x the WASM layer's median and {:.2}x its p99 (goal: >= 3x)\n",
        ratio(best.median, wasm.median),
        ratio(best.p99, wasm.p99),
    );
    println!(
        "zen takes {:.2}x the rule file's median and {:.2}x its p99 (goal: >= 10x); the six Rust \
         modules take {:.2}x its median\n",
        ratio(zen.median, rules.median),
        ratio(zen.p99, rules.p99),
        ratio(wasm.median, rules.median),
    );
}

/// Fuel (about one unit per WebAssembly instruction) each module burns per case, averaged:
/// how much guest work a call is.
fn fuel(engines: &Engines, cases: &[Case]) {
    let mut totals: Vec<(String, u64)> = Vec::new();
    for case in cases {
        for result in engines.wasm.module_results(&case.context) {
            match totals.iter_mut().find(|(name, _)| *name == result.name) {
                Some((_, total)) => *total += result.fuel_used,
                None => totals.push((result.name.clone(), result.fuel_used)),
            }
        }
    }
    let cases = u64::try_from(cases.len()).unwrap_or(1);
    for (name, total) in totals {
        println!("fuel per call {name:<24} {:>7}", total / cases);
    }
    println!();
}

/// The six modules as a rule set of their own, for calling them on a prepared context.
fn module_set() -> CompiledRuleSet {
    let runtime = PolicyRuntime::new(RuntimeConfig::default()).expect("runtime");
    let modules = wasm::POLICIES
        .iter()
        .map(|name| {
            let policy = arbiter_runtime::bundled::find(name).expect("bundled");
            let artifact = runtime.validate(policy.component).expect("valid");
            let module = runtime.load(&artifact.precompiled).expect("loads");
            let module_ref = arbiter_engine::policy_set::ModuleRef {
                name: (*name).to_owned(),
                version: 1,
                fail_mode: arbiter_engine::policy_set::FailMode::Open,
            };
            (module_ref, module)
        })
        .collect();
    let set = CompiledRuleSet::new(modules);
    set.prewarm(1).expect("prewarm");
    set
}

fn rules_layer(c: &mut Criterion) {
    let engines = Engines::new();
    let contexts = contexts();
    let mut group = c.benchmark_group("rules_layer");
    for engine in engines.all() {
        group.bench_function(engine.name(), |b| {
            let mut call = rotate(&contexts, |ctx| {
                black_box(engine.evaluate(black_box(ctx)));
            });
            b.iter(&mut call);
        });
    }
    group.finish();
}

fn parts(c: &mut Criterion) {
    let engines = Engines::new();
    let contexts = contexts();
    let mut group = c.benchmark_group("parts");
    group.bench_function("wasm/input", |b| {
        b.iter(&mut rotate(&contexts, |ctx| {
            // `bytes()` encodes: `new` alone only borrows the context.
            black_box(PreparedContext::new(black_box(ctx)).bytes().len());
        }));
    });
    let prepared: Vec<PreparedContext<'_>> = contexts.iter().map(PreparedContext::new).collect();
    let modules = module_set();
    group.bench_function("wasm/evaluate", |b| {
        b.iter(&mut rotate(&prepared, |ctx| {
            for (_, module) in modules.modules() {
                black_box(module.evaluate_prepared(black_box(ctx)));
            }
        }));
    });
    group.bench_function("cedar/input", |b| {
        b.iter(&mut rotate(&contexts, |ctx| {
            black_box(engines.cedar.request(black_box(ctx)));
        }));
    });
    let requests: Vec<_> = contexts
        .iter()
        .map(|ctx| engines.cedar.request(ctx))
        .collect();
    group.bench_function("cedar/evaluate", |b| {
        b.iter(&mut rotate(&requests, |request| {
            black_box(engines.cedar.decide(black_box(request)));
        }));
    });
    group.bench_function("zen/input", |b| {
        b.iter(&mut rotate(&contexts, |ctx| {
            black_box(Zen::input(black_box(ctx)));
        }));
    });
    let inputs: Vec<_> = contexts.iter().map(Zen::input).collect();
    group.bench_function("zen/evaluate", |b| {
        b.iter(&mut rotate(&inputs, |input| {
            black_box(engines.zen.decide(black_box(input.clone())));
        }));
    });
    group.finish();
}

criterion_group!(benches, tail_latency, rules_layer, parts);
criterion_main!(benches);
