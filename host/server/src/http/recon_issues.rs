//! Reconciliation difference tickets: `GET /v1/reconciliation/issues` lists them newest first
//! (filtered by status, channel, day and kind, paged by `before`), `GET …/issues/{id}` shows
//! one, `POST …/issues/{id}/resolve` closes an open one with a note (audited; `409` once it is
//! closed). Scope `admin`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_transactions::reconciliation::matching::DifferenceKind;
use arbiter_transactions::reconciliation::tickets::{Ticket, TicketFilter};
use arbiter_transactions::status::{Status, TicketStatus};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::params::{Path, Query, page_size};
use crate::http::problem::ApiError;
use crate::http::statements::{channel_names, channel_param};

fn statuses() -> utoipa::openapi::schema::Object {
    crate::http::names::one_of(TicketStatus::ALL.iter().map(|s| s.as_str()))
}

fn kinds() -> utoipa::openapi::schema::Object {
    crate::http::names::one_of(DifferenceKind::ALL.map(DifferenceKind::as_str))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IssueQuery {
    /// `OPEN`, `RESOLVED` or `CLEARED` (default: every status).
    #[param(schema_with = statuses)]
    pub status: Option<String>,
    #[param(schema_with = channel_names)]
    pub channel: Option<String>,
    /// The statement day (`YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
    #[param(schema_with = kinds)]
    pub kind: Option<String>,
    /// The `next` of the previous page: tickets older than it.
    pub before: Option<String>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssueView {
    pub id: String,
    /// The run that opened it.
    pub run_id: String,
    pub channel: String,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// `missing_local`, `missing_channel`, `amount_mismatch`, `currency_mismatch`,
    /// `status_mismatch` or `fee_unexpected`.
    pub kind: String,
    /// Our id at the channel, or the channel's own when we have no record.
    pub reference: String,
    /// The statement line, when a row is involved.
    pub line: Option<usize>,
    pub detail: String,
    /// `OPEN`, `RESOLVED` (by a person, with a note) or `CLEARED` (a later run no longer
    /// found it).
    pub status: String,
    pub opened_at: DateTime<Utc>,
    /// The key's name that resolved it, or the run that cleared it.
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

impl From<Ticket> for IssueView {
    fn from(t: Ticket) -> Self {
        IssueView {
            id: t.id,
            run_id: t.run_id,
            channel: t.channel,
            date: t.date,
            kind: t.kind.as_str().to_owned(),
            reference: t.reference,
            line: t.line,
            detail: t.detail,
            status: t.status.as_str().to_owned(),
            opened_at: t.opened_at,
            closed_by: t.closed_by,
            closed_at: t.closed_at,
            note: t.note,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuePage {
    /// Newest first.
    pub items: Vec<IssueView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<String>,
}

fn invalid(param: &str, message: String) -> ApiError {
    ApiError::InvalidQuery {
        param: param.into(),
        message,
    }
}

/// Difference tickets, newest first, filtered and paged.
#[utoipa::path(get, path = "/v1/reconciliation/issues", operation_id = "list_reconciliation_issues",
    tag = "reconciliation", params(IssueQuery),
    responses((status = 200, body = IssuePage),
        (status = 400, description = "Invalid parameter (`invalid_query`)")))]
pub async fn list(
    State(app): State<AppState>,
    _: Caller,
    Query(q): Query<IssueQuery>,
) -> Result<Json<IssuePage>, ApiError> {
    let limit = page_size("limit", q.limit, 100, 1..=500)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            TicketStatus::parse(s)
                .ok_or_else(|| invalid("status", "must be OPEN, RESOLVED or CLEARED".into()))
        })
        .transpose()?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| {
            DifferenceKind::parse(k)
                .ok_or_else(|| invalid("kind", format!("`{k}` is not a difference kind")))
        })
        .transpose()?;
    if let Some(channel) = q.channel.as_deref() {
        channel_param(channel)?;
    }
    let filter = TicketFilter {
        status,
        channel: q.channel,
        date: q.date,
        kind,
        before: q.before,
    };
    let items = app.reconciliation.tickets(&filter, limit).await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|t| t.id.clone()))
        .flatten();
    Ok(Json(IssuePage {
        items: items.into_iter().map(IssueView::from).collect(),
        next,
    }))
}

/// One difference ticket.
#[utoipa::path(get, path = "/v1/reconciliation/issues/{id}", operation_id = "get_reconciliation_issue",
    tag = "reconciliation", params(("id" = String, Path)),
    responses((status = 200, body = IssueView), (status = 404, description = "No such ticket")))]
pub async fn get(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
) -> Result<Json<IssueView>, ApiError> {
    Ok(Json(app.reconciliation.ticket(&id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// How the difference was settled (1 to 2,000 characters, not only whitespace; kept,
    /// trimmed, and audited).
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub note: String,
}

/// Resolve an open difference ticket with a note saying how.
#[utoipa::path(post, path = "/v1/reconciliation/issues/{id}/resolve",
    operation_id = "resolve_reconciliation_issue", tag = "reconciliation",
    params(("id" = String, Path)), request_body = ResolveRequest,
    responses(
        (status = 200, body = IssueView),
        (status = 404, description = "No such ticket"),
        (status = 409, description = "`status_changed`: the ticket is no longer open"),
        (status = 422, description = "`note` empty or too long"),
    ))]
pub async fn resolve(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ResolveRequest>,
) -> Result<Json<IssueView>, ApiError> {
    let ticket = app
        .reconciliation
        .resolve(&id, &body.note, &caller.actor())
        .await?;
    Ok(Json(ticket.into()))
}
