//! What can go wrong in the feedback loop, before the HTTP edge maps it.

use arbiter_engine::store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum FeedbackError {
    #[error("field `{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error("field `{field}` is longer than {max} characters")]
    TooLong { field: String, max: usize },
    #[error("{what} `{id}` not found")]
    NotFound { what: &'static str, id: String },
    /// A review resolved before with a different resolution, held by another reviewer, or
    /// already labelled otherwise.
    #[error("{0}")]
    Conflict(String),
    /// The caller may do this only with a scope it lacks (correcting another reviewer's
    /// resolution takes `admin`).
    #[error("this API key lacks the `{}` scope", .0.as_str())]
    NeedsScope(arbiter_engine::keys::Scope),
    #[error(
        "not enough labelled decisions to train: have {fraud} fraud and {legit} legit, need at \
         least {need_per_class} of each in both the older (training) and newer (evaluation) part"
    )]
    TooFewLabels {
        fraud: usize,
        legit: usize,
        need_per_class: usize,
    },
    #[error("model: {0}")]
    Model(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(super) fn invalid(field: &str, message: impl Into<String>) -> FeedbackError {
    FeedbackError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}
