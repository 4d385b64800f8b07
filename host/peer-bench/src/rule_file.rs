//! The six rules as one rule file (`policies/rules/examples.rules`), compiled by
//! `arbiter-rules` into one `arbiter:policy@2` component and run through the real runtime
//! (`CompiledRuleSet`, default limits), as a policy set holding that module would.

use arbiter_engine::EnrichedContext;
use arbiter_engine::policy_set::{FailMode, ModuleRef};
use arbiter_engine::stages::RuleEvaluator;
use arbiter_rules::CompileOptions;
use arbiter_rules::codegen::Bounds;
use arbiter_rules::layout::text;
use arbiter_rules::verdict::VerdictLimits;
use arbiter_runtime::{CompiledRuleSet, PolicyRuntime, RuntimeConfig};

use crate::wasm::combine;
use crate::{RulesEngine, RulesVerdict};

/// The rule file.
pub const SOURCE: &str = include_str!("../../../policies/rules/examples.rules");

/// The compiled rule file as a one-module rule set.
#[derive(Debug)]
pub struct RuleFile {
    _runtime: PolicyRuntime,
    rules: CompiledRuleSet,
}

impl RuleFile {
    /// Compiles, validates, loads and prewarms the file's module.
    ///
    /// # Panics
    /// If the file does not compile or the module is refused: the bench is meaningless then.
    pub fn new() -> RuleFile {
        let runtime = PolicyRuntime::new(RuntimeConfig::default()).expect("the runtime starts");
        let options = CompileOptions {
            limits: VerdictLimits {
                max_reasons: 32,
                max_detail_bytes: 1024,
            },
            // Countries and currencies are short; the fuel check needs only a bound.
            bounds: Bounds {
                text_bytes: [256; text::COUNT],
                attributes: 64,
                attribute_key_bytes: 256,
                attribute_value_bytes: 4096,
                watch_hits: 7,
                watch_hit_bytes: 32,
            },
            fuel_per_call: RuntimeConfig::default().fuel_per_call,
        };
        let compiled = arbiter_rules::compile(SOURCE, &options)
            .unwrap_or_else(|p| panic!("{}", p.render("examples.rules", SOURCE)));
        let artifact = runtime
            .validate(&compiled.component)
            .unwrap_or_else(|error| panic!("the rule file's module is refused: {error}"));
        let module = runtime.load(&artifact.precompiled).expect("it loads");
        let rules = CompiledRuleSet::new(vec![(
            ModuleRef {
                name: "examples".into(),
                version: 1,
                fail_mode: FailMode::Open,
            },
            module,
        )]);
        rules.prewarm(1).expect("the module instantiates");
        RuleFile {
            _runtime: runtime,
            rules,
        }
    }
}

impl Default for RuleFile {
    fn default() -> Self {
        RuleFile::new()
    }
}

impl RulesEngine for RuleFile {
    fn name(&self) -> &'static str {
        "rules"
    }

    fn evaluate(&self, ctx: &EnrichedContext) -> RulesVerdict {
        combine(self.rules.evaluate(ctx))
    }
}
