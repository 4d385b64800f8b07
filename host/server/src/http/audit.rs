//! `GET /v1/audit`: who changed which module, set or rollout, and when.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::{Query, page_size};
use crate::http::problem::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// At most this many entries (1 to 500, default 100).
    pub limit: Option<u32>,
    /// Entries with an id below this (paging backwards).
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The API key id that acted, or `system`.
    pub actor: String,
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/v1/audit", tag = "policies", params(AuditQuery),
    responses((status = 200, body = Vec<AuditView>),
        (status = 400, description = "`limit` or `before` invalid (`invalid_query`)")))]
pub async fn list(
    State(app): State<AppState>,
    _: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    let limit = page_size("limit", q.limit, 100, 1..=500)?;
    let entries = app.policies.audit(limit, q.before).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditView {
                id: e.id,
                at: e.at,
                actor: e.actor,
                action: e.action,
                target: e.target,
                detail: e.detail,
            })
            .collect(),
    ))
}
