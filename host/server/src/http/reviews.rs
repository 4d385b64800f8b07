//! `/v1/reviews`: the queue of challenged decisions, one case, and claiming the next one.
//! What a reviewer does with a case is in `review_actions.rs`; what both answer, in
//! `review_views.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use arbiter_engine::feedback::ReviewPageItem;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::names;
use crate::http::params::{Path, Query, page_size};
use crate::http::problem::ApiError;
use crate::http::review_views::{QueueItem, QueuePage};
use crate::services::feedback::QueueRequest;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open` (default) or `resolved`; `all` lists both. Resolved reviews are an admin's to
    /// list, or a reviewer's own (the ones its key resolved).
    #[param(schema_with = names::review_status_or_all)]
    pub status: Option<String>,
    /// Only decisions made at this checkpoint.
    #[param(schema_with = names::checkpoint)]
    pub checkpoint: Option<String>,
    /// Only decisions that gave this reason code, in any layer (`geo.mismatch`).
    #[param(min_length = 1, max_length = 100, pattern = r"^[A-Za-z0-9._:-]+$")]
    pub reason: Option<String>,
    /// Only escalated (`true`) or only not escalated (`false`) reviews.
    pub escalated: Option<bool>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The review queue, oldest first, with the count the filters admit and each case's age
/// against the SLA.
#[utoipa::path(get, path = "/v1/reviews", operation_id = "review_queue", tag = "reviews", params(QueueQuery),
    responses((status = 200, body = QueuePage),
        (status = 400, description = "Invalid parameter (`invalid_query`)"),
        (status = 422, description = "Invalid filter")))]
pub async fn queue(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> Result<Json<QueuePage>, ApiError> {
    let limit = page_size("limit", q.limit, 50, 1..=200)?;
    let request = QueueRequest {
        status: q.status.as_deref(),
        checkpoint: q.checkpoint.as_deref(),
        reason: q.reason.as_deref(),
        escalated: q.escalated,
        after: q.after.as_deref(),
        limit,
    };
    let page = app
        .reviews
        .queue(request, &caller.0)
        .await
        .map_err(ApiError::from_query)?;
    let (now, sla) = (Utc::now(), app.reviews.sla());
    Ok(Json(QueuePage {
        items: page
            .items
            .into_iter()
            .map(|i| QueueItem::new(i, now, sla))
            .collect(),
        next: page.next,
        total: page.total,
        sla_secs: sla.num_seconds(),
    }))
}

/// One case: the review with its decision, latest label and claim.
#[utoipa::path(get, path = "/v1/reviews/{review_id}", operation_id = "get_review", tag = "reviews",
    params(("review_id" = String, Path, description = "A review's id, as the queue lists it")),
    responses((status = 200, body = QueueItem), (status = 404, description = "No such review")))]
pub async fn case(
    State(app): State<AppState>,
    _: Caller,
    Path(review_id): Path<String>,
) -> Result<Json<QueueItem>, ApiError> {
    let item = app.reviews.case(&review_id).await?;
    Ok(Json(case_view(&app, item).await?))
}

/// Which cases "next" may hand out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimNextBody {
    #[schema(schema_with = names::checkpoint_or_null)]
    pub checkpoint: Option<String>,
    #[schema(min_length = 1, max_length = 100, pattern = r"^[A-Za-z0-9._:-]+$")]
    pub reason: Option<String>,
    pub escalated: Option<bool>,
}

/// Takes the oldest open case no other reviewer holds and holds it for the lease (a case this
/// key already holds comes first, its lease renewed). 204 when nothing is waiting.
#[utoipa::path(post, path = "/v1/reviews/claim", operation_id = "claim_next_review", tag = "reviews",
    request_body = ClaimNextBody,
    responses((status = 200, body = QueueItem), (status = 204, description = "Nothing is waiting"),
        (status = 422, description = "Invalid filter")))]
pub async fn claim_next(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ClaimNextBody>,
) -> Result<Response, ApiError> {
    let request = QueueRequest {
        checkpoint: body.checkpoint.as_deref(),
        reason: body.reason.as_deref(),
        escalated: body.escalated,
        ..QueueRequest::default()
    };
    Ok(match app.reviews.claim_next(request, &caller.0).await? {
        Some(item) => Json(case_view(&app, item).await?).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// A case as the routes that hand out one answer it: with the model's explanation and the
/// customer's usual behaviour.
pub(crate) async fn case_view(app: &AppState, item: ReviewPageItem) -> Result<QueueItem, ApiError> {
    let explanation = app.models.explain(&item.decision).await?;
    let usual = app.history.usual(&item.decision).await?;
    Ok(QueueItem::case(
        item,
        explanation.as_ref(),
        usual,
        Utc::now(),
        app.reviews.sla(),
    ))
}
