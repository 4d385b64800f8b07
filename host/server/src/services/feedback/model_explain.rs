//! Why the model scored a stored decision as it did: the recorded model version's scorer,
//! applied again to the recorded context, gives each feature's contribution to the log-odds.
//! Computed when a reviewer or a caller reads the decision, never on the decision path, so a
//! decision costs nothing more for being explainable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arbiter_engine::Decision;
use arbiter_models::{Contribution, Scorer};

use super::error::FeedbackError;
use super::models::{ModelService, load_scorer};

/// How many contributions a decision is explained with.
pub const TOP_CONTRIBUTIONS: usize = 5;

/// Versions kept loaded; a version past it evicts them all (the set in use is small: the
/// champion, a challenger, the last few).
const CACHED_VERSIONS: usize = 16;

/// Scorers by model version. Versions are immutable, so a cached scorer never goes stale.
#[derive(Default)]
pub struct ScorerCache(Mutex<HashMap<i64, Arc<Scorer>>>);

/// The model's part in one decision.
#[derive(Debug, Clone)]
pub struct ModelExplanation {
    pub version: i64,
    /// The recorded fraud probability.
    pub probability: f64,
    /// The largest contributions, largest magnitude first.
    pub contributions: Vec<Contribution>,
}

impl ModelService {
    /// The model's explanation of `d`, when a model scored it.
    pub async fn explain(&self, d: &Decision) -> Result<Option<ModelExplanation>, FeedbackError> {
        let Some(outcome) = &d.layers.model else {
            return Ok(None);
        };
        let scorer = self.cached_scorer(outcome.version).await?;
        Ok(Some(ModelExplanation {
            version: outcome.version,
            probability: outcome.probability,
            contributions: scorer.explain(&d.context, TOP_CONTRIBUTIONS),
        }))
    }

    async fn cached_scorer(&self, version: i64) -> Result<Arc<Scorer>, FeedbackError> {
        let cached = match self.explainers.0.lock() {
            Ok(cache) => cache.get(&version).cloned(),
            Err(poisoned) => poisoned.into_inner().get(&version).cloned(),
        };
        if let Some(scorer) = cached {
            return Ok(scorer);
        }
        let scorer = Arc::new(load_scorer(self.store.as_ref(), version).await?);
        let mut cache = match self.explainers.0.lock() {
            Ok(cache) => cache,
            Err(poisoned) => poisoned.into_inner(),
        };
        if cache.len() >= CACHED_VERSIONS {
            cache.clear();
        }
        cache.insert(version, scorer.clone());
        Ok(scorer)
    }
}
