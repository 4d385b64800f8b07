//! The pipeline's pluggable layers after the lists: rules (WASM policy modules), the link
//! graph and the model. Each is a small trait so its implementation lives in its own crate.

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::context::{EnrichedContext, GraphFeatures};
use crate::policy_set::FailMode;

/// A reason code a rule, the graph or the model gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCode {
    pub code: String,
    pub detail: Option<String>,
}

/// Why a module produced no verdict. A fault is a value recorded on the decision, never an
/// error of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Trap,
    OutOfFuel,
    Deadline,
    MemoryLimit,
    MalformedOutput,
    /// The module could not be instantiated (e.g. its artifact failed to load).
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub kind: FaultKind,
    pub message: String,
}

/// One module's result on one context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleResult {
    pub name: String,
    pub version: i64,
    pub fail_mode: FailMode,
    pub action: Action,
    pub score: f64,
    pub reasons: Vec<ReasonCode>,
    pub fault: Option<Fault>,
    pub fuel_used: u64,
    /// Snoozed for one of the request's entities: recorded as it answered, counted for
    /// nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub snoozed: bool,
}

impl ModuleResult {
    /// The action this result contributes, after the fail mode is applied to a fault (a
    /// snoozed module contributes none).
    pub fn effective_action(&self) -> Action {
        match (&self.fault, self.fail_mode) {
            _ if self.snoozed => Action::None,
            (None, _) => self.action,
            (Some(_), FailMode::Open) => Action::None,
            (Some(_), FailMode::Closed) => Action::Challenge,
        }
    }

    /// The score this result contributes (a faulted or snoozed module contributes none).
    pub fn effective_score(&self) -> f64 {
        if self.snoozed || self.fault.is_some() || !self.score.is_finite() {
            0.0
        } else {
            self.score
        }
    }

    /// `name@version`, the `source` of this module's reasons.
    pub fn source(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Evaluates the modules of one policy set. Implementations are bound to one set version
/// and must be cheap to call from any request thread.
pub trait RuleEvaluator: Send + Sync + 'static {
    fn evaluate(&self, ctx: &EnrichedContext) -> Vec<ModuleResult>;
}

/// A policy set without modules decides by lists and score bands alone.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoModules;

impl RuleEvaluator for NoModules {
    fn evaluate(&self, _ctx: &EnrichedContext) -> Vec<ModuleResult> {
        Vec::new()
    }
}

/// What the graph layer concluded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphOutcome {
    pub features: GraphFeatures,
    pub reasons: Vec<ReasonCode>,
}

/// The link-graph layer.
pub trait GraphStage: Send + Sync + 'static {
    /// Features of the context's entities before this decision links them.
    fn score(&self, ctx: &EnrichedContext) -> GraphOutcome;
    /// Links the context's entities at the decision's instant `at` (called once the decision
    /// is durable).
    fn observe(&self, ctx: &EnrichedContext, at: chrono::DateTime<chrono::Utc>);
}

/// What the model layer concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelOutcome {
    pub version: i64,
    /// Fraud probability, 0..=1.
    pub probability: f64,
}

/// The model layer.
pub trait ModelStage: Send + Sync + 'static {
    fn version(&self) -> i64;
    fn probability(&self, ctx: &EnrichedContext) -> f64;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(fault: Option<FaultKind>, mode: FailMode) -> ModuleResult {
        ModuleResult {
            name: "m".into(),
            version: 1,
            fail_mode: mode,
            action: Action::Reject,
            score: 50.0,
            reasons: vec![],
            fault: fault.map(|kind| Fault {
                kind,
                message: "x".into(),
            }),
            fuel_used: 0,
            snoozed: false,
        }
    }

    #[test]
    fn fail_modes_decide_what_a_fault_means() {
        assert_eq!(
            result(None, FailMode::Open).effective_action(),
            Action::Reject
        );
        let open = result(Some(FaultKind::Trap), FailMode::Open);
        assert_eq!(open.effective_action(), Action::None);
        assert_eq!(open.effective_score(), 0.0);
        let closed = result(Some(FaultKind::OutOfFuel), FailMode::Closed);
        assert_eq!(closed.effective_action(), Action::Challenge);
    }
}
