//! Sign-in and sign-out. A reviewer pastes an API key holding `review` once; it is exchanged
//! for a session cookie and never stored in the browser. The sign-in form needs no CSRF
//! token (it has no session to ride on, and a forged one could only sign the forger in);
//! sign-out does.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::app_state::AppState;
use crate::console::errors::PageError;
use crate::console::layout;
use crate::console::session::{CsrfForm, Reviewer, cookie_secret, set_cookie};
use crate::services::console_sessions::SignInError;

fn form(error: Option<&str>) -> Markup {
    layout::bare(
        "Sign in",
        html! {
            div.card.signin {
                h1 { "Reviewer console" }
                @if let Some(e) = error { div.flash.error { (e) } }
                form method="post" action="/console/sign-in" {
                    label { "API key (scope review)"
                        input type="password" name="key" autocomplete="off" required autofocus;
                    }
                    p { button.primary type="submit" { "Sign in" } }
                }
                p.muted { "The key is exchanged for a session cookie and not kept in the browser." }
            }
        },
    )
}

pub async fn page() -> Markup {
    form(None)
}

#[derive(Deserialize)]
pub struct SignInForm {
    key: String,
}

pub async fn submit(
    State(app): State<AppState>,
    Form(f): Form<SignInForm>,
) -> Result<Response, PageError> {
    match app.console.sign_in(&f.key).await {
        Ok((secret, _session)) => {
            let max_age = app.console.ttl().num_seconds();
            let cookie = set_cookie(Some(&secret), max_age, app.console_secure_cookie);
            Ok((cookie, Redirect::to("/console/queue")).into_response())
        }
        Err(e @ (SignInError::UnknownKey | SignInError::NotAReviewer)) => {
            Ok((StatusCode::UNAUTHORIZED, form(Some(&e.to_string()))).into_response())
        }
        Err(SignInError::Store(e)) => Err(e.into()),
    }
}

pub async fn sign_out(
    State(app): State<AppState>,
    reviewer: Reviewer,
    headers: axum::http::HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if let Err(refused) = reviewer.check_csrf(&f.csrf) {
        return Ok(refused);
    }
    if let Some(secret) = cookie_secret(&headers) {
        app.console.sign_out(&secret).await?;
    }
    let cookie = set_cookie(None, 0, app.console_secure_cookie);
    Ok((cookie, Redirect::to("/console/sign-in")).into_response())
}
