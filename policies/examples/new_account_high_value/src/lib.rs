//! `new_account_high_value`: a large purchase from an account created days ago.
//!
//! Fresh accounts are how stolen cards and account farms reach checkout, and a fraudster's
//! first order is rarely small. A young account with a high amount is challenged (a 3-D
//! Secure step or a review costs a genuine new customer little); an extreme amount on a
//! young account is rejected outright. Guest checkouts carry no account age and are left to
//! other policies.
//!
//! The thresholds are in the deployment's reporting currency (the host converts every
//! amount with its rate table, layout 2.1), so JPY 5,000 is the 33 USD it is worth, not an
//! extreme amount. An amount whose currency has no rate is left alone, like a guest.

use arbiter_policy_sdk::{Checkpoint, Context, Verdict, fixed};

/// Accounts younger than this many days are "new".
pub const NEW_ACCOUNT_DAYS: u32 = 7;
/// Amount (major units of the reporting currency) from which a new account's order is
/// challenged.
pub const HIGH_AMOUNT: f64 = 500.0;
/// Amount (major units of the reporting currency) from which a new account's order is
/// rejected.
pub const EXTREME_AMOUNT: f64 = 2_500.0;
/// Score added with a challenge.
pub const CHALLENGE_SCORE: f32 = 25.0;
/// Score added with a reject.
pub const REJECT_SCORE: f32 = 50.0;

pub fn evaluate(ctx: &Context) -> Verdict {
    if !matches!(
        ctx.checkpoint(),
        Checkpoint::OrderCreate | Checkpoint::PaymentAuthorize
    ) {
        return Verdict::pass();
    }
    let (Some(age), Some(amount), Some(reporting)) =
        (ctx.account_age_days(), ctx.amount(), ctx.amount_reporting())
    else {
        return Verdict::pass();
    };
    if age >= NEW_ACCOUNT_DAYS || reporting < HIGH_AMOUNT {
        return Verdict::pass();
    }
    let detail = format!(
        "account {age} days old, amount {} {} ({} in the reporting currency)",
        fixed(amount.value, 2),
        amount.currency,
        fixed(reporting, 2)
    );
    let verdict = if reporting >= EXTREME_AMOUNT {
        Verdict::pass().reject().score(REJECT_SCORE)
    } else {
        Verdict::pass().challenge().score(CHALLENGE_SCORE)
    };
    verdict.reason("account.new_high_value", detail)
}

arbiter_policy_sdk::export_policy!(evaluate);

#[cfg(test)]
mod tests;
