//! The feedback loop's domain: reviews of challenged decisions, labels from reviewers and
//! channels, training jobs and model versions, and the outcome report. The store traits for
//! these tables live here too; `arbiter-storage` implements them, the host drives them.

pub mod label;
pub mod model_registry;
pub mod report;
pub mod review;
pub mod store;

pub use label::{Label, LabelKind, LabelSource, NewLabel};
pub use model_registry::{JobStatus, ModelSlot, ModelVersion, TrainingJob};
pub use report::{LabelledOutcome, OutcomeCounts, OutcomeReport, ReportWindow};
pub use review::{
    Claim, Escalation, Resolution, Review, ReviewFilter, ReviewOutcome, ReviewStatus,
    reason_code_pattern, reason_codes_column,
};
pub use store::{
    ClaimResult, ClaimTarget, CorrectResult, FeedbackStore, LabelInsert, LabelStore, LatestLabel,
    ModelStore, OpenReviews, ReportStore, ResolveResult, ReviewClaimStore, ReviewCursor,
    ReviewPageItem, ReviewStore,
};
