//! `POST /v1/refunds` (risk asked at `refund.request`; never more than what is left of the
//! capture) and `GET /v1/refunds/{id}`. Scope `decide`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::money::{Money, MoneyWire};
use arbiter_transactions::ids::{PaymentId, RefundId};
use arbiter_transactions::payment::Refund;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::decisions::MoneyDoc;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::http::transaction_views::{HistoryView, MoneyView, history};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"payment_id": "pay_0190…", "amount": {"value": "10.00", "currency": "USD"}, "reason": "damaged"}))]
pub struct RequestRefund {
    pub payment_id: String,
    /// Positive; the payment's currency; with earlier refunds at most the captured amount.
    pub amount: MoneyDoc,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefundResponse {
    pub id: String,
    pub payment_id: String,
    /// The channel's id for this refund: what its `refund.updated` webhooks name.
    pub channel_refund_id: String,
    /// `REQUESTED`, `PROCESSING`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    pub amount: MoneyView,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every status change, oldest first (on reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
}

impl From<&Refund> for RefundResponse {
    fn from(r: &Refund) -> RefundResponse {
        RefundResponse {
            id: r.id.0.clone(),
            payment_id: r.payment_id.0.clone(),
            channel_refund_id: r.channel_refund_id.0.clone(),
            status: r.status.to_string(),
            amount: MoneyView::from(&r.amount),
            reason: r.reason.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            history: None,
        }
    }
}

/// Request a (partial) refund of a succeeded payment. Risk-rejected refunds end `FAILED`;
/// others are `PROCESSING` at the channel, which reports the outcome by webhook.
#[utoipa::path(post, path = "/v1/refunds", tag = "refunds", request_body = RequestRefund,
    params(("Idempotency-Key" = String, Header, min_length = 1, max_length = 255, description = "Required; 1 to 255 characters")),
    responses(
        (status = 201, description = "The refund (also for a repeated key and body)", body = RefundResponse),
        (status = 400, description = "`Idempotency-Key` longer than 255 characters (`invalid_header`) or a raw card number (`raw_card_number`); invalid JSON"),
        (status = 404, description = "No such payment"),
        (status = 409, description = "`refund_exceeds_capture`, or `idempotency_conflict`"),
        (status = 422, description = "Invalid field (amount, currency, a payment not captured), or no `Idempotency-Key`"),
        (status = 502, description = "Alipay or WeChat Pay could not be reached or refused it; the refund stays `PROCESSING` and the same key sends it again"),
    ))]
pub async fn request_refund(
    State(app): State<AppState>,
    _: Caller,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(body): JsonBody<RequestRefund>,
) -> Result<(StatusCode, Json<RefundResponse>), ApiError> {
    let amount = Money::parse(
        "amount",
        &MoneyWire {
            value: body.amount.value,
            currency: body.amount.currency,
        },
    )?;
    let refund = app
        .transactions
        .request_refund(&PaymentId(body.payment_id), key, amount, &body.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(RefundResponse::from(&refund))))
}

/// A refund with its status history.
#[utoipa::path(get, path = "/v1/refunds/{id}", tag = "refunds",
    params(("id" = String, Path)),
    responses((status = 200, body = RefundResponse), (status = 404, description = "No such refund")))]
pub async fn get_refund(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
) -> Result<Json<RefundResponse>, ApiError> {
    let view = app.transactions.payments.get_refund(&RefundId(id)).await?;
    Ok(Json(RefundResponse {
        history: Some(history(&view.history)),
        ..RefundResponse::from(&view.refund)
    }))
}
