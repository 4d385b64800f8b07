//! `GET /v1/graph/entities/{kind}/{value}/decisions`: the decisions that named an entity,
//! newest first — where a reviewer goes from a node of a case's link graph.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_engine::Action;
use arbiter_engine::feedback::Review;
use arbiter_engine::usual::PastDecision;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::graph::EntityPath;
use crate::http::params::{Path, Query, page_size};
use crate::http::problem::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntityDecisionsQuery {
    /// Only decisions older than this one (the previous page's `next_before`): a decision of
    /// this entity, else 404.
    #[param(pattern = "^dec_[0-9a-f]{32}$")]
    pub before: Option<String>,
    /// At most this many: 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// One decision that named the entity.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntityDecisionView {
    pub decision_id: String,
    pub created_at: DateTime<Utc>,
    /// The checkpoint.
    pub event: String,
    pub action: String,
    pub score: f64,
    /// Exact decimal string, with `currency`; absent when the request carried no amount.
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub user_id: String,
    pub device_id: Option<String>,
    pub ip_country: Option<String>,
    pub shipping_country: Option<String>,
    /// The review the decision opened: challenges only.
    pub review_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntityDecisionsPage {
    pub kind: String,
    /// The value decisions key the entity by (normalised; an address: its hash).
    pub value: String,
    pub items: Vec<EntityDecisionView>,
    /// Pass as `before` for the next, older page; absent on the last page.
    pub next_before: Option<String>,
}

impl From<PastDecision> for EntityDecisionView {
    fn from(p: PastDecision) -> Self {
        let c = p.context;
        EntityDecisionView {
            review_id: (p.action == Action::Challenge).then(|| Review::id_for(&p.decision_id)),
            decision_id: p.decision_id,
            created_at: p.created_at,
            event: c.checkpoint.as_str().to_owned(),
            action: p.action.as_str().to_owned(),
            score: p.score,
            currency: c.amount.as_ref().map(|a| a.currency.clone()),
            amount: c.amount.map(|a| a.value),
            user_id: c.user_id,
            device_id: c.device_id,
            ip_country: c.ip_country,
            shipping_country: c.shipping_country,
        }
    }
}

/// The decisions that named one entity, newest first: a walk along the entity's chain of
/// decisions from the newest one this replica knows of (README, "Reviews").
#[utoipa::path(get, path = "/v1/graph/entities/{kind}/{value}/decisions", operation_id = "list_entity_decisions", tag = "graph",
    params(EntityPath, EntityDecisionsQuery),
    responses((status = 200, body = EntityDecisionsPage),
        (status = 400, description = "Unknown kind or invalid value (`invalid_path`), invalid `before` or `limit` (`invalid_query`)"),
        (status = 404, description = "`before` is no decision of this entity")))]
pub async fn list(
    State(app): State<AppState>,
    _: Caller,
    Path(EntityPath { kind, value }): Path<EntityPath>,
    Query(q): Query<EntityDecisionsQuery>,
) -> Result<Json<EntityDecisionsPage>, ApiError> {
    let limit = page_size("limit", q.limit, 25, 1..=100)?;
    let page = app
        .history
        .decisions(&kind, &value, q.before.as_deref(), limit)
        .await?;
    Ok(Json(EntityDecisionsPage {
        kind: page.kind.as_str().to_owned(),
        value: page.value,
        items: page
            .items
            .into_iter()
            .map(EntityDecisionView::from)
            .collect(),
        next_before: page.next_before,
    }))
}
