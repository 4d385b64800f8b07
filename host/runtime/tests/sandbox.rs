//! Hostile guests at call time: every misbehaviour becomes the right fault, the host
//! survives, and the next call on the same loaded module answers correctly.

mod guests;

use guests::{Abi, BOTH};

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
/// three times over, and returns the last faulting outcome.
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
    for abi in BOTH {
        let module = load(&runtime, &guests::good(abi));
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
}

#[test]
fn fuel_use_is_deterministic() {
    let runtime = runtime(RuntimeConfig::default());
    for abi in BOTH {
        let module = load(&runtime, &guests::good(abi));
        let first = module.evaluate(&guests::big()).fuel_used;
        for _ in 0..5 {
            assert_eq!(module.evaluate(&guests::big()).fuel_used, first);
        }
    }
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    for abi in BOTH {
        let config = RuntimeConfig::default();
        let budget = config.fuel_per_call;
        let outcome =
            faults_then_recovers(config, &guests::infinite_loop(abi), FaultKind::OutOfFuel);
        assert_eq!(outcome.fuel_used, budget);
    }
}

#[test]
fn an_infinite_loop_without_a_fuel_limit_hits_the_deadline() {
    let config = RuntimeConfig {
        fuel_per_call: u64::MAX,
        deadline: Duration::from_millis(50),
        ..RuntimeConfig::default()
    };
    let started = Instant::now();
    for abi in BOTH {
        faults_then_recovers(
            config.clone(),
            &guests::infinite_loop(abi),
            FaultKind::Deadline,
        );
    }
    // Six deadlines of 50-60 ms each, with generous room for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    for abi in BOTH {
        faults_then_recovers(
            RuntimeConfig::default(),
            &guests::memory_bomb(abi),
            FaultKind::MemoryLimit,
        );
    }
}

#[test]
fn unreachable_is_a_trap() {
    for abi in BOTH {
        let outcome = faults_then_recovers(
            RuntimeConfig::default(),
            &guests::trap(abi),
            FaultKind::Trap,
        );
        let fault = outcome.result.expect_err("fault");
        assert!(fault.message.contains("unreachable"), "{}", fault.message);
    }
}

#[test]
fn unbounded_recursion_is_a_trap() {
    for abi in BOTH {
        faults_then_recovers(
            RuntimeConfig::default(),
            &guests::stack_overflow(abi),
            FaultKind::Trap,
        );
    }
}

#[test]
fn an_invalid_enum_discriminant_is_malformed_output() {
    for abi in BOTH {
        faults_then_recovers(
            RuntimeConfig::default(),
            &guests::invalid_enum(abi),
            FaultKind::MalformedOutput,
        );
    }
}

#[test]
fn an_out_of_bounds_string_is_malformed_output() {
    for abi in BOTH {
        faults_then_recovers(
            RuntimeConfig::default(),
            &guests::out_of_bounds_string(abi),
            FaultKind::MalformedOutput,
        );
    }
}

#[test]
fn invalid_utf8_is_malformed_output() {
    for abi in BOTH {
        faults_then_recovers(
            RuntimeConfig::default(),
            &guests::invalid_utf8(abi),
            FaultKind::MalformedOutput,
        );
    }
}

#[test]
fn a_nan_score_is_malformed_output() {
    for abi in BOTH {
        faults_then_recovers(
            RuntimeConfig::default(),
            &guests::nan_score(abi),
            FaultKind::MalformedOutput,
        );
    }
}

#[test]
fn a_verdict_outside_memory_is_malformed_output() {
    for abi in BOTH {
        faults_then_recovers(
            RuntimeConfig::default(),
            &guests::verdict_out_of_bounds(abi),
            FaultKind::MalformedOutput,
        );
    }
}

