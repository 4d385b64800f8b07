//! The snoozes page: every rule snooze in force, newest first, who made it and why, with a
//! button that ends it. The same service `GET` and `DELETE /v1/snoozes` call.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use arbiter_engine::store::SnoozeFilter;

use crate::app_state::AppState;
use crate::console::errors::PageError;
use crate::console::layout;
use crate::console::session::{CsrfForm, Reviewer};
use crate::http::params::Path;

/// Snoozes listed at most.
const SHOWN: u32 = 200;

pub async fn page(State(app): State<AppState>, reviewer: Reviewer) -> Result<Markup, PageError> {
    let snoozes = app
        .snoozes
        .list(SnoozeFilter::default(), false, SHOWN)
        .await?;
    let body = html! {
        h1 { "Rule snoozes " span.pill { (snoozes.len()) " in force" } }
        div.card {
            table #snoozes {
                thead { tr { th { "Rule" } th { "For" } th { "Why" } th { "By" } th { "Until" } th {} } }
                tbody {
                    @for s in &snoozes {
                        tr {
                            td { code { (s.rule) } }
                            td { (s.kind.as_str()) " " (s.value) }
                            td { (s.reason) }
                            td { (s.created_by_name) }
                            td { (s.expires_at.format("%Y-%m-%d %H:%M")) }
                            td {
                                form method="post" action={ "/console/snoozes/" (s.id) "/revoke" } {
                                    input type="hidden" name="csrf" value=(reviewer.csrf());
                                    button type="submit" { "End now" }
                                }
                            }
                        }
                    }
                }
            }
            @if snoozes.is_empty() { p.muted { "No rule is snoozed." } }
        }
    };
    Ok(layout::page("Snoozes", &reviewer, body))
}

pub async fn revoke(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if let Err(refused) = reviewer.check_csrf(&f.csrf) {
        return Ok(refused);
    }
    app.snoozes.revoke(&id, &reviewer.actor()).await?;
    Ok(Redirect::to("/console/snoozes").into_response())
}
