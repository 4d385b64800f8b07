//! Who is signed in to the console: the session cookie, read into a [`Reviewer`] before a
//! page handler runs (a request without a live session is sent to the sign-in page), and the
//! CSRF check every form post makes against that session.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};

use arbiter_engine::audit::Actor;
use arbiter_engine::keys::hash_secret;

use crate::app_state::AppState;
use crate::console::errors::{PageError, csrf_refused};
use crate::services::console_sessions::SignedIn;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "arbiter_console";

/// A form that carries nothing but the session's CSRF token.
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// The signed-in reviewer of a console request.
pub struct Reviewer(pub SignedIn);

impl Reviewer {
    /// The reviewer's name: the key's, on every resolution.
    pub fn name(&self) -> &str {
        &self.0.key.name
    }

    pub fn actor(&self) -> Actor {
        Actor::key(&self.0.key)
    }

    /// The token this session's forms carry.
    pub fn csrf(&self) -> &str {
        &self.0.session.csrf
    }

    /// Refuses a form whose token is not this session's. Compared through their hashes, so the
    /// comparison's time says nothing about the token.
    #[allow(
        clippy::result_large_err,
        reason = "the refusal is the response itself"
    )]
    pub fn check_csrf(&self, sent: &str) -> Result<(), Response> {
        if hash_secret(sent) == hash_secret(self.csrf()) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }
}

/// The session cookie's secret in `headers`, if any.
pub fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_owned())
}

/// The `Set-Cookie` that hands the browser a session (`secret`, for `max_age_secs`), or ends
/// it (`None`): HttpOnly, SameSite=Strict, for `/console` only; `Secure` when the deployment
/// says it is served over HTTPS.
pub fn set_cookie(secret: Option<&str>, max_age_secs: i64, secure: bool) -> (HeaderMap, ()) {
    let cookie = Cookie::build((COOKIE_NAME, secret.unwrap_or("").to_owned()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/console")
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(if secret.is_some() {
            max_age_secs
        } else {
            0
        }))
        .build();
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        headers.insert(SET_COOKIE, v);
    }
    (headers, ())
}

impl FromRequestParts<AppState> for Reviewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let to_sign_in = || Redirect::to("/console/sign-in").into_response();
        let Some(secret) = cookie_secret(&parts.headers) else {
            return Err(to_sign_in());
        };
        match app.console.signed_in(&secret).await {
            Ok(Some(signed_in)) => {
                tracing::Span::current().record("key", signed_in.key.name.as_str());
                Ok(Reviewer(signed_in))
            }
            Ok(None) => Err(to_sign_in()),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}
