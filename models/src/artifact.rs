//! The model artifact: everything needed to score with a trained model (the feature list it
//! was trained on, the standardisation, the coefficients) plus the metrics it was evaluated
//! with. Serialised as JSON by the host and stored as a model version; it must not know where.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::features::{FEATURE_COUNT, FEATURE_NAMES};
use crate::metrics::Metrics;

/// The learner this crate trains.
pub const LOGISTIC_REGRESSION: &str = "logistic_regression";

/// The artifact layout version; bumped when a field changes meaning.
pub const ARTIFACT_FORMAT: u32 = 1;

/// A trained logistic regression over standardised features:
/// `p = sigmoid(intercept + sum_i coefficients[i] * (x[i] - means[i]) / stds[i])`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ModelArtifact {
    pub format: u32,
    /// Always [`LOGISTIC_REGRESSION`] for now.
    pub learner: String,
    /// The feature list the model was trained on; must equal [`FEATURE_NAMES`] to score.
    pub feature_names: Vec<String>,
    /// Per-feature mean over the training part.
    pub means: Vec<f64>,
    /// Per-feature standard deviation over the training part (1 for a constant feature).
    pub stds: Vec<f64>,
    /// One coefficient per standardised feature.
    pub coefficients: Vec<f64>,
    /// Includes `prior_correction`.
    pub intercept: f64,
    /// The L2 penalty the learner used (on the sum of the losses, not the mean).
    pub l2_alpha: f64,
    /// Log-odds added to the fitted intercept to undo the class balancing of the training
    /// set, so probabilities are calibrated to the real fraud rate (see `models/README.md`).
    pub prior_correction: f64,
    /// Measured on the held-out part with exactly these coefficients.
    pub metrics: Metrics,
    pub trained_at: DateTime<Utc>,
}

impl ModelArtifact {
    pub fn to_json(&self) -> String {
        // Serialising plain structs of numbers and strings cannot fail; the fallback is only
        // there to avoid a panic path.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses and validates an artifact; refuses one trained on another feature list.
    pub fn from_json(s: &str) -> Result<ModelArtifact, ModelError> {
        let artifact: ModelArtifact =
            serde_json::from_str(s).map_err(|e| ModelError::Artifact(e.to_string()))?;
        artifact.validate()?;
        Ok(artifact)
    }

    /// Checks the artifact can score with this build: same features, right lengths, finite
    /// numbers, positive standard deviations.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.format != ARTIFACT_FORMAT {
            return Err(ModelError::Artifact(format!(
                "format `{}` is not the supported format {ARTIFACT_FORMAT}",
                self.format
            )));
        }
        if self.learner != LOGISTIC_REGRESSION {
            return Err(ModelError::Artifact(format!(
                "learner `{}` is not supported",
                self.learner
            )));
        }
        check_features(&self.feature_names)?;
        for (what, v) in [
            ("means", &self.means),
            ("stds", &self.stds),
            ("coefficients", &self.coefficients),
        ] {
            if v.len() != FEATURE_COUNT {
                return Err(ModelError::Artifact(format!(
                    "{what}: {} values, expected {FEATURE_COUNT}",
                    v.len()
                )));
            }
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(ModelError::Artifact(format!(
                    "{what}: value for `{}` is not finite",
                    FEATURE_NAMES[i]
                )));
            }
        }
        if let Some(i) = self.stds.iter().position(|s| *s <= 0.0) {
            return Err(ModelError::Artifact(format!(
                "stds: value for `{}` is not positive",
                FEATURE_NAMES[i]
            )));
        }
        if !self.intercept.is_finite() {
            return Err(ModelError::Artifact("intercept is not finite".into()));
        }
        Ok(())
    }
}

fn check_features(names: &[String]) -> Result<(), ModelError> {
    let first_difference = names
        .iter()
        .map(String::as_str)
        .zip(FEATURE_NAMES)
        .position(|(a, b)| a != b);
    let detail = match first_difference {
        Some(i) => format!(
            "position {i}: artifact has `{}`, this build has `{}`",
            names[i], FEATURE_NAMES[i]
        ),
        None if names.len() != FEATURE_COUNT => format!(
            "artifact has {} features, this build has {FEATURE_COUNT}",
            names.len()
        ),
        None => return Ok(()),
    };
    Err(ModelError::FeatureMismatch {
        artifact: names.len(),
        expected: FEATURE_COUNT,
        detail,
    })
}
