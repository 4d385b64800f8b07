//! One entity's page: its place in the link graph (marks, group, hops to fraud) and its
//! neighbourhood drawn like the case's, so a reviewer can walk from node to node.

use axum::extract::State;
use maud::{Markup, html};

use crate::app_state::AppState;
use crate::console::errors::PageError;
use crate::console::session::Reviewer;
use crate::console::{graph_svg, layout};
use crate::http::graph::entity_view;
use crate::http::params::Path;

pub async fn page(
    State(app): State<AppState>,
    reviewer: Reviewer,
    Path((kind, value)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let view = entity_view(&app, &kind, &value)?;
    let body = html! {
        h1 { (kind) " " code { (view.entity.value) } }
        div.grid {
            div.card { (graph_svg::draw(&view)) }
            div.card {
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
                p { a href="/console/queue" { "← Queue" } }
            }
        }
    };
    Ok(layout::page(&format!("{kind} {value}"), &reviewer, body))
}
