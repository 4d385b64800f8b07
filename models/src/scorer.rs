//! Scoring: a loaded model as the engine's model layer. The standardisation is folded into
//! the weights once at load, so a decision costs one `extract`, one dot product and one
//! sigmoid, with no allocation. It must not train or read storage.

use arbiter_engine::context::EnrichedContext;
use arbiter_engine::stages::ModelStage;

use crate::artifact::ModelArtifact;
use crate::error::ModelError;
use crate::features::{FEATURE_COUNT, FeatureVector, extract};

/// Inputs are clamped to this magnitude before the dot product. No extracted feature comes
/// near it (they are flags, log1p values and small scores); it keeps an arbitrary finite
/// vector from overflowing to `inf - inf = NaN`.
const INPUT_LIMIT: f64 = 1e9;

/// A model version ready to score. Immutable; the host swaps whole scorers (arc-swap).
#[derive(Debug, Clone)]
pub struct Scorer {
    /// The model version the host stored the artifact as; recorded on every decision.
    version: i64,
    /// `coefficients[i] / stds[i]`: a fixed array, so scoring never allocates.
    weights: FeatureVector,
    /// `intercept - sum_i coefficients[i] * means[i] / stds[i]`.
    bias: f64,
    /// `coefficients[i] * means[i] / stds[i]`: what a feature at its training mean adds,
    /// so `weights[i] * x[i] - offsets[i]` is its contribution (see `explain.rs`).
    pub(crate) offsets: FeatureVector,
}

impl Scorer {
    /// Validates the artifact (features, lengths, finiteness) and folds it into weights.
    pub fn new(version: i64, artifact: &ModelArtifact) -> Result<Scorer, ModelError> {
        artifact.validate()?;
        let mut weights = [0.0; FEATURE_COUNT];
        let mut offsets = [0.0; FEATURE_COUNT];
        let mut bias = artifact.intercept;
        for (i, w) in weights.iter_mut().enumerate() {
            *w = artifact.coefficients[i] / artifact.stds[i];
            offsets[i] = *w * artifact.means[i];
            bias -= offsets[i];
        }
        if !bias.is_finite() || weights.iter().any(|w| !w.is_finite()) {
            return Err(ModelError::Artifact(
                "folded weights are not finite (a standard deviation is too small)".into(),
            ));
        }
        Ok(Scorer {
            version,
            weights,
            bias,
            offsets,
        })
    }

    /// The fraud probability of one feature vector, in `[0, 1]`.
    pub fn probability_of(&self, features: &FeatureVector) -> f64 {
        let mut z = self.bias;
        for (w, x) in self.weights.iter().zip(features) {
            z += w * bounded(*x);
        }
        sigmoid(z)
    }

    /// The log-odds weight of each feature in raw (unstandardised) units.
    pub fn weights(&self) -> &FeatureVector {
        &self.weights
    }
}

/// An input as the dot product takes it: NaN as 0, clamped to [`INPUT_LIMIT`].
pub(crate) fn bounded(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-INPUT_LIMIT, INPUT_LIMIT)
    }
}

/// `1 / (1 + e^-z)` without overflow for large `|z|`. A NaN (only reachable with absurd
/// artifact weights, where terms overflow to opposite infinities) scores as no information.
fn sigmoid(z: f64) -> f64 {
    if z.is_nan() {
        0.5
    } else if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl ModelStage for Scorer {
    fn version(&self) -> i64 {
        self.version
    }

    fn probability(&self, ctx: &EnrichedContext) -> f64 {
        self.probability_of(&extract(ctx))
    }
}
