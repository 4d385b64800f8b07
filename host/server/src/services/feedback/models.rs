//! Model training jobs and activation. Training runs off the request path on the blocking
//! pool; a trained version is inert until it is activated (champion) or put in shadow
//! (challenger: scored and recorded on every decision, never used). Both swaps are arc-swap
//! stores of a fully built scorer, so a decision sees exactly one model version.

use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use chrono::Utc;

use arbiter_engine::audit::Actor;
use arbiter_engine::feedback::{JobStatus, ModelSlot, ModelVersion, TrainingJob};
use arbiter_engine::routing::PolicyRouting;
use arbiter_engine::stages::ModelStage;
use arbiter_engine::store::Store;
use arbiter_models::{Example, ModelArtifact, ModelError, Scorer, TrainConfig};

use super::error::FeedbackError;
use crate::services::replication::ChangeSignal;

type ModelSlotRef = Arc<ArcSwapOption<Box<dyn ModelStage>>>;

pub struct ModelService {
    pub(super) store: Arc<dyn Store>,
    /// The pipeline's champion slot.
    active: ModelSlotRef,
    /// The pipeline's challenger slot.
    shadow: ModelSlotRef,
    /// The live policy set, whose thresholds and model weight give the probabilities at which
    /// precision and recall are reported.
    routing: Arc<ArcSwap<PolicyRouting>>,
    /// Minimum labels per class (and the split) for training.
    config: TrainConfig,
    /// Fired after an activation made here, so other replicas swap too.
    pub changes: ChangeSignal,
    /// Scorers of the versions decisions are explained with (`model_explain.rs`).
    pub(super) explainers: super::model_explain::ScorerCache,
}

/// Every model version and which slot runs which.
pub struct ModelsView {
    pub versions: Vec<ModelVersion>,
    pub active: Option<i64>,
    pub shadow: Option<i64>,
}

impl From<ModelError> for FeedbackError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::TooFewLabels {
                fraud,
                legit,
                need_per_class,
            } => FeedbackError::TooFewLabels {
                fraud,
                legit,
                need_per_class,
            },
            other => FeedbackError::Model(other.to_string()),
        }
    }
}

/// A stored model version, ready to score (a slot's or a backtest's).
pub async fn load_scorer(store: &dyn Store, version: i64) -> Result<Scorer, FeedbackError> {
    let stored =
        store
            .get_model_version(version)
            .await?
            .ok_or_else(|| FeedbackError::NotFound {
                what: "model version",
                id: version.to_string(),
            })?;
    let artifact = ModelArtifact::from_json(&stored.artifact.to_string())?;
    Ok(Scorer::new(version, &artifact)?)
}

impl ModelService {
    pub fn new(
        store: Arc<dyn Store>,
        active: ModelSlotRef,
        shadow: ModelSlotRef,
        routing: Arc<ArcSwap<PolicyRouting>>,
        config: TrainConfig,
    ) -> Self {
        ModelService {
            store,
            active,
            shadow,
            routing,
            config,
            changes: ChangeSignal::default(),
            explainers: super::model_explain::ScorerCache::default(),
        }
    }

    /// The champion slot the pipeline reads.
    pub fn active_slot(&self) -> ModelSlotRef {
        self.active.clone()
    }

    /// The challenger slot the pipeline reads.
    pub fn shadow_slot(&self) -> ModelSlotRef {
        self.shadow.clone()
    }

    /// Installs the stored active and shadow versions (at start).
    pub async fn load(&self) -> Result<(Option<i64>, Option<i64>), FeedbackError> {
        let (active, shadow) = self.store.model_slots().await?;
        for (slot, version) in [(ModelSlot::Active, active), (ModelSlot::Shadow, shadow)] {
            let scorer = match version {
                Some(v) => Some(self.scorer(v).await?),
                None => None,
            };
            self.swap(slot, scorer);
        }
        Ok((active, shadow))
    }

    fn slot(&self, slot: ModelSlot) -> &ModelSlotRef {
        match slot {
            ModelSlot::Active => &self.active,
            ModelSlot::Shadow => &self.shadow,
        }
    }

    fn swap(&self, slot: ModelSlot, scorer: Option<Scorer>) {
        let boxed = scorer.map(|s| Arc::new(Box::new(s) as Box<dyn ModelStage>));
        self.slot(slot).store(boxed);
    }

    async fn scorer(&self, version: i64) -> Result<Scorer, FeedbackError> {
        load_scorer(self.store.as_ref(), version).await
    }

