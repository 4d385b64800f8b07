//! `POST /v1/webhooks/{card,alipay,wechat}`: the channels' callbacks. No API key — each
//! channel's signature over the raw body is the authentication (`Stripe-Signature`, Alipay's
//! RSA2 `sign`, WeChat Pay's `Wechatpay-Signature` with its serial and timestamp), checked
//! before anything parses it. Every verified callback is logged with its verdict; one whose
//! signature fails is only counted (`arbiter_webhook_refusals_total`), never stored. Each
//! notification applies at most once, and Alipay and WeChat Pay are answered in their own
//! form only once the change has committed.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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

/// Headers as the channel adapters read them: lower-case names, text values.
fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

async fn channel_webhook(
    app: &AppState,
    channel: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let answered = app
        .transactions
        .channel_notification(channel, &header_list(headers), body)
        .await?;
    let ack = answered.acknowledgement;
    let mut response = (
        StatusCode::from_u16(ack.status).unwrap_or(StatusCode::OK),
        ack.body,
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ack.content_type),
    );
    Ok(response)
}

/// Receive an Alipay asynchronous notification (`trade_status_sync`, form-encoded, RSA2).
#[utoipa::path(post, path = "/v1/webhooks/alipay", tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "The notification's form, exactly as signed (`sign`, `sign_type=RSA2`)"),
    responses(
        (status = 200, description = "`success` once applied (now, before, or never: mismatched or unknown), `fail` otherwise", content_type = "text/plain"),
        (status = 400, description = "`fail`: the signature does not verify, or the notification is for another app; nothing changed", content_type = "text/plain"),
        (status = 404, description = "Alipay is not configured on this server"),
        (status = 413, description = "Body over 64 KiB"),
    ))]
pub async fn alipay_webhook(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    channel_webhook(&app, "alipay", &headers, &body).await
}

/// Receive a WeChat Pay API v3 notification (signed, its resource sealed under the APIv3 key).
#[utoipa::path(post, path = "/v1/webhooks/wechat", tag = "webhooks",
    request_body(content = String, content_type = "application/json",
        description = "The notification, exactly as signed"),
    // Optional in the document: without WeChat Pay configured the route answers 404 first;
    // with it, a notification missing any of them is refused (400).
    params(
        ("Wechatpay-Signature" = Option<String>, Header, description = "Base64 SHA256withRSA over `\"{timestamp}\\n{nonce}\\n{body}\\n\"`; required by WeChat Pay"),
        ("Wechatpay-Timestamp" = Option<String>, Header, description = "Unix seconds; within 5 minutes of now; required by WeChat Pay"),
        ("Wechatpay-Nonce" = Option<String>, Header, description = "Required by WeChat Pay"),
        ("Wechatpay-Serial" = Option<String>, Header, description = "The platform key's serial; an unknown one is refused; required by WeChat Pay"),
    ),
    responses(
        (status = 204, description = "Taken: applied now, before, or never (mismatched or unknown)"),
        (status = 400, description = "`{\"code\":\"FAIL\"}`: signature, serial, timestamp or ciphertext refused; nothing changed"),
        (status = 404, description = "WeChat Pay is not configured on this server"),
        (status = 413, description = "Body over 64 KiB"),
    ))]
pub async fn wechat_webhook(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    channel_webhook(&app, "wechat", &headers, &body).await
}