/// The context cannot be copied in: every call faults before the guest runs, and the host
/// carries on (the instance is discarded each time).
#[test]
fn an_allocator_that_breaks_the_abi_faults_every_call() {
    let runtime = runtime(RuntimeConfig::default());
    for abi in BOTH {
        let module = load(&runtime, &guests::bad_allocator(abi));
        for ctx in [guests::small(), guests::big()] {
            let fault = module.evaluate(&ctx).result.expect_err("fault");
            assert_eq!(fault.kind, FaultKind::MalformedOutput, "{}", fault.message);
        }
        assert_eq!(module.idle_instances(), 0);
    }
}

#[test]
fn a_module_too_big_to_instantiate_is_unavailable_not_a_crash() {
    let runtime = runtime(RuntimeConfig::default());
    for abi in BOTH {
        let module = load(&runtime, &guests::huge_initial_memory(abi));
        let outcome = module.evaluate(&guests::small());
        let fault = outcome.result.expect_err("fault");
        assert_eq!(fault.kind, FaultKind::Unavailable, "{}", fault.message);
        assert_eq!(outcome.fuel_used, 0);
        assert!(module.prewarm(1).is_err());
    }
}

#[test]
fn instances_are_recycled_after_their_quota() {
    let runtime = runtime(RuntimeConfig {
        instances_recycle_after: 3,
        ..RuntimeConfig::default()
    });
    for abi in BOTH {
        let module = load(&runtime, &guests::stateful(abi));
        let scores: Vec<f64> = (0..7)
            .map(|_| {
                let outcome = module.evaluate(&guests::small());
                outcome.result.expect("verdict").score
            })
            .collect();
        // The counter restarts with each fresh instance.
        assert_eq!(scores, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0]);
    }
}

#[test]
fn prewarm_fills_the_pool_and_calls_reuse_it() {
    let runtime = runtime(RuntimeConfig::default());
    let module = load(&runtime, &guests::good(Abi::V2));
    assert_eq!(module.idle_instances(), 0);
    module.prewarm(4).expect("prewarm");
    assert_eq!(module.idle_instances(), 4);
    module.prewarm(2).expect("prewarm is idempotent");
    assert_eq!(module.idle_instances(), 4);
    assert_accepts(&module.evaluate(&guests::small()));
    assert_eq!(module.idle_instances(), 4);
    // A faulting call discards its instance.
    let trap = load(&runtime, &guests::trap(Abi::V2));
    trap.prewarm(2).expect("prewarm");
    assert!(trap.evaluate(&guests::big()).result.is_err());
    assert_eq!(trap.idle_instances(), 1);
}

#[test]
fn concurrent_callers_each_get_their_own_answer() {
    let runtime = runtime(RuntimeConfig::default());
    let module = load(&runtime, &guests::trap(Abi::V2));
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
        load(&runtime, &guests::infinite_loop(Abi::V2))
    };
    // The epoch ticker lives as long as the module: the deadline still fires.
    let fault = module.evaluate(&guests::big()).result.expect_err("fault");
    assert_eq!(fault.kind, FaultKind::Deadline);
}

/// A policy set may hold modules of both majors (an existing data directory's `@1` modules
/// next to newly uploaded `@2` ones): each gets the context in its own shape.
#[test]
fn a_rule_set_runs_modules_of_both_majors_side_by_side() {
    use arbiter_engine::policy_set::{FailMode, ModuleRef};
    use arbiter_engine::stages::RuleEvaluator;
    use arbiter_runtime::CompiledRuleSet;

    let runtime = runtime(RuntimeConfig::default());
    let modules = BOTH
        .iter()
        .enumerate()
        .map(|(index, abi)| {
            let module_ref = ModuleRef {
                name: format!("{abi:?}"),
                version: i64::try_from(index).expect("small") + 1,
                fail_mode: FailMode::Closed,
            };
            (module_ref, load(&runtime, &guests::good(*abi)))
        })
        .collect();
    let set = CompiledRuleSet::new(modules);
    let results = set.evaluate(&guests::big());
    assert_eq!(results.len(), 2);
    for result in results {
        assert_eq!(result.fault, None, "{}", result.name);
        assert_eq!(result.action, Action::Reject, "{}", result.name);
        assert_eq!(result.score, 50.0);
    }
}
