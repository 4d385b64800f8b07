//! What a reviewer does with a case: claim it, give it back, escalate it, resolve it, and
//! correct a resolution made by mistake. Each names the review in its path; the reviewer is
//! always the calling key.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::names;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::http::review_views::{QueueItem, ReviewView};
use crate::http::reviews::case_view;
use crate::services::feedback::ResolveRequest;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// `approve` goes with the label `legit`; `reject` with `fraud` or `account_takeover`.
    #[schema(schema_with = names::review_outcome)]
    pub outcome: String,
    #[schema(schema_with = names::reviewer_label)]
    pub label: String,
    /// The resolution is recorded under the calling key's name; if sent, this must be it.
    #[schema(min_length = 1, max_length = 200)]
    pub reviewer: Option<String>,
    pub note: Option<String>,
    /// Resolve even though the decision's latest label (an analyst's, a chargeback) says the
    /// opposite.
    #[serde(default)]
    pub supersede: bool,
}

impl From<ResolveBody> for ResolveRequest {
    fn from(b: ResolveBody) -> Self {
        ResolveRequest {
            outcome: b.outcome,
            label: b.label,
            reviewer: b.reviewer,
            note: b.note,
            supersede: b.supersede,
        }
    }
}

/// Resolve a review once; it records the label. Repeating the identical resolution answers
/// 200 with the stored review; a different one is 409 (correct it instead), as is a case
/// another reviewer holds or a label contradicting the decision's latest one.
#[utoipa::path(post, path = "/v1/reviews/{review_id}/resolve", operation_id = "resolve_review", tag = "reviews",
    params(("review_id" = String, Path, description = "A review's id, as the queue lists it")),
    request_body = ResolveBody,
    responses((status = 200, body = ReviewView), (status = 404, description = "No such review"),
        (status = 409, description = "Resolved differently, claimed by another reviewer, or labelled otherwise"),
        (status = 422, description = "Invalid field, an outcome and a label that disagree, or the note over its length (`too_long`)")))]
pub async fn resolve(
    State(app): State<AppState>,
    caller: Caller,
    Path(review_id): Path<String>,
    JsonBody(body): JsonBody<ResolveBody>,
) -> Result<(StatusCode, Json<ReviewView>), ApiError> {
    let (review, _changed) = app
        .reviews
        .resolve(&review_id, body.into(), &caller.actor())
        .await?;
    Ok((StatusCode::OK, Json(ReviewView::new(review, Utc::now()))))
}

/// Replace a resolution made by mistake: the key that resolved the review may, or an admin.
/// The new label supersedes the old one; the audit log keeps both.
#[utoipa::path(post, path = "/v1/reviews/{review_id}/correct", operation_id = "correct_review", tag = "reviews",
    params(("review_id" = String, Path, description = "A resolved review's id")),
    request_body = ResolveBody,
    responses((status = 200, body = ReviewView), (status = 404, description = "No such review"),
        (status = 409, description = "The review is still open, or changed meanwhile"),
        (status = 422, description = "Invalid field, or an outcome and a label that disagree")))]
pub async fn correct(
    State(app): State<AppState>,
    caller: Caller,
    Path(review_id): Path<String>,
    JsonBody(body): JsonBody<ResolveBody>,
) -> Result<Json<ReviewView>, ApiError> {
    let review = app
        .reviews
        .correct(&review_id, body.into(), &caller.0)
        .await?;
    Ok(Json(ReviewView::new(review, Utc::now())))
}

/// Take this case and hold it for the lease (renewed when this key holds it already).
#[utoipa::path(post, path = "/v1/reviews/{review_id}/claim", operation_id = "claim_review", tag = "reviews",
    params(("review_id" = String, Path, description = "An open review's id")),
    responses((status = 200, body = QueueItem), (status = 404, description = "No such review"),
        (status = 409, description = "Resolved, or held by another reviewer")))]
pub async fn claim(
    State(app): State<AppState>,
    caller: Caller,
    Path(review_id): Path<String>,
) -> Result<Json<QueueItem>, ApiError> {
    let item = app.reviews.claim_review(&review_id, &caller.0).await?;
    Ok(Json(case_view(&app, item).await?))
}

/// Give a held case back to the queue before the lease ends.
#[utoipa::path(post, path = "/v1/reviews/{review_id}/release", operation_id = "release_review", tag = "reviews",
    params(("review_id" = String, Path, description = "A review this key holds")),
    responses((status = 204, description = "Released"), (status = 404, description = "No such review"),
        (status = 409, description = "This key holds no claim on it")))]
pub async fn release(
    State(app): State<AppState>,
    caller: Caller,
    Path(review_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.reviews.release(&review_id, &caller.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    /// Why, for the senior reviewer (up to 2,000 characters).
    pub note: Option<String>,
}

/// Pass an open case to a senior reviewer: it stays open, flagged as escalated (the queue's
/// `escalated` filter), and no longer held by anyone.
#[utoipa::path(post, path = "/v1/reviews/{review_id}/escalate", operation_id = "escalate_review", tag = "reviews",
    params(("review_id" = String, Path, description = "An open review's id")),
    request_body = EscalateBody,
    responses((status = 200, body = ReviewView), (status = 404, description = "No such review"),
        (status = 409, description = "Resolved, or held by another reviewer"),
        (status = 422, description = "The note over its length (`too_long`)")))]
pub async fn escalate(
    State(app): State<AppState>,
    caller: Caller,
    Path(review_id): Path<String>,
    JsonBody(body): JsonBody<EscalateBody>,
) -> Result<Json<ReviewView>, ApiError> {
    let review = app
        .reviews
        .escalate(&review_id, body.note, &caller.0)
        .await?;
    Ok(Json(ReviewView::new(review, Utc::now())))
}
