//! The risk model: the feature vector drawn from a decision's enriched context
//! ([`features`]), training a logistic regression with linfa on labelled decisions
//! ([`train`]), evaluation metrics ([`metrics`]), the model artifact ([`artifact`]) and the
//! scorer that implements the engine's model layer ([`scorer`]), and why it scored a decision
//! as it did ([`explain`]).
//!
//! A pure library: it must not know about HTTP, SQL or a runtime. The host stores labels and
//! artifacts, runs training jobs and hot-swaps scorers; this crate only computes.

#![forbid(unsafe_code)]

pub mod artifact;
pub mod error;
pub mod explain;
pub mod features;
pub mod metrics;
pub mod scorer;
pub mod train;

/// Labels are the engine's feedback type, so host, storage and model agree on one enum.
pub use arbiter_engine::feedback::LabelKind;
pub use artifact::{ARTIFACT_FORMAT, LOGISTIC_REGRESSION, ModelArtifact};
pub use error::ModelError;
pub use explain::Contribution;
pub use features::{FEATURE_COUNT, FEATURE_NAMES, FeatureVector, extract, feature_index};
pub use metrics::{CalibrationBin, Metrics, ThresholdMetrics};
pub use scorer::Scorer;
pub use train::{Example, TrainConfig, check_enough, train};
