//! `POST /v1/orders/{id}/fulfilment`: the merchant moves a paid order one step through
//! `FULFILLING → FULFILLED → DONE` as it ships and arrives; `FULFILLED` recognises the revenue.
//! Scope `admin`: the back office, not checkout callers.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_transactions::ids::OrderId;
use arbiter_transactions::status::OrderStatus;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::orders::OrderResponse;
use crate::http::params::Path;
use crate::http::problem::ApiError;

/// The fulfilment statuses a request may name (the body names exactly one).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FulfilmentStatus {
    Fulfilling,
    Fulfilled,
    Done,
}

impl From<FulfilmentStatus> for OrderStatus {
    fn from(s: FulfilmentStatus) -> OrderStatus {
        match s {
            FulfilmentStatus::Fulfilling => OrderStatus::Fulfilling,
            FulfilmentStatus::Fulfilled => OrderStatus::Fulfilled,
            FulfilmentStatus::Done => OrderStatus::Done,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "FULFILLED"}))]
pub struct FulfilmentRequest {
    /// The status to move to: the next step from where the order is, or the one it is in.
    pub status: FulfilmentStatus,
}

/// Move a paid order one step through fulfilment: `PAID → FULFILLING → FULFILLED → DONE`.
/// `FULFILLED` posts the revenue journal (Dr `customer_funds`, Cr `revenue`: the captured
/// amount less succeeded refunds). Asking for the status the order is already in changes
/// nothing and answers the order again.
#[utoipa::path(post, path = "/v1/orders/{id}/fulfilment", tag = "orders",
    request_body = FulfilmentRequest,
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The order with its history (also for a repeated step)", body = OrderResponse),
        (status = 403, description = "Key lacks the `admin` scope"),
        (status = 404, description = "No such order"),
        (status = 409, description = "Not the next step from the order's status (`illegal_transition`, `status_changed`), or `refund_in_flight` (`FULFILLED` waits for refunds at the channel), or `refunds_changed` (refunds kept arriving while `FULFILLED` was decided; retry)"),
        (status = 422, description = "Invalid `status`"),
    ))]
pub async fn fulfil_order(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FulfilmentRequest>,
) -> Result<Json<OrderResponse>, ApiError> {
    let view = app
        .transactions
        .orders
        .fulfil(&OrderId(id), body.status.into())
        .await?;
    Ok(Json(OrderResponse::from(&view)))
}