    /// The probabilities at which the model alone reaches the live set's challenge and reject
    /// bands (`threshold / model weight`), where reachable.
    fn thresholds(&self) -> Vec<f64> {
        let routing = self.routing.load();
        let set = &routing.stable.set;
        let weight = set.weights.model;
        let mut t: Vec<f64> = [set.thresholds.challenge, set.thresholds.reject]
            .into_iter()
            .filter(|_| weight > 0.0)
            .map(|x| x / weight)
            .filter(|p| (0.0..=1.0).contains(p))
            .collect();
        if t.is_empty() {
            t.push(0.5);
        }
        t
    }

    /// Starts a training job over every labelled decision (latest label each). Refused up
    /// front when a class has too few labels.
    pub async fn train(&self, actor: &Actor) -> Result<TrainingJob, FeedbackError> {
        let labelled = self.store.labelled_decisions().await?;
        let fraud = labelled.iter().filter(|(_, k)| k.is_fraud()).count();
        arbiter_models::check_enough(fraud, labelled.len() - fraud, &self.config)?;
        let examples: Vec<Example> = labelled
            .iter()
            .map(|(d, kind)| Example {
                features: arbiter_models::extract(&d.context),
                fraud: kind.is_fraud(),
                at: d.created_at,
            })
            .collect();
        drop(labelled);
        let job = TrainingJob {
            job_id: TrainingJob::generate_id(),
            status: JobStatus::Running,
            created_by: actor.id.clone(),
            created_at: Utc::now(),
            finished_at: None,
            model_version: None,
            error: None,
        };
        self.store.insert_job(&job, actor).await?;
        let config = TrainConfig {
            thresholds: self.thresholds(),
            ..self.config.clone()
        };
        let (store, job_id, actor) = (self.store.clone(), job.job_id.clone(), actor.clone());
        tokio::spawn(async move {
            let training =
                tokio::task::spawn_blocking(move || arbiter_models::train(examples, &config));
            let trained =
                super::job_liveness::with_heartbeat(store.as_ref(), &job_id, training).await;
            let outcome = match trained {
                Ok(Ok(artifact)) => match serde_json::from_str(&artifact.to_json()) {
                    Ok(json) => store
                        .insert_model_version(&json, Some(&job_id), &actor)
                        .await
                        .map(|v| v.version)
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("artifact did not serialise: {e}")),
                },
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(format!("training panicked: {e}")),
            };
            let finished = match &outcome {
                Ok(v) => {
                    store
                        .finish_job(&job_id, JobStatus::Succeeded, Some(*v), None)
                        .await
                }
                Err(e) => {
                    store
                        .finish_job(&job_id, JobStatus::Failed, None, Some(e))
                        .await
                }
            };
            match (outcome, finished) {
                (_, Err(e)) => {
                    tracing::error!(job = %job_id, error = %e, "could not record training result")
                }
                (Ok(v), _) => tracing::info!(job = %job_id, version = v, "model trained"),
                (Err(e), _) => tracing::warn!(job = %job_id, error = %e, "training failed"),
            }
        });
        Ok(job)
    }

    pub async fn job(&self, job_id: &str) -> Result<TrainingJob, FeedbackError> {
        self.store
            .get_job(job_id)
            .await?
            .ok_or_else(|| FeedbackError::NotFound {
                what: "training job",
                id: job_id.to_owned(),
            })
    }

    pub async fn versions(&self) -> Result<ModelsView, FeedbackError> {
        let (active, shadow) = self.store.model_slots().await?;
        Ok(ModelsView {
            versions: self.store.list_model_versions().await?,
            active,
            shadow,
        })
    }

    pub async fn version(&self, version: i64) -> Result<ModelVersion, FeedbackError> {
        self.store
            .get_model_version(version)
            .await?
            .ok_or_else(|| FeedbackError::NotFound {
                what: "model version",
                id: version.to_string(),
            })
    }

    /// Puts `version` in `slot` (built and checked before anything changes), or empties the
    /// shadow slot with `None`.
    pub async fn assign(
        &self,
        slot: ModelSlot,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<ModelsView, FeedbackError> {
        let scorer = match version {
            Some(v) => Some(self.scorer(v).await?),
            None => None,
        };
        self.store.set_model_slot(slot, version, actor).await?;
        self.swap(slot, scorer);
        self.changes.fire(arbiter_redis::ChangeKind::Model);
        self.versions().await
    }
}
