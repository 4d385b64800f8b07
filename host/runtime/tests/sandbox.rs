//! Hostile guests at call time: every misbehaviour becomes the right fault, the host
//! survives, and the next call on the same loaded module answers correctly.

mod guests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arbiter_engine::Action;
use arbiter_engine::stages::FaultKind;
use arbiter_runtime::{LoadedModule, ModuleOutcome, PolicyRuntime, RuntimeConfig};

fn runtime(config: RuntimeConfig) -> PolicyRuntime {
    PolicyRuntime::new(config).expect("runtime starts")
}

/// Compiles and loads without validation (validation would refuse the hostile guests).
fn load(runtime: &PolicyRuntime, wasm: &[u8]) -> Arc<LoadedModule> {
    let artifact = runtime.compile(wasm).expect("compiles");
    runtime.load(&artifact.precompiled).expect("loads")
}

fn assert_accepts(outcome: &ModuleOutcome) {
    let verdict = outcome.result.as_ref().expect("a verdict, not a fault");
    assert_eq!(verdict.action, Action::Accept);
    assert_eq!(verdict.score, 0.0);
    assert!(verdict.reasons.is_empty());
}

/// Calls `wasm` on a small amount, then a large one (expecting `kind`), then small again,
/// three times over, and returns the faulting outcomes.
fn faults_then_recovers(config: RuntimeConfig, wasm: &[u8], kind: FaultKind) -> ModuleOutcome {
    let runtime = runtime(config);
    let module = load(&runtime, wasm);
    let mut last = None;
    for _ in 0..3 {
        assert_accepts(&module.evaluate(&guests::small()));
        let outcome = module.evaluate(&guests::big());
        let fault = outcome.result.as_ref().expect_err("a fault");
        assert_eq!(fault.kind, kind, "{}", fault.message);
        last = Some(outcome);
        assert_accepts(&module.evaluate(&guests::small()));
    }
    last.expect("ran")
}

#[test]
fn a_good_guest_decides_by_the_amount() {
    let runtime = runtime(RuntimeConfig::default());
    let module = load(&runtime, &guests::good());
    assert_accepts(&module.evaluate(&guests::small()));
    assert_accepts(&module.evaluate(&guests::context(None)));
    let outcome = module.evaluate(&guests::big());
    let verdict = outcome.result.expect("verdict");
    assert_eq!(verdict.action, Action::Reject);
    assert_eq!(verdict.score, 50.0);
    assert_eq!(verdict.reasons.len(), 1);
    assert_eq!(verdict.reasons[0].code, "big_amount");
    assert_eq!(verdict.reasons[0].detail, None);
    assert!(outcome.fuel_used > 0);
}

#[test]
fn fuel_use_is_deterministic() {
    let runtime = runtime(RuntimeConfig::default());
    let module = load(&runtime, &guests::good());
    let first = module.evaluate(&guests::big()).fuel_used;
    for _ in 0..5 {
        assert_eq!(module.evaluate(&guests::big()).fuel_used, first);
    }
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let config = RuntimeConfig::default();
    let budget = config.fuel_per_call;
    let outcome = faults_then_recovers(config, &guests::infinite_loop(), FaultKind::OutOfFuel);
    assert_eq!(outcome.fuel_used, budget);
}

#[test]
fn an_infinite_loop_without_a_fuel_limit_hits_the_deadline() {
    let config = RuntimeConfig {
        fuel_per_call: u64::MAX,
        deadline: Duration::from_millis(50),
        ..RuntimeConfig::default()
    };
    let started = Instant::now();
    faults_then_recovers(config, &guests::infinite_loop(), FaultKind::Deadline);
    // Three deadlines of 50-60 ms each, with generous room for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    faults_then_recovers(
        RuntimeConfig::default(),
        &guests::memory_bomb(),
        FaultKind::MemoryLimit,
    );
}

#[test]
fn unreachable_is_a_trap() {
    let outcome = faults_then_recovers(RuntimeConfig::default(), &guests::trap(), FaultKind::Trap);
    let fault = outcome.result.expect_err("fault");
    assert!(fault.message.contains("unreachable"), "{}", fault.message);
}

