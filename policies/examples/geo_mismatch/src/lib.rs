//! `geo_mismatch`: the card's issuing country, the IP's country and the shipping country
//! disagree.
//!
//! One mismatch is common (travellers, gifts, corporate VPNs), so it only adds a little
//! score; three different countries is a classic stolen-card pattern. The score is scaled
//! by the amount, because the same mismatch on a coffee and on a laptop are different
//! risks. This policy only scores: the host's bands turn a high total into an action.

use arbiter_policy_sdk::{Checkpoint, Context, Verdict};

/// Score when exactly two distinct countries appear among card, IP and shipping.
pub const TWO_COUNTRIES: f32 = 15.0;
/// Score when all three are different.
pub const THREE_COUNTRIES: f32 = 30.0;
/// Amount (major units) from which the score is multiplied by 1.5.
pub const MEDIUM_AMOUNT: f64 = 200.0;
/// Amount (major units) from which the score is doubled.
pub const HIGH_AMOUNT: f64 = 1_000.0;

pub fn evaluate(ctx: &Context) -> Verdict {
    if !matches!(
        ctx.checkpoint(),
        Checkpoint::OrderCreate | Checkpoint::PaymentAuthorize
    ) {
        return Verdict::pass();
    }
    let named = [
        ("card", ctx.card_country()),
        ("ip", ctx.ip_country()),
        ("shipping", ctx.shipping_country()),
    ];
    let mut distinct: Vec<&str> = named.iter().filter_map(|(_, country)| *country).collect();
    distinct.sort_unstable();
    distinct.dedup();

    let base = match distinct.len() {
        0 | 1 => return Verdict::pass(),
        2 => TWO_COUNTRIES,
        _ => THREE_COUNTRIES,
    };
    let amount = ctx.amount_value().unwrap_or(0.0);
    let scale = if amount >= HIGH_AMOUNT {
        2.0
    } else if amount >= MEDIUM_AMOUNT {
        1.5
    } else {
        1.0
    };
    let detail = named
        .iter()
        .filter_map(|(what, country)| country.map(|c| format!("{what}={c}")))
        .collect::<Vec<_>>()
        .join(" ");
    Verdict::pass()
        .score(base * scale)
        .reason("geo.mismatch", detail)
}

arbiter_policy_sdk::export_policy!(evaluate);

#[cfg(test)]
mod tests;
