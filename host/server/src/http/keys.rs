//! `POST /v1/keys`: mint an API key (shown once).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::problem::ApiError;
use crate::services::keys::parse_scopes;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Any of `decide`, `policy:write`, `label:write`, `admin`.
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedKey {
    pub id: String,
    /// The secret: returned once, stored only as a hash.
    pub key: String,
    pub scopes: Vec<String>,
}

#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = CreateKey,
    responses((status = 201, body = CreatedKey), (status = 422, description = "Unknown scope")))]
pub async fn create_key(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let new = app.keys.create(parse_scopes(&body.scopes)?).await?;
    tracing::info!(key_id = %new.record.id, by = %caller.key_id(), "api key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            id: new.record.id,
            key: new.secret,
            scopes: new
                .record
                .scopes
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        }),
    ))
}
