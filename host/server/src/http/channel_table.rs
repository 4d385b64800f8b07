//! The channel table as operators work it: `GET /v1/channels` (every channel, switched on or
//! not, configured on this server or not, its methods, currencies and priority) and `POST
//! /v1/channels/{name}/{enable,disable}` with a reason. A switch is audited and takes effect
//! for the next payment on every replica (each start reads the table); payments already at
//! the channel go on. Scope `admin`; the CLI (`arbiter channels`) does the same offline.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::request::longer_than;
use arbiter_transactions::channels::routing::ChannelRoute;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;

use crate::http::params::Path;
use crate::http::problem::ApiError;

/// Longest reason kept with a switch.
pub const MAX_REASON: usize = 500;

/// The reason to store with a switch, trimmed, or `None` when it is only spaces or longer than
/// [`MAX_REASON`] characters as sent (the bound the schema states).
pub fn switch_reason(sent: &str) -> Option<&str> {
    let reason = sent.trim();
    (!reason.is_empty() && !longer_than(sent, MAX_REASON)).then_some(reason)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelView {
    pub name: String,
    /// Switched on for new payments.
    pub enabled: bool,
    /// This server has the channel's credentials (the card always).
    pub configured: bool,
    /// Higher is chosen first among the eligible.
    pub priority: i32,
    /// `card`, `qr`.
    pub methods: Vec<String>,
    /// ISO 4217 codes; `*` takes any.
    pub currencies: Vec<String>,
    /// Where the credentials come from; never a secret.
    pub credentials: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl ChannelView {
    pub fn new(route: ChannelRoute, configured: bool) -> ChannelView {
        ChannelView {
            name: route.name,
            enabled: route.enabled,
            configured,
            priority: route.priority,
            methods: route.methods,
            currencies: route.currencies,
            credentials: route.credentials,
            updated_at: route.updated_at,
            updated_by: route.updated_by,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelList {
    /// Highest priority first.
    pub channels: Vec<ChannelView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Alipay reports an outage"}))]
pub struct Switch {
    /// Why, for the audit log: 1 to 500 characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub reason: String,
}

/// Every payment channel and how new payments are routed among them.
#[utoipa::path(get, path = "/v1/channels", tag = "channels",
    responses((status = 200, body = ChannelList)))]
pub async fn list(State(app): State<AppState>, _: Caller) -> Result<Json<ChannelList>, ApiError> {
    let channels = app
        .transactions
        .channel_table()
        .await?
        .into_iter()
        .map(|(route, configured)| ChannelView::new(route, configured))
        .collect();
    Ok(Json(ChannelList { channels }))
}

async fn switch(
    app: &AppState,
    caller: &Caller,
    name: &str,
    enabled: bool,
    body: &Switch,
) -> Result<Json<ChannelView>, ApiError> {
    let reason = switch_reason(&body.reason).ok_or_else(|| ApiError::Invalid {
        code: "invalid_value",
        field: "reason".into(),
        message: format!("must be 1 to {MAX_REASON} characters"),
    })?;
    let (route, configured) = app
        .transactions
        .switch_channel(name, enabled, reason, &caller.actor())
        .await?;
    Ok(Json(ChannelView::new(route, configured)))
}

/// Switch a channel off: new payments asking for it go to the best other channel for their
/// method; payments already at it go on. Audited.
#[utoipa::path(post, path = "/v1/channels/{name}/disable", tag = "channels", request_body = Switch,
    params(("name" = String, Path, description = "`card`, `alipay` or `wechat`")),
    responses(
        (status = 200, body = ChannelView),
        (status = 404, description = "No such channel"),
        (status = 422, description = "`reason` missing or too long"),
    ))]
pub async fn disable(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Switch>,
) -> Result<Json<ChannelView>, ApiError> {
    switch(&app, &caller, &name, false, &body).await
}

/// Switch a channel back on for new payments. Audited.
#[utoipa::path(post, path = "/v1/channels/{name}/enable", tag = "channels", request_body = Switch,
    params(("name" = String, Path, description = "`card`, `alipay` or `wechat`")),
    responses(
        (status = 200, body = ChannelView),
        (status = 404, description = "No such channel"),
        (status = 422, description = "`reason` missing or too long"),
    ))]
pub async fn enable(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Switch>,
) -> Result<Json<ChannelView>, ApiError> {
    switch(&app, &caller, &name, true, &body).await
}
