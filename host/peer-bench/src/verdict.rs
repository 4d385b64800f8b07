//! What the rules layer concludes, in one shape for every engine: the most severe action,
//! the summed score and the reason codes.

use std::borrow::Cow;

use arbiter_engine::{Action, EnrichedContext};

/// The rules layer's verdict on one context.
///
/// Reason details are left out: Cedar cannot build a string, so the peers are compared on
/// what all of them can say. (The WASM modules do format their details, which is part of
/// their cost; the README says how much.)
#[derive(Debug, Clone, PartialEq)]
pub struct RulesVerdict {
    /// The most severe action any rule asked for (`None` when none did).
    pub action: Action,
    /// The sum of every rule's score contribution.
    pub score: f64,
    /// Reason codes in the order the engine gave them; [`RulesVerdict::sorted`] for
    /// comparing engines, which order them differently.
    pub reasons: Vec<Cow<'static, str>>,
}

impl Default for RulesVerdict {
    fn default() -> Self {
        RulesVerdict {
            action: Action::None,
            score: 0.0,
            reasons: Vec::new(),
        }
    }
}

impl RulesVerdict {
    /// Adds one rule outcome: the more severe action, the summed score, the reason.
    pub fn add(&mut self, action: Action, score: f64, reason: Cow<'static, str>) {
        self.action = self.action.combine(action);
        self.score += score;
        self.reasons.push(reason);
    }

    /// The same verdict with its reasons sorted, so engines can be compared.
    #[must_use]
    pub fn sorted(mut self) -> Self {
        self.reasons.sort_unstable();
        self
    }
}

/// One way of evaluating the six rules.
pub trait RulesEngine {
    /// A short name for reports (`wasm`, `native`, `cedar`, `zen`).
    fn name(&self) -> &'static str;
    /// The six rules' verdict on `ctx`, including turning `ctx` into the engine's input.
    fn evaluate(&self, ctx: &EnrichedContext) -> RulesVerdict;
}
