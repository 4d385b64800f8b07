//! Query-string and path extractors whose refusals are problem+json naming the parameter.
//! axum's own `Query` and `Path` answer `text/plain`; handlers use these instead, with the
//! same shape (`Query(q): Query<T>`, `Path(id): Path<String>`).

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::http::problem::ApiError;

/// The query string deserialised into `T`; a refusal is 400 `invalid_query` naming the
/// parameter (a value that does not parse, a repeated or a missing parameter).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

/// Deserialises a query string, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name.contains('\0') || value.contains('\0') {
            return Err(ApiError::InvalidQuery {
                param: name.replace('\0', "\\u0000"),
                message: NUL.to_owned(),
            });
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = e.inner().to_string();
        let path = e.path().to_string();
        let param = if path == "." {
            // Missing and duplicate fields fail at the top: the name is in the message.
            backticked(&message).unwrap_or("query string").to_owned()
        } else {
            path
        };
        ApiError::InvalidQuery { param, message }
    })
}

/// Why a parameter holding a NUL character is refused. No stored text can hold one
/// (PostgreSQL refuses it), so it could only fail deeper, as a 500.
const NUL: &str = "must not contain the NUL character (\\u0000)";

/// The first `` `name` `` in a serde message.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// A page size: `default` when absent, refused naming `param` outside `range`.
pub fn page_size(
    param: &str,
    value: Option<u32>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ApiError> {
    let n = value.unwrap_or(default);
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(ApiError::InvalidQuery {
            param: param.to_owned(),
            message: format!("must be from {} to {}, got {n}", range.start(), range.end()),
        })
    }
}

/// Path parameters deserialised into `T`; a refusal is 400 `invalid_path` naming the
/// parameter (a segment that is not UTF-8 once percent-decoded, or not of the right type).
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await
            && let Some((key, _)) = raw.iter().find(|(_, value)| value.contains('\0'))
        {
            return Err(ApiError::InvalidPath {
                param: key.to_owned(),
                message: NUL.to_owned(),
            });
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let message = e.kind().to_string();
                let param = match e.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key }
                    | ErrorKind::DeserializeError { key, .. } => key.clone(),
                    // The route and the extracted type disagree: our bug, not the caller's.
                    ErrorKind::WrongNumberOfParameters { .. }
                    | ErrorKind::UnsupportedType { .. } => {
                        return Err(ApiError::Internal(message));
                    }
                    _ => "path".to_owned(),
                };
                Err(ApiError::InvalidPath { param, message })
            }
            Err(other) => Err(ApiError::Internal(other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Q {
        #[expect(dead_code, reason = "only its parsing is tested")]
        limit: Option<u32>,
        #[expect(dead_code, reason = "only its parsing is tested")]
        decision_id: String,
    }

    fn param(query: &str) -> String {
        match parse_query::<Q>(query) {
            Err(ApiError::InvalidQuery { param, .. }) => param,
            other => panic!("{query}: expected a refusal, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn each_refusal_names_its_parameter() {
        assert_eq!(param("decision_id=d&limit=-1"), "limit");
        assert_eq!(param("decision_id=d&limit=99999999999"), "limit");
        assert_eq!(param("limit=5"), "decision_id");
        assert_eq!(param("decision_id=a&decision_id=b"), "decision_id");
        assert!(parse_query::<Q>("decision_id=d&limit=5&other=x").is_ok());
        assert_eq!(param("decision_id=a%00b"), "decision_id");
        assert_eq!(param("decision_id=d&other=%00"), "other");
    }
}
