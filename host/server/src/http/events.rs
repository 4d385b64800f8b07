//! `GET /v1/events`: the outbox as a pull feed, the way Stripe's `/v1/events` works. A consumer
//! keeps `next_after` and asks for what follows; it sees every committed event once, each
//! order's events in the order they happened. Scope `admin`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_transactions::outbox::{EventPage, OutboxEvent};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::Query;
use crate::http::problem::ApiError;

/// The documented parameters. The handler reads the raw pairs instead, so a bad value, a
/// repeated or an unknown parameter is refused naming it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events after this one: 0 (the default) or the `next_after` of the previous page.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many events (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    /// `order.paid`, `order.fulfilled`, `payment.succeeded`, `refund.succeeded`, …
    pub topic: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventsResponse {
    pub events: Vec<EventView>,
    /// Pass as `after` for the next page: the last event's id, or `after` when there is none.
    pub next_after: i64,
    /// Where the feed starts: events up to this id were deleted by retention (0: none were).
    /// An `after` behind it is `410 events_expired`.
    pub starts_after: i64,
}

impl From<OutboxEvent> for EventView {
    fn from(e: OutboxEvent) -> EventView {
        EventView {
            id: e.id,
            topic: e.topic,
            payload: e.payload,
            created_at: e.created_at,
        }
    }
}

impl From<EventPage> for EventsResponse {
    fn from(p: EventPage) -> EventsResponse {
        EventsResponse {
            events: p.events.into_iter().map(EventView::from).collect(),
            next_after: p.next_after,
            starts_after: p.starts_after,
        }
    }
}

/// A page of the event feed, oldest first. An event appears only once its change has
/// committed; on PostgreSQL, once every older transaction on the server has ended.
#[utoipa::path(get, path = "/v1/events", operation_id = "list_events", tag = "events", params(EventsQuery),
    responses(
        (status = 200, body = EventsResponse),
        (status = 400, description = "`after` or `limit` is not a number, out of range, or `after` names no event (`invalid_query`)"),
        (status = 403, description = "Key lacks the `admin` scope"),
        (status = 410, description = "The events after `after` were deleted by retention (`events_expired`); the detail names where the feed starts"),
    ))]
pub async fn list_events(
    State(app): State<AppState>,
    _: Caller,
    query: Result<Query<Vec<(String, String)>>, ApiError>,
) -> Result<Json<EventsResponse>, ApiError> {
    let Query(pairs) = query?;
    let (mut after, mut limit) = (None, None);
    for (name, value) in &pairs {
        match name.as_str() {
            "after" => set(&mut after, "after", value)?,
            "limit" => set(&mut limit, "limit", value)?,
            _ => {
                return Err(ApiError::InvalidQuery {
                    param: name.clone(),
                    message: "unknown parameter: use `after` and `limit`".into(),
                });
            }
        }
    }
    let page = app
        .transactions
        .events(after, limit)
        .await
        .map_err(ApiError::from_query)?;
    Ok(Json(EventsResponse::from(page)))
}

/// Parses `value` into `slot`: a whole number, given once.
fn set<T: std::str::FromStr>(
    slot: &mut Option<T>,
    param: &str,
    value: &str,
) -> Result<(), ApiError> {
    let invalid = |message: String| ApiError::InvalidQuery {
        param: param.to_owned(),
        message,
    };
    if slot.is_some() {
        return Err(invalid("given more than once".into()));
    }
    let parsed = value
        .parse()
        .map_err(|_| invalid(format!("`{value}` is not a whole number in range")))?;
    *slot = Some(parsed);
    Ok(())
}
