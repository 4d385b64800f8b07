//! Re-deciding one recorded decision with another policy set.
//!
//! A replay runs the same function the pipeline decides with (`pipeline::evaluate_policy`)
//! on the context as recorded: velocity counters, graph features and watch hits as they were
//! at decision time, the list verdict and the model score as recorded, unless the backtest
//! asks for the lists as they are now or another model.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::context::EnrichedContext;
use crate::decision::Decision;
use crate::feedback::LabelKind;
use crate::lists::{ListName, ListSnapshot};
use crate::pipeline::{
    ActivePolicy, evaluate_policy, finite_or_zero, model_score, short_circuit_score,
};
use crate::stages::{ModelOutcome, ModelStage, ModuleResult};

/// What a replay needs of a decision beyond its columns: a fraction of the stored decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayInput {
    /// The context as the rules saw it.
    pub context: EnrichedContext,
    /// The verdict of a block or allow entry, when one decided.
    pub list_verdict: Option<Action>,
    /// The model layer's outcome, when it ran.
    pub model: Option<ModelOutcome>,
}

impl ReplayInput {
    pub fn of(d: &Decision) -> ReplayInput {
        ReplayInput {
            context: d.context.clone(),
            list_verdict: d.layers.lists.verdict,
            model: d.layers.model.clone(),
        }
    }
}

/// A stored decision, as a backtest reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedDecision {
    pub decision_id: String,
    pub created_at: DateTime<Utc>,
    pub policy_set_version: i64,
    pub model_version: Option<i64>,
    pub action: Action,
    pub score: f64,
    pub input: ReplayInput,
}

impl RecordedDecision {
    pub fn of(d: &Decision) -> RecordedDecision {
        RecordedDecision {
            decision_id: d.decision_id.0.clone(),
            created_at: d.created_at,
            policy_set_version: d.policy_set_version,
            model_version: d.model_version,
            action: d.action,
            score: d.score,
            input: ReplayInput::of(d),
        }
    }

    /// ISO 4217 code and minor units, when the decision carried an amount.
    pub fn amount(&self) -> Option<(String, i64)> {
        self.input
            .context
            .amount
            .as_ref()
            .map(|a| (a.currency.clone(), a.minor_units))
    }
}

/// A recorded decision's [`ReplayInput`] as the store read it, not decoded yet: `Err` names
/// why it does not decode.
pub type UndecodedInput = Box<dyn FnOnce() -> Result<ReplayInput, String> + Send>;

/// A recorded decision as the store reads it, its replay input still encoded: decoding is
/// CPU work, done by a backtest worker off the async runtime.
pub struct RecordedRow {
    pub decision_id: String,
    pub created_at: DateTime<Utc>,
    pub policy_set_version: i64,
    pub model_version: Option<i64>,
    pub action: Action,
    pub score: f64,
    /// The decision's [`ReplayInput`], decoded when called.
    pub replay: UndecodedInput,
    /// The decision's latest label given before the backtest started.
    pub label: Option<LabelKind>,
}

impl RecordedRow {
    /// The recorded decision and its label; `Err` names why the stored input does not decode.
    pub fn decode(self) -> Result<(RecordedDecision, Option<LabelKind>), String> {
        let input = (self.replay)()
            .map_err(|e| format!("decision `{}`: replay input: {e}", self.decision_id))?;
        Ok((
            RecordedDecision {
                decision_id: self.decision_id,
                created_at: self.created_at,
                policy_set_version: self.policy_set_version,
                model_version: self.model_version,
                action: self.action,
                score: self.score,
                input,
            },
            self.label,
        ))
    }
}

/// What a replay may use instead of what was recorded.
#[derive(Clone, Copy, Default)]
pub struct Overrides<'a> {
    /// The lists as they are now, and the instant to evaluate their expiries at.
    pub lists: Option<(&'a ListSnapshot, DateTime<Utc>)>,
    /// A model to score with.
    pub model: Option<&'a dyn ModelStage>,
}

/// One set's answer on a replayed decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub action: Action,
    pub score: f64,
    pub rules: Vec<ModuleResult>,
}

impl Verdict {
    /// The modules that fired: no fault, and an action, a score or a reason. A module that
    /// looked and found nothing returns none of them.
    pub fn fired(&self) -> Vec<String> {
        fired(&self.rules)
    }
}

/// The modules of `rules` that fired: no fault, not snoozed, and an action, a score or a
/// reason.
pub fn fired(rules: &[ModuleResult]) -> Vec<String> {
    rules
        .iter()
        .filter(|r| {
            r.fault.is_none()
                && !r.snoozed
                && (r.action != Action::None || r.score != 0.0 || !r.reasons.is_empty())
        })
        .map(|r| r.name.clone())
        .collect()
}

/// `policy`'s answer on `d`.
pub fn replay(policy: &ActivePolicy, d: &RecordedDecision, overrides: Overrides<'_>) -> Verdict {
    let mut ctx = Cow::Borrowed(&d.input.context);
    let list_verdict = match overrides.lists {
        None => d.input.list_verdict,
        Some((lists, now)) => {
            let ctx = ctx.to_mut();
            let outcome = lists.evaluate(ctx, now);
            ctx.watch_hits = outcome
                .hits
                .iter()
                .filter(|h| h.list == ListName::Watch)
                .map(|h| h.code.clone())
                .collect();
            outcome.verdict
        }
    };
    if let Some(action) = list_verdict {
        return Verdict {
            action,
            score: short_circuit_score(policy, &ctx),
            rules: Vec::new(),
        };
    }
    let model = match overrides.model {
        Some(m) => Some(ModelOutcome {
            version: m.version(),
            probability: finite_or_zero(m.probability(&ctx)).clamp(0.0, 1.0),
        }),
        None => d.input.model.clone(),
    };
    let score = model_score(model.as_ref());
    if ctx.model_score != score {
        ctx.to_mut().model_score = score;
    }
    let eval = evaluate_policy(policy, &ctx, model.as_ref());
    Verdict {
        action: eval.action,
        score: eval.score,
        rules: eval.rules,
    }
}
