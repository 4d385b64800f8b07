//! The six bundled example policies through the real runtime, as a decision runs them:
//! validated and precompiled as an upload is, loaded as a swap is, called through
//! [`CompiledRuleSet`] (context converted once, each module called on a warm instance under
//! its fuel budget and deadline).

use std::borrow::Cow;

use arbiter_engine::EnrichedContext;
use arbiter_engine::policy_set::{FailMode, ModuleRef};
use arbiter_engine::stages::{ModuleResult, RuleEvaluator};
use arbiter_runtime::bundled::BUNDLED;
use arbiter_runtime::{CompiledRuleSet, PolicyRuntime, RuntimeConfig};

use crate::{RulesEngine, RulesVerdict};

/// The example policies this comparison covers (every bundled one).
pub const POLICIES: [&str; 6] = [
    "geo_mismatch",
    "new_account_high_value",
    "card_testing",
    "proxy_high_value",
    "promo_abuse",
    "graph_ring",
];

/// The bundled policies as one compiled rule set.
#[derive(Debug)]
pub struct Wasm {
    /// Kept alive with the set: its epoch ticker enforces the modules' deadlines.
    _runtime: PolicyRuntime,
    rules: CompiledRuleSet,
}

impl Wasm {
    /// Validates, precompiles, loads and prewarms (one instance each) the six policies,
    /// with the runtime's default limits.
    ///
    /// # Panics
    /// If a bundled policy is missing or fails validation: the bench is meaningless then.
    pub fn new() -> Wasm {
        Wasm::with_config(RuntimeConfig::default())
    }

    /// As [`Wasm::new`], with other limits.
    ///
    /// # Panics
    /// As [`Wasm::new`].
    pub fn with_config(config: RuntimeConfig) -> Wasm {
        let runtime = PolicyRuntime::new(config).expect("the policy runtime starts");
        let modules = POLICIES
            .iter()
            .map(|name| {
                let policy = BUNDLED
                    .iter()
                    .find(|policy| policy.name == *name)
                    .unwrap_or_else(|| panic!("`{name}` is not bundled"));
                let artifact = runtime
                    .validate(policy.component)
                    .unwrap_or_else(|error| panic!("`{name}` is refused: {error}"));
                let module = runtime
                    .load(&artifact.precompiled)
                    .unwrap_or_else(|error| panic!("`{name}` does not load: {error}"));
                let module_ref = ModuleRef {
                    name: (*name).to_owned(),
                    version: 1,
                    fail_mode: FailMode::Open,
                };
                (module_ref, module)
            })
            .collect();
        let rules = CompiledRuleSet::new(modules);
        rules.prewarm(1).expect("the policies instantiate");
        Wasm {
            _runtime: runtime,
            rules,
        }
    }

    /// The per-module results, as the decision records them.
    pub fn module_results(&self, ctx: &EnrichedContext) -> Vec<ModuleResult> {
        self.rules.evaluate(ctx)
    }
}

impl Default for Wasm {
    fn default() -> Self {
        Wasm::new()
    }
}

impl RulesEngine for Wasm {
    fn name(&self) -> &'static str {
        "wasm"
    }

    fn evaluate(&self, ctx: &EnrichedContext) -> RulesVerdict {
        combine(self.rules.evaluate(ctx))
    }
}

/// Combines module results the way the decision pipeline does: each module's effective
/// action and score (a fault contributes its fail mode's), every reason.
pub fn combine(results: Vec<ModuleResult>) -> RulesVerdict {
    let mut verdict = RulesVerdict::default();
    for result in results {
        verdict.action = verdict.action.combine(result.effective_action());
        verdict.score += result.effective_score();
        verdict.reasons.extend(
            result
                .reasons
                .into_iter()
                .map(|reason| Cow::Owned(reason.code)),
        );
    }
    verdict
}
