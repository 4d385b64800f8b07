//! Body extractors whose failures are problem+json: a raw bounded body (the card scan needs
//! the raw bytes) and JSON that names the field at fault.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use arbiter_engine::RequestError;
use arbiter_engine::json_numbers::integral_as_integer;
use serde::Deserialize;

use crate::http::MAX_BODY_BYTES;
use crate::http::problem::ApiError;

/// The raw request body, at most [`MAX_BODY_BYTES`].
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let too_large = ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        };
        let declared = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(too_large);
        }
        axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map(RawBody)
            .map_err(|_| too_large)
    }
}

/// The body of an upload that must carry `content_type` and stay within `limit` bytes (a
/// policy module, a chargeback file).
pub async fn typed_upload(
    req: Request,
    content_type: &'static str,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let sent = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !sent.starts_with(content_type) {
        return Err(ApiError::UnsupportedMediaType(content_type));
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit })
}

/// A JSON body deserialised with the failing field's path in the error. Before anything reads
/// it, the body is screened (no raw card number in any string, key or number even behind a
/// JSON escape, no NUL character: PostgreSQL text cannot hold one); after the value, only
/// whitespace may follow.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// An optional JSON body: none at all, only whitespace, or JSON `null` is `None`; anything
/// else is read and screened as [`JsonBody`] reads it.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(None));
        }
        parse_json(&bytes).map(OptionalJsonBody)
    }
}

/// Screens, parses and deserialises a JSON body (see [`JsonBody`]).
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    arbiter_engine::screen::screen_json(bytes)?;
    let invalid_json = |e: serde_json::Error| RequestError::InvalidJson(e.to_string());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut value = serde_json::Value::deserialize(&mut de).map_err(invalid_json)?;
    // `{"scopes":["decide"]}garbage` is not a JSON body.
    de.end().map_err(invalid_json)?;
    // Every body is an object (or `null` for an optional one, which a required body refuses
    // as a struct): serde would otherwise read an array positionally into a struct
    // (`[null, null, null]` as a body of three optional fields).
    if !(value.is_object() || value.is_null()) {
        return Err(ApiError::Invalid {
            code: "invalid_value",
            field: ".".into(),
            message: "the body must be a JSON object".into(),
        });
    }
    integral_as_integer(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let message = e.inner().to_string();
        let field = missing_field(&e.path().to_string(), &message);
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        ApiError::Invalid {
            code: "invalid_value",
            field,
            message,
        }
    })
}

/// The field a refusal names: serde reports a missing field at its parent (`.` at the top),
/// with the name only in the message, so it is appended here (`items[0].sku`, not `items[0]`).
fn missing_field(path: &str, message: &str) -> String {
    match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
    {
        Some((name, _)) if path == "." => name.to_owned(),
        Some((name, _)) => format!("{path}.{name}"),
        None => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{missing_field, parse_json};

    #[test]
    fn an_array_is_not_read_into_a_struct() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Filter {
            checkpoint: Option<String>,
            escalated: Option<bool>,
        }
        let refused = parse_json::<Filter>(b"[null, null]").expect_err("refused");
        assert!(refused.to_string().contains("JSON object"), "{refused}");
        assert!(parse_json::<Filter>(br#"{"escalated": true}"#).is_ok());
        assert!(
            parse_json::<Option<Filter>>(b"null")
                .expect("none")
                .is_none()
        );
    }

    #[test]
    fn a_missing_field_is_named_with_its_parent() {
        assert_eq!(missing_field(".", "missing field `name`"), "name");
        assert_eq!(
            missing_field("items[0]", "missing field `sku`"),
            "items[0].sku"
        );
        assert_eq!(
            missing_field("scopes[0]", "invalid type: integer"),
            "scopes[0]"
        );
    }
}
