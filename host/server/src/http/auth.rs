//! `Authorization: Bearer <key>` authentication. Which scopes a route needs is not decided
//! here but in the access table (`access`), whose layer authenticates the key once and hands
//! it to the handler as [`Caller`].

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use arbiter_engine::audit::Actor;
use arbiter_engine::keys::{ApiKey, Scope};

use crate::app_state::AppState;
use crate::http::problem::ApiError;

/// The authenticated caller, its scopes already checked by the access layer. The record is the
/// key index's own, shared, not copied per request.
#[derive(Clone)]
pub struct Caller(pub Arc<ApiKey>);

impl Caller {
    pub fn key_id(&self) -> &str {
        &self.0.id
    }

    /// Who the audit log names for a change this caller makes.
    pub fn actor(&self) -> Actor {
        Actor::key(&self.0)
    }

    /// Refuses with 403 unless the key also holds `scope`: for the few routes where one
    /// parameter asks for more than the route's scopes in the access table (say, resolved
    /// reviews, which are for admins).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(scope.as_str()))
        }
    }

    /// The key presented in `headers`, if it is a known one, neither revoked nor expired: 401
    /// otherwise.
    pub async fn authenticate(headers: &HeaderMap, state: &AppState) -> Result<Caller, ApiError> {
        let secret = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let key = state
            .keys
            .authenticate(secret)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        tracing::Span::current().record("key", key.name.as_str());
        Ok(Caller(key))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// The key the access layer authenticated. A handler asking for a caller on a route the
    /// table does not guard with a key is a wiring mistake, answered 401 rather than served.
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}
