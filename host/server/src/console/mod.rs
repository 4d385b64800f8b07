//! The reviewer console at `/console`: server-rendered pages (maud, checked at compile time)
//! over the same services the JSON API calls, for reviewers who work the challenge queue all
//! day. Sign-in exchanges an API key holding `review` for a session cookie (HttpOnly,
//! SameSite=Strict); every form carries the session's CSRF token. The pages work without
//! JavaScript; `assets/console.js` adds one-key resolutions with a few seconds to undo.
//!
//! It is not part of the API: no OpenAPI document, no bearer keys, and the API's access table
//! does not guard it (the session does, in [`session`]).

mod assets;
mod case;
mod case_actions;
mod case_forms;
mod charts;
mod decision;
mod decision_cards;
mod entity;
mod errors;
mod graph_svg;
mod layout;
mod outcomes;
mod queue;
pub mod session;
mod sign_in;
mod snoozes;
mod usual;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};

use crate::app_state::AppState;

/// Every console route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/queue") }))
        .route("/console/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/queue", get(queue::page))
        .route("/console/next", post(queue::next))
        .route("/console/cases/{review_id}", get(case::page))
        .route(
            "/console/cases/{review_id}/claim",
            post(case_actions::claim),
        )
        .route(
            "/console/cases/{review_id}/release",
            post(case_actions::release),
        )
        .route(
            "/console/cases/{review_id}/resolve",
            post(case_actions::resolve),
        )
        .route(
            "/console/cases/{review_id}/snooze",
            post(case_actions::snooze),
        )
        .route("/console/decisions/{decision_id}", get(decision::page))
        .route("/console/entities/{kind}/{value}", get(entity::page))
        .route("/console/outcomes", get(outcomes::page))
        .route("/console/snoozes", get(snoozes::page))
        .route("/console/snoozes/{id}/revoke", post(snoozes::revoke))
        .route("/console/assets/console.css", get(assets::css))
        .route("/console/assets/console.js", get(assets::js))
        .layer(axum::middleware::map_response(security_headers))
}

/// The content security policy of every console page: scripts, styles, images and form
/// targets from this origin only (the pages' own `style` attributes aside), never framed.
const POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Headers every console response carries: no framing (a one-key action must not be
/// clickjacked), the policy above, no sniffing, and no caching of pages that hold personal
/// data (the assets say their own).
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
