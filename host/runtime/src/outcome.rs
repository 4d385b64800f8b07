//! What one call of one module produced: a verdict or a fault, and the fuel it used either
//! way. The host-side twin of the ABI's `verdict`, in the engine's types.

use arbiter_engine::Action;
use arbiter_engine::policy_set::ModuleRef;
use arbiter_engine::stages::{Fault, ModuleResult, ReasonCode};

/// A module's answer on one context, checked for sanity (see [`crate::convert`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub action: Action,
    /// Finite; widened from the ABI's `f32`.
    pub score: f64,
    pub reasons: Vec<ReasonCode>,
}

/// The result of one call: never an error, a fault is a value.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleOutcome {
    pub result: Result<Verdict, Fault>,
    /// Fuel consumed by the call (budget minus what was left), faults included; an
    /// out-of-fuel fault reports the whole budget. Zero when no instance could be created.
    pub fuel_used: u64,
}

impl ModuleOutcome {
    /// The decision record of this outcome for `module`: a faulted call has action `none`,
    /// score 0 and no reasons; the fail mode decides its effect later.
    pub fn into_module_result(self, module: &ModuleRef) -> ModuleResult {
        let (action, score, reasons, fault) = match self.result {
            Ok(verdict) => (verdict.action, verdict.score, verdict.reasons, None),
            Err(fault) => (Action::None, 0.0, Vec::new(), Some(fault)),
        };
        ModuleResult {
            name: module.name.clone(),
            version: module.version,
            fail_mode: module.fail_mode,
            action,
            score,
            reasons,
            fault,
            fuel_used: self.fuel_used,
            snoozed: false,
        }
    }

    /// Whether two outcomes are the same answer, comparing scores bit for bit (used by the
    /// purity check at upload; fuel is not part of the answer).
    pub(crate) fn same_answer(&self, other: &ModuleOutcome) -> bool {
        match (&self.result, &other.result) {
            (Ok(a), Ok(b)) => {
                a.action == b.action
                    && a.score.to_bits() == b.score.to_bits()
                    && a.reasons == b.reasons
            }
            (Err(a), Err(b)) => a.kind == b.kind,
            _ => false,
        }
    }
}
