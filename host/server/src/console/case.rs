//! The case page: everything a reviewer judges a challenged decision by, on one screen — the
//! decision's panels (`decision_cards.rs`) — and the actions (claim here; resolve, escalate
//! and snooze in `case_forms.rs`).

use axum::extract::{Query, State};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use arbiter_engine::feedback::{ReviewPageItem, ReviewStatus};

use crate::app_state::AppState;
use crate::console::decision_cards::Evidence;
use crate::console::errors::PageError;
use crate::console::session::Reviewer;
use crate::console::{case_forms, layout, queue};
use crate::http::params::Path;

/// A message carried to the page after an action (`?done=…` / `?error=…`).
#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    #[serde(default)]
    pub done: String,
    #[serde(default)]
    pub error: String,
}

pub async fn page(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Path(review_id): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Markup, PageError> {
    let item = app.reviews.case(&review_id).await?;
    let evidence = Evidence::gather(&app, &item.decision).await?;
    let body = html! {
        @if !flash.done.is_empty() { div.flash { (flash.done) } }
        @if !flash.error.is_empty() { div.flash.error { (flash.error) } }
        (header(&item, &reviewer, app.reviews.sla()))
        div.grid {
            div { (evidence.main(&item.decision)) }
            div {
                (case_forms::actions_card(&item, &reviewer))
                (evidence.side(&item.decision))
                (case_forms::snooze_card(&item, &reviewer))
            }
        }
    };
    Ok(layout::page(&format!("Case {review_id}"), &reviewer, body))
}

fn header(item: &ReviewPageItem, reviewer: &Reviewer, sla: chrono::Duration) -> Markup {
    let r = &item.review;
    let now = Utc::now();
    let overdue = r.status == ReviewStatus::Open && now - r.opened_at > sla;
    html! {
        h1 {
            "Case " (r.review_id) " "
            span class={ "pill " (r.status.as_str()) } { (r.status.as_str()) }
            " " span.muted { "opened " (queue::age(r.opened_at, now)) " ago" }
            @if overdue { " " span.pill.overdue { "over the " (sla.num_minutes()) " min SLA" } }
        }
        p.actions {
            @match r.live_claim(now) {
                Some(c) if c.key_id == reviewer.0.key.id => {
                    span.pill.legit #held { "held by you until " (c.until.format("%H:%M")) }
                    form method="post" action={ "/console/cases/" (r.review_id) "/release" } {
                        input type="hidden" name="csrf" value=(reviewer.csrf());
                        button type="submit" { "Give back" }
                    }
                }
                Some(c) => span.pill.challenge #held { "held by " (c.reviewer) " until " (c.until.format("%H:%M")) },
                None if r.status == ReviewStatus::Open => {
                    form method="post" action={ "/console/cases/" (r.review_id) "/claim" } {
                        input type="hidden" name="csrf" value=(reviewer.csrf());
                        button.primary type="submit" { "Claim this case" }
                    }
                }
                None => {}
            }
            @if let Some(e) = &r.escalation { span.pill.challenge { "escalated by " (e.by) } }
            a href="/console/queue" { "← Queue" }
        }
    }
}
