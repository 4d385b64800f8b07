//! `GET /v1/graph/entities/{kind}/{value}`: what a reviewer needs to see why a decision
//! flagged a ring — the entity, its neighbourhood to depth 2 (capped), its group, its marks.

use axum::Json;
use axum::extract::State;
use utoipa::ToSchema;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::Path;
use crate::http::problem::ApiError;

/// The kinds of entity the graph links, as the path names them.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(
    dead_code,
    reason = "only its schema is used: the graph parses the kind itself"
)]
pub enum EntityKind {
    User,
    Device,
    Card,
    Email,
    Phone,
    Address,
    Ip,
}

/// One entity of the link graph and its neighbourhood.
#[utoipa::path(get, path = "/v1/graph/entities/{kind}/{value}", operation_id = "get_graph_entity", tag = "graph",
    params(("kind" = inline(EntityKind), Path, description = "The kind of entity"),
           ("value" = String, Path, description = "the value as sent in decisions (addresses: as written, or their hash)")),
    responses((status = 200, description = "The entity view", body = Object),
        (status = 404, description = "The graph has not seen it"),
        (status = 400, description = "Unknown kind (`invalid_path`)")))]
pub async fn entity(
    State(app): State<AppState>,
    _: Caller,
    Path((kind, value)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let view = app
        .graph
        .entity(&kind, &value)
        .map_err(|message| ApiError::InvalidPath {
            param: "kind".into(),
            message,
        })?
        .ok_or(ApiError::NotFound {
            what: "graph entity",
            id: format!("{kind}:{value}"),
        })?;
    serde_json::to_value(view)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_kinds_are_the_graphs() {
        let schema = serde_json::to_value(<EntityKind as utoipa::PartialSchema>::schema())
            .expect("schema serialises");
        let graph: Vec<&str> = arbiter_graph::EntityKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(schema["enum"], serde_json::json!(graph));
    }
}
