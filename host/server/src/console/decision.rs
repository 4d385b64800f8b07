//! One decision's own page: the panels of a case, without its actions, for any decision —
//! where an entity's decision list leads, accepted and rejected ones included. A challenged
//! decision links to its case.

use axum::extract::State;
use maud::{Markup, html};

use arbiter_engine::Action;
use arbiter_engine::feedback::Review;

use crate::app_state::AppState;
use crate::console::decision_cards::Evidence;
use crate::console::errors::PageError;
use crate::console::layout;
use crate::console::session::Reviewer;
use crate::http::params::Path;
use crate::http::problem::ApiError;

pub async fn page(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Path(decision_id): Path<String>,
) -> Result<Markup, PageError> {
    let d = app
        .decisions
        .get(&decision_id)
        .await?
        .ok_or(ApiError::NotFound {
            what: "decision",
            id: decision_id.clone(),
        })?;
    let evidence = Evidence::gather(&app, &d).await?;
    let body = html! {
        h1 {
            "Decision " code { (d.decision_id) } " "
            span class={ "pill " (d.action.as_str()) } { (d.action.as_str()) }
            " " span.muted { (d.created_at.format("%Y-%m-%d %H:%M:%S")) }
        }
        p.actions {
            @if d.action == Action::Challenge {
                a #case href={ "/console/cases/" (Review::id_for(&d.decision_id.0)) } { "Its case →" }
            }
            a href="/console/queue" { "← Queue" }
        }
        div.grid {
            div { (evidence.main(&d)) }
            div { (evidence.side(&d)) }
        }
    };
    Ok(layout::page(
        &format!("Decision {decision_id}"),
        &reviewer,
        body,
    ))
}
