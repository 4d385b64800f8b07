//! The decision pipeline: enrich, lists, graph, rules, model, score bands.
//!
//! A request loads each hot-swapped snapshot once at its start (`load_full`) and uses it to
//! the end, so one decision is made by exactly one list snapshot, one policy set and one
//! model, and records which. The graph and model run before the rules so that policies can
//! read graph features; their score contributions are added to the rules' like any other.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::action::Action;
use crate::clock::Clock;
use crate::context::EnrichedContext;
use crate::decision::{
    Decision, DecisionId, Layer, LayerResults, Reason, RolloutAssignment, ScoreParts, ShadowResult,
    StageTimings,
};
use crate::entity_chain::EntityChain;
use crate::lists::{ListName, ListSnapshot};
use crate::money::RateTable;
use crate::policy_set::PolicySet;
use crate::request::DecisionRequest;
use crate::routing::PolicyRouting;
use crate::snooze::SnoozeSnapshot;
use crate::stages::{GraphStage, ModelOutcome, ModelStage, ModuleResult, RuleEvaluator};
use crate::velocity::{VelocityError, VelocityEvent, VelocityStore};

/// A shadow candidate is evaluated only when the enforced rules layer took less than this, so
/// a request that is already slow is not made slower by a set that is not enforced; a skipped
/// shadow is recorded as such. Two milliseconds is two orders of magnitude above the rules
/// layer's cost in a release build; unoptimised (debug) builds run the host glue far slower,
/// so they get a budget that does not skip shadows in tests.
pub const SHADOW_BUDGET: Duration = if cfg!(debug_assertions) {
    Duration::from_millis(500)
} else {
    Duration::from_millis(2)
};

/// A policy set ready to evaluate: its definition and its bound rule evaluator.
pub struct ActivePolicy {
    pub set: PolicySet,
    pub rules: Arc<dyn RuleEvaluator>,
}

/// The hot-swappable state the pipeline reads on every request.
#[derive(Clone)]
pub struct PipelineState {
    /// Replaced whole on any list change; read once per request.
    pub lists: Arc<ArcSwap<ListSnapshot>>,
    /// Replaced whole on any policy or rollout change; read once per request.
    pub policy: Arc<ArcSwap<PolicyRouting>>,
    /// `None` until a model is activated.
    pub model: Arc<ArcSwapOption<Box<dyn ModelStage>>>,
    /// The challenger: scored and recorded on every decision that reaches the model layer,
    /// never part of the score. `None` when no model runs in shadow.
    pub shadow_model: Arc<ArcSwapOption<Box<dyn ModelStage>>>,
    /// The exchange rates into the reporting currency; replaced whole when a new table is set.
    pub rates: Arc<ArcSwap<RateTable>>,
    /// The live rule snoozes; replaced whole on any snooze change, read once per request.
    pub snoozes: Arc<ArcSwap<SnoozeSnapshot>>,
}

pub struct Pipeline {
    pub state: PipelineState,
    velocity: Arc<dyn VelocityStore>,
    graph: Option<Arc<dyn GraphStage>>,
    clock: Arc<dyn Clock>,
}

pub(crate) fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// One policy set's verdict on a context whose other layers are already computed.
pub(crate) struct PolicyEvaluation {
    pub action: Action,
    pub band: Action,
    pub score: f64,
    pub parts: ScoreParts,
    pub reasons: Vec<Reason>,
    pub rules: Vec<ModuleResult>,
}

/// What the rules read as the model's score (`EnrichedContext::model_score`) when the model
/// layer's outcome is `model`.
pub(crate) fn model_score(model: Option<&ModelOutcome>) -> Option<f64> {
    model.map(|m| m.probability)
}

/// The score a block or allow entry's verdict carries: the watch hits alone (later layers did
/// not run).
pub(crate) fn short_circuit_score(policy: &ActivePolicy, ctx: &EnrichedContext) -> f64 {
    policy.set.weights.watch * ctx.watch_hits.len() as f64
}

