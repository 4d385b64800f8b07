//! The storage contract of the feedback loop, implemented by `arbiter-storage` for SQLite and
//! PostgreSQL. Reviews are opened by the decision log's own insert (see `DecisionStore`), so a
//! challenged decision and its review are one write.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::audit::Actor;
use crate::decision::Decision;
use crate::feedback::label::{Label, LabelKind, LabelSource, NewLabel};
use crate::feedback::model_registry::{JobStatus, ModelSlot, ModelVersion, TrainingJob};
use crate::feedback::report::{LabelledOutcome, OutcomeCounts, ReportWindow};
use crate::feedback::review::{Resolution, Review, ReviewFilter};
use crate::store::StoreError;

/// Where the next page of the review queue starts (oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCursor {
    pub opened_at: DateTime<Utc>,
    pub review_id: String,
}

/// The review queue's backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenReviews {
    pub count: u64,
    pub oldest_opened_at: Option<DateTime<Utc>>,
}

/// The newest label a decision has, whoever gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestLabel {
    pub kind: LabelKind,
    pub source: LabelSource,
}

/// A review with the decision it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPageItem {
    pub review: Review,
    pub decision: Decision,
    /// So a case an analyst or a chargeback already labelled is seen as such.
    pub latest_label: Option<LatestLabel>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResolveResult {
    /// This call resolved it (and wrote its label).
    Resolved(Review),
    /// It was resolved before; nothing changed.
    AlreadyResolved(Review),
    /// Another key holds a live claim on it; nothing changed.
    ClaimedByOther(Review),
    NotFound,
}

