//! The `Idempotency-Key` header every mutating transaction call requires: the same key with
//! the same request returns what the first call made; with another request it is a conflict.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use arbiter_transactions::ids::IdempotencyKey;

use crate::http::problem::ApiError;

pub const HEADER: &str = "idempotency-key";

/// The caller's key, required.
pub struct IdempotencyKeyHeader(pub IdempotencyKey);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let invalid = |message: &str| ApiError::Invalid {
            code: "missing_idempotency_key",
            field: "Idempotency-Key".into(),
            message: message.into(),
        };
        let value = parts
            .headers
            .get(HEADER)
            .ok_or_else(|| invalid("this call requires an `Idempotency-Key` header"))?
            .to_str()
            .map_err(|_| invalid("must be visible ASCII"))?
            .trim();
        if value.is_empty() || value.len() > 255 {
            return Err(invalid("must be 1 to 255 characters"));
        }
        Ok(IdempotencyKeyHeader(IdempotencyKey(value.to_owned())))
    }
}
