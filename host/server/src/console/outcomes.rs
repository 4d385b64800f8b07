//! The outcomes page: the outcome report of the last 30 days drawn as charts — intercept and
//! false-positive rates, review turnaround p50/p95 against the SLA, and decisions by action
//! for each of the last 14 days — from the same report service `GET /v1/reports/outcomes`
//! answers with.

use axum::extract::State;
use chrono::Utc;
use maud::{Markup, html};

use crate::app_state::AppState;
use crate::console::charts::{gauge, stacked_bars};
use crate::console::errors::PageError;
use crate::console::layout;
use crate::console::session::Reviewer;

/// Days drawn in the per-day chart.
const DAYS: i64 = 14;

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |x| format!("{:.1} %", x * 100.0))
}

fn minutes(secs: Option<f64>) -> String {
    secs.map_or_else(|| "—".to_owned(), |s| format!("{:.1} min", s / 60.0))
}

pub async fn page(State(app): State<AppState>, reviewer: Reviewer) -> Result<Markup, PageError> {
    let report = app.reports.outcomes(None, None, None).await?;
    let days = app.reports.daily(Utc::now(), DAYS).await?;
    let sla_secs = app.reviews.sla().num_seconds() as f64;
    let t = &report.review_turnaround;
    let slowest = t.p95_secs.unwrap_or(0.0).max(sla_secs) * 1.2;
    let bars: Vec<_> = days
        .iter()
        .map(|(day, c)| {
            (
                day.format("%d %b").to_string(),
                vec![
                    ("accept", c.accept as f64, "#1e8449"),
                    ("challenge", c.challenge as f64, "#b9770e"),
                    ("reject", c.reject as f64, "#c0392b"),
                ],
            )
        })
        .collect();
    let body = html! {
        h1 { "Outcomes " span.muted { "last 30 days" } }
        div.grid {
            div.card {
                h2 { "Rates" }
                table {
                    tr { td { "Intercept rate" } td.num #intercept { (percent(report.intercept_rate)) }
                         td { (gauge("intercept-gauge", report.intercept_rate.unwrap_or(0.0), 1.0, None, "#2f5bd3")) } }
                    tr { td { "False-positive rate" } td.num #false-positives { (percent(report.false_positive_rate)) }
                         td { (gauge("fp-gauge", report.false_positive_rate.unwrap_or(0.0), 1.0, None, "#c0392b")) } }
                    tr { td { "Challenge rate" } td.num { (percent(report.challenge_rate)) } td {} }
                }
                p.muted { "Intercept: fraud caught (challenged or rejected) of all labelled fraud. False positives: legit among the labelled challenged and rejected (" (report.labelled_intercepts) " labelled)." }
            }
            div.card {
                h2 { "Review turnaround" }
                table {
                    tr { td { "p50" } td.num #p50 { (minutes(t.p50_secs)) }
                         td { (gauge("p50-gauge", t.p50_secs.unwrap_or(0.0), slowest, Some(sla_secs), "#16a085")) } }
                    tr { td { "p95" } td.num #p95 { (minutes(t.p95_secs)) }
                         td { (gauge("p95-gauge", t.p95_secs.unwrap_or(0.0), slowest, Some(sla_secs), "#b9770e")) } }
                }
                p.muted { (t.resolved) " reviews resolved; the dashed line is the " (sla_secs / 60.0) " min SLA." }
            }
        }
        div.card {
            h2 { "Decisions by action per day" }
            (stacked_bars("daily", &bars))
            p.legend { span { span.swatch style="background:#1e8449" {} "accept" }
                       span { span.swatch style="background:#b9770e" {} "challenge" }
                       span { span.swatch style="background:#c0392b" {} "reject" } }
            p.muted { (report.decisions.accept + report.decisions.challenge + report.decisions.reject)
                " decisions in 30 days; " (report.fraud_caught.count) " fraud caught, " (report.fraud_missed.count) " missed." }
        }
    };
    Ok(layout::page("Outcomes", &reviewer, body))
}
