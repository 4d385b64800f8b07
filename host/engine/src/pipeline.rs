//! The decision pipeline: enrich, lists, rules, graph, model, score bands — in that order.
//!
//! A request loads each hot-swapped snapshot once at its start (`load_full`) and uses it to
//! the end, so one decision is made by exactly one list snapshot, one policy set and one
//! model, and records which.

use std::sync::Arc;
use std::time::Instant;

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::action::Action;
use crate::clock::Clock;
use crate::context::EnrichedContext;
use crate::decision::{Decision, DecisionId, Layer, LayerResults, Reason, StageTimings};
use crate::lists::{ListName, ListSnapshot};
use crate::policy_set::PolicySet;
use crate::request::DecisionRequest;
use crate::stages::{GraphStage, ModelOutcome, ModelStage, RuleEvaluator};
use crate::velocity::{VelocityError, VelocityEvent, VelocityStore};

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
    /// Replaced whole on promote or rollback; read once per request.
    pub policy: Arc<ArcSwap<ActivePolicy>>,
    /// `None` until a model is activated.
    pub model: Arc<ArcSwapOption<Box<dyn ModelStage>>>,
}

pub struct Pipeline {
    pub state: PipelineState,
    velocity: Arc<dyn VelocityStore>,
    graph: Option<Arc<dyn GraphStage>>,
    clock: Arc<dyn Clock>,
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
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
        let policy = self.state.policy.load_full();
        let model = self.state.model.load_full();
        let mut timings = StageTimings::default();
        let mut reasons = Vec::new();

        let t = Instant::now();
        let mut ctx = EnrichedContext::normalise(req);
        ctx.velocity = self
            .velocity
            .features(&VelocityEvent::from_context(&ctx), now)
            .await?;
        timings.enrich_us = micros(t);

        let t = Instant::now();
        let list_outcome = lists.evaluate(&ctx, now);
        timings.lists_us = micros(t);
        let mut score = 0.0;
        for hit in &list_outcome.hits {
            if hit.list == ListName::Watch {
                ctx.watch_hits.push(hit.code.clone());
                score += policy.set.weights.watch;
            }
            reasons.push(Reason {
                layer: Layer::List,
                code: hit.code.clone(),
                source: hit.entry_id.clone(),
                detail: Some(hit.reason.clone()).filter(|r| !r.is_empty()),
            });
        }

        let mut layers = LayerResults {
            lists: list_outcome.clone(),
            ..LayerResults::default()
        };
        let action = if let Some(verdict) = list_outcome.verdict {
            layers.short_circuited = true;
            verdict
        } else {
            let t = Instant::now();
            if let Some(graph) = &self.graph {
                let outcome = graph.score(&ctx);
                score +=
                    finite_or_zero(f64::from(outcome.features.score)) * policy.set.weights.graph;
                for r in &outcome.reasons {
                    reasons.push(Reason {
                        layer: Layer::Graph,
                        code: r.code.clone(),
                        source: "graph".into(),
                        detail: r.detail.clone(),
                    });
                }
                ctx.graph = Some(outcome.features.clone());
                layers.graph = Some(outcome);
            }
            timings.graph_us = micros(t);

            let t = Instant::now();
            let mut results = policy.rules.evaluate(&ctx);
            for r in &mut results {
                // A non-finite score cannot be stored or replayed; it never counts anyway.
                r.score = finite_or_zero(r.score);
            }
            timings.rules_us = micros(t);
            let mut action = Action::None;
            for r in &results {
                action = action.combine(r.effective_action());
                score += r.effective_score();
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
                        source: source.clone(),
                        detail: Some(format!(
                            "{:?} ({:?} fail mode): {}",
                            fault.kind, r.fail_mode, fault.message
                        )),
                    });
                }
            }
            layers.rules = results;

            let t = Instant::now();
            if let Some(model) = model.as_deref() {
                let p = finite_or_zero(model.probability(&ctx)).clamp(0.0, 1.0);
                score += p * policy.set.weights.model;
                layers.model = Some(ModelOutcome {
                    version: model.version(),
                    probability: p,
                });
            }
            timings.model_us = micros(t);

            let band = policy.set.thresholds.band(score);
            layers.band = Some(band);
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
            action.combine(band)
        };
        layers.timings = timings;

        Ok(Decision {
            decision_id: DecisionId::generate(),
            request_id: req.request_id.clone(),
            body_hash: req.body_hash.clone(),
            // A rule's `accept` never beats the bands, and `none` is never final.
            action: action.max(Action::Accept),
            score,
            reasons,
            policy_set_version: policy.set.version,
            model_version: layers.model.as_ref().map(|m| m.version),
            created_at: now,
            context: ctx,
            layers,
        })
    }

    /// Feeds a durable decision back into the stateful features (velocity, graph).
    pub async fn after_commit(&self, decision: &Decision) -> Result<(), VelocityError> {
        if let Some(graph) = &self.graph {
            graph.observe(&decision.context);
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
