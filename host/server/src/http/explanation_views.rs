//! How a decision's score reads to a person: each layer's share of the score and, when a model
//! scored it, the features that moved the model most. The decision detail and a review case
//! both answer with it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::decision::ScoreParts;

use crate::http::decisions::ReasonView;
use crate::services::feedback::ModelExplanation;

/// What each layer added to the score, in risk points (their sum is the score).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScorePartsView {
    /// Watch-list hits.
    pub lists: f64,
    /// The rule modules.
    pub rules: f64,
    /// The link graph.
    pub graph: f64,
    /// The model.
    pub model: f64,
}

impl From<ScoreParts> for ScorePartsView {
    fn from(p: ScoreParts) -> Self {
        ScorePartsView {
            lists: p.lists,
            rules: p.rules,
            graph: p.graph,
            model: p.model,
        }
    }
}

/// One feature's part in the model's score.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContributionView {
    /// The feature's name, as `models/README.md` documents it.
    pub feature: String,
    /// Its value for this decision.
    pub value: f64,
    /// Coefficient × standardised value: its push on the log-odds of fraud (positive
    /// towards fraud).
    pub contribution: f64,
}

/// Why the model scored the decision as it did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModelExplanationView {
    pub version: i64,
    /// The fraud probability it gave.
    pub probability: f64,
    /// The five largest contributions, largest magnitude first.
    pub contributions: Vec<ContributionView>,
}

impl From<&ModelExplanation> for ModelExplanationView {
    fn from(e: &ModelExplanation) -> Self {
        ModelExplanationView {
            version: e.version,
            probability: e.probability,
            contributions: e
                .contributions
                .iter()
                .map(|c| ContributionView {
                    feature: c.feature.to_owned(),
                    value: c.value,
                    contribution: c.contribution,
                })
                .collect(),
        }
    }
}

/// The explanation as reasons of the `model` layer, one per contribution
/// (`model.<feature>`), for callers that read reasons only.
pub fn model_reasons(e: &ModelExplanation) -> Vec<ReasonView> {
    e.contributions
        .iter()
        .map(|c| ReasonView {
            layer: "model".into(),
            code: format!("model.{}", c.feature),
            source: format!("model@{}", e.version),
            detail: Some(format!(
                "{:+.2} log-odds (value {:.3})",
                c.contribution, c.value
            )),
        })
        .collect()
}
