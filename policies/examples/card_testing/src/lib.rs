//! `card_testing`: a burst of small authorisations on one card or one device.
//!
//! Card testers check stolen numbers with tiny (often zero-amount) authorisations before
//! selling or using them, so the signature is many attempts in an hour whose mean amount
//! is small. Both the card and the device are checked: a tester rotates cards on one
//! device, or one card across many sessions. Only `payment.authorize` is judged.

use arbiter_policy_sdk::{Checkpoint, Context, Verdict, WindowStats, fixed};

/// Mean amount (major units) at or below which authorisations count as "small".
pub const SMALL_MEAN: f64 = 10.0;
/// Attempts in the last hour (this one included) from which the entity is challenged.
pub const CHALLENGE_ATTEMPTS: u32 = 5;
/// Attempts in the last hour (this one included) from which the entity is rejected.
pub const REJECT_ATTEMPTS: u32 = 10;
/// Score added with a challenge.
pub const CHALLENGE_SCORE: f32 = 30.0;
/// Score added with a reject.
pub const REJECT_SCORE: f32 = 60.0;

pub fn evaluate(ctx: &Context) -> Verdict {
    if ctx.checkpoint() != Checkpoint::PaymentAuthorize {
        return Verdict::pass();
    }
    // A missing amount is a zero-amount card verification: the cheapest test there is.
    let amount = ctx.amount_value().unwrap_or(0.0);
    let velocity = ctx.velocity();
    let card = velocity.card.map(|stats| judge("card", &stats, amount));
    let device = velocity.device.map(|stats| judge("device", &stats, amount));
    [card, device]
        .into_iter()
        .flatten()
        .fold(Verdict::pass(), Verdict::merge)
}

/// The verdict for one entity's last hour, counting the current attempt.
fn judge(entity: &str, stats: &WindowStats, amount: f64) -> Verdict {
    let attempts = stats.count_1h.saturating_add(1);
    let mean = (stats.sum_1h + amount) / f64::from(attempts);
    if attempts < CHALLENGE_ATTEMPTS || mean > SMALL_MEAN {
        return Verdict::pass();
    }
    let detail = format!(
        "{entity}: {attempts} authorisations in 1h, mean amount {}",
        fixed(mean, 2)
    );
    let verdict = if attempts >= REJECT_ATTEMPTS {
        Verdict::pass().reject().score(REJECT_SCORE)
    } else {
        Verdict::pass().challenge().score(CHALLENGE_SCORE)
    };
    verdict.reason("velocity.card_testing", detail)
}

arbiter_policy_sdk::export_policy!(evaluate);

#[cfg(test)]
mod tests;
