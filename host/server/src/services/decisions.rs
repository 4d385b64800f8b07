//! Deciding: idempotency, the pipeline, the durable log, then feeding the stateful features.

use std::sync::Arc;
use std::time::Instant;

use metrics::Histogram;
use thiserror::Error;

use arbiter_engine::DecisionRequest;
use arbiter_engine::decision::Decision;
use arbiter_engine::entity_chain::ChainHeads;
use arbiter_engine::pipeline::Pipeline;
use arbiter_engine::store::{AppendOutcome, Store, StoreError};
use arbiter_storage::{DecisionLog, LogError};

use crate::metrics::names;
use crate::services::policies::PolicyService;

#[derive(Debug, Error)]
pub enum DecideError {
    #[error("request_id `{0}` was already used with a different body")]
    Conflict(String),
    #[error("decision log at capacity")]
    Overloaded,
    #[error("shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("features unavailable: {0}")]
    Features(String),
}

/// A decision and whether it was replayed from the log for a repeated request.
pub struct DecideOutcome {
    pub decision: Decision,
    pub replayed: bool,
}

pub struct DecisionService {
    pipeline: Arc<Pipeline>,
    store: Arc<dyn Store>,
    log: DecisionLog,
    /// Sees every durable decision (rollout guards).
    policies: Arc<PolicyService>,
    /// Links each decision to the previous one of each entity it names.
    heads: Arc<ChainHeads>,
    metrics: DecisionMetrics,
}

/// The decision path's histograms, taken from the recorder once: a labelled metric looked up
/// by name builds its key and searches the registry on every call, six times a decision.
struct DecisionMetrics {
    decision: Histogram,
    /// Per stage, in [`STAGES`] order.
    stages: [Histogram; 5],
}

const STAGES: [&str; 5] = ["enrich", "lists", "rules", "graph", "model"];

impl DecisionMetrics {
    fn new() -> DecisionMetrics {
        DecisionMetrics {
            decision: metrics::histogram!(names::DECISION_SECONDS),
            stages: STAGES.map(|stage| metrics::histogram!(names::STAGE_SECONDS, "stage" => stage)),
        }
    }

    /// A stored decision: counted by checkpoint and action, timed whole and per stage.
    fn record(&self, d: &Decision, started: Instant) {
        metrics::counter!(
            names::DECISIONS_TOTAL,
            "event" => d.context.checkpoint.as_str(),
            "action" => d.action.as_str()
        )
        .increment(1);
        self.decision.record(started.elapsed().as_secs_f64());
        let t = &d.layers.timings;
        let times = [t.enrich_us, t.lists_us, t.rules_us, t.graph_us, t.model_us];
        for (histogram, us) in self.stages.iter().zip(times) {
            histogram.record(us as f64 / 1e6);
        }
    }
}

impl DecisionService {
    pub fn new(
        pipeline: Arc<Pipeline>,
        store: Arc<dyn Store>,
        log: DecisionLog,
        policies: Arc<PolicyService>,
        heads: Arc<ChainHeads>,
    ) -> Self {
        DecisionService {
            pipeline,
            store,
            log,
            policies,
            heads,
            metrics: DecisionMetrics::new(),
        }
    }

    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// Decides `req` and returns only once the decision is durable.
    ///
    /// A repeated `request_id` is answered from the log (same body) or refused (different
    /// body). There is no read before deciding: the log's unique index on `request_id` is the
    /// one arbiter, for sequential retries and concurrent duplicates alike, and it answers a
    /// duplicate with the stored decision. A retry costs one pipeline evaluation, which is
    /// cheaper than a database read on every first attempt; velocity and graph are fed only
    /// for the decision that was inserted, so a retry is never counted twice.
    pub async fn decide(&self, req: DecisionRequest) -> Result<DecideOutcome, DecideError> {
        let started = Instant::now();
        let mut decision = self
            .pipeline
            .decide(&req)
            .await
            .map_err(|e| DecideError::Features(e.to_string()))?;
        decision.chain = self
            .heads
            .advance(&decision.context, &decision.decision_id.0);
        let outcome = self.log.append(decision.clone()).await;
        if !matches!(outcome, Ok(AppendOutcome::Inserted)) {
            // Not stored (a repeated request, or the write failed): the entities' heads go
            // back to what they were, unless a later decision took them.
            self.heads
                .rewind(&decision.context, &decision.decision_id.0, &decision.chain);
        }
        let outcome = outcome.map_err(|e| match e {
            LogError::Busy => DecideError::Overloaded,
            LogError::Closed => DecideError::ShuttingDown,
            LogError::Store(s) => DecideError::Store(s),
        })?;
        match outcome {
            AppendOutcome::Existing(stored) => replay(*stored, &req),
            AppendOutcome::Inserted => {
                if let Err(e) = self.pipeline.after_commit(&decision).await {
                    // The decision is durable; only a feature update was lost.
                    tracing::warn!(error = %e, "velocity update failed after commit");
                }
                self.policies.observe(&decision);
                self.metrics.record(&decision, started);
                Ok(DecideOutcome {
                    decision,
                    replayed: false,
                })
            }
        }
    }

    pub async fn get(&self, decision_id: &str) -> Result<Option<Decision>, StoreError> {
        self.store.get_decision(decision_id).await
    }

    /// Stops accepting, writes what is queued.
    pub async fn shutdown(&self) {
        self.log.shutdown().await;
    }
}

fn replay(stored: Decision, req: &DecisionRequest) -> Result<DecideOutcome, DecideError> {
    if stored.body_hash != req.body_hash {
        return Err(DecideError::Conflict(req.request_id.clone()));
    }
    metrics::counter!(names::IDEMPOTENT_REPLAYS_TOTAL).increment(1);
    Ok(DecideOutcome {
        decision: stored,
        replayed: true,
    })
}
