//! Small SVG charts drawn by the server: stacked bars per day and horizontal gauges against a
//! target. No script, no library: a reviewer's browser draws what the page says.

use maud::{Markup, html};

/// One stacked bar's parts: (label, value, colour).
pub type Stack<'a> = Vec<(&'a str, f64, &'a str)>;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 36.0;
const BOTTOM: f64 = 22.0;

/// Stacked bars, one per `(x label, parts)`, scaled to the tallest.
pub fn stacked_bars(id: &str, bars: &[(String, Stack<'_>)]) -> Markup {
    let tallest = bars
        .iter()
        .map(|(_, parts)| parts.iter().map(|p| p.1).sum::<f64>())
        .fold(0.0, f64::max)
        .max(1.0);
    let plot = HEIGHT - BOTTOM;
    let step = (WIDTH - LEFT) / bars.len().max(1) as f64;
    let bar = (step * 0.7).max(2.0);
    html! {
        svg id=(id) viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } width="100%" role="img" {
            line.axis x1=(LEFT) y1=(plot) x2=(WIDTH) y2=(plot) {}
            text x="0" y="10" { (format!("{tallest:.0}")) }
            text x="0" y=(plot) { "0" }
            @for (i, (label, parts)) in bars.iter().enumerate() {
                @let x = LEFT + step * i as f64 + (step - bar) / 2.0;
                @let mut top = plot;
                @for (name, value, colour) in parts {
                    @let h = plot * value / tallest;
                    @let y = { top -= h; top };
                    rect x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(format!("{bar:.1}"))
                        height=(format!("{h:.1}")) fill=(colour) { title { (label) ": " (value) " " (name) } }
                }
                text x=(format!("{:.1}", x)) y=(HEIGHT - 6.0) { (label) }
            }
        }
    }
}

/// A horizontal gauge of `value` on `0..max`, with a dashed line at `target` when given.
pub fn gauge(id: &str, value: f64, max: f64, target: Option<f64>, colour: &str) -> Markup {
    let w = 300.0;
    let scale = |x: f64| (x / max.max(1e-9)).clamp(0.0, 1.0) * w;
    html! {
        svg id=(id) viewBox="0 0 300 18" width="300" height="18" role="img" {
            rect x="0" y="3" width="300" height="12" fill="#eef2fb" {}
            rect x="0" y="3" width=(format!("{:.1}", scale(value))) height="12" fill=(colour) {}
            @if let Some(t) = target {
                line.sla x1=(format!("{:.1}", scale(t))) y1="0" x2=(format!("{:.1}", scale(t))) y2="18" {}
            }
        }
    }
}
