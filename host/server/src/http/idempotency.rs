//! The `Idempotency-Key` header every mutating transaction call requires: the same key with
//! the same request returns what the first call made; with another request it is a conflict.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use arbiter_transactions::ids::IdempotencyKey;

use crate::http::problem::ApiError;

pub const HEADER: &str = "idempotency-key";

/// Longest accepted key.
pub const MAX_KEY_CHARS: usize = 255;

/// The caller's key, required. A missing key is `422 missing_idempotency_key`; a key that is
/// present but unusable (too long, not visible ASCII, a raw card number: it is stored) is a
/// `400` naming the header.
pub struct IdempotencyKeyHeader(pub IdempotencyKey);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let missing = |message: &str| ApiError::Invalid {
            code: "missing_idempotency_key",
            field: "Idempotency-Key".into(),
            message: message.into(),
        };
        let invalid = |code: &'static str, message: String| ApiError::InvalidHeader {
            code,
            header: "Idempotency-Key",
            message,
        };
        let value = parts
            .headers
            .get(HEADER)
            .ok_or_else(|| missing("this call requires an `Idempotency-Key` header"))?
            .to_str()
            .map_err(|_| invalid("invalid_header", "must be visible ASCII".into()))?
            .trim();
        if value.is_empty() {
            return Err(missing("must not be empty"));
        }
        if value.len() > MAX_KEY_CHARS {
            return Err(invalid(
                "invalid_header",
                format!("is longer than {MAX_KEY_CHARS} characters"),
            ));
        }
        if arbiter_engine::card_scan::contains_card_number(value.as_bytes()) {
            return Err(invalid(
                "raw_card_number",
                "looks like a raw card number; keys are stored".into(),
            ));
        }
        Ok(IdempotencyKeyHeader(IdempotencyKey(value.to_owned())))
    }
}
