//! The panels that show one decision — the decision and each layer's share of its score,
//! reasons per layer, why the model scored it, the enriched context, velocity beside the
//! entity's usual hour, the customer's usual behaviour and the linked entities — drawn the same
//! on a case page and on a decision's own page. [`Evidence`] gathers what they read besides
//! the decision.

use maud::{Markup, html};

use arbiter_engine::Decision;
use arbiter_engine::decision::Layer;
use arbiter_engine::policy_set::Thresholds;
use arbiter_engine::usual::UsualBehaviour;
use arbiter_engine::velocity::WindowStats;
use arbiter_graph::EntityView;

use crate::app_state::AppState;
use crate::console::errors::PageError;
use crate::console::{graph_svg, usual};
use crate::http::problem::ApiError;
use crate::services::feedback::ModelExplanation;

/// What the panels read besides the decision.
pub struct Evidence {
    explanation: Option<ModelExplanation>,
    thresholds: Option<Thresholds>,
    graph: Option<EntityView>,
    usual: UsualBehaviour,
}

impl Evidence {
    pub async fn gather(app: &AppState, d: &Decision) -> Result<Evidence, PageError> {
        let explanation = app.models.explain(d).await?;
        let thresholds = app
            .store
            .get_policy_set(d.policy_set_version)
            .await
            .map_err(ApiError::from)?
            .map(|set| set.thresholds);
        let graph = app.graph.entity("user", &d.context.user_id).ok().flatten();
        let usual = app.history.usual(d).await?;
        Ok(Evidence {
            explanation,
            thresholds,
            graph,
            usual,
        })
    }

    /// The decision, its reasons, the model's and the context: the page's main column.
    pub fn main(&self, d: &Decision) -> Markup {
        html! {
            (decision_card(d, self.thresholds.as_ref()))
            (reasons_card(d, self.explanation.as_ref()))
            (model_card(self.explanation.as_ref()))
            (context_card(d))
        }
    }

    /// The linked entities, the customer's usual behaviour and velocity: beside the main
    /// column.
    pub fn side(&self, d: &Decision) -> Markup {
        html! {
            div.card #linked {
                h2 { "Linked entities" }
                @match &self.graph {
                    Some(view) => (graph_svg::draw(view)),
                    None => p.muted { "The link graph has not seen this user yet." },
                }
            }
            (usual::card(&d.context.user_id, &self.usual))
            (velocity_card(d))
        }
    }
}

/// Where the score sits among the deciding set's bands, on a scale that ends a quarter past
/// the reject threshold: a score beyond it is drawn at the end and said to be past it, so a
/// 159.5 reads as "well past reject", not as a number to compare with 100.
fn band_gauge(score: f64, t: &Thresholds) -> Markup {
    let end = (t.reject * 1.25).max(1.0);
    let x = |v: f64| (v / end).clamp(0.0, 1.0) * 100.0;
    let (c, r) = (x(t.challenge), x(t.reject));
    let band = t.band(score);
    html! {
        svg #bands viewBox="0 0 100 12" preserveAspectRatio="none" width="100%" height="16" role="img"
            aria-label="The score among the bands" {
            rect x="0" y="3" width=(format!("{c:.2}")) height="6" fill="#dff3e6" {}
            rect x=(format!("{c:.2}")) y="3" width=(format!("{:.2}", r - c)) height="6" fill="#fdf0d9" {}
            rect x=(format!("{r:.2}")) y="3" width=(format!("{:.2}", 100.0 - r)) height="6" fill="#fbe3e0" {}
            rect x=(format!("{:.2}", (x(score) - 0.6).max(0.0))) y="0" width="1.2" height="12" fill="#1d2430" {}
        }
        p.muted {
            "Bands of this set: accept below " (t.challenge) ", challenge from " (t.challenge)
            ", reject from " (t.reject) ". This score is in the " strong { (band.as_str()) } " band"
            @if score >= end { ", well past the reject threshold" } "."
        }
    }
}

