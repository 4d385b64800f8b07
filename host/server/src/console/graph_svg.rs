//! The linked-entity view drawn as SVG: the case's user in the centre, the entities it shares
//! with others on a first ring, their other users and entities on a second, fraud-marked ones
//! in red, each node a link to that entity's own view.
//!
//! How it is capped: the graph walk itself stops at 200 neighbours (`GraphService::entity`),
//! so a 5,000-node neighbourhood costs what a 200-node one does; of those, at most
//! [`MAX_DRAWN`] are drawn — every fraud-marked one first, then the first ring, then the
//! second — and the rest are counted under the drawing.

use std::collections::HashMap;
use std::f64::consts::TAU;

use arbiter_graph::EntityView;
use maud::{Markup, html};

/// Nodes drawn at most, the centre aside.
pub const MAX_DRAWN: usize = 48;

const SIZE: f64 = 520.0;
const CENTRE: f64 = SIZE / 2.0;
const RING_1: f64 = 120.0;
const RING_2: f64 = 220.0;

/// A value short enough for a label (an address hash, a long e-mail).
pub(crate) fn short(value: &str) -> String {
    let mut s: String = value.chars().take(16).collect();
    if value.chars().count() > 16 {
        s.push('…');
    }
    s
}

pub(crate) fn href(kind: &str, value: &str) -> String {
    let value = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC);
    format!("/console/entities/{kind}/{value}")
}

/// The SVG of `view`'s neighbourhood.
pub fn draw(view: &EntityView) -> Markup {
    // Which neighbours are drawn: marked first, then by depth, in walk order.
    let mut order: Vec<usize> = (0..view.neighbours.len()).collect();
    order.sort_by_key(|&i| {
        let n = &view.neighbours[i];
        (!n.fraud_marked, n.depth)
    });
    order.truncate(MAX_DRAWN);
    order.sort_unstable();
    let drawn: Vec<_> = order.iter().map(|&i| &view.neighbours[i]).collect();
    let hidden = view.neighbours.len() - drawn.len();

    // First ring evenly; each second-ring node near the first-ring node it came through.
    let first: Vec<_> = drawn.iter().filter(|n| n.depth == 1).collect();
    let mut at: HashMap<(String, String), (f64, f64, f64)> = HashMap::new();
    let key = |kind: &str, value: &str| (kind.to_owned(), value.to_owned());
    at.insert(
        key(view.entity.kind.as_str(), &view.entity.value),
        (CENTRE, CENTRE, 0.0),
    );
    for (i, n) in first.iter().enumerate() {
        let angle = TAU * i as f64 / first.len().max(1) as f64;
        at.insert(
            key(n.entity.kind.as_str(), &n.entity.value),
            (
                CENTRE + RING_1 * angle.cos(),
                CENTRE + RING_1 * angle.sin(),
                angle,
            ),
        );
    }
    let second: Vec<_> = drawn.iter().filter(|n| n.depth > 1).collect();
    let spread = TAU / second.len().max(1) as f64;
    for (i, n) in second.iter().enumerate() {
        let parent = at
            .get(&key(n.via.kind.as_str(), &n.via.value))
            .map_or(0.0, |p| p.2);
        let angle = parent + spread * (i as f64 % 3.0 - 1.0) * 0.3 + spread * 0.1 * i as f64;
        at.insert(
            key(n.entity.kind.as_str(), &n.entity.value),
            (
                CENTRE + RING_2 * angle.cos(),
                CENTRE + RING_2 * angle.sin(),
                angle,
            ),
        );
    }
    let place = |kind: &str, value: &str| at.get(&key(kind, value)).copied();
    html! {
        svg #graph viewBox={ "0 0 " (SIZE) " " (SIZE) } width="100%" role="img"
            aria-label="Entities linked to this case" {
            @for n in &drawn {
                @if let (Some(a), Some(b)) = (place(n.via.kind.as_str(), &n.via.value),
                                               place(n.entity.kind.as_str(), &n.entity.value)) {
                    line.edge x1=(fmt(a.0)) y1=(fmt(a.1)) x2=(fmt(b.0)) y2=(fmt(b.1)) {}
                }
            }
            (node(view.entity.kind.as_str(), &view.entity.value, (CENTRE, CENTRE),
                  if view.fraud_mark.is_some() { "node-fraud" } else { "node-center" }, 14.0))
            @for n in &drawn {
                @if let Some(p) = place(n.entity.kind.as_str(), &n.entity.value) {
                    (node(n.entity.kind.as_str(), &n.entity.value, (p.0, p.1),
                          if n.fraud_marked { "node-fraud" } else { "node" }, 9.0))
                }
            }
        }
        p.muted {
            (view.neighbours.len()) " linked entities"
            @if view.truncated { " (the walk stopped at its cap)" }
            @if hidden > 0 { "; " (hidden) " not drawn" }
            ". Group: " (view.group.users) " users, " (view.group.entities) " entities, "
            (view.group.fraud_marked) " fraud-marked."
        }
    }
}

fn fmt(x: f64) -> String {
    format!("{x:.1}")
}

fn node(kind: &str, value: &str, (x, y): (f64, f64), class: &str, r: f64) -> Markup {
    html! {
        a href=(href(kind, value)) {
            title { (kind) ": " (value) }
            circle class=(class) cx=(fmt(x)) cy=(fmt(y)) r=(r) {}
            text x=(fmt(x + r + 2.0)) y=(fmt(y + 4.0)) { (kind) " " (short(value)) }
        }
    }
}
