//! `GET /v1/graph/entities/{kind}/{value}`: what a reviewer needs to see why a decision
//! flagged a ring — the entity, its neighbourhood to depth 2 (capped), its group, its marks.

use axum::Json;
use axum::extract::State;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::Path;
use crate::http::problem::ApiError;

/// One entity of the link graph and its neighbourhood.
#[utoipa::path(get, path = "/v1/graph/entities/{kind}/{value}", tag = "graph",
    params(("kind" = String, Path, description = "user, device, card, email, phone, address or ip"),
           ("value" = String, Path, description = "the value as sent in decisions (addresses: as written, or their hash)")),
    responses((status = 200, description = "The entity view", body = Object),
        (status = 404, description = "The graph has not seen it"), (status = 422, description = "Unknown kind")))]
pub async fn entity(
    State(app): State<AppState>,
    _: Caller,
    Path((kind, value)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let view = app
        .graph
        .entity(&kind, &value)
        .map_err(|message| ApiError::Invalid {
            code: "invalid_value",
            field: "kind".into(),
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
