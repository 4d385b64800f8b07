//! `GET /v1/graph/entities/{kind}/{value}`: what a reviewer needs to see why a decision
//! flagged a ring — the entity, its neighbourhood to depth 2 (capped), its group, its marks.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use arbiter_graph::EntityView;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::names;
use crate::http::params::Path;
use crate::http::problem::ApiError;

/// Which entity: the path's two parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EntityPath {
    /// The kind of entity.
    #[param(schema_with = names::entity_kind)]
    pub kind: String,
    /// The value as sent in decisions (addresses: as written, or their hash).
    pub value: String,
}

/// One entity of the link graph and its neighbourhood.
#[utoipa::path(get, path = "/v1/graph/entities/{kind}/{value}", operation_id = "get_graph_entity", tag = "graph",
    params(EntityPath),
    responses((status = 200, description = "The entity view", body = Object),
        (status = 404, description = "The graph has not seen it"),
        (status = 400, description = "Unknown kind (`invalid_path`)")))]
pub async fn entity(
    State(app): State<AppState>,
    _: Caller,
    Path(EntityPath { kind, value }): Path<EntityPath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let view = entity_view(&app, &kind, &value)?;
    serde_json::to_value(view)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The graph's view of one entity: 400 for a kind it does not know, 404 for an entity it has
/// not seen. The console's entity page reads it the same way.
pub fn entity_view(app: &AppState, kind: &str, value: &str) -> Result<EntityView, ApiError> {
    app.graph
        .entity(kind, value)
        .map_err(|message| ApiError::InvalidPath {
            param: "kind".into(),
            message,
        })?
        .ok_or_else(|| ApiError::NotFound {
            what: "graph entity",
            id: format!("{kind}:{value}"),
        })
}