/// Rules, then the score bands, for one policy set, on a context whose watch hits and graph
/// features are filled in and whose `model_score` is `model`'s probability (see
/// [`model_score`]); `model` is the model layer's outcome. The same function decides a
/// request and replays a stored one (`backtest::replay`), so a replay of the deciding set
/// reproduces the recorded score bit for bit.
pub(crate) fn evaluate_policy(
    policy: &ActivePolicy,
    ctx: &EnrichedContext,
    model: Option<&ModelOutcome>,
) -> PolicyEvaluation {
    debug_assert_eq!(
        ctx.model_score,
        model_score(model),
        "the rules see the model used"
    );
    let weights = &policy.set.weights;
    let mut parts = ScoreParts {
        lists: weights.watch * ctx.watch_hits.len() as f64,
        ..ScoreParts::default()
    };
    let mut score = parts.lists;
    if let Some(g) = &ctx.graph {
        parts.graph = finite_or_zero(f64::from(g.score)) * weights.graph;
        score += parts.graph;
    }
    if let Some(m) = model {
        parts.model = m.probability * weights.model;
        score += parts.model;
    }
    let mut results = policy.rules.evaluate(ctx);
    let mut reasons = Vec::new();
    let mut action = Action::None;
    for r in &mut results {
        // A non-finite score cannot be stored or replayed; it never counts anyway.
        r.score = finite_or_zero(r.score);
        r.snoozed = ctx.snoozed_rules.binary_search(&r.name).is_ok();
        action = action.combine(r.effective_action());
        score += r.effective_score();
        parts.rules += r.effective_score();
        if r.snoozed {
            continue;
        }
        let source = r.source();
        for reason in &r.reasons {
            reasons.push(Reason {
                layer: Layer::Rule,
                code: reason.code.clone(),
                source: source.clone(),
                detail: reason.detail.clone(),
            });
        }
        if let Some(fault) = &r.fault {
            reasons.push(Reason {
                layer: Layer::Rule,
                code: "rule.fault".into(),
                source,
                detail: Some(format!(
                    "{:?} ({:?} fail mode): {}",
                    fault.kind, r.fail_mode, fault.message
                )),
            });
        }
    }
    let band = policy.set.thresholds.band(score);
    if band > Action::Accept {
        reasons.push(Reason {
            layer: Layer::Score,
            code: format!("score.{}", band.as_str()),
            source: format!("policy_set@{}", policy.set.version),
            detail: Some(format!(
                "score {score:.2} against thresholds challenge {} / reject {}",
                policy.set.thresholds.challenge, policy.set.thresholds.reject
            )),
        });
    }
    PolicyEvaluation {
        // A rule's `accept` never beats the bands, and `none` is never final.
        action: action.combine(band).max(Action::Accept),
        band,
        score,
        parts,
        reasons,
        rules: results,
    }
}

impl Pipeline {
    pub fn new(
        state: PipelineState,
        velocity: Arc<dyn VelocityStore>,
        graph: Option<Arc<dyn GraphStage>>,
        clock: Arc<dyn Clock>,
    ) -> Pipeline {
        Pipeline {
            state,
            velocity,
            graph,
            clock,
        }
    }