fn decision_card(d: &Decision, thresholds: Option<&Thresholds>) -> Markup {
    let parts = d.layers.score_parts;
    let total = parts.map_or(0.0, |p| p.lists + p.rules + p.graph + p.model);
    let share = |x: f64| if total > 0.0 { 100.0 * x / total } else { 0.0 };
    let colours = [
        ("lists", "#8e7cc3"),
        ("rules", "#e67e22"),
        ("graph", "#2f5bd3"),
        ("model", "#16a085"),
    ];
    html! {
        div.card #decision {
            h2 { "Decision" }
            dl.facts {
                dt { "Amount" }
                dd { @if let Some(a) = &d.context.amount {
                        (a.value) " " (a.currency)
                        @if let Some(r) = &a.reporting { " " span.muted { "≈ " (r.value) " " (r.currency) } }
                    } @else { span.muted { "none" } } }
                dt { "Checkpoint" } dd { (d.context.checkpoint.as_str()) }
                dt { "Action" } dd { span class={ "pill " (d.action.as_str()) } { (d.action.as_str()) } }
                dt { "Score" }
                dd { strong #score { (format!("{:.1}", d.score)) } " risk points "
                     span.muted { "(the sum of what each layer added; compared with the set's thresholds)" } }
                dt { "Decided by" } dd { "policy set " (d.policy_set_version)
                    @if let Some(m) = d.model_version { ", model " (m) } }
                dt { "Decision" } dd { code { (d.decision_id) } }
            }
            @if let Some(t) = thresholds { (band_gauge(d.score, t)) }
            @if let Some(p) = parts {
                div.bar #shares title="Each layer's share of the score" {
                    @for (name, colour) in colours {
                        @let x = match name { "lists" => p.lists, "rules" => p.rules, "graph" => p.graph, _ => p.model };
                        @if x > 0.0 { span style={ "width:" (format!("{:.1}", share(x))) "%;background:" (colour) } title=(name) {} }
                    }
                }
                p.legend {
                    @for (name, colour) in colours {
                        @let x = match name { "lists" => p.lists, "rules" => p.rules, "graph" => p.graph, _ => p.model };
                        span { span.swatch style={ "background:" (colour) } {} (name) " " (format!("{x:.1}")) " (" (format!("{:.0}", share(x))) " %)" }
                    }
                }
            }
        }
    }
}

fn layer_name(layer: Layer) -> &'static str {
    match layer {
        Layer::List => "Lists",
        Layer::Rule => "Rules",
        Layer::Graph => "Graph",
        Layer::Model => "Model",
        Layer::Score => "Score bands",
    }
}

fn reasons_card(d: &Decision, explanation: Option<&ModelExplanation>) -> Markup {
    let layers = [Layer::List, Layer::Rule, Layer::Graph, Layer::Score];
    html! {
        div.card #reasons {
            h2 { "Reasons" }
            table {
                @for layer in layers {
                    @for r in d.reasons.iter().filter(|r| r.layer == layer) {
                        tr { td.muted { (layer_name(layer)) } td { code { (r.code) } } td { (r.source) } td { (r.detail.as_deref().unwrap_or("")) } }
                    }
                }
                @if let Some(e) = explanation {
                    tr { td.muted { "Model" } td { code { "model.probability" } } td { "model@" (e.version) }
                         td { (format!("{:.1} %", e.probability * 100.0)) " fraud probability" } }
                }
            }
            @if !d.layers.rules.is_empty() {
                h2 { "Each rule" }
                table {
                    thead { tr { th { "Rule" } th { "Said" } th.num { "Score" } th { "Note" } } }
                    @for m in &d.layers.rules {
                        tr {
                            td { (m.name) "@" (m.version) }
                            td { span class={ "pill " (m.action.as_str()) } { (m.action.as_str()) } }
                            td.num { (format!("{:.1}", m.score)) }
                            td { @if m.snoozed { span.pill { "snoozed" } " " }
                                 @if let Some(f) = &m.fault { span.pill.reject { "fault" } " " (f.message) }
                                 @for r in &m.reasons { code { (r.code) } " " } }
                        }
                    }
                }
            }
        }
    }
}

