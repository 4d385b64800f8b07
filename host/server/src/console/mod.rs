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
mod entity;
mod errors;
mod graph_svg;
mod layout;
mod outcomes;
mod queue;
pub mod session;
mod sign_in;
mod snoozes;

use axum::Router;
use axum::response::Redirect;
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
        .route("/console/entities/{kind}/{value}", get(entity::page))
        .route("/console/outcomes", get(outcomes::page))
        .route("/console/snoozes", get(snoozes::page))
        .route("/console/snoozes/{id}/revoke", post(snoozes::revoke))
        .route("/console/assets/console.css", get(assets::css))
        .route("/console/assets/console.js", get(assets::js))
}
