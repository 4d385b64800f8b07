//! `policies/rules/examples.rules`, the six example policies written as one rule file,
//! gives the same action, total score and reason codes as the six bundled Rust modules, on
//! random contexts around every threshold the policies have.

mod support;

use std::sync::Arc;

use arbiter_runtime::{LoadedModule, PreparedContext, bundled};
use proptest::prelude::*;
use support::generate;

const EXAMPLES: &str = include_str!("../../../policies/rules/examples.rules");

/// (action, total score, sorted reason codes) of one or more modules on `buf`.
fn layer(modules: &[Arc<LoadedModule>], buf: &[u8]) -> (arbiter_engine::Action, f64, Vec<String>) {
    let ctx = PreparedContext::from_layout(buf.to_vec());
    let mut action = arbiter_engine::Action::None;
    let mut score = 0.0;
    let mut codes = Vec::new();
    for module in modules {
        let verdict = module
            .evaluate_prepared(&ctx)
            .result
            .unwrap_or_else(|fault| panic!("a module faulted: {fault:?}"));
        action = action.combine(verdict.action);
        score += verdict.score;
        codes.extend(verdict.reasons.into_iter().map(|r| r.code));
    }
    codes.sort();
    (action, score, codes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn the_rule_file_decides_like_the_six_rust_modules(buf in generate::example_context()) {
        thread_local! {
            static MODULES: (Vec<Arc<LoadedModule>>, Vec<Arc<LoadedModule>>) = {
                let runtime = support::runtime();
                let rust = bundled::BUNDLED
                    .iter()
                    .map(|b| {
                        let artifact = runtime.validate(b.component).expect("bundled module validates");
                        runtime.load(&artifact.precompiled).expect("loads")
                    })
                    .collect();
                let rules = vec![support::load(&runtime, EXAMPLES).module];
                (rust, rules)
            };
        }
        MODULES.with(|(rust, rules)| {
            let expected = layer(rust, &buf);
            let got = layer(rules, &buf);
            prop_assert_eq!(got, expected);
            Ok(())
        })?;
    }
}
