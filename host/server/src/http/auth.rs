//! `Authorization: Bearer <key>` authentication and scope checks.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use arbiter_engine::keys::{ApiKey, Scope};

use crate::app_state::AppState;
use crate::http::problem::ApiError;

/// The authenticated caller.
pub struct Caller(pub ApiKey);

impl Caller {
    /// Refuses with 403 unless the key holds `scope` (or `admin`).
    pub fn require(&self, scope: Scope) -> Result<&ApiKey, ApiError> {
        if self.0.allows(scope) {
            Ok(&self.0)
        } else {
            Err(ApiError::Forbidden(scope.as_str()))
        }
    }

    pub fn key_id(&self) -> &str {
        &self.0.id
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
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
        tracing::Span::current().record("key_id", key.id.as_str());
        Ok(Caller(key))
    }
}
