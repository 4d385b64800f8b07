//! The queue page: open reviews oldest first with each case's age against the SLA, who holds
//! it, its latest label; filters by checkpoint, reason and escalation; and "next", which
//! claims the oldest case no one holds and opens it.

use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::feedback::ReviewPageItem;

use crate::app_state::AppState;
use crate::console::errors::PageError;
use crate::console::layout;
use crate::console::session::Reviewer;
use crate::services::feedback::QueueRequest;

/// Cases per page.
const PAGE: u32 = 50;

/// The queue's filters, as the filter form and the "next" form send them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub checkpoint: String,
    #[serde(default)]
    pub reason: String,
    /// `""` any, `yes` escalated only, `no` not escalated.
    #[serde(default)]
    pub escalated: String,
    #[serde(default)]
    pub after: String,
    /// Set after "next" found nothing.
    #[serde(default)]
    pub empty: String,
    /// The review just resolved or escalated, to say so.
    #[serde(default)]
    pub done: String,
}

impl Filters {
    fn request(&self) -> QueueRequest<'_> {
        fn some(s: &str) -> Option<&str> {
            Some(s.trim()).filter(|s| !s.is_empty())
        }
        QueueRequest {
            status: Some("open"),
            checkpoint: some(&self.checkpoint),
            reason: some(&self.reason),
            escalated: match self.escalated.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            after: some(&self.after),
            limit: PAGE,
        }
    }

    /// The filters as a query string, for links that keep them.
    fn query(&self) -> String {
        let pairs = [
            ("checkpoint", &self.checkpoint),
            ("reason", &self.reason),
            ("escalated", &self.escalated),
        ];
        serde_urlencoded::to_string(
            pairs
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    }
}

/// "4 min", "2 h 5 min", "3 d".
pub fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let mins = (now - since).num_minutes().max(0);
    match mins {
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

pub async fn page(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Query(f): Query<Filters>,
) -> Result<Markup, PageError> {
    let queue = app
        .reviews
        .queue(f.request(), &reviewer.0.key)
        .await
        .map_err(crate::http::problem::ApiError::from_query)?;
    let (now, sla) = (Utc::now(), app.reviews.sla());
    let body = html! {
        h1 { "Review queue " span.pill { (queue.total) " open" } }
        @if !f.empty.is_empty() { div.flash { "Nothing is waiting that matches these filters." } }
        @if !f.done.is_empty() { div.flash #done { "Done with " (f.done) ". " kbd { "n" } " takes the next case." } }
        div.card {
            form.filters method="get" action="/console/queue" {
                label { "Checkpoint"
                    select name="checkpoint" {
                        option value="" { "any" }
                        @for c in Checkpoint::ALL {
                            option value=(c.as_str()) selected[f.checkpoint == c.as_str()] { (c.as_str()) }
                        }
                    }
                }
                label { "Reason code" input name="reason" value=(f.reason) placeholder="geo.mismatch"; }
                label { "Escalated"
                    select name="escalated" {
                        option value="" { "any" }
                        option value="no" selected[f.escalated == "no"] { "not escalated" }
                        option value="yes" selected[f.escalated == "yes"] { "escalated only" }
                    }
                }
                button type="submit" { "Filter" }
            }
        }
        form.actions method="post" action="/console/next" {
            input type="hidden" name="csrf" value=(reviewer.csrf());
            input type="hidden" name="checkpoint" value=(f.checkpoint);
            input type="hidden" name="reason" value=(f.reason);
            input type="hidden" name="escalated" value=(f.escalated);
            button.primary #next type="submit" data-key="n" { "Take the next case " kbd { "n" } }
            span.muted { "SLA " (sla.num_minutes()) " min · cases are held for you while you work them" }
        }
        div.card {
            table #queue {
                thead { tr {
                    th { "Age" } th { "Checkpoint" } th.num { "Amount" } th { "Customer" }
                    th { "Reasons" } th.num { "Score" } th { "Held by" } th { "Label" } th {}
                } }
                tbody {
                    @for item in &queue.items { (row(item, now, sla)) }
                }
            }
            @if queue.items.is_empty() { p.muted { "No open reviews match." } }
            @if let Some(next) = &queue.next {
                p { a href={ "/console/queue?" (f.query()) "&after=" (urlencode(next)) } { "Older cases →" } }
            }
        }
    };
    Ok(layout::page("Queue", &reviewer, body))
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn row(item: &ReviewPageItem, now: DateTime<Utc>, sla: chrono::Duration) -> Markup {
    let r = &item.review;
    let d = &item.decision;
    let overdue = now - r.opened_at > sla;
    let mut codes: Vec<&str> = d.reasons.iter().map(|x| x.code.as_str()).collect();
    codes.dedup();
    html! {
        tr.overdue[overdue] data-review=(r.review_id) {
            td { (age(r.opened_at, now)) @if overdue { " " span.pill.overdue { "overdue" } } }
            td { (d.context.checkpoint.as_str()) }
            td.num { @if let Some(a) = &d.context.amount { (a.value) " " (a.currency) } }
            td { (d.context.user_id) br; span.muted { (d.context.email.as_deref().unwrap_or("")) } }
            td { @for c in codes.iter().take(4) { span.pill { (c) } " " } }
            td.num { (format!("{:.1}", d.score)) }
            td { @if let Some(c) = r.live_claim(now) { (c.reviewer) } @else { span.muted { "—" } }
                 @if r.escalation.is_some() { " " span.pill.challenge { "escalated" } } }
            td { @if let Some(l) = item.latest_label { span class={ "pill " (l.kind.as_str()) } { (l.kind.as_str()) } } }
            td { a href={ "/console/cases/" (r.review_id) } { "Open" } }
        }
    }
}

#[derive(Deserialize)]
pub struct NextForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    filters: Filters,
}

/// Claims the oldest open case the filters admit and opens it; back to the queue when
/// nothing is waiting.
pub async fn next(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Form(form): Form<NextForm>,
) -> Result<Response, PageError> {
    if let Err(refused) = reviewer.check_csrf(&form.csrf) {
        return Ok(refused);
    }
    let claimed = app
        .reviews
        .claim_next(form.filters.request(), &reviewer.0.key)
        .await?;
    Ok(match claimed {
        Some(item) => Redirect::to(&format!("/console/cases/{}", item.review.review_id)),
        None => Redirect::to(&format!("/console/queue?{}&empty=1", form.filters.query())),
    }
    .into_response())
}
