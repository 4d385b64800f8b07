//! The real example policies (built from `policies/examples` by the build script) pass
//! upload validation and decide known contexts as their READMEs say.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use arbiter_engine::Action;
use arbiter_engine::context::EnrichedContext;
use arbiter_engine::policy_set::{FailMode, ModuleRef};
use arbiter_engine::stages::RuleEvaluator;
use arbiter_runtime::bundled::BUNDLED;
use arbiter_runtime::{
    Artifact, CompiledRuleSet, LoadedModule, PolicyRuntime, RuntimeConfig, Verdict, sample_contexts,
};

/// One runtime and each policy validated once for the whole test binary (compiling is
/// the slow part, especially in a debug build).
fn validated() -> &'static (PolicyRuntime, BTreeMap<&'static str, Artifact>) {
    static VALIDATED: OnceLock<(PolicyRuntime, BTreeMap<&'static str, Artifact>)> = OnceLock::new();
    VALIDATED.get_or_init(|| {
        let runtime = PolicyRuntime::new(RuntimeConfig::default()).expect("runtime");
        let artifacts = BUNDLED
            .iter()
            .map(|policy| {
                let artifact = runtime
                    .validate(policy.component)
                    .unwrap_or_else(|error| panic!("`{}` refused: {error}", policy.name));
                (policy.name, artifact)
            })
            .collect();
        (runtime, artifacts)
    })
}

fn load(name: &str) -> Arc<LoadedModule> {
    let (runtime, artifacts) = validated();
    runtime.load(&artifacts[name].precompiled).expect("loads")
}

fn verdict(module: &LoadedModule, ctx: &EnrichedContext) -> Verdict {
    module.evaluate(ctx).result.expect("no fault")
}

/// The samples by name, as `sample_contexts` orders them.
fn sample(index: usize) -> EnrichedContext {
    sample_contexts().swap_remove(index)
}
const CARD_PAYMENT: usize = 0;
const NEW_ACCOUNT_ORDER: usize = 1;
const PROXIED_LOGIN: usize = 3;
const PROMO_REDEMPTION: usize = 4;
const CARD_TESTING_BURST: usize = 5;

#[test]
fn every_bundled_policy_validates() {
    assert!(BUNDLED.len() >= 6, "{}", BUNDLED.len());
    let (_, artifacts) = validated();
    for policy in BUNDLED {
        assert_eq!(artifacts[policy.name].size_bytes, policy.component.len());
    }
}

#[test]
fn an_ordinary_payment_passes_every_policy() {
    for policy in BUNDLED {
        let module = load(policy.name);
        let outcome = module.evaluate(&sample(CARD_PAYMENT));
        let verdict = outcome.result.expect("no fault");
        assert_eq!(verdict.action, Action::None, "`{}`", policy.name);
        assert_eq!(verdict.score, 0.0, "`{}`", policy.name);
        assert!(outcome.fuel_used > 0);
    }
}

#[test]
fn new_account_high_value_rejects_a_large_first_order() {
    let module = load("new_account_high_value");
    let verdict = verdict(&module, &sample(NEW_ACCOUNT_ORDER));
    assert_eq!(verdict.action, Action::Reject);
    assert_eq!(verdict.score, 50.0);
    assert_eq!(verdict.reasons[0].code, "account.new_high_value");
}

#[test]
fn geo_mismatch_scores_three_countries_on_a_large_order() {
    let module = load("geo_mismatch");
    let verdict = verdict(&module, &sample(NEW_ACCOUNT_ORDER));
    assert_eq!(verdict.action, Action::None);
    // 30 for three countries, doubled from 1000 up.
    assert_eq!(verdict.score, 60.0);
    assert_eq!(verdict.reasons[0].code, "geo.mismatch");
    assert_eq!(
        verdict.reasons[0].detail.as_deref(),
        Some("card=FR ip=NL shipping=DE")
    );
}

#[test]
fn card_testing_rejects_a_burst_of_small_authorisations() {
    let module = load("card_testing");
    let verdict = verdict(&module, &sample(CARD_TESTING_BURST));
    assert_eq!(verdict.action, Action::Reject);
    assert!(
        verdict
            .reasons
            .iter()
            .all(|r| r.code == "velocity.card_testing")
    );
}

#[test]
fn promo_abuse_rejects_a_farmed_device() {
    let module = load("promo_abuse");
    let verdict = verdict(&module, &sample(PROMO_REDEMPTION));
    assert_eq!(verdict.action, Action::Reject);
    let codes: Vec<&str> = verdict.reasons.iter().map(|r| r.code.as_str()).collect();
    assert!(codes.contains(&"promo.multi_account"), "{codes:?}");
    assert!(codes.contains(&"promo.new_account"), "{codes:?}");
}

#[test]
fn graph_ring_challenges_a_login_next_to_fraud() {
    let module = load("graph_ring");
    let verdict = verdict(&module, &sample(PROXIED_LOGIN));
    assert_eq!(verdict.action, Action::Challenge);
    assert!(verdict.score > 0.0);
    let codes: Vec<&str> = verdict.reasons.iter().map(|r| r.code.as_str()).collect();
    assert!(codes.contains(&"graph.fraud_linked"), "{codes:?}");
}

#[test]
fn proxy_high_value_challenges_a_large_proxied_payment() {
    let module = load("proxy_high_value");
    let mut ctx = sample(CARD_PAYMENT);
    ctx.is_proxy = true;
    if let Some(amount) = ctx.amount.as_mut() {
        amount.approx = 1_200.0;
    }
    let verdict = verdict(&module, &ctx);
    assert_eq!(verdict.action, Action::Challenge);
    assert_eq!(verdict.score, 35.0);
    assert_eq!(verdict.reasons[0].code, "network.proxy_high_value");
}

#[test]
fn the_rule_set_returns_one_result_per_module_in_order() {
    let modules: Vec<(ModuleRef, Arc<LoadedModule>)> = BUNDLED
        .iter()
        .enumerate()
        .map(|(index, policy)| {
            let module_ref = ModuleRef {
                name: policy.name.into(),
                version: i64::try_from(index).expect("small") + 1,
                fail_mode: FailMode::Closed,
            };
            (module_ref, load(policy.name))
        })
        .collect();
    let rules = CompiledRuleSet::new(modules);
    rules.prewarm(2).expect("prewarm");
    let results = rules.evaluate(&sample(NEW_ACCOUNT_ORDER));
    let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    let expected: Vec<&str> = BUNDLED.iter().map(|p| p.name).collect();
    assert_eq!(names, expected);
    for result in &results {
        assert!(result.fault.is_none(), "{result:?}");
        assert_eq!(result.fail_mode, FailMode::Closed);
        assert!(result.fuel_used > 0);
    }
    let new_account = results
        .iter()
        .find(|r| r.name == "new_account_high_value")
        .expect("present");
    assert_eq!(new_account.action, Action::Reject);
}
