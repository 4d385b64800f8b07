//! `/v1/labels`: recording labels one at a time, reading a decision's label history, and
//! importing a channel's chargeback file.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_engine::feedback::Label;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::names;
use crate::http::params::Query;
use crate::http::problem::ApiError;
use crate::http::upload::scoped_upload;
use crate::services::feedback::{ImportReport, NewLabelRequest};

/// Largest chargeback file accepted in one upload.
pub const MAX_CSV_BYTES: usize = 8 << 20;

/// A chargeback file from a `label:write` key: `Content-Type: text/csv`, at most 8 MiB,
/// refused on the key, scope or declared length before its body is read.
pub struct CsvUpload {
    pub caller: Caller,
    pub file: Bytes,
}

impl FromRequest<AppState> for CsvUpload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (caller, file) = scoped_upload(req, state, "text/csv", MAX_CSV_BYTES, None).await?;
        Ok(CsvUpload { caller, file })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLabel {
    /// The decision labelled; or give `order_id`.
    pub decision_id: Option<String>,
    /// A transaction-core order: labels the decision the core recorded for it — its captured
    /// payment's `payment.authorize` decision, else its latest payment's, else the order's
    /// `order.create` decision. Never a decision posted to `/v1/decisions` naming the order.
    pub order_id: Option<String>,
    #[schema(schema_with = names::label_kind)]
    pub label: String,
    #[schema(schema_with = names::label_source)]
    pub source: String,
    pub note: Option<String>,
    /// The channel's chargeback id (with source `chargeback`): posting it again for the same
    /// decision answers the stored label; for another decision it is `409 conflict`.
    pub chargeback_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LabelView {
    pub label_id: String,
    pub decision_id: String,
    #[schema(schema_with = names::label_kind)]
    pub label: String,
    #[schema(schema_with = names::label_source)]
    pub source: String,
    pub external_id: Option<String>,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<Label> for LabelView {
    fn from(l: Label) -> Self {
        LabelView {
            label_id: l.label_id,
            decision_id: l.decision_id,
            label: l.kind.as_str().to_owned(),
            source: l.source.as_str().to_owned(),
            external_id: l.external_id,
            note: l.note,
            created_by: l.created_by,
            created_at: l.created_at,
        }
    }
}

/// Label a decision. A later label supersedes an earlier one for training and reports; both
/// stay in the history. A fraud-like label marks the decision's entities in the link graph.
#[utoipa::path(post, path = "/v1/labels", operation_id = "create_label", tag = "labels", request_body = CreateLabel,
    responses((status = 201, body = LabelView),
        (status = 422, description = "Invalid field, or a note or id over its length (`too_long`)"),
        (status = 409, description = "`chargeback_id` recorded before for another decision")))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateLabel>,
) -> Result<(StatusCode, Json<LabelView>), ApiError> {
    let label = app
        .labels
        .create(
            NewLabelRequest {
                decision_id: body.decision_id,
                order_id: body.order_id,
                label: body.label,
                source: body.source,
                note: body.note,
                chargeback_id: body.chargeback_id,
            },
            &caller.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(label.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    pub decision_id: String,
}

/// A decision's labels, oldest first (the last one is in force).
#[utoipa::path(get, path = "/v1/labels", operation_id = "label_history", tag = "labels", params(HistoryQuery),
    responses((status = 200, body = Vec<LabelView>)))]
pub async fn history(
    State(app): State<AppState>,
    _: Caller,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Vec<LabelView>>, ApiError> {
    let labels = app.labels.history(&q.decision_id).await?;
    Ok(Json(labels.into_iter().map(LabelView::from).collect()))
}

/// Import a channel's chargeback file (CSV; columns in `arbiter labels import --help` and the
/// README). Every row is imported, a duplicate of an earlier import, or rejected with why (a
/// chargeback id recorded before for another decision is rejected, not a duplicate).
#[utoipa::path(post, path = "/v1/labels/import", operation_id = "import_labels", tag = "labels",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport),
        (status = 403, description = "Key lacks `label:write` (refused before the body is read)"),
        (status = 413, description = "Over 8 MiB"), (status = 415, description = "Not text/csv"),
        (status = 422, description = "The file has no usable header")))]
pub async fn import(
    State(app): State<AppState>,
    CsvUpload { caller, file }: CsvUpload,
) -> Result<Json<ImportReport>, ApiError> {
    Ok(Json(
        app.labels
            .import_chargebacks(&file, &caller.actor())
            .await?,
    ))
}
