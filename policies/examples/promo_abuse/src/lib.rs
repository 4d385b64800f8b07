//! `promo_abuse`: one device redeeming a promotion for many accounts.
//!
//! "First order" and sign-up promotions are farmed by creating accounts on one phone or
//! laptop. The best evidence is the link graph's count of distinct users on the device;
//! when no graph scorer runs, the device's decision count over 24 hours stands in for it,
//! with higher thresholds because one honest user also makes several requests. Only
//! `promo.redeem` requests that carry a `promo_code` attribute are judged.

use arbiter_policy_sdk::{Checkpoint, Context, Verdict};

/// Distinct users on the device (graph) from which the redemption is challenged.
pub const GRAPH_CHALLENGE_USERS: u32 = 3;
/// Distinct users on the device (graph) from which the redemption is rejected.
pub const GRAPH_REJECT_USERS: u32 = 6;
/// Earlier decisions on the device in 24h (no graph) from which it is challenged.
pub const VELOCITY_CHALLENGE_COUNT: u32 = 8;
/// Earlier decisions on the device in 24h (no graph) from which it is rejected.
pub const VELOCITY_REJECT_COUNT: u32 = 15;
/// Score added with a challenge.
pub const CHALLENGE_SCORE: f32 = 30.0;
/// Score added with a reject.
pub const REJECT_SCORE: f32 = 60.0;
/// Score added when the redeeming account was created today.
pub const NEW_ACCOUNT_SCORE: f32 = 10.0;

pub fn evaluate(ctx: &Context) -> Verdict {
    if ctx.checkpoint() != Checkpoint::PromoRedeem {
        return Verdict::pass();
    }
    let Some(code) = ctx.attribute("promo_code").filter(|code| !code.is_empty()) else {
        return Verdict::pass();
    };
    let new_account = if ctx.account_age_days() == Some(0) {
        Verdict::pass().score(NEW_ACCOUNT_SCORE).reason(
            "promo.new_account",
            format!("promo {code} redeemed by an account created today"),
        )
    } else {
        Verdict::pass()
    };
    multi_account(ctx, code).merge(new_account)
}

/// How many accounts the device carries, by the best evidence the context has.
fn multi_account(ctx: &Context, code: &str) -> Verdict {
    let (count, challenge_at, reject_at, evidence) = match (ctx.graph(), ctx.velocity().device) {
        (Some(graph), _) => (
            graph.users_per_device,
            GRAPH_CHALLENGE_USERS,
            GRAPH_REJECT_USERS,
            "users on the device (graph)",
        ),
        (None, Some(device)) => (
            device.count_24h,
            VELOCITY_CHALLENGE_COUNT,
            VELOCITY_REJECT_COUNT,
            "decisions on the device in 24h (velocity)",
        ),
        (None, None) => return Verdict::pass(),
    };
    if count < challenge_at {
        return Verdict::pass();
    }
    let verdict = if count >= reject_at {
        Verdict::pass().reject().score(REJECT_SCORE)
    } else {
        Verdict::pass().challenge().score(CHALLENGE_SCORE)
    };
    verdict.reason(
        "promo.multi_account",
        format!("promo {code}: {count} {evidence}"),
    )
}

arbiter_policy_sdk::export_policy!(evaluate);

#[cfg(test)]
mod tests;
