//! The four engines give the same verdict — action, total score, reason codes — on every
//! case, and that verdict is the one the policies' READMEs document.

use arbiter_peer_bench::RulesEngine;
use arbiter_peer_bench::cases::{self, Case};
use arbiter_peer_bench::cedar::Cedar;
use arbiter_peer_bench::native::Native;
use arbiter_peer_bench::rule_file::RuleFile;
use arbiter_peer_bench::wasm::Wasm;
use arbiter_peer_bench::zen::Zen;

#[test]
fn there_are_enough_cases_and_every_rule_fires_somewhere() {
    let cases = cases::all();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    for code in arbiter_peer_bench::REASON_CODES {
        assert!(
            cases
                .iter()
                .any(|case| case.expected.reasons.contains(&code)),
            "no case expects `{code}`"
        );
    }
}

#[test]
fn every_engine_gives_the_documented_verdict_on_every_case() {
    let engines: Vec<Box<dyn RulesEngine>> = vec![
        Box::new(Native),
        Box::new(Wasm::new()),
        Box::new(RuleFile::new()),
        Box::new(Cedar::new()),
        Box::new(Zen::new()),
    ];
    let mut failures = Vec::new();
    for case in cases::all() {
        let want = case.expected.verdict();
        for engine in &engines {
            let got = engine.evaluate(&case.context).sorted();
            if got != want {
                failures.push(format!(
                    "{} on `{}`:\n    got  {got:?}\n    want {want:?}",
                    engine.name(),
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_wasm_module_faults_on_any_case() {
    let wasm = Wasm::new();
    for case in cases::all() {
        for result in wasm.module_results(&case.context) {
            assert!(
                result.fault.is_none(),
                "`{}` faulted on `{}`: {:?}",
                result.name,
                case.name,
                result.fault
            );
        }
    }
}

/// Every engine is deterministic: the same context twice, the same verdict, whatever ran
/// in between (the bench rotates through the cases on long-lived engines).
#[test]
fn verdicts_do_not_depend_on_earlier_calls() {
    let engines: Vec<Box<dyn RulesEngine>> = vec![
        Box::new(Native),
        Box::new(Wasm::new()),
        Box::new(RuleFile::new()),
        Box::new(Cedar::new()),
        Box::new(Zen::new()),
    ];
    let cases = cases::all();
    for engine in &engines {
        // Sorted: Cedar reports its satisfied policies as a set, in no fixed order.
        let verdict = |case: &Case| engine.evaluate(&case.context).sorted();
        let first: Vec<_> = cases.iter().map(verdict).collect();
        let again: Vec<_> = cases.iter().rev().map(verdict).collect();
        let again: Vec<_> = again.into_iter().rev().collect();
        assert_eq!(first, again, "{}", engine.name());
    }
}

/// The bench's `parts/*/evaluate` reuse prebuilt inputs (a zen input is an `Rc` tree that
/// `clone` shares): evaluating one must not change it.
#[test]
fn prebuilt_inputs_can_be_evaluated_again() {
    let (cedar, zen) = (Cedar::new(), Zen::new());
    for case in cases::all() {
        let want = case.expected.verdict();
        let request = cedar.request(&case.context);
        let input = Zen::input(&case.context);
        for _ in 0..3 {
            assert_eq!(
                cedar.decide(&request).sorted(),
                want,
                "cedar, `{}`",
                case.name
            );
            assert_eq!(
                zen.decide(input.clone()).sorted(),
                want,
                "zen, `{}`",
                case.name
            );
        }
    }
}
