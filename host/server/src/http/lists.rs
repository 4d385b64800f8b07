//! `/v1/lists/entries`: allow, block and watch entries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_engine::lists::ListEntry;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::names;
use crate::http::params::{Path, Query};
use crate::http::problem::ApiError;
use crate::services::lists::NewListEntry;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEntry {
    #[schema(schema_with = names::list_name)]
    pub list: String,
    #[schema(schema_with = names::list_kind)]
    pub kind: String,
    /// Normalised like the matching decision field (addresses are stored hashed).
    pub value: String,
    #[serde(default)]
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    pub id: String,
    #[schema(schema_with = names::list_name)]
    pub list: String,
    #[schema(schema_with = names::list_kind)]
    pub kind: String,
    pub value: String,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl From<ListEntry> for EntryView {
    fn from(e: ListEntry) -> Self {
        EntryView {
            id: e.id,
            list: e.list.as_str().to_owned(),
            kind: e.kind.as_str().to_owned(),
            value: e.value,
            reason: e.reason,
            expires_at: e.expires_at,
            created_at: e.created_at,
            created_by: e.created_by,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryFilter {
    /// Entries of this kind.
    #[param(schema_with = names::list_kind)]
    pub kind: Option<String>,
    /// Entries for this value, normalised as on create; needs `kind`.
    pub value: Option<String>,
}

/// Add a list entry; it applies to the next decision.
#[utoipa::path(post, path = "/v1/lists/entries", tag = "lists", request_body = CreateEntry,
    responses((status = 201, body = EntryView),
        (status = 200, description = "The identical entry was in force already; nothing changed", body = EntryView),
        (status = 409, description = "An entry for this list, kind and value exists with another reason or expiry"),
        (status = 422, description = "Invalid field: value or reason over its length (`too_long`), a raw card number")))]
pub async fn create_entry(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateEntry>,
) -> Result<(StatusCode, Json<EntryView>), ApiError> {
    let created = app
        .lists
        .create(
            NewListEntry {
                list: body.list,
                kind: body.kind,
                value: body.value,
                reason: body.reason,
                expires_at: body.expires_at,
            },
            &caller.actor(),
        )
        .await?;
    let status = if created.inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(created.entry.into())))
}

/// Find entries by kind and value (the value is normalised as on create).
#[utoipa::path(get, path = "/v1/lists/entries", tag = "lists", params(EntryFilter),
    responses((status = 200, body = Vec<EntryView>),
        (status = 400, description = "An unknown `kind`, or `value` without `kind` (`invalid_query`)")))]
pub async fn find_entries(
    State(app): State<AppState>,
    _: Caller,
    Query(filter): Query<EntryFilter>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    let found = app
        .lists
        .find(filter.kind.as_deref(), filter.value.as_deref())
        .await
        .map_err(ApiError::from_query)?;
    Ok(Json(found.into_iter().map(EntryView::from).collect()))
}

/// Remove an entry; it stops applying at the next decision.
#[utoipa::path(delete, path = "/v1/lists/entries/{id}", tag = "lists", params(("id" = String, Path)),
    responses((status = 204), (status = 404, description = "No such entry")))]
pub async fn delete_entry(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.lists.delete(&id, &caller.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