#[test]
fn unbounded_recursion_is_a_trap() {
    faults_then_recovers(
        RuntimeConfig::default(),
        &guests::stack_overflow(),
        FaultKind::Trap,
    );
}

#[test]
fn an_invalid_enum_discriminant_is_malformed_output() {
    faults_then_recovers(
        RuntimeConfig::default(),
        &guests::invalid_enum(),
        FaultKind::MalformedOutput,
    );
}

#[test]
fn an_out_of_bounds_string_is_malformed_output() {
    faults_then_recovers(
        RuntimeConfig::default(),
        &guests::out_of_bounds_string(),
        FaultKind::MalformedOutput,
    );
}

#[test]
fn invalid_utf8_is_malformed_output() {
    faults_then_recovers(
        RuntimeConfig::default(),
        &guests::invalid_utf8(),
        FaultKind::MalformedOutput,
    );
}

#[test]
fn a_nan_score_is_malformed_output() {
    faults_then_recovers(
        RuntimeConfig::default(),
        &guests::nan_score(),
        FaultKind::MalformedOutput,
    );
}

#[test]
fn a_module_too_big_to_instantiate_is_unavailable_not_a_crash() {
    let runtime = runtime(RuntimeConfig::default());
    let module = load(&runtime, &guests::huge_initial_memory());
    let outcome = module.evaluate(&guests::small());
    let fault = outcome.result.expect_err("fault");
    assert_eq!(fault.kind, FaultKind::Unavailable, "{}", fault.message);
    assert_eq!(outcome.fuel_used, 0);
    assert!(module.prewarm(1).is_err());
}

#[test]
fn instances_are_recycled_after_their_quota() {
    let runtime = runtime(RuntimeConfig {
        instances_recycle_after: 3,
        ..RuntimeConfig::default()
    });
    let module = load(&runtime, &guests::stateful());
    let scores: Vec<f64> = (0..7)
        .map(|_| {
            let outcome = module.evaluate(&guests::small());
            outcome.result.expect("verdict").score
        })
        .collect();
    // The counter restarts with each fresh instance.
    assert_eq!(scores, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0]);
}

#[test]
fn prewarm_fills_the_pool_and_calls_reuse_it() {
    let runtime = runtime(RuntimeConfig::default());
    let module = load(&runtime, &guests::good());
    assert_eq!(module.idle_instances(), 0);
    module.prewarm(4).expect("prewarm");
    assert_eq!(module.idle_instances(), 4);
    module.prewarm(2).expect("prewarm is idempotent");
    assert_eq!(module.idle_instances(), 4);
    assert_accepts(&module.evaluate(&guests::small()));
    assert_eq!(module.idle_instances(), 4);
    // A faulting call discards its instance.
    let trap = load(&runtime, &guests::trap());
    trap.prewarm(2).expect("prewarm");
    assert!(trap.evaluate(&guests::big()).result.is_err());
    assert_eq!(trap.idle_instances(), 1);
}

#[test]
fn concurrent_callers_each_get_their_own_answer() {
    let runtime = runtime(RuntimeConfig::default());
    let module = load(&runtime, &guests::trap());
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let module = Arc::clone(&module);
            std::thread::spawn(move || {
                for call in 0..200 {
                    if (thread + call) % 5 == 0 {
                        let outcome = module.evaluate(&guests::big());
                        let fault = outcome.result.expect_err("trap");
                        assert_eq!(fault.kind, FaultKind::Trap);
                    } else {
                        assert_accepts(&module.evaluate(&guests::small()));
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no panic");
    }
    assert!(module.idle_instances() <= 8);
}

#[test]
fn modules_keep_running_after_the_runtime_handle_is_dropped() {
    let config = RuntimeConfig {
        fuel_per_call: u64::MAX,
        deadline: Duration::from_millis(30),
        ..RuntimeConfig::default()
    };
    let module = {
        let runtime = runtime(config);
        load(&runtime, &guests::infinite_loop())
    };
    // The epoch ticker lives as long as the module: the deadline still fires.
    let fault = module.evaluate(&guests::big()).result.expect_err("fault");
    assert_eq!(fault.kind, FaultKind::Deadline);
}
