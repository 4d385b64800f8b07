//! Training: labelled examples in, a validated [`ModelArtifact`] with held-out metrics out.
//! Owns the time split, the class balancing, the standardisation and the call into linfa's
//! logistic regression. It must not read labels or decisions from storage: the host builds
//! the examples with [`crate::extract`] on the stored enriched contexts.
//!
//! The procedure (and why) is written up in `models/README.md`, "Training".

use chrono::{DateTime, Utc};
use linfa::Dataset;
use linfa::traits::Fit;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::artifact::{ARTIFACT_FORMAT, LOGISTIC_REGRESSION, ModelArtifact};
use crate::error::ModelError;
use crate::features::{FEATURE_COUNT, FEATURE_NAMES, FeatureVector};
use crate::metrics::{self, Metrics};
use crate::scorer::Scorer;

/// L2 penalty on the summed log-loss. With thousands of rows this is a light touch: it keeps
/// the coefficients finite when a feature separates the classes perfectly (or is collinear
/// with another, like the checkpoint one-hot) without shrinking real signal.
const L2_ALPHA: f64 = 1.0;
const MAX_ITERATIONS: u64 = 300;
/// On the summed gradient over (balanced) training rows.
const GRADIENT_TOLERANCE: f64 = 1e-4;
/// A feature whose training standard deviation is below this is treated as constant.
const MIN_STD: f64 = 1e-9;

/// One labelled decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub features: FeatureVector,
    pub fraud: bool,
    /// When the decision was made (not when it was labelled): the split is by this time.
    pub at: DateTime<Utc>,
}

/// Serde-ready so a training request or job record can carry it; missing fields take the
/// defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Share of the examples, newest first, held out for evaluation. In `(0, 1)`.
    pub holdout_fraction: f64,
    /// Fewer fraud or legit examples than this in total refuses training.
    pub min_per_class: usize,
    /// Probabilities at which to report precision and recall (e.g. the score bands' cut-offs
    /// expressed as probabilities). Each in `[0, 1]`.
    pub thresholds: Vec<f64>,
}

impl Default for TrainConfig {
    fn default() -> TrainConfig {
        TrainConfig {
            holdout_fraction: 0.3,
            min_per_class: 20,
            thresholds: vec![0.1, 0.25, 0.5, 0.75, 0.9],
        }
    }
}

/// Refuses training with fewer than `cfg.min_per_class` examples of either class.
pub fn check_enough(fraud: usize, legit: usize, cfg: &TrainConfig) -> Result<(), ModelError> {
    if fraud < cfg.min_per_class || legit < cfg.min_per_class {
        return Err(ModelError::TooFewLabels {
            fraud,
            legit,
            need_per_class: cfg.min_per_class,
        });
    }
    Ok(())
}

fn check_config(cfg: &TrainConfig) -> Result<(), ModelError> {
    if !(cfg.holdout_fraction > 0.0 && cfg.holdout_fraction < 1.0) {
        return Err(ModelError::Config(format!(
            "holdout_fraction `{}` must be between 0 and 1",
            cfg.holdout_fraction
        )));
    }
    if let Some(t) = cfg.thresholds.iter().find(|t| !(0.0..=1.0).contains(*t)) {
        return Err(ModelError::Config(format!(
            "threshold `{t}` must be a probability"
        )));
    }
    Ok(())
}

fn count_fraud(examples: &[Example]) -> (usize, usize) {
    let fraud = examples.iter().filter(|e| e.fraud).count();
    (fraud, examples.len() - fraud)
}

/// Trains a logistic regression on the older part of `examples` and evaluates it on the
/// newer part. The returned artifact holds exactly the evaluated coefficients (no refit on
/// all data), so its metrics describe the model that will score.
pub fn train(mut examples: Vec<Example>, cfg: &TrainConfig) -> Result<ModelArtifact, ModelError> {
    check_config(cfg)?;
    for e in &examples {
        if let Some(i) = e.features.iter().position(|x| !x.is_finite()) {
            return Err(ModelError::Training(format!(
                "the example at {} has a non-finite `{}`",
                e.at, FEATURE_NAMES[i]
            )));
        }
    }
    let (fraud, legit) = count_fraud(&examples);
    check_enough(fraud, legit, cfg)?;

    examples.sort_by_key(|e| e.at);
    let split = split_index(&examples, cfg.holdout_fraction);
    let (older, newer) = examples.split_at(split);
    let (train_fraud, train_legit) = count_fraud(older);
    let (test_fraud, test_legit) = count_fraud(newer);
    for (f, l) in [(train_fraud, train_legit), (test_fraud, test_legit)] {
        if f == 0 || l == 0 {
            return Err(ModelError::TooFewLabels {
                fraud: f,
                legit: l,
                need_per_class: 1,
            });
        }
    }

    let (means, stds) = standardisation(older);
    let (coefficients, fitted_intercept, prior_correction) = fit(older, &means, &stds)?;

    let mut artifact = ModelArtifact {
        format: ARTIFACT_FORMAT,
        learner: LOGISTIC_REGRESSION.to_owned(),
        feature_names: FEATURE_NAMES.iter().map(|s| (*s).to_owned()).collect(),
        means,
        stds,
        coefficients,
        intercept: fitted_intercept + prior_correction,
        l2_alpha: L2_ALPHA,
        prior_correction,
        metrics: Metrics {
            roc_auc: 0.5,
            pr_auc: 0.0,
            at_thresholds: Vec::new(),
            calibration: Vec::new(),
            train_examples: older.len(),
            test_examples: newer.len(),
            train_fraud,
            test_fraud,
            split_at: newer.first().map_or_else(Utc::now, |e| e.at),
        },
        trained_at: Utc::now(),
    };
    // Evaluate through the scorer the host will run, so the metrics cannot drift from it.
    let scorer = Scorer::new(0, &artifact)
        .map_err(|e| ModelError::Training(format!("the fitted model does not load: {e}")))?;
    let scored: Vec<(f64, bool)> = newer
        .iter()
        .map(|e| (scorer.probability_of(&e.features), e.fraud))
        .collect();
    artifact.metrics.roc_auc = metrics::roc_auc(&scored);
    artifact.metrics.pr_auc = metrics::average_precision(&scored);
    artifact.metrics.at_thresholds = cfg
        .thresholds
        .iter()
        .map(|&t| metrics::at_threshold(&scored, t))
        .collect();
    artifact.metrics.calibration = metrics::calibration(&scored);
    Ok(artifact)
}

