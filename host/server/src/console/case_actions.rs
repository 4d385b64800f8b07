//! What a reviewer does from the case page. Each post checks the session's CSRF token, calls
//! the service the JSON API calls, and sends the browser on: back to the case with what
//! happened, or, after a resolution, to the queue for the next case.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app_state::AppState;
use crate::console::errors::PageError;
use crate::console::session::{CsrfForm, Reviewer};
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::services::feedback::{FeedbackError, ResolveRequest};
use crate::services::snoozes::{NewSnooze, SnoozeError};

/// Back to the case, saying `done` or, for a refusal the reviewer can act on, `error`.
fn to_case(review_id: &str, key: &str, message: &str) -> Response {
    let query = serde_urlencoded::to_string([(key, message)]).unwrap_or_default();
    Redirect::to(&format!("/console/cases/{review_id}?{query}")).into_response()
}

/// A refusal the reviewer can act on (a conflict, an invalid field) goes back to the case as
/// a message; anything else is an error page.
fn refused(review_id: &str, e: FeedbackError) -> Result<Response, PageError> {
    match e {
        FeedbackError::Conflict(_)
        | FeedbackError::Invalid { .. }
        | FeedbackError::TooLong { .. }
        | FeedbackError::NeedsScope(_) => Ok(to_case(review_id, "error", &e.to_string())),
        other => Err(ApiError::from(other).into()),
    }
}

pub async fn claim(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Path(review_id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if let Err(r) = reviewer.check_csrf(&f.csrf) {
        return Ok(r);
    }
    match app.reviews.claim_review(&review_id, &reviewer.0.key).await {
        Ok(_) => Ok(to_case(
            &review_id,
            "done",
            "The case is yours while you work it.",
        )),
        Err(e) => refused(&review_id, e),
    }
}

pub async fn release(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Path(review_id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if let Err(r) = reviewer.check_csrf(&f.csrf) {
        return Ok(r);
    }
    match app.reviews.release(&review_id, &reviewer.0.key).await {
        Ok(()) => Ok(Redirect::to("/console/queue").into_response()),
        Err(e) => refused(&review_id, e),
    }
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    csrf: String,
    /// `fraud`, `legit`, `account_takeover` or `escalate`.
    verdict: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    supersede: Option<String>,
    /// Present when correcting a resolution.
    #[serde(default)]
    correct: Option<String>,
}

pub async fn resolve(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Path(review_id): Path<String>,
    Form(f): Form<ResolveForm>,
) -> Result<Response, PageError> {
    if let Err(r) = reviewer.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let note = Some(f.note.trim().to_owned()).filter(|n| !n.is_empty());
    if f.verdict == "escalate" {
        return match app
            .reviews
            .escalate(&review_id, note, &reviewer.0.key)
            .await
        {
            Ok(_) => Ok(
                Redirect::to(&format!("/console/queue?escalated=no&done={review_id}"))
                    .into_response(),
            ),
            Err(e) => refused(&review_id, e),
        };
    }
    let outcome = if f.verdict == "legit" {
        "approve"
    } else {
        "reject"
    };
    let request = ResolveRequest {
        outcome: outcome.to_owned(),
        label: f.verdict.clone(),
        reviewer: None,
        note,
        supersede: f.supersede.is_some(),
    };
    let result = if f.correct.is_some() {
        app.reviews
            .correct(&review_id, request, &reviewer.0.key)
            .await
            .map(|_| ())
    } else {
        app.reviews
            .resolve(&review_id, request, &reviewer.actor())
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) if f.correct.is_some() => Ok(to_case(
            &review_id,
            "done",
            &format!("Corrected to {}.", f.verdict),
        )),
        Ok(()) => Ok(Redirect::to(&format!("/console/queue?done={review_id}")).into_response()),
        Err(e) => refused(&review_id, e),
    }
}

#[derive(Deserialize)]
pub struct SnoozeForm {
    #[serde(default)]
    csrf: String,
    rule: String,
    /// `kind:value`.
    entity: String,
    #[serde(default)]
    days: Option<i64>,
    #[serde(default)]
    reason: String,
}

pub async fn snooze(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Path(review_id): Path<String>,
    Form(f): Form<SnoozeForm>,
) -> Result<Response, PageError> {
    if let Err(r) = reviewer.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let (kind, value) = f.entity.split_once(':').unwrap_or(("", ""));
    let new = NewSnooze {
        rule: f.rule,
        kind: kind.to_owned(),
        value: value.to_owned(),
        reason: f.reason,
        days: f.days,
    };
    match app.snoozes.create(new, &reviewer.actor()).await {
        Ok(s) => Ok(to_case(
            &review_id,
            "done",
            &format!(
                "{} is snoozed for {} {} until {}.",
                s.rule,
                s.kind.as_str(),
                value,
                s.expires_at.format("%Y-%m-%d")
            ),
        )),
        Err(e @ SnoozeError::Store(_)) => Err(ApiError::from(e).into()),
        Err(e) => Ok(to_case(&review_id, "error", &e.to_string())),
    }
}
