//! Why the model scored a decision as it did: each feature's contribution to the log-odds,
//! `coefficient × standardised value` = `coefficients[i] * (x[i] - means[i]) / stds[i]`, the
//! terms the sigmoid's argument is the sum of (with the intercept). A positive contribution
//! pushed towards fraud, a negative one away from it; a feature at its training mean
//! contributes nothing. Reviewers read the largest ones; nothing here runs on the decision
//! path.

use serde::Serialize;

use arbiter_engine::context::EnrichedContext;

use crate::features::{FEATURE_NAMES, FeatureVector, extract};
use crate::scorer::{Scorer, bounded};

/// A contribution smaller than this (in log-odds) is no contribution.
const NEGLIGIBLE: f64 = 1e-9;

/// One feature's part in a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Contribution {
    /// The feature's documented name (`models/README.md`).
    pub feature: &'static str,
    /// The feature's value for this decision, as the model saw it.
    pub value: f64,
    /// Its contribution to the log-odds of fraud.
    pub contribution: f64,
}

impl Scorer {
    /// The `top` largest contributions (by magnitude, largest first) of `features`.
    pub fn contributions(&self, features: &FeatureVector, top: usize) -> Vec<Contribution> {
        let mut all: Vec<Contribution> = features
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let value = bounded(*x);
                Contribution {
                    feature: FEATURE_NAMES[i],
                    value,
                    contribution: self.weights()[i] * value - self.offsets[i],
                }
            })
            // A feature at its mean leaves only float noise (1e-30) after the subtraction.
            .filter(|c| c.contribution.abs() > NEGLIGIBLE && c.contribution.is_finite())
            .collect();
        all.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        all.truncate(top);
        all
    }

    /// [`Self::contributions`] of a decision's enriched context.
    pub fn explain(&self, ctx: &EnrichedContext, top: usize) -> Vec<Contribution> {
        self.contributions(&extract(ctx), top)
    }
}

#[cfg(test)]
mod tests;
