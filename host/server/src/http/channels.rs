//! The simulated card channel's admin trigger: make it post its signed webhook for a payment
//! or refund to this server over HTTP — once, several times, late, or all at once — so
//! duplicates, out-of-order delivery, failures and a slow channel can be exercised end to end.
//! A payment at the simulated card API (`--channel-simulator`) is confirmed or abandoned there
//! by the buyer first, and its event may be lost. Scope `admin`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::HOST;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_transactions::ids::{ChannelPaymentId, ChannelRefundId};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::names;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::services::transactions::channel::{Attempt, Delivery, Outcome, Sent};

/// `succeeded` or `failed`, as [`Outcome`] is written.
fn outcome() -> utoipa::openapi::schema::Object {
    names::one_of(["succeeded", "failed"])
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "succeeded", "times": 2, "delay_ms": 0, "concurrent": false}))]
pub struct TriggerEvent {
    #[schema(schema_with = outcome)]
    pub outcome: Outcome,
    /// How many times to deliver the same event (same id).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 20)]
    pub times: u32,
    /// Wait this long before signing and sending.
    #[serde(default)]
    #[schema(maximum = 30000)]
    pub delay_ms: u64,
    /// Deliver every copy at once rather than one after another.
    #[serde(default)]
    pub concurrent: bool,
}

fn one() -> u32 {
    1
}

/// How a trigger asks its notification to be delivered.
fn delivery(times: u32, delay_ms: u64, concurrent: bool) -> Delivery {
    Delivery {
        times,
        delay: Duration::from_millis(delay_ms),
        concurrent,
    }
}

impl TriggerEvent {
    fn delivery(&self) -> Delivery {
        delivery(self.times, self.delay_ms, self.concurrent)
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptView {
    /// The webhook endpoint's HTTP status; absent when the request failed.
    pub status: Option<u16>,
    /// Its verdict (`applied`, `duplicate`, …) or problem code; for Alipay its text
    /// (`success`, `fail`).
    pub answer: Option<String>,
}

impl From<Attempt> for AttemptView {
    fn from(a: Attempt) -> AttemptView {
        AttemptView {
            status: a.status,
            answer: a.answer,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SentEvent {
    pub event_id: String,
    /// `payment_intent.succeeded`, `payment_intent.payment_failed` or `refund.updated`.
    pub event_type: String,
    /// One per delivery, in order.
    pub attempts: Vec<AttemptView>,
}

impl From<Sent> for SentEvent {
    fn from(s: Sent) -> SentEvent {
        SentEvent {
            event_id: s.event_id,
            event_type: s.event_type,
            attempts: s.attempts.into_iter().map(AttemptView::from).collect(),
        }
    }
}

fn host(headers: &HeaderMap) -> Option<&str> {
    headers.get(HOST).and_then(|v| v.to_str().ok())
}

/// Make the card channel report a payment's outcome by its signed webhook. A payment at the
/// simulated card API (`--channel-simulator`) is paid (or abandoned) there by the buyer first,
/// and its event may be lost (`times: 0`); any other is delivered at least once.
#[utoipa::path(post, path = "/v1/channels/card/payments/{channel_payment_id}/events", operation_id = "trigger_payment_event",
    tag = "channels", request_body = BuyerEvent,
    params(("channel_payment_id" = String, Path)),
    responses(
        (status = 200, description = "Sent; every delivery's answer", body = SentEvent),
        (status = 404, description = "No such payment"),
        (status = 422, description = "Invalid field"),
    ))]
pub async fn payment_event(
    State(app): State<AppState>,
    _: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<BuyerEvent>,
) -> Result<Json<SentEvent>, ApiError> {
    let sent = app
        .transactions
        .channel
        .payment_event(
            &ChannelPaymentId(id),
            body.outcome,
            delivery(body.times, body.delay_ms, body.concurrent),
            host(&headers),
        )
        .await?;
    Ok(Json(sent.into()))
}

/// Make the card channel report a refund's outcome (`refund.updated`) by its signed webhook.
#[utoipa::path(post, path = "/v1/channels/card/refunds/{channel_refund_id}/events", operation_id = "trigger_refund_event",
    tag = "channels", request_body = TriggerEvent,
    params(("channel_refund_id" = String, Path)),
    responses(
        (status = 200, description = "Sent; every delivery's answer", body = SentEvent),
        (status = 404, description = "No such refund"),
        (status = 422, description = "Invalid field"),
    ))]
pub async fn refund_event(
    State(app): State<AppState>,
    _: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<TriggerEvent>,
) -> Result<Json<SentEvent>, ApiError> {
    let sent = app
        .transactions
        .channel
        .refund_event(
            &ChannelRefundId(id),
            body.outcome,
            body.delivery(),
            host(&headers),
        )
        .await?;
    Ok(Json(sent.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "succeeded", "times": 1, "delay_ms": 0, "concurrent": false}))]
