//! The feedback loop: the review queue of challenged decisions, labels (from reviewers,
//! chargeback files, customers and analysts), model training jobs, model activation
//! (champion and shadow challenger) and the outcome report. Fraud labels mark the link graph
//! at once; trained models are swapped into the pipeline without a restart.

mod chargebacks;
mod error;
pub mod job_liveness;
mod labels;
mod limits;
mod model_explain;
mod models;
mod reports;
mod review_claims;
mod reviews;

pub use chargebacks::{ImportReport, RejectedRow};
pub use error::FeedbackError;
pub use labels::{LabelService, LabelTarget, NewLabelRequest};
pub use limits::{MAX_NOTE_CHARS, MAX_REF_CHARS, MAX_REVIEWER_CHARS};
pub use model_explain::{ModelExplanation, TOP_CONTRIBUTIONS};
pub use models::{ModelService, ModelsView, load_scorer};
pub use reports::ReportService;
pub use reviews::{QueueRequest, ResolveRequest, ReviewPage, ReviewService};