/// Which open review a claim takes.
#[derive(Debug, Clone, Copy)]
pub enum ClaimTarget<'a> {
    /// The oldest open review the filter admits that no one else holds.
    Next(&'a ReviewFilter),
    /// This review, if it is open and no one else holds it.
    Review(&'a str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClaimResult {
    /// The claimer now holds it until the lease ends (a claim it already held is extended).
    Claimed(Box<ReviewPageItem>),
    /// `Next`: nothing is waiting. `Review`: no such review.
    Nothing,
    /// `Review`: resolved, or held by another key (the review says which).
    Unavailable(Box<Review>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CorrectResult {
    /// The resolution was replaced and a new label written.
    Corrected(Review),
    /// The review is open, or was resolved by another key than the one allowed to correct it.
    NotCorrectable(Review),
    NotFound,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LabelInsert {
    Created(Label),
    /// The `(source, external_id)` was imported before; this is the stored label.
    Duplicate(Label),
    /// No decision has that id (any more: retention may have taken it since it was read).
    NoDecision,
}

/// Everything the feedback loop stores; one implementation per backend and per part.
pub trait FeedbackStore:
    ReviewStore + ReviewClaimStore + LabelStore + ModelStore + ReportStore
{
}

impl<T: ReviewStore + ReviewClaimStore + LabelStore + ModelStore + ReportStore> FeedbackStore
    for T
{
}

#[async_trait]
pub trait ReviewStore: Send + Sync + 'static {
    /// The review queue, oldest first, narrowed by `filter`.
    async fn reviews_page(
        &self,
        filter: &ReviewFilter,
        after: Option<&ReviewCursor>,
        limit: u32,
    ) -> Result<Vec<ReviewPageItem>, StoreError>;
    /// How many reviews `filter` admits.
    async fn count_reviews(&self, filter: &ReviewFilter) -> Result<u64, StoreError>;
    async fn get_review(&self, review_id: &str) -> Result<Option<Review>, StoreError>;
    /// A review with its decision and latest label.
    async fn get_review_item(&self, review_id: &str) -> Result<Option<ReviewPageItem>, StoreError>;
    /// How many reviews are open, and when the oldest of them opened: the queue's backlog.
    async fn open_reviews(&self) -> Result<OpenReviews, StoreError>;
    /// Resolves an open review no other key holds at `at` and records its label (source
    /// `review`) in one transaction.
    async fn resolve_review(
        &self,
        review_id: &str,
        resolution: &Resolution,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<ResolveResult, StoreError>;
    /// Replaces the resolution of a review resolved by `resolved_by` (any key's, when `None`),
    /// writes the new label and a `review.correct` audit entry, in one transaction.
    async fn correct_review(
        &self,
        review_id: &str,
        resolution: &Resolution,
        resolved_by: Option<&str>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<CorrectResult, StoreError>;
}

/// Who works which open review: claims with a lease, and escalation.
#[async_trait]
pub trait ReviewClaimStore: Send + Sync + 'static {
    /// Gives `claimer` an open review until `until`: never one another key holds at `now`.
    async fn claim_review(
        &self,
        target: ClaimTarget<'_>,
        claimer: &Actor,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimResult, StoreError>;
    /// Ends `key_id`'s claim on an open review; `false` when it held none there.
    async fn release_review(&self, review_id: &str, key_id: &str) -> Result<bool, StoreError>;
    /// Flags an open review as escalated and ends any claim on it, with its audit entry;
    /// `None` when no open review has that id or another key holds it at `at`.
    async fn escalate_review(
        &self,
        review_id: &str,
        note: Option<&str>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Option<Review>, StoreError>;
}

#[async_trait]
pub trait LabelStore: Send + Sync + 'static {
    /// Stores `label` (its `created_by` is `actor`'s id) with its audit entry.
    async fn insert_label(
        &self,
        label: &NewLabel,
        actor: &Actor,
    ) -> Result<LabelInsert, StoreError>;
    /// Every label of a decision, oldest first.
    async fn labels_for_decision(&self, decision_id: &str) -> Result<Vec<Label>, StoreError>;
    /// Every labelled decision with its latest label, oldest decision first.
    async fn labelled_decisions(&self) -> Result<Vec<(Decision, LabelKind)>, StoreError>;
    /// Decisions created since `since` whose latest label is fraud-like, with that label
    /// (graph marks).
    async fn fraud_labelled_decisions(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(Decision, LabelKind)>, StoreError>;
}

#[async_trait]
pub trait ModelStore: Send + Sync + 'static {
    async fn insert_job(&self, job: &TrainingJob, actor: &Actor) -> Result<(), StoreError>;
    async fn finish_job(
        &self,
        job_id: &str,
        status: JobStatus,
        model_version: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), StoreError>;
    async fn get_job(&self, job_id: &str) -> Result<Option<TrainingJob>, StoreError>;
    /// Records that the process running `job_id` is alive at `at`.
    async fn heartbeat_job(&self, job_id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Marks failed, with `error`, every queued or running job whose last heartbeat (or
    /// creation, before its first) is older than `stale_before`: its process is gone. Returns
    /// their ids.
    async fn fail_abandoned_jobs(
        &self,
        stale_before: DateTime<Utc>,
        error: &str,
    ) -> Result<Vec<String>, StoreError>;
    async fn insert_model_version(
        &self,
        artifact: &serde_json::Value,
        job_id: Option<&str>,
        actor: &Actor,
    ) -> Result<ModelVersion, StoreError>;
    async fn get_model_version(&self, version: i64) -> Result<Option<ModelVersion>, StoreError>;
    async fn list_model_versions(&self) -> Result<Vec<ModelVersion>, StoreError>;
    async fn set_model_slot(
        &self,
        slot: ModelSlot,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<(), StoreError>;
    /// The (active, shadow) model versions.
    async fn model_slots(&self) -> Result<(Option<i64>, Option<i64>), StoreError>;
}

#[async_trait]
pub trait ReportStore: Send + Sync + 'static {
    async fn outcome_counts(&self, window: &ReportWindow) -> Result<OutcomeCounts, StoreError>;
    async fn labelled_outcomes(
        &self,
        window: &ReportWindow,
    ) -> Result<Vec<LabelledOutcome>, StoreError>;
    /// Seconds from open to resolve of the reviews resolved in the window.
    async fn review_turnarounds(&self, window: &ReportWindow) -> Result<Vec<f64>, StoreError>;
}
