//! The one error type of the model crate. Owns the failure modes of training, artifact
//! loading and label parsing; it must not know how the host renders them (status codes are
//! chosen in the host's problem+json file).

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    /// Not enough labelled examples of one class. Returned by [`crate::check_enough`] on the
    /// totals and by [`crate::train`] when one part of the time split (training or held-out)
    /// holds no example of a class; then the counts are that part's and `need_per_class` is 1.
    #[error(
        "too few labels to train: {fraud} fraud and {legit} legit, need at least {need_per_class} of each class"
    )]
    TooFewLabels {
        fraud: usize,
        legit: usize,
        need_per_class: usize,
    },
    /// The artifact was trained on another feature list than this build extracts.
    #[error("model artifact does not match this build's features: {detail}")]
    FeatureMismatch {
        /// How many features the artifact names.
        artifact: usize,
        /// How many features this build extracts ([`crate::FEATURE_COUNT`]).
        expected: usize,
        /// The first difference, e.g. ``position 3: artifact has `a`, this build has `b` ``.
        detail: String,
    },
    /// The learner failed (e.g. the solver did not produce finite coefficients).
    #[error("while training the model: {0}")]
    Training(String),
    /// The artifact is malformed (bad JSON, wrong lengths, non-finite numbers).
    #[error("invalid model artifact: {0}")]
    Artifact(String),
    /// A [`crate::TrainConfig`] value is out of range.
    #[error("invalid training configuration: {0}")]
    Config(String),
}