    /// Decides one request. Nothing is recorded here: call [`Self::after_commit`] once the
    /// decision is durable.
    pub async fn decide(&self, req: &DecisionRequest) -> Result<Decision, VelocityError> {
        let now = self.clock.now();
        let lists = self.state.lists.load_full();
        let routing = self.state.policy.load_full();
        let model = self.state.model.load_full();
        let shadow_model = self.state.shadow_model.load_full();
        let route = routing.route(&req.user_id);
        let mut timings = StageTimings::default();

        let t = Instant::now();
        let mut ctx = EnrichedContext::normalise(req, &self.state.rates.load());
        ctx.snoozed_rules = self.state.snoozes.load().snoozed_rules(&ctx, now);
        let reading = self
            .velocity
            .read(&VelocityEvent::from_context(&ctx), now)
            .await?;
        ctx.velocity = reading.features;
        timings.enrich_us = micros(t);

        let t = Instant::now();
        let list_outcome = lists.evaluate(&ctx, now);
        timings.lists_us = micros(t);
        let mut reasons = Vec::new();
        for hit in &list_outcome.hits {
            if hit.list == ListName::Watch {
                ctx.watch_hits.push(hit.code.clone());
            }
            reasons.push(Reason {
                layer: Layer::List,
                code: hit.code.clone(),
                source: hit.entry_id.clone(),
                detail: Some(hit.reason.clone()).filter(|r| !r.is_empty()),
            });
        }
        let deciding = route.deciding;
        let mut layers = LayerResults {
            lists: list_outcome.clone(),
            velocity_degraded: reading.degraded,
            ..LayerResults::default()
        };
        let mut shadow = None;

        let (action, score) = if let Some(verdict) = list_outcome.verdict {
            layers.short_circuited = true;
            let score = short_circuit_score(deciding, &ctx);
            layers.score_parts = Some(ScoreParts {
                lists: score,
                ..ScoreParts::default()
            });
            (verdict, score)
        } else {
            let t = Instant::now();
            if let Some(graph) = &self.graph {
                let outcome = graph.score(&ctx);
                for r in &outcome.reasons {
                    reasons.push(Reason {
                        layer: Layer::Graph,
                        code: r.code.clone(),
                        source: "graph".into(),
                        detail: r.detail.clone(),
                    });
                }
                ctx.graph = Some(outcome.features);
                layers.graph = Some(outcome);
            }
            timings.graph_us = micros(t);

            let t = Instant::now();
            if let Some(model) = model.as_deref() {
                layers.model = Some(ModelOutcome {
                    version: model.version(),
                    probability: finite_or_zero(model.probability(&ctx)).clamp(0.0, 1.0),
                });
            }
            if let Some(challenger) = shadow_model.as_deref() {
                layers.model_shadow = Some(ModelOutcome {
                    version: challenger.version(),
                    probability: finite_or_zero(challenger.probability(&ctx)).clamp(0.0, 1.0),
                });
            }
            timings.model_us = micros(t);
            ctx.model_score = model_score(layers.model.as_ref());

            let t = Instant::now();
            let eval = evaluate_policy(deciding, &ctx, layers.model.as_ref());
            timings.rules_us = micros(t);

            if route.shadow.is_some() && t.elapsed() >= SHADOW_BUDGET {
                layers.shadow_skipped = true;
            } else if let Some(candidate) = route.shadow {
                let t = Instant::now();
                let s = evaluate_policy(candidate, &ctx, layers.model.as_ref());
                timings.shadow_us = micros(t);
                shadow = Some(ShadowResult {
                    policy_set_version: candidate.set.version,
                    action: s.action,
                    score: s.score,
                    reasons: s.reasons,
                    rules: s.rules,
                });
            }
            reasons.extend(eval.reasons);
            layers.rules = eval.rules;
            layers.band = Some(eval.band);
            layers.score_parts = Some(eval.parts);
            (eval.action, eval.score)
        };
        layers.timings = timings;

        Ok(Decision {
            decision_id: DecisionId::generate(),
            request_id: req.request_id.clone(),
            body_hash: req.body_hash.clone(),
            action,
            score,
            reasons,
            policy_set_version: deciding.set.version,
            model_version: layers.model.as_ref().map(|m| m.version),
            created_at: now,
            context: ctx,
            layers,
            rollout: route
                .rollout
                .map(|(rollout_id, arm)| RolloutAssignment { rollout_id, arm }),
            shadow,
            chain: EntityChain::default(),
        })
    }

    /// Feeds a durable decision back into the stateful features (velocity, graph).
    pub async fn after_commit(&self, decision: &Decision) -> Result<(), VelocityError> {
        if let Some(graph) = &self.graph {
            graph.observe(&decision.context, decision.created_at);
        }
        self.velocity
            .record(
                &VelocityEvent::from_context(&decision.context),
                decision.created_at,
            )
            .await
    }
}

#[cfg(test)]
mod tests;