/// The first index of the held-out part: the newest `fraction` of the examples, moved back
/// so that examples sharing the boundary timestamp all land in the held-out part (training
/// sees only strictly older decisions).
fn split_index(sorted: &[Example], fraction: f64) -> usize {
    let n = sorted.len();
    // Rounding a share of a count to a count; `n` is far below 2^52.
    let test = ((n as f64 * fraction).ceil() as usize).clamp(1, n.saturating_sub(1).max(1));
    let mut split = n - test;
    while split > 0 && sorted[split - 1].at == sorted[split].at {
        split -= 1;
    }
    split
}

/// Per-feature mean and (population) standard deviation; constant features get 1.
fn standardisation(rows: &[Example]) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len().max(1) as f64;
    let mut means = vec![0.0; FEATURE_COUNT];
    for r in rows {
        for (m, x) in means.iter_mut().zip(&r.features) {
            *m += x / n;
        }
    }
    let mut stds = vec![0.0; FEATURE_COUNT];
    for r in rows {
        for ((s, x), m) in stds.iter_mut().zip(&r.features).zip(&means) {
            *s += (x - m) * (x - m) / n;
        }
    }
    for s in &mut stds {
        *s = s.sqrt();
        if s.is_nan() || *s < MIN_STD {
            *s = 1.0;
        }
    }
    (means, stds)
}

/// Fits on the training part, balanced by replicating the minority class, and returns
/// `(coefficients, fitted intercept, prior correction)`.
fn fit(rows: &[Example], means: &[f64], stds: &[f64]) -> Result<(Vec<f64>, f64, f64), ModelError> {
    let (fraud, legit): (Vec<&Example>, Vec<&Example>) = rows.iter().partition(|e| e.fraud);
    let (minority, majority) = if fraud.len() < legit.len() {
        (&fraud, &legit)
    } else {
        (&legit, &fraud)
    };
    // Every minority row `majority / minority` times, plus one more copy of the first
    // `majority % minority`: both classes then weigh the same in the loss, deterministically.
    let copies = majority.len() / minority.len().max(1);
    let extra = majority.len() % minority.len().max(1);
    let balanced: Vec<&Example> = majority
        .iter()
        .copied()
        .chain(
            minority
                .iter()
                .enumerate()
                .flat_map(|(i, e)| std::iter::repeat_n(*e, copies + usize::from(i < extra))),
        )
        .collect();

    let mut x = Array2::<f64>::zeros((balanced.len(), FEATURE_COUNT));
    for (mut row, e) in x.rows_mut().into_iter().zip(&balanced) {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (e.features[j] - means[j]) / stds[j];
        }
    }
    let y: Array1<bool> = balanced.iter().map(|e| e.fraud).collect();
    let dataset = Dataset::new(x, y);
    let model = LogisticRegression::default()
        .alpha(L2_ALPHA)
        .max_iterations(MAX_ITERATIONS)
        .gradient_tolerance(GRADIENT_TOLERANCE)
        .with_intercept(true)
        .fit(&dataset)
        .map_err(|e| ModelError::Training(e.to_string()))?;
    // linfa-logistic 0.8 makes the *more frequent* class its positive label (the first seen on
    // a tie, which a balanced set always is), not `true`: orient the model towards fraud.
    let sign = if model.labels().pos.class { 1.0 } else { -1.0 };
    let coefficients: Vec<f64> = model.params().iter().map(|w| sign * w).collect();
    let intercept = sign * model.intercept();
    if !intercept.is_finite() || coefficients.iter().any(|w| !w.is_finite()) {
        return Err(ModelError::Training(
            "the solver produced non-finite coefficients".into(),
        ));
    }
    // Undo the balancing: the fit saw fraud at odds balanced_fraud / balanced_legit, the
    // world at fraud / legit; the difference in log-odds moves to the intercept.
    let balanced_fraud = balanced.iter().filter(|e| e.fraud).count() as f64;
    let balanced_legit = balanced.len() as f64 - balanced_fraud;
    let prior_correction =
        (fraud.len() as f64 / legit.len() as f64).ln() - (balanced_fraud / balanced_legit).ln();
    Ok((coefficients, intercept, prior_correction))
}

#[cfg(test)]
mod tests;
