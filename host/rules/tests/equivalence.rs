//! The compiled module and the reference interpreter give identical verdicts — action,
//! score and every reason with its detail — on random rule files and random contexts.

mod support;

use proptest::prelude::*;
use support::generate;

proptest! {
    // Each case compiles and validates a module (tens of milliseconds), then runs it on
    // many contexts.
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn compiled_rules_answer_exactly_as_the_interpreter(
        source in generate::rule_file(),
        contexts in prop::collection::vec(generate::context(), 24),
    ) {
        let runtime = support::runtime();
        let options = arbiter_rules::CompileOptions { bounds: support::small_bounds(), ..support::options() };
        let loaded = match support::try_load_with(&runtime, &source, &options) {
            Ok(loaded) => loaded,
            // Refusals that are right for a random file: a rule that can never fire, or a
            // worst case (long attribute texts compared many times) over the fuel budget.
            Err(problems) if problems.items.iter().all(|p| {
                p.message.contains("can never fire") || p.message.contains("fuel per decision")
            }) => return Ok(()),
            Err(problems) => panic!("{}\n{source}", problems.render("generated.rules", &source)),
        };
        for buf in &contexts {
            let (compiled, fuel) = support::run(&loaded, buf);
            let interpreted = support::interpret(&loaded, buf);
            prop_assert_eq!(&compiled, &interpreted, "rule file:\n{}", source);
            prop_assert!(fuel <= loaded.fuel_bound, "fuel {} over the bound {}", fuel, loaded.fuel_bound);
        }
    }
}