fn model_card(explanation: Option<&ModelExplanation>) -> Markup {
    let Some(e) = explanation else {
        return html! { div.card #model { h2 { "Why the model scored it" } p.muted { "No model scored this decision." } } };
    };
    let widest = e
        .contributions
        .iter()
        .map(|c| c.contribution.abs())
        .fold(0.0, f64::max)
        .max(1e-9);
    html! {
        div.card #model {
            h2 { "Why the model scored it " span.muted { (format!("{:.1} %", e.probability * 100.0)) } }
            table {
                thead { tr { th { "Feature" } th.num { "Value" } th { "Push (log-odds)" } } }
                @for c in &e.contributions {
                    tr.contribution {
                        td { code { (c.feature) } }
                        td.num { (format!("{:.3}", c.value)) }
                        td {
                            div.bar style="width:100%;max-width:220px" {
                                span style={ "width:" (format!("{:.0}", 100.0 * c.contribution.abs() / widest)) "%;background:"
                                    (if c.contribution > 0.0 { "#c0392b" } else { "#1e8449" }) } {}
                            }
                            (format!("{:+.2}", c.contribution))
                        }
                    }
                }
            }
            p.muted { "Coefficient × standardised value: red pushed towards fraud, green away from it." }
        }
    }
}

fn context_card(d: &Decision) -> Markup {
    let c = &d.context;
    let row = |name: &'static str, v: Option<String>| (name, v);
    let rows = [
        row("User", Some(c.user_id.clone())),
        row(
            "Account age (days)",
            c.account_age_days.map(|x| x.to_string()),
        ),
        row("E-mail", c.email.clone()),
        row("Phone", c.phone.clone()),
        row("Device", c.device_id.clone()),
        row(
            "IP",
            c.ip.clone().map(|ip| {
                format!(
                    "{ip} ({}){}",
                    c.ip_country.as_deref().unwrap_or("?"),
                    if c.is_proxy { ", proxy" } else { "" }
                )
            }),
        ),
        row(
            "Card",
            c.card_bin
                .clone()
                .map(|b| format!("BIN {b}, {}", c.card_country.as_deref().unwrap_or("?"))),
        ),
        row("Card fingerprint", c.card_fingerprint.clone()),
        row("Shipping country", c.shipping_country.clone()),
        row("Order", c.order_id.clone()),
    ];
    html! {
        div.card #context {
            h2 { "Context" }
            dl.facts {
                @for (name, v) in &rows { @if let Some(v) = v { dt { (name) } dd { (v) } } }
                @for (k, v) in &c.attributes { dt { (k) } dd { code { (v) } } }
            }
        }
    }
}

/// Velocity in the hour before the decision beside the entity's usual hour: its average over
/// the 24 hours before (the windows the decision recorded).
fn velocity_card(d: &Decision) -> Markup {
    let v = &d.context.velocity;
    let rows: [(&str, Option<&WindowStats>); 5] = [
        ("user", Some(&v.user)),
        ("device", v.device.as_ref()),
        ("card", v.card.as_ref()),
        ("ip", v.ip.as_ref()),
        ("e-mail", v.email.as_ref()),
    ];
    html! {
        div.card #velocity {
            h2 { "Velocity at decision time" }
            table {
                thead { tr { th { "Entity" } th.num { "Last hour" } th.num { "Usual hour" } th.num { "Amount, last hour" } th.num { "Usual hour" } } }
                @for (name, w) in rows {
                    @if let Some(w) = w {
                        tr.unusual[f64::from(w.count_1h) > 2.0 * f64::from(w.count_24h) / 24.0 + 1.0] {
                            td { (name) }
                            td.num { (w.count_1h) }
                            td.num { (format!("{:.1}", f64::from(w.count_24h) / 24.0)) }
                            td.num { (format!("{:.2}", w.sum_1h)) }
                            td.num { (format!("{:.2}", w.sum_24h / 24.0)) }
                        }
                    }
                }
            }
            p.muted { "Usual hour: the average hour of the 24 hours before the decision." }
        }
    }
}
