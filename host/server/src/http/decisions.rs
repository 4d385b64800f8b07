//! `POST /v1/decisions`, `GET /v1/decisions/{decision_id}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderName;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::DecisionRequest;
use arbiter_engine::decision::Decision;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::RawBody;
use crate::http::explanation_views::{ModelExplanationView, ScorePartsView, model_reasons};
use crate::http::names;
use crate::http::params::Path;
use crate::http::problem::ApiError;

const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// One reason behind a decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReasonView {
    /// `list`, `rule`, `graph`, `model` or `score`.
    pub layer: String,
    pub code: String,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl From<&arbiter_engine::decision::Reason> for ReasonView {
    fn from(r: &arbiter_engine::decision::Reason) -> Self {
        ReasonView {
            layer: serde_json::to_value(r.layer)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            code: r.code.clone(),
            source: r.source.clone(),
            detail: r.detail.clone(),
        }
    }
}

/// The answer to a decision request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionResponse {
    pub decision_id: String,
    pub request_id: String,
    /// `accept`, `challenge` or `reject`.
    pub action: String,
    pub score: f64,
    pub reasons: Vec<ReasonView>,
    pub policy_set_version: i64,
    pub model_version: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A stored decision with the enriched context and per-layer results it was made on.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionDetail {
    #[serde(flatten)]
    pub decision: DecisionResponse,
    /// Every normalised field and feature value at decision time.
    #[schema(value_type = Object)]
    pub context: serde_json::Value,
    /// Each layer's result and the time it took.
    #[schema(value_type = Object)]
    pub layers: serde_json::Value,
    /// The rollout and arm this decision fell in; `null` when no rollout was active.
    #[schema(value_type = Option<Object>)]
    pub rollout: Option<serde_json::Value>,
    /// What a shadow candidate set would have decided (recorded, never enforced); `null`
    /// without one.
    #[schema(value_type = Option<Object>)]
    pub shadow: Option<serde_json::Value>,
    /// What each layer added to the score; `null` on decisions made before it was recorded.
    pub score_parts: Option<ScorePartsView>,
    /// Why the model scored it as it did; `null` when no model ran.
    pub model_explanation: Option<ModelExplanationView>,
    /// The same explanation as reasons of the `model` layer.
    pub model_reasons: Vec<ReasonView>,
}

impl From<&Decision> for DecisionResponse {
    fn from(d: &Decision) -> Self {
        DecisionResponse {
            decision_id: d.decision_id.0.clone(),
            request_id: d.request_id.clone(),
            action: d.action.as_str().to_owned(),
            score: d.score,
            reasons: d.reasons.iter().map(ReasonView::from).collect(),
            policy_set_version: d.policy_set_version,
            model_version: d.model_version,
            created_at: d.created_at,
        }
    }
}

/// The documented request shape (validation lives in the engine; a test keeps them in step).
/// Every string has a length limit (`too_long` names the field and the limit: ids 128
/// characters, e-mail 254, phone 32, address 512; `attributes` at most 64 entries, 4 levels
/// deep), and no string, key or number may hold a raw card number, even JSON-escaped.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"request_id": "chk-0001", "event": "payment.authorize",
    "amount": {"value": "129.99", "currency": "USD"},
    "user": {"id": "u-1", "account_age_days": 12, "email": "ann@example.com", "phone": "+15551234567"},
    "device": {"id": "dev-9", "ip": "203.0.113.7", "ip_country": "US", "is_proxy": false},
    "payment": {"method": "card", "card_fingerprint": "fp_7Hc", "card_bin": "411111", "card_country": "US"},
    "shipping": {"address": "1 Main St, Springfield, US", "country": "US"},
    "order_id": "o-42", "attributes": {"promo_code": "WELCOME10"}}))]
