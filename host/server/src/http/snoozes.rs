//! `/v1/snoozes`: silencing one rule for one entity for a while (a reviewer, from a case:
//! `geo_mismatch` for this user for 30 days), listing and revoking. Decisions for the entity
//! record the snoozed rule and do not count it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_engine::lists::ListKind;
use arbiter_engine::snooze::RuleSnooze;
use arbiter_engine::store::SnoozeFilter;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::names;
use crate::http::params::{Path, Query, page_size};
use crate::http::problem::ApiError;
use crate::services::snoozes::{MAX_LOADED, NewSnooze};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeBody {
    /// The policy module or rule file to silence, by name.
    #[schema(min_length = 1, max_length = 64)]
    pub rule: String,
    #[schema(schema_with = names::list_kind)]
    pub kind: String,
    /// The entity, as decisions name it (an address as written, or its hash).
    #[schema(min_length = 1, max_length = 1024)]
    pub value: String,
    /// Why (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// How long, 1 to 365 days (default 30).
    #[schema(minimum = 1, maximum = 365)]
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SnoozeView {
    pub id: String,
    pub rule: String,
    pub kind: String,
    /// Normalised (an address: its hash).
    pub value: String,
    pub reason: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The creating key's name.
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Neither revoked nor expired now.
    pub live: bool,
}

impl From<RuleSnooze> for SnoozeView {
    fn from(s: RuleSnooze) -> Self {
        SnoozeView {
            live: s.is_live(Utc::now()),
            id: s.id,
            rule: s.rule,
            kind: s.kind.as_str().to_owned(),
            value: s.value,
            reason: s.reason,
            expires_at: s.expires_at,
            created_at: s.created_at,
            created_by: s.created_by_name,
            revoked_at: s.revoked_at,
        }
    }
}

/// Silence a rule for an entity until the snooze expires. Later decisions naming the entity
/// record the rule as snoozed and do not count its answer.
#[utoipa::path(post, path = "/v1/snoozes", operation_id = "create_snooze", tag = "reviews",
    request_body = SnoozeBody,
    responses((status = 201, body = SnoozeView),
        (status = 409, description = "Too many snoozes in force"),
        (status = 422, description = "No such rule, an invalid entity, reason or duration")))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SnoozeBody>,
) -> Result<(StatusCode, Json<SnoozeView>), ApiError> {
    let snooze = app
        .snoozes
        .create(
            NewSnooze {
                rule: body.rule,
                kind: body.kind,
                value: body.value,
                reason: body.reason,
                days: body.days,
            },
            &caller.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(snooze.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnoozeQuery {
    /// Only this rule's.
    pub rule: Option<String>,
    /// Only this kind of entity's.
    #[param(schema_with = names::list_kind)]
    pub kind: Option<String>,
    /// Only this entity's: normalised as its `kind` says when given, else matched as stored
    /// (an address by its hash).
    pub value: Option<String>,
    /// Also expired and revoked ones (default: only those in force).
    pub all: Option<bool>,
    /// At most this many, newest first: 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SnoozeList {
    pub items: Vec<SnoozeView>,
}

/// Snoozes, newest first: those in force, or with `all=true` every one made.
#[utoipa::path(get, path = "/v1/snoozes", operation_id = "list_snoozes", tag = "reviews",
    params(SnoozeQuery),
    responses((status = 200, body = SnoozeList),
        (status = 400, description = "Invalid parameter (`invalid_query`)")))]
pub async fn list(
    State(app): State<AppState>,
    _: Caller,
    Query(q): Query<SnoozeQuery>,
) -> Result<Json<SnoozeList>, ApiError> {
    let limit = page_size("limit", q.limit, 100, 1..=500.min(MAX_LOADED))?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| {
            ListKind::parse(k).ok_or_else(|| ApiError::InvalidQuery {
                param: "kind".into(),
                message: format!("`{k}` is not an entity kind"),
            })
        })
        .transpose()?;
    let filter = SnoozeFilter {
        kind,
        value: q.value,
        rule: q.rule,
        live_at: None,
    };
    let snoozes = app
        .snoozes
        .list(filter, q.all.unwrap_or(false), limit)
        .await
        .map_err(|e| ApiError::from_query(ApiError::from(e)))?;
    Ok(Json(SnoozeList {
        items: snoozes.into_iter().map(SnoozeView::from).collect(),
    }))
}

/// End a snooze now: the rule counts again for the entity's next decision. Revoking one
/// already revoked changes nothing.
#[utoipa::path(delete, path = "/v1/snoozes/{id}", operation_id = "revoke_snooze", tag = "reviews",
    params(("id" = String, Path, description = "A snooze's id")),
    responses((status = 200, body = SnoozeView), (status = 404, description = "No such snooze")))]
pub async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SnoozeView>, ApiError> {
    let snooze = app.snoozes.revoke(&id, &caller.actor()).await?;
    Ok(Json(snooze.into()))
}
