//! `/v1/reviews`: the queue of challenged decisions and resolving them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_engine::feedback::{Review, ReviewPageItem};
use arbiter_engine::keys::Scope;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::decisions::ReasonView;
use crate::http::names;
use crate::http::params::{Path, Query, page_size};
use crate::http::problem::ApiError;
use crate::services::feedback::ResolveRequest;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open` (default) or `resolved`; `all` lists both.
    #[param(schema_with = names::review_status_or_all)]
    pub status: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResolutionView {
    pub outcome: String,
    pub label: String,
    pub reviewer: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    pub review_id: String,
    pub decision_id: String,
    /// `open` or `resolved`.
    pub status: String,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<ResolutionView>,
    /// Key id of the caller that resolved it.
    pub resolved_by: Option<String>,
}

impl From<Review> for ReviewView {
    fn from(r: Review) -> Self {
        ReviewView {
            review_id: r.review_id,
            decision_id: r.decision_id,
            status: r.status.as_str().to_owned(),
            opened_at: r.opened_at,
            resolved_at: r.resolved_at,
            resolution: r.resolution.map(|x| ResolutionView {
                outcome: x.outcome.as_str().to_owned(),
                label: x.label.as_str().to_owned(),
                reviewer: x.reviewer,
                note: x.note,
            }),
            resolved_by: r.resolved_by,
        }
    }
}

/// What a reviewer needs to judge the case without opening the decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewedDecision {
    pub decision_id: String,
    pub event: String,
    pub action: String,
    pub score: f64,
    pub reasons: Vec<ReasonView>,
    pub user_id: String,
    /// `{"value", "currency"}` when the request carried an amount, else `null`.
    #[schema(value_type = Option<Object>)]
    pub amount: Option<serde_json::Value>,
    pub policy_set_version: i64,
    pub model_version: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QueueItem {
    #[serde(flatten)]
    pub review: ReviewView,
    pub decision: ReviewedDecision,
    /// The link-graph features and reasons at decision time (group size, shared devices,
    /// cards, hops to fraud); `null` when lists decided before the graph ran.
    #[schema(value_type = Option<Object>)]
    pub graph: Option<serde_json::Value>,
}

impl From<ReviewPageItem> for QueueItem {
    fn from(item: ReviewPageItem) -> Self {
        let d = item.decision;
        let graph = d
            .layers
            .graph
            .as_ref()
            .and_then(|g| serde_json::to_value(g).ok());
        QueueItem {
            review: item.review.into(),
            decision: ReviewedDecision {
                decision_id: d.decision_id.0,
                event: d.context.checkpoint.as_str().to_owned(),
                action: d.action.as_str().to_owned(),
                score: d.score,
                reasons: d.reasons.iter().map(ReasonView::from).collect(),
                user_id: d.context.user_id,
                amount: d
                    .context
                    .amount
                    .map(|a| serde_json::json!({"value": a.value, "currency": a.currency})),
                policy_set_version: d.policy_set_version,
                model_version: d.model_version,
                created_at: d.created_at,
            },
            graph,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// The review queue, oldest first. Open reviews need the route's scopes; resolved ones (or
/// `all`) need `admin` too.
#[utoipa::path(get, path = "/v1/reviews", operation_id = "review_queue", tag = "reviews", params(QueueQuery),
    responses((status = 200, body = QueuePage),
        (status = 400, description = "Invalid parameter (`invalid_query`)")))]
pub async fn queue(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> Result<Json<QueuePage>, ApiError> {
    let status = q.status.as_deref().unwrap_or("open");
    if status != "open" {
        caller.require(Scope::Admin)?;
    }
    let status = (status != "all").then_some(status);
    let limit = page_size("limit", q.limit, 50, 1..=200)?;
    let page = app
        .reviews
        .queue(status, q.after.as_deref(), limit)
        .await
        .map_err(ApiError::from_query)?;
    Ok(Json(QueuePage {
        items: page.items.into_iter().map(QueueItem::from).collect(),
        next: page.next,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    #[schema(schema_with = names::review_outcome)]
    pub outcome: String,
    #[schema(schema_with = names::reviewer_label)]
    pub label: String,
    /// Who resolved it, as the team knows them (1 to 200 characters, not blank).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub reviewer: String,
    pub note: Option<String>,
}

/// Resolve a review once; it records the label. Repeating the identical resolution answers
/// 200 with the stored review; a different one is 409.
#[utoipa::path(post, path = "/v1/reviews/{review_id}/resolve", operation_id = "resolve_review", tag = "reviews",
    params(("review_id" = String, Path, description = "A review's id, as the queue lists it")),
    request_body = ResolveBody,
    responses((status = 200, body = ReviewView), (status = 404, description = "No such review"),
        (status = 409, description = "Already resolved differently"),
        (status = 422, description = "Invalid field, or the note or reviewer over its length (`too_long`)")))]
pub async fn resolve(
    State(app): State<AppState>,
    caller: Caller,
    Path(review_id): Path<String>,
    JsonBody(body): JsonBody<ResolveBody>,
) -> Result<(StatusCode, Json<ReviewView>), ApiError> {
    let (review, _changed) = app
        .reviews
        .resolve(
            &review_id,
            ResolveRequest {
                outcome: body.outcome,
                label: body.label,
                reviewer: body.reviewer,
                note: body.note,
            },
            &caller.actor(),
        )
        .await?;
    Ok((StatusCode::OK, Json(review.into())))
}
