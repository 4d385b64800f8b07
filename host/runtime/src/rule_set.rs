//! The rules layer of one policy-set version: its modules, in order, behind the engine's
//! [`RuleEvaluator`] trait.
//!
//! Built (and its modules prewarmed) before the set is swapped in, then only read: a
//! decision encodes its context once (the layout-2.0 buffer every `@2` module gets a copy
//! of; the typed record too if the set still has `@1` modules) and asks every module in
//! turn. It never panics and
//! never returns an error — each module's fault is in its own [`ModuleResult`], where the
//! module's fail mode gives it meaning.

use std::sync::Arc;

use arbiter_engine::context::EnrichedContext;
use arbiter_engine::policy_set::ModuleRef;
use arbiter_engine::stages::{ModuleResult, RuleEvaluator};

use crate::error::ModuleError;
use crate::pool::LoadedModule;
use crate::prepared::PreparedContext;

/// The modules of one policy set, each with the name, version and fail mode the set gives it.
#[derive(Debug, Clone)]
pub struct CompiledRuleSet {
    /// In the set's order, which is the order of the results. A module is an `Arc` because
    /// consecutive set versions usually share most modules and their warm instances.
    modules: Vec<(ModuleRef, Arc<LoadedModule>)>,
}

impl CompiledRuleSet {
    pub fn new(modules: Vec<(ModuleRef, Arc<LoadedModule>)>) -> CompiledRuleSet {
        CompiledRuleSet { modules }
    }

    /// The modules, in evaluation order.
    pub fn modules(&self) -> &[(ModuleRef, Arc<LoadedModule>)] {
        &self.modules
    }

    /// Makes `instances` warm instances of every module ready; call before the set is
    /// swapped in, with the number of threads that will decide concurrently.
    pub fn prewarm(&self, instances: usize) -> Result<(), ModuleError> {
        for (_, module) in &self.modules {
            module.prewarm(instances)?;
        }
        Ok(())
    }
}

impl RuleEvaluator for CompiledRuleSet {
    fn evaluate(&self, ctx: &EnrichedContext) -> Vec<ModuleResult> {
        if self.modules.is_empty() {
            return Vec::new();
        }
        let prepared = PreparedContext::new(ctx);
        self.modules
            .iter()
            .map(|(module_ref, module)| {
                module
                    .evaluate_prepared(&prepared)
                    .into_module_result(module_ref)
            })
            .collect()
    }
}
