//! `/v1/orders`: create (priced from the catalogue, stock reserved, risk asked at
//! `order.create`), read with history, cancel while unpaid. Scope `decide`: checkout callers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_transactions::ids::OrderId;
use arbiter_transactions::order::{Order, OrderRequest};
use arbiter_transactions::orders::OrderView;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::http::transaction_views::{HistoryView, MoneyView, RiskView, history};

/// The documented request shape; the body is read straight into the domain's `OrderRequest`
/// (unknown fields, such as a client-sent price, are refused).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"items": [{"sku": "MUG-1", "qty": 2}], "user": "u-1",
    "device": "dev-9", "ip": "203.0.113.7",
    "shipping": {"address": "1 Main St, Springfield", "country": "US"},
    "payment_method": "card"}))]
#[serde(deny_unknown_fields)]
pub struct OrderRequestDoc {
    /// At least one line; lines of one SKU are merged.
    #[schema(min_items = 1)]
    pub items: Vec<LineDoc>,
    #[schema(pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub user: String,
    pub device: Option<String>,
    /// Passed to the risk host; must be an IP address.
    pub ip: Option<String>,
    pub shipping: Option<ShippingView>,
    /// A hint for the risk host (`card`, …).
    pub payment_method: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LineDoc {
    #[schema(min_length = 1, max_length = 64)]
    pub sku: String,
    #[schema(value_type = i64, minimum = 1, maximum = 4294967295_i64)]
    pub qty: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ShippingView {
    pub address: String,
    pub country: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderItemView {
    pub sku: String,
    pub qty: u32,
    /// The catalogue price when the order was created.
    pub unit_price: MoneyView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderResponse {
    pub id: String,
    /// `CREATING`, `PENDING_PAYMENT`, `PAID`, `FULFILLING`, `FULFILLED`, `DONE`, `REJECTED`,
    /// `CANCELLED` or `CANCELLED_AFTER_PAY`.
    pub status: String,
    pub user: String,
    pub items: Vec<OrderItemView>,
    pub total: MoneyView,
    /// The risk host answered `challenge`: step the customer up before paying.
    pub challenge_required: bool,
    /// The `order.create` decision.
    pub risk: Option<RiskView>,
    /// When an unpaid order is cancelled and its stock released.
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every status change, oldest first (on reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
}

impl From<&Order> for OrderResponse {
    fn from(o: &Order) -> OrderResponse {
        OrderResponse {
            id: o.id.0.clone(),
            status: o.status.to_string(),
            user: o.request.user.clone(),
            items: o
                .items
                .iter()
                .map(|i| OrderItemView {
                    sku: i.sku.0.clone(),
                    qty: i.quantity,
                    unit_price: MoneyView::from(&i.unit_price),
                })
                .collect(),
            total: MoneyView::from(&o.total),
            challenge_required: o.challenge_required,
            risk: o.risk.as_ref().map(RiskView::from),
            expires_at: o.expires_at,
            created_at: o.created_at,
            updated_at: o.updated_at,
            history: None,
        }
    }
}

impl From<&OrderView> for OrderResponse {
    fn from(v: &OrderView) -> OrderResponse {
        OrderResponse {
            history: Some(history(&v.history)),
            ..OrderResponse::from(&v.order)
        }
    }
}

/// Create an order: priced from the catalogue, stock reserved with a TTL, the risk host asked
/// (`order.create`). Ends `PENDING_PAYMENT` (`challenge_required` on a challenge) or
/// `REJECTED` with the stock released. The same `Idempotency-Key` and body return the same order.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", request_body = OrderRequestDoc,
    params(("Idempotency-Key" = String, Header, min_length = 1, max_length = 255, description = "Required; 1 to 255 characters")),
    responses(
        (status = 201, description = "The order (also for a repeated key and body)", body = OrderResponse),
        (status = 400, description = "`Idempotency-Key` longer than 255 characters (`invalid_header`) or a raw card number (`raw_card_number`); invalid JSON"),
        (status = 403, description = "Key lacks the `decide` scope"),
        (status = 404, description = "An item names no SKU"),
        (status = 409, description = "`out_of_stock`, or `idempotency_conflict` (key reused with another body)"),
        (status = 422, description = "Invalid field, or no `Idempotency-Key` (`missing_idempotency_key`)"),
    ))]
pub async fn create_order(
    State(app): State<AppState>,
    _: Caller,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(body): JsonBody<OrderRequest>,
) -> Result<(StatusCode, Json<OrderResponse>), ApiError> {
    let order = app.transactions.orders.create(key, body).await?;
    Ok((StatusCode::CREATED, Json(OrderResponse::from(&order))))
}

/// An order with its status history and risk answer.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path)),
    responses((status = 200, body = OrderResponse), (status = 404, description = "No such order")))]
pub async fn get_order(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderResponse>, ApiError> {
    let view = app.transactions.orders.get(&OrderId(id)).await?;
    Ok(Json(OrderResponse::from(&view)))
}

/// Cancel an unpaid order; its stock is released.
#[utoipa::path(post, path = "/v1/orders/{id}/cancel", tag = "orders",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, description = "No such order"),
        (status = 409, description = "Not cancellable from its status (`illegal_transition`, `status_changed`)"),
    ))]
pub async fn cancel_order(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderResponse>, ApiError> {
    let order = app.transactions.orders.cancel(&OrderId(id)).await?;
    Ok(Json(OrderResponse::from(&order)))
}
