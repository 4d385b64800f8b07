//! `POST /v1/webhooks/card`: the card channel's callbacks. No API key — the
//! `Stripe-Signature` over the raw body is the authentication, checked before anything parses
//! it. Every verified callback is logged with its verdict; one whose signature fails is only
//! counted (`arbiter_webhook_refusals_total`), never stored. Each event id applies at most once.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app_state::AppState;
use crate::http::body::RawBody;
use crate::http::problem::ApiError;

const SIGNATURE: &str = "stripe-signature";

/// What became of an accepted callback.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookAnswer {
    /// `applied`, `duplicate` (applied before), `mismatch` (amount or currency differ: flagged,
    /// never applied) or `ignored` (names nothing we know, or cannot move it).
    pub verdict: String,
    pub detail: Option<String>,
}

/// Receive a card-channel event (Stripe's shape and signature scheme).
#[utoipa::path(post, path = "/v1/webhooks/card", tag = "webhooks",
    request_body(content = String, content_type = "application/json",
        description = "The event, exactly as signed"),
    params(("Stripe-Signature" = String, Header,
        description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{body}\">`; 5-minute tolerance")),
    responses(
        (status = 200, description = "Accepted: applied now, before, or never (see `verdict`)", body = WebhookAnswer),
        (status = 400, description = "`invalid_signature` (missing, forged or stale) or `malformed_event`; nothing changed"),
        (status = 413, description = "Body over 64 KiB"),
    ))]
pub async fn card_webhook(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<WebhookAnswer>, ApiError> {
    let signature = headers.get(SIGNATURE).and_then(|v| v.to_str().ok());
    let reply = app.transactions.card_webhook(signature, &body).await?;
    if reply.verdict.is_refusal() {
        return Err(ApiError::refused_callback(reply));
    }
    Ok(Json(WebhookAnswer {
        verdict: reply.verdict.as_str().to_owned(),
        detail: reply.detail,
    }))
}