#[serde(deny_unknown_fields)]
pub struct DecisionRequestDoc {
    /// Idempotency key: the same id with the same body returns the stored decision.
    #[schema(pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub request_id: String,
    /// The checkpoint asking.
    #[schema(schema_with = names::checkpoint)]
    pub event: String,
    /// Required for order.create, payment.authorize and refund.request.
    pub amount: Option<MoneyDoc>,
    pub user: UserDoc,
    pub device: Option<DeviceDoc>,
    /// Card fingerprint, BIN and country only: raw card numbers are refused.
    pub payment: Option<PaymentDoc>,
    pub shipping: Option<ShippingDoc>,
    pub order_id: Option<String>,
    /// Anything else the policies may read, by name.
    #[schema(value_type = Object, required = false)]
    pub attributes: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MoneyDoc {
    /// A plain decimal string, e.g. "129.99" (no exponent, sign or separators); no more
    /// decimals than the currency allows; below 10^12 (`amount_out_of_range` past it).
    #[schema(schema_with = names::amount_value)]
    pub value: String,
    /// ISO 4217 code.
    #[schema(schema_with = names::currency)]
    pub currency: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserDoc {
    #[schema(pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub id: String,
    /// Whole days, 0 to 4294967295.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub account_age_days: Option<u32>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceDoc {
    pub id: Option<String>,
    pub ip: Option<String>,
    pub ip_country: Option<String>,
    pub is_proxy: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentDoc {
    pub method: Option<String>,
    pub card_fingerprint: Option<String>,
    pub card_bin: Option<String>,
    pub card_country: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingDoc {
    pub address: Option<String>,
    pub country: Option<String>,
}

/// Decide on one checkout or payment step. Durable before it answers.
#[utoipa::path(post, path = "/v1/decisions", tag = "decisions",
    request_body = DecisionRequestDoc,
    responses(
        (status = 200, description = "The decision (or the stored one for a repeated request_id)", body = DecisionResponse),
        (status = 400, description = "Invalid JSON, or bytes after the JSON value"),
        (status = 401, description = "Missing or invalid key"),
        (status = 403, description = "Key lacks the `decide` scope"),
        (status = 409, description = "request_id reused with a different body"),
        (status = 413, description = "Body over 64 KiB"),
        (status = 422, description = "Invalid field (named): a raw card number (`raw_card_number`), a field over its length limit (`too_long`, `too_many`, `too_deep`), an amount over the maximum (`amount_out_of_range`), a NUL character"),
        (status = 503, description = "Overloaded or database unavailable; see Retry-After"),
    ))]
pub async fn create_decision(
    State(app): State<AppState>,
    _: Caller,
    RawBody(body): RawBody,
) -> Result<impl IntoResponse, ApiError> {
    let req = DecisionRequest::from_slice(&body)?;
    let out = app.decisions.decide(req).await?;
    let replayed = if out.replayed { "true" } else { "false" };
    Ok((
        [(REPLAYED, replayed)],
        Json(DecisionResponse::from(&out.decision)),
    ))
}

/// A stored decision with its enriched context and per-layer results, for replay.
#[utoipa::path(get, path = "/v1/decisions/{decision_id}", tag = "decisions",
    params(("decision_id" = String, Path)),
    responses(
        (status = 200, body = DecisionDetail),
        (status = 404, description = "No such decision"),
    ))]
pub async fn get_decision(
    State(app): State<AppState>,
    _: Caller,
    Path(decision_id): Path<String>,
) -> Result<Json<DecisionDetail>, ApiError> {
    let d = app
        .decisions
        .get(&decision_id)
        .await?
        .ok_or(ApiError::NotFound {
            what: "decision",
            id: decision_id,
        })?;
    let explanation = app.models.explain(&d).await?;
    Ok(Json(DecisionDetail {
        score_parts: d.layers.score_parts.map(ScorePartsView::from),
        model_explanation: explanation.as_ref().map(ModelExplanationView::from),
        model_reasons: explanation.as_ref().map(model_reasons).unwrap_or_default(),
        decision: DecisionResponse::from(&d),
        context: serde_json::to_value(&d.context).map_err(|e| ApiError::Internal(e.to_string()))?,
        layers: serde_json::to_value(&d.layers).map_err(|e| ApiError::Internal(e.to_string()))?,
        rollout: d
            .rollout
            .as_ref()
            .and_then(|r| serde_json::to_value(r).ok()),
        shadow: d.shadow.as_ref().and_then(|s| serde_json::to_value(s).ok()),
    }))
}
