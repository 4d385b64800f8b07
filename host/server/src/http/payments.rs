//! `POST /v1/orders/{id}/payments` (start paying through a channel, risk asked at
//! `payment.authorize`) and `GET /v1/payments/{id}`. Scope `decide`: checkout callers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_transactions::channels::ClientAction;
use arbiter_transactions::ids::{OrderId, PaymentId};
use arbiter_transactions::payment::Payment;
use arbiter_transactions::payments::{PaymentRequest, PaymentView};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::names;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::http::refunds::RefundResponse;
use crate::http::transaction_views::{HistoryView, MoneyView, RiskView, history};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channel": "card"}))]
pub struct StartPayment {
    /// `card` (Stripe-shaped), or `alipay` / `wechat` (CNY; the answer's `client_action` is
    /// the QR code the buyer scans). Switched off or not configured, the payment goes to the
    /// best other channel for its method; the payment's history says where and why.
    #[serde(default)]
    #[schema(schema_with = names::channel)]
    pub channel: Option<String>,
    /// `card` or `qr`: the eligible channel of highest priority that takes it. Name a channel,
    /// a method, or both.
    #[serde(default)]
    #[schema(schema_with = names::payment_method)]
    pub method: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentResponse {
    pub id: String,
    pub order_id: String,
    pub channel: String,
    /// The channel's id for this payment (Stripe's payment intent id): what the client pays
    /// against, and what the channel's webhooks name.
    pub channel_payment_id: String,
    /// `INIT`, `PROCESSING`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    /// The order's total: what the channel must capture, exactly.
    pub amount: MoneyView,
    /// The `payment.authorize` decision.
    pub risk: Option<RiskView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the paying client needs from the channel: `qr_code` (Alipay, WeChat Pay) with
    /// the code's text. Absent for the card, and while the channel has not answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_action: Option<ClientActionView>,
    /// Every status change, oldest first (on reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
    /// The payment's refunds, oldest first (on reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refunds: Option<Vec<RefundResponse>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientActionView {
    /// `qr_code`, `redirect` or `client_secret`.
    pub kind: String,
    pub value: String,
}

impl From<&ClientAction> for ClientActionView {
    fn from(a: &ClientAction) -> ClientActionView {
        ClientActionView {
            kind: a.kind().to_owned(),
            value: a.value().to_owned(),
        }
    }
}

impl From<&Payment> for PaymentResponse {
    fn from(p: &Payment) -> PaymentResponse {
        PaymentResponse {
            id: p.id.0.clone(),
            order_id: p.order_id.0.clone(),
            channel: p.channel.clone(),
            channel_payment_id: p.channel_payment_id.0.clone(),
            status: p.status.to_string(),
            amount: MoneyView::from(&p.amount),
            risk: p.risk.as_ref().map(RiskView::from),
            created_at: p.created_at,
            updated_at: p.updated_at,
            client_action: None,
            history: None,
            refunds: None,
        }
    }
}

/// Start paying an order awaiting payment. Risk-rejected payments end `FAILED`; others are
/// `PROCESSING` at the channel, which reports the outcome by webhook. The same
/// `Idempotency-Key` for the same order returns the same payment.
#[utoipa::path(post, path = "/v1/orders/{id}/payments", tag = "payments", request_body = StartPayment,
    params(("id" = String, Path),
        ("Idempotency-Key" = String, Header, min_length = 1, max_length = 255, description = "Required; 1 to 255 characters")),
    responses(
        (status = 201, description = "The payment (also for a repeated key)", body = PaymentResponse),
        (status = 400, description = "`Idempotency-Key` longer than 255 characters (`invalid_header`) or a raw card number (`raw_card_number`); invalid JSON"),
        (status = 404, description = "No such order"),
        (status = 409, description = "The order is not awaiting payment (`illegal_transition`), or `idempotency_conflict`"),
        (status = 422, description = "Unknown channel, a currency the channel does not take, or no `Idempotency-Key`"),
        (status = 502, description = "The channel could not be reached or refused the payment; the payment stays `PROCESSING` and the same key tries again"),
    ))]
pub async fn start_payment(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(body): JsonBody<StartPayment>,
) -> Result<(StatusCode, Json<PaymentResponse>), ApiError> {
    let request = PaymentRequest {
        channel: body.channel,
        method: body.method,
    };
    let (payment, action) = app
        .transactions
        .start_payment(&OrderId(id), key, &request)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PaymentResponse {
            client_action: action.as_ref().map(ClientActionView::from),
            ..PaymentResponse::from(&payment)
        }),
    ))
}

/// A payment with its status history and refunds.
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments",
    params(("id" = String, Path)),
    responses((status = 200, body = PaymentResponse), (status = 404, description = "No such payment")))]
pub async fn get_payment(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
) -> Result<Json<PaymentResponse>, ApiError> {
    let view: PaymentView = app.transactions.payments.get(&PaymentId(id)).await?;
    let action = app.transactions.client_action(&view.payment.id).await?;
    Ok(Json(PaymentResponse {
        client_action: action.as_ref().map(ClientActionView::from),
        history: Some(history(&view.history)),
        refunds: Some(view.refunds.iter().map(RefundResponse::from).collect()),
        ..PaymentResponse::from(&view.payment)
    }))
}
