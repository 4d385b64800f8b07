//! The customer's usual behaviour beside the decision: amount against their median and 90th
//! percentile, and each trait (device, card, e-mail, IP and shipping country) against the
//! values they used before, what departs from it marked.

use maud::{Markup, html};

use arbiter_engine::usual::{MIN_HISTORY, UsualBehaviour};

use crate::console::graph_svg::{href, short};

fn label(name: &str) -> &'static str {
    match name {
        "device" => "Device",
        "card" => "Card fingerprint",
        "email" => "E-mail",
        "ip_country" => "IP country",
        "shipping_country" => "Shipping country",
        _ => "Other",
    }
}

fn money(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_owned(), |x| format!("{x:.2}"))
}

pub fn card(user_id: &str, u: &UsualBehaviour) -> Markup {
    html! {
        div.card #usual {
            h2 { "Usual behaviour" }
            p {
                a href=(href("user", user_id)) { (short(user_id)) } ": "
                @match u.first_seen {
                    Some(first) => {
                        (u.past_decisions) " earlier decisions since " (first.format("%Y-%m-%d"))
                        " (" (u.past_challenged) " challenged, " (u.past_rejected) " rejected)."
                    }
                    None => "no earlier decisions.",
                }
                @if u.past_decisions > 0 && u.past_decisions < MIN_HISTORY {
                    " " span.muted { "Too few to say what is usual." }
                }
            }
            @if !u.unusual.is_empty() {
                p #departs { strong { "Departs from the usual: " } (u.unusual.join(", ")) }
            }
            table {
                thead { tr { th { "" } th { "This decision" } th { "Usually" } th.num { "Seen before" } } }
                @if let Some(a) = &u.amount {
                    tr.unusual[a.unusual] {
                        td { "Amount" }
                        td { (format!("{:.2}", a.now)) " " (a.currency) }
                        td { @if a.samples == 0 { span.muted { "none in " (a.currency) } }
                             @else { "median " (money(a.median)) ", p90 " (money(a.p90)) ", max " (money(a.max)) } }
                        td.num { (a.samples) }
                    }
                }
                @for t in &u.traits {
                    @if t.now.is_some() || !t.usual.is_empty() {
                        tr.unusual[t.unusual] {
                            td { (label(t.name)) }
                            td { @match &t.now { Some(v) => code title=(v) { (short(v)) }, None => span.muted { "none" } } }
                            td { @for (i, s) in t.usual.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    code title=(s.value) { (short(&s.value)) } " ×" (s.count)
                                 } }
                            td.num { (t.seen_before) }
                        }
                    }
                }
            }
            p.muted { "From the customer's latest earlier decisions (at most 200). Unusual: an amount above twice their median, a value never seen before." }
        }
    }
}
