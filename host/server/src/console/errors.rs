//! A console request that fails gets a page, not problem+json: the API's error with its
//! status, its message for a 4xx, and no detail for a 5xx (that is logged).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::layout;
use crate::http::problem::ApiError;

/// An error rendered as a console page.
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let message = if status.is_server_error() {
            // Logs the cause, as the API would.
            let _ = self.0.into_response();
            "Something went wrong on our side; try again.".to_owned()
        } else {
            self.0.to_string()
        };
        let body = layout::bare(
            "Error",
            html! {
                div.card {
                    h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                    p { (message) }
                    p { a href="/console/queue" { "Back to the queue" } }
                }
            },
        );
        (status, body).into_response()
    }
}

/// A form post whose CSRF token does not match its session.
pub fn csrf_refused() -> Response {
    let body = layout::bare(
        "Refused",
        html! {
            div.card {
                h1 { "403 Forbidden" }
                p { "This form did not come from your console session (missing or wrong CSRF token). Reload the page and try again." }
            }
        },
    );
    (StatusCode::FORBIDDEN, body).into_response()
}
