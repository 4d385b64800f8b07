//! Channel statements for reconciliation: `POST /v1/reconciliation/statements?channel=…&date=…`
//! takes a statement file as it came from the channel (the card's balance transactions CSV,
//! Alipay's bill zip, WeChat Pay's bill), reads it whole and archives it with its rows, or
//! refuses it naming the line and stores nothing; the same file again answers the statement
//! held (`200`, `already_imported`). `POST /v1/reconciliation/statements/fetch` fetches a
//! day's statement from the channel itself and imports it the same way.
//! `GET /v1/reconciliation/statements/{id}` shows one.
//! Scope `admin`; the key, the scope, the query and the declared length are checked before a
//! byte of the body is read. `arbiter recon import` does the same from the command line.

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_transactions::reconciliation::archive::{
    Imported, STATEMENT_CHANNELS, StoredStatement,
};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::params::{Path, parse_query};
use crate::http::problem::ApiError;
use crate::http::upload::scoped_upload;
use crate::services::reconciliation::FetchedStatement;

/// Largest statement accepted over HTTP; a larger one goes through `arbiter recon import`.
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// Whose statement: `card`, `alipay` or `wechat`.
    #[param(schema_with = channel_names)]
    pub channel: String,
    /// The day it covers (`YYYY-MM-DD`).
    #[param(value_type = String, format = Date)]
    pub date: NaiveDate,
}

pub fn channel_names() -> utoipa::openapi::schema::Object {
    crate::http::names::one_of(STATEMENT_CHANNELS)
}

fn unknown_channel() -> String {
    format!("must be one of {}", STATEMENT_CHANNELS.join(", "))
}

/// Refuses a `channel` query parameter naming no channel with a statement reader.
pub fn channel_param(channel: &str) -> Result<(), ApiError> {
    if STATEMENT_CHANNELS.contains(&channel) {
        return Ok(());
    }
    Err(ApiError::InvalidQuery {
        param: "channel".into(),
        message: unknown_channel(),
    })
}

/// Refuses a `channel` body field naming no channel with a statement reader.
pub fn channel_field(channel: &str) -> Result<(), ApiError> {
    if STATEMENT_CHANNELS.contains(&channel) {
        return Ok(());
    }
    Err(ApiError::Invalid {
        code: "invalid_value",
        field: "channel".into(),
        message: unknown_channel(),
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatementView {
    pub id: String,
    pub channel: String,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Hex SHA-256 of the file as received.
    pub sha256: String,
    pub size_bytes: u64,
    /// Rows read (payments, refunds, fees, payouts, others).
    pub row_count: u64,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
    /// When retention took the file and its rows (`--statement-retention-secs`); the day is
    /// not reconciled again until the same file is imported again.
    pub expired_at: Option<DateTime<Utc>>,
    /// This very file was imported before: nothing was written now.
    pub already_imported: bool,
}

impl StatementView {
    pub fn new(s: StoredStatement, already_imported: bool) -> StatementView {
        StatementView {
            id: s.id,
            channel: s.channel,
            date: s.date,
            sha256: s.sha256,
            size_bytes: s.size_bytes,
            row_count: s.row_count,
            imported_by: s.imported_by,
            imported_at: s.imported_at,
            expired_at: s.expired_at,
            already_imported,
        }
    }
}

/// A statement file from an `admin` key: `Content-Type: application/octet-stream`, at most
/// 64 MiB, refused on the key, scope, query or declared length before its body is read.
pub struct StatementUpload {
    pub caller: Caller,
    pub query: StatementQuery,
    pub file: axum::body::Bytes,
}

impl FromRequest<AppState> for StatementUpload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let query: StatementQuery = parse_query(req.uri().query().unwrap_or_default())?;
        channel_param(&query.channel)?;
        let (caller, file) = scoped_upload(
            req,
            state,
            "application/octet-stream",
            MAX_UPLOAD_BYTES,
            None,
        )
        .await?;
        Ok(StatementUpload {
            caller,
            query,
            file,
        })
    }
}

/// Import a channel's statement file, as the channel delivered it.
#[utoipa::path(post, path = "/v1/reconciliation/statements", operation_id = "import_statement",
    tag = "reconciliation", params(StatementQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Archived with its rows", body = StatementView),
        (status = 200, description = "This file was imported before; nothing written", body = StatementView),
        (status = 400, description = "`channel` or `date` invalid (`invalid_query`)"),
        (status = 413, description = "Over 64 MiB"),
        (status = 415, description = "Not application/octet-stream"),
        (status = 422, description = "`statement_unreadable`: the line and the problem; nothing stored"),
    ))]
pub async fn import(
    State(app): State<AppState>,
    StatementUpload {
        caller,
        query: q,
        file,
    }: StatementUpload,
) -> Result<Response, ApiError> {
    let imported = app
        .reconciliation
        .import_statement(&q.channel, q.date, file.to_vec(), &caller.actor())
        .await?;
    Ok(match imported {
        Imported::New(s) => {
            (StatusCode::CREATED, Json(StatementView::new(s, false))).into_response()
        }
        Imported::Existing(s) => {
            (StatusCode::OK, Json(StatementView::new(s, true))).into_response()
        }
    })
}

/// One imported statement.
#[utoipa::path(get, path = "/v1/reconciliation/statements/{id}", operation_id = "get_statement",
    tag = "reconciliation", params(("id" = String, Path)),
    responses((status = 200, body = StatementView), (status = 404, description = "No such statement")))]
pub async fn get(
    State(app): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
) -> Result<Json<StatementView>, ApiError> {
    let statement = app
        .reconciliation
        .statement(&id)
        .await?
        .ok_or_else(|| ApiError::Missing(format!("no statement `{id}`")))?;
    Ok(Json(StatementView::new(statement, false)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchRequest {
    /// `card`, `alipay` or `wechat`: a channel this server is configured for.
    #[schema(schema_with = channel_names)]
    pub channel: String,
    /// The statement day (`YYYY-MM-DD`; Beijing days for Alipay and WeChat Pay).
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
}

/// Fetch a channel's statement of a day from the channel itself (Alipay's bill download, WeChat
/// Pay's trade bill, the card acquirer's itemized balance report) and import it; the same
/// file again is the statement held.
#[utoipa::path(post, path = "/v1/reconciliation/statements/fetch", operation_id = "fetch_statement",
    tag = "reconciliation", request_body = FetchRequest,
    responses(
        (status = 201, description = "Fetched and archived with its rows", body = StatementView),
        (status = 200, description = "The channel's file was imported before; nothing written", body = StatementView),
        (status = 404, description = "The channel is not configured here, or has not written that day's statement yet"),
        (status = 422, description = "Invalid field, or `statement_unreadable`: the channel's file does not read"),
        (status = 502, description = "The channel could not be reached or refused"),
    ))]
pub async fn fetch(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<FetchRequest>,
) -> Result<Response, ApiError> {
    channel_field(&body.channel)?;
    let fetched = app
        .reconciliation
        .fetch_statement(&body.channel, body.date, &caller.actor())
        .await?;
    Ok(match fetched {
        FetchedStatement::NotYet(why) => {
            return Err(ApiError::Missing(format!(
                "{} has no statement of {} yet: {why}",
                body.channel, body.date
            )));
        }
        FetchedStatement::Imported(Imported::New(s)) => {
            (StatusCode::CREATED, Json(StatementView::new(s, false))).into_response()
        }
        FetchedStatement::Imported(Imported::Existing(s)) => {
            (StatusCode::OK, Json(StatementView::new(s, true))).into_response()
        }
    })
}