pub struct BuyerEvent {
    /// `succeeded`: the buyer paid; `failed`: the trade closed unpaid.
    #[schema(schema_with = outcome)]
    pub outcome: Outcome,
    /// How many times the channel delivers its notification (the same one); 0 loses it, as
    /// a lost callback does.
    #[serde(default = "one")]
    #[schema(minimum = 0, maximum = 20)]
    pub times: u32,
    /// Wait this long before notifying.
    #[serde(default)]
    #[schema(maximum = 30000)]
    pub delay_ms: u64,
    /// Deliver every copy at once rather than one after another.
    #[serde(default)]
    pub concurrent: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportedEvent {
    /// The notification's id (the same in every copy); empty when the channel sent none.
    pub notice_id: String,
    /// The trade's status at the channel afterwards, in its words (`TRADE_SUCCESS`, `SUCCESS`).
    pub status: String,
    /// One per delivery, in order.
    pub attempts: Vec<AttemptView>,
}

async fn buyer_event(
    app: &AppState,
    channel: &str,
    id: &str,
    body: &BuyerEvent,
) -> Result<Json<ReportedEvent>, ApiError> {
    let delivery = delivery(body.times, body.delay_ms, body.concurrent);
    if let Err((field, message)) = crate::simulator::delivery::check(&delivery, true) {
        return Err(ApiError::Invalid {
            code: "invalid_value",
            field: field.into(),
            message,
        });
    }
    let reported = app
        .transactions
        .simulate_buyer(channel, id, body.outcome == Outcome::Succeeded, delivery)
        .await?;
    Ok(Json(ReportedEvent {
        notice_id: reported.notice_id,
        status: reported.status,
        attempts: reported
            .attempts
            .into_iter()
            .map(AttemptView::from)
            .collect(),
    }))
}

/// Play the buyer at the simulated Alipay (`--channel-simulator`): pay the trade (or let it
/// close unpaid) and have Alipay notify this server.
#[utoipa::path(post, path = "/v1/channels/alipay/payments/{channel_payment_id}/events", operation_id = "simulate_alipay_buyer",
    tag = "channels", request_body = BuyerEvent,
    params(("channel_payment_id" = String, Path)),
    responses(
        (status = 200, description = "Done; every delivery's answer", body = ReportedEvent),
        (status = 404, description = "No simulator running, or no such trade at it"),
        (status = 422, description = "Invalid field"),
    ))]
pub async fn alipay_buyer(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<BuyerEvent>,
) -> Result<Json<ReportedEvent>, ApiError> {
    buyer_event(&app, "alipay", &id, &body).await
}

/// Play the buyer at the simulated WeChat Pay (`--channel-simulator`): pay the order (or let
/// it close unpaid) and have WeChat Pay notify this server (it notifies payments only).
#[utoipa::path(post, path = "/v1/channels/wechat/payments/{channel_payment_id}/events", operation_id = "simulate_wechat_buyer",
    tag = "channels", request_body = BuyerEvent,
    params(("channel_payment_id" = String, Path)),
    responses(
        (status = 200, description = "Done; every delivery's answer", body = ReportedEvent),
        (status = 404, description = "No simulator running, or no such trade at it"),
        (status = 422, description = "Invalid field"),
    ))]
pub async fn wechat_buyer(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<BuyerEvent>,
) -> Result<Json<ReportedEvent>, ApiError> {
    buyer_event(&app, "wechat", &id, &body).await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"fail_next": 2}))]
pub struct Faults {
    /// The next this many calls to the simulated gateway answer `503`; 0 ends the outage.
    #[schema(minimum = 0, maximum = 1000)]
    pub fail_next: u32,
}

/// Make the simulated `card`, `alipay` or `wechat` gateway (`--channel-simulator`) fail its next
/// calls, as a channel outage does.
#[utoipa::path(post, path = "/v1/channels/{name}/faults", tag = "channels", request_body = Faults,
    params(("name" = String, Path, description = "`card`, `alipay` or `wechat`")),
    responses(
        (status = 200, body = Faults),
        (status = 404, description = "No simulator running for that channel"),
        (status = 422, description = "Invalid field"),
    ))]
pub async fn faults(
    State(app): State<AppState>,
    _: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Faults>,
) -> Result<Json<Faults>, ApiError> {
    if body.fail_next > 1000 {
        return Err(ApiError::Invalid {
            code: "invalid_value",
            field: "fail_next".into(),
            message: "must be 0 to 1000".into(),
        });
    }
    app.transactions.simulate_outage(&name, body.fail_next)?;
    Ok(Json(body))
}

/// The differences to plant in a simulated channel's statements.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementPlants {
    /// Replaces what was planted before; empty plants nothing. At most 100.
    #[schema(max_items = 100)]
    pub plants: Vec<crate::simulator::statements::Plant>,
}

/// Make the simulated `card`, `alipay` or `wechat` channel (`--channel-simulator`) write these
/// differences into its statements from now on: a payment left off, for another amount, in
/// another currency, with another fee, shown paid while unpaid, or one we never made.
#[utoipa::path(post, path = "/v1/channels/{name}/statement-plants", tag = "channels",
    request_body = StatementPlants,
    params(("name" = String, Path, description = "`card`, `alipay` or `wechat`")),
    responses(
        (status = 200, body = StatementPlants),
        (status = 404, description = "No simulator running for that channel"),
        (status = 422, description = "Invalid field"),
    ))]
pub async fn statement_plants(
    State(app): State<AppState>,
    _: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<StatementPlants>,
) -> Result<Json<StatementPlants>, ApiError> {
    if body.plants.len() > 100 {
        return Err(ApiError::Invalid {
            code: "invalid_value",
            field: "plants".into(),
            message: "at most 100".into(),
        });
    }
    for (i, plant) in body.plants.iter().enumerate() {
        plant
            .check()
            .map_err(|(field, message)| ApiError::Invalid {
                code: "invalid_value",
                field: format!("plants[{i}].{field}"),
                message,
            })?;
    }
    app.transactions
        .plant_statement_differences(&name, body.plants.clone())?;
    Ok(Json(body))
}
