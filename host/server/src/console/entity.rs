//! One entity's page: its place in the link graph (marks, group, hops to fraud) and its
//! neighbourhood drawn like the case's, so a reviewer can walk from node to node, and the
//! decisions that named it, newest first, each a link to its own page (a walk along the
//! entity's chain of decisions from the newest one this replica knows of).

use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use arbiter_graph::EntityView;

use crate::app_state::AppState;
use crate::console::errors::PageError;
use crate::console::session::Reviewer;
use crate::console::{graph_svg, layout};
use crate::http::entity_decisions::EntityDecisionView;
use crate::http::params::Path;
use crate::services::entity_history::EntityDecisions;

/// Decisions listed per page.
const PAGE: u32 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct Older {
    pub before: Option<String>,
}

pub async fn page(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Path((kind, value)): Path<(String, String)>,
    Query(older): Query<Older>,
) -> Result<Markup, PageError> {
    let decisions = app
        .history
        .decisions(&kind, &value, older.before.as_deref(), PAGE)
        .await?;
    let view = app.graph.entity(&kind, &value).ok().flatten();
    let body = html! {
        h1 { (kind) " " code { (decisions.value) } }
        div.grid {
            div.card {
                @match &view {
                    Some(view) => (graph_svg::draw(view)),
                    None => p.muted { "The link graph holds no links of this entity now." },
                }
            }
            div.card {
                @if let Some(view) = &view { (graph_facts(view)) }
                p { a href="/console/queue" { "← Queue" } }
            }
        }
        (decision_list(&kind, decisions))
    };
    Ok(layout::page(&format!("{kind} {value}"), &reviewer, body))
}

fn graph_facts(view: &EntityView) -> Markup {
    html! {
        dl.facts {
            dt { "Fraud mark" }
            dd { @match &view.fraud_mark {
                Some(m) => { span.pill.fraud { "marked" } " " (m.reason) " (" (m.marked_at.format("%Y-%m-%d")) ")" },
                None => span.muted { "none" },
            } }
            dt { "Hops to fraud" } dd { @match view.hops_to_fraud { Some(h) => (h), None => span.muted { "none within reach" } } }
            dt { "Distinct users" } dd { (view.distinct_users) }
            dt { "Distinct cards" } dd { (view.distinct_cards) }
            dt { "First seen" } dd { (view.first_seen.format("%Y-%m-%d %H:%M")) }
            dt { "Last seen" } dd { (view.last_seen.format("%Y-%m-%d %H:%M")) }
        }
    }
}

fn decision_list(kind: &str, page: EntityDecisions) -> Markup {
    let value = page.value;
    html! {
        div.card #decisions {
            h2 { "Decisions that named it" }
            @if page.items.is_empty() {
                p.muted { "None known on this replica since it started (or since the link graph's window)." }
            } @else {
                table {
                    thead { tr { th { "When" } th { "Checkpoint" } th { "Action" } th.num { "Score" } th.num { "Amount" }
                                 th { "User" } th { "IP / shipping" } } }
                    @for p in page.items.into_iter().map(EntityDecisionView::from) {
                        tr {
                            td { a href={ "/console/decisions/" (p.decision_id) } { (p.created_at.format("%Y-%m-%d %H:%M")) } }
                            td { (p.event) }
                            td { span class={ "pill " (p.action) } { (p.action) } }
                            td.num { (format!("{:.1}", p.score)) }
                            td.num { @if let (Some(a), Some(c)) = (&p.amount, &p.currency) { (a) " " (c) } }
                            td { a href=(graph_svg::href("user", &p.user_id)) { (graph_svg::short(&p.user_id)) } }
                            td { (p.ip_country.as_deref().unwrap_or("?")) " / " (p.shipping_country.as_deref().unwrap_or("?")) }
                        }
                    }
                }
            }
            @if let Some(before) = &page.next_before {
                p { a #older href={ (graph_svg::href(kind, &value)) "?before=" (before) } { "Older →" } }
            }
        }
    }
}
