//! The one place where errors become HTTP status codes: RFC 9457 `application/problem+json`
//! with a stable `code`. 5xx details are logged here, inside the request span, and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;

use arbiter_engine::RequestError;

use crate::metrics::names;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error("field `{field}`: {message}")]
    Invalid {
        code: &'static str,
        field: String,
        message: String,
    },
    /// A field longer than its limit (outside the decision request, whose own errors say so).
    #[error("field `{field}` is longer than {max} characters")]
    TooLong { field: String, max: usize },
    /// A request header that is present but unusable (`400`).
    #[error("header `{header}` {message}")]
    InvalidHeader {
        code: &'static str,
        header: &'static str,
        message: String,
    },
    /// A query parameter that does not parse or is out of range.
    #[error("query parameter `{param}`: {message}")]
    InvalidQuery { param: String, message: String },
    /// A path segment that does not decode (invalid UTF-8, wrong type).
    #[error("path parameter `{param}`: {message}")]
    InvalidPath { param: String, message: String },
    #[error("no route for `{0}`")]
    NoRoute(String),
    #[error("method `{method}` is not allowed on `{path}`")]
    MethodNotAllowed { method: String, path: String },
    #[error("request body exceeds the {limit}-byte limit")]
    PayloadTooLarge { limit: usize },
    #[error("the request body did not arrive within {limit_ms} ms")]
    BodyTimeout { limit_ms: u64 },
    #[error("the server is handling its limit of {limit} requests; retry shortly")]
    InFlightLimit { limit: u32 },
    #[error("{limit} module compilations are already running; retry shortly")]
    CompilationsBusy { limit: u32 },
    #[error("{limit} backtests are already running on this replica; retry when one ends")]
    BacktestsBusy { limit: u32 },
    #[error("missing or invalid API key (send `Authorization: Bearer <key>`)")]
    Unauthorized,
    #[error("this API key lacks the `{0}` scope")]
    Forbidden(&'static str),
    #[error("{what} `{id}` not found")]
    NotFound { what: &'static str, id: String },
    /// A 404 whose detail says more than "x not found" (what to do instead).
    #[error("{0}")]
    Missing(String),
    #[error("request_id `{0}` was already used with a different body")]
    IdempotencyConflict(String),
    #[error("{0}")]
    Conflict(String),
    /// A policy change refused for the live rules' sake unless forced.
    #[error("{0}")]
    UnsafeChange(String),
    /// The deployment's activation rules (a recent backtest, a second key's approval) are
    /// not met.
    #[error("{0}")]
    ActivationGuarded(String),
    /// Training was asked for with too few labels of a class.
    #[error("{0}")]
    TooFewLabels(String),
    #[error("invalid module: {0}")]
    InvalidModule(String),
    /// A rule file that does not compile: every problem with its line and column, and
    /// all of them rendered with the source line and a caret as the detail.
    #[error("{rendered}")]
    InvalidRules {
        rendered: String,
        errors: Vec<arbiter_rules::Located>,
    },
    #[error("expected `Content-Type: {0}`")]
    UnsupportedMediaType(&'static str),
    #[error("the decision log is at capacity; retry shortly")]
    Overloaded,
    #[error("the database is unavailable; retry shortly")]
    Unavailable(String),
    /// A bounded storage queue (the order-write queue) is full; nothing was written.
    #[error("{0}; retry shortly")]
    QueueFull(String),
    #[error("internal error")]
    Internal(String),
    /// A transaction-core refusal: status and code chosen by `From<TxError>` at the end of
    /// this file.
    #[error("{message}")]
    Transaction {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'a str,
    /// Each problem of a rule file, for `invalid_rules`.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [arbiter_rules::Located]>,
}

impl ApiError {
    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Request(RequestError::InvalidJson(_)) => {
                (StatusCode::BAD_REQUEST, "invalid_json")
            }
            ApiError::Request(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.code()),
            ApiError::Invalid { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::InvalidQuery { .. } => (StatusCode::BAD_REQUEST, "invalid_query"),
            ApiError::InvalidPath { .. } => (StatusCode::BAD_REQUEST, "invalid_path"),
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            ApiError::InvalidHeader { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::TooLong { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "too_long"),
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            ApiError::BodyTimeout { .. } => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            ApiError::InFlightLimit { .. } => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::CompilationsBusy { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "compilations_busy")
            }
            // The caller asks for more runs than a replica holds at once: not a server fault.
            ApiError::BacktestsBusy { .. } => (StatusCode::TOO_MANY_REQUESTS, "backtests_busy"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound { .. } | ApiError::Missing(_) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            ApiError::IdempotencyConflict(_) => (StatusCode::CONFLICT, "idempotency_conflict"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::UnsafeChange(_) => (StatusCode::CONFLICT, "unsafe_policy_change"),
            ApiError::ActivationGuarded(_) => (StatusCode::CONFLICT, "activation_guarded"),
            ApiError::TooFewLabels(_) => (StatusCode::CONFLICT, "too_few_labels"),
            ApiError::InvalidModule(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_module"),
            ApiError::InvalidRules { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_rules"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
            ApiError::QueueFull(_) => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::Transaction { status, code, .. } => (*status, code),
        }
    }
}

fn title(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        metrics::counter!(names::REJECTED_REQUESTS_TOTAL, "code" => code).increment(1);
        match &self {
            ApiError::Unavailable(cause) | ApiError::Internal(cause) => {
                tracing::error!(code, cause = %cause, "request failed");
            }
            _ => tracing::debug!(code, "request refused"),
        }
        let body = Problem {
            kind: format!("/problems/{code}"),
            title: title(status),
            status: status.as_u16(),
            detail: self.to_string(),
            code,
            errors: match &self {
                ApiError::InvalidRules { errors, .. } => Some(errors),
                _ => None,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            // A backtest holds its slot for seconds to a minute.
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if status == StatusCode::REQUEST_TIMEOUT {
            // The rest of the body may still be on its way: this connection is done.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl ApiError {
    /// A refusal of a read whose inputs are query parameters: an invalid field is a 400 naming
    /// the parameter (`invalid_query`); anything else maps as usual.
    pub fn from_query(e: impl Into<ApiError>) -> ApiError {
        match e.into() {
            ApiError::Invalid { field, message, .. } => ApiError::InvalidQuery {
                param: field,
                message,
            },
            other => other,
        }
    }

    /// A channel callback refused before anything was read or applied: a bad or stale
    /// signature (`invalid_signature`) or a verified body that is not an event we know
    /// (`malformed_event`). Both 400, so the channel knows this delivery will never apply.
    pub fn refused_callback(reply: arbiter_transactions::payments::WebhookReply) -> ApiError {
        use arbiter_transactions::payment::Verdict;
        let code = match reply.verdict {
            Verdict::Malformed => "malformed_event",
            _ => "invalid_signature",
        };
        ApiError::Transaction {
            status: StatusCode::BAD_REQUEST,
            code,
            message: reply.detail.unwrap_or_else(|| code.replace('_', " ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arbiter_engine::store::StoreError;

    #[test]
    fn a_full_write_queue_is_503_overloaded_with_retry_after() {
        let e = arbiter_transactions::TxError::Store(StoreError::Overloaded(
            "the order-write queue is full".into(),
        ));
        let response = ApiError::from(e).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let headers = response.headers();
        assert_eq!(
            headers.get(header::RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        assert_eq!(
            headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
        assert_eq!(
            ApiError::QueueFull(String::new()).status_and_code(),
            (StatusCode::SERVICE_UNAVAILABLE, "overloaded")
        );
    }
}
