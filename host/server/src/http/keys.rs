//! `/v1/keys`: mint a named API key (its secret shown once), list keys (never a secret or a
//! hash), revoke one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::keys::ApiKey;
use arbiter_engine::store::KeyRevocation;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::names;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::services::keys::NewKeyRequest;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// What the key is for (who holds it), 1–100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
        example = "checkout eu-west"
    )]
    pub name: String,
    /// What the key may do (see the README's table of scopes).
    #[schema(schema_with = names::scopes)]
    pub scopes: Vec<String>,
    /// When the key stops working; must be in the future. Absent: never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key as listed: its record, never its secret or hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// The id of the key that minted it, `bootstrap` (the first admin key) or `cli`.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// To the second; written in batches, so up to a few seconds behind.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiKey> for KeyView {
    fn from(k: &ApiKey) -> Self {
        KeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_by: k.created_by.clone(),
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub record: KeyView,
    /// The secret: returned once, stored only as a hash.
    pub key: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevokedKey {
    #[serde(flatten)]
    pub record: KeyView,
    /// `true` when the key was revoked before this call (its `revoked_at` is that first
    /// revocation's) and nothing changed.
    pub already_revoked: bool,
}

impl From<KeyRevocation> for RevokedKey {
    fn from(r: KeyRevocation) -> Self {
        let (key, already_revoked) = match r {
            KeyRevocation::Revoked(k) => (k, false),
            KeyRevocation::AlreadyRevoked(k) => (k, true),
        };
        RevokedKey {
            record: KeyView::from(&key),
            already_revoked,
        }
    }
}

/// Mint a key; its secret is in this answer only.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = CreateKey,
    responses((status = 201, body = CreatedKey),
        (status = 422, description = "Invalid field: an empty or over-long name (`too_long`), an unknown scope, an expiry not in the future")))]
pub async fn create_key(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let request = NewKeyRequest {
        name: body.name,
        scopes: body.scopes,
        expires_at: body.expires_at,
    };
    let new = app.keys.create(request, &caller.actor()).await?;
    tracing::info!(key_id = %new.record.id, by = %caller.key_id(), "api key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            record: KeyView::from(&new.record),
            key: new.secret,
        }),
    ))
}

/// Every key, oldest first, revoked and expired ones included.
#[utoipa::path(get, path = "/v1/keys", tag = "keys",
    responses((status = 200, body = Vec<KeyView>)))]
pub async fn list_keys(
    State(app): State<AppState>,
    _: Caller,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    let all = app.keys.list().await?;
    Ok(Json(all.iter().map(KeyView::from).collect()))
}

/// Revoke a key: every replica refuses it from now on. Revoking it again answers it as
/// already revoked.
#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys", params(("id" = String, Path)),
    responses((status = 200, body = RevokedKey), (status = 404, description = "No such key"),
        (status = 409, description = "The key presented is the one to revoke (`conflict`): a key \
            is revoked by another, or from the command line")))]
pub async fn revoke_key(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RevokedKey>, ApiError> {
    let revocation = app.keys.revoke(&id, &caller.actor()).await?;
    tracing::info!(key_id = %id, by = %caller.key_id(), "api key revoked");
    Ok(Json(revocation.into()))
}
