//! `GET /v1/audit`: who changed which key, list, module, policy set, rollout, model, review or
//! label, and when. Each entry was written in the transaction of the change it records.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_engine::audit::{AuditEntry, AuditFilter, action};
use arbiter_engine::clock::storable;

use crate::app_state::AppState;
use crate::http::names;
use crate::http::params::{Query, page_size};
use crate::http::problem::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries by the key with this name (`system`, `bootstrap` or `cli` for the service
    /// itself and the command line).
    pub actor: Option<String>,
    /// Entries of this kind of change.
    #[param(schema_with = names::audit_action)]
    pub action: Option<String>,
    /// Entries about this object, e.g. `geo@3`, `policy_set@4`, `rollout@2`, a key, list
    /// entry, review or label id.
    pub target: Option<String>,
    /// Entries at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Entries before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// The `next` of the previous page: entries older than it.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// At most this many entries (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The acting key's name, or `system`, `bootstrap`, `cli`.
    pub actor: String,
    /// The acting key's id (names need not be unique), or `system`, `bootstrap`, `cli`.
    pub actor_id: String,
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            id: e.id,
            at: e.at,
            actor: e.actor,
            actor_id: e.actor_id,
            action: e.action,
            target: e.target,
            detail: e.detail,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<i64>,
}

/// The audit log, newest first, filtered and paged.
#[utoipa::path(get, path = "/v1/audit", operation_id = "list_audit", tag = "policies", params(AuditQuery),
    responses((status = 200, body = AuditPage),
        (status = 400, description = "A parameter is invalid: `limit`, `before`, an unknown \
            `action`, a time that does not parse or lies outside years 1 to 9999, or `from` not \
            before `to` (`invalid_query`)")))]
pub async fn list(
    State(app): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = page_size("limit", q.limit, 100, 1..=500)?;
    let filter = filter(q)?;
    let entries = app.store.list_audit(&filter, limit).await?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditPage {
        items: entries.into_iter().map(AuditView::from).collect(),
        next,
    }))
}

/// The store's filter for a query, refusing what could match nothing by mistake.
fn filter(q: AuditQuery) -> Result<AuditFilter, ApiError> {
    let refuse = |param: &str, message: String| ApiError::InvalidQuery {
        param: param.to_owned(),
        message,
    };
    if let Some(a) = &q.action
        && !action::ALL.contains(&a.as_str())
    {
        let known = action::ALL.join(", ");
        return Err(refuse(
            "action",
            format!("unknown action `{a}` (one of: {known})"),
        ));
    }
    if q.before.is_some_and(|b| b < 1) {
        return Err(refuse("before", "must be at least 1".into()));
    }
    for (param, at) in [("from", q.from), ("to", q.to)] {
        if let Some(at) = at
            && !storable(at)
        {
            return Err(refuse(param, format!("`{at}` is outside years 1 to 9999")));
        }
    }
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from >= to
    {
        return Err(refuse("to", "must be after `from`".into()));
    }
    Ok(AuditFilter {
        actor: q.actor,
        action: q.action,
        target: q.target,
        from: q.from,
        to: q.to,
        before_id: q.before,
    })
}
