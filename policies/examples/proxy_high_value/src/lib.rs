//! `proxy_high_value`: a high-value payment arriving through a proxy, VPN or Tor exit.
//!
//! Plenty of honest shoppers use VPNs, so a proxy alone is not a reason to act. A proxy
//! hides the IP country that other rules compare with the card, though, and on a large
//! payment that blind spot is worth a challenge. Only `payment.authorize` is judged.

use arbiter_policy_sdk::{Checkpoint, Context, Verdict, fixed};

/// Amount (major units) from which a proxied payment is challenged.
pub const HIGH_AMOUNT: f64 = 250.0;
/// Amount (major units) from which the challenge carries the larger score.
pub const VERY_HIGH_AMOUNT: f64 = 1_000.0;
/// Score added with the challenge.
pub const SCORE: f32 = 20.0;
/// Score added with the challenge at or above [`VERY_HIGH_AMOUNT`].
pub const VERY_HIGH_SCORE: f32 = 35.0;

pub fn evaluate(ctx: &Context) -> Verdict {
    if ctx.checkpoint() != Checkpoint::PaymentAuthorize || !ctx.is_proxy() {
        return Verdict::pass();
    }
    let Some(amount) = ctx.amount().filter(|amount| amount.value >= HIGH_AMOUNT) else {
        return Verdict::pass();
    };
    let score = if amount.value >= VERY_HIGH_AMOUNT {
        VERY_HIGH_SCORE
    } else {
        SCORE
    };
    let detail = format!(
        "proxy ip {} ({}), amount {} {}",
        ctx.ip().unwrap_or("unknown"),
        ctx.ip_country().unwrap_or("??"),
        fixed(amount.value, 2),
        amount.currency,
    );
    Verdict::pass()
        .challenge()
        .score(score)
        .reason("network.proxy_high_value", detail)
}

arbiter_policy_sdk::export_policy!(evaluate);

#[cfg(test)]
mod tests;
