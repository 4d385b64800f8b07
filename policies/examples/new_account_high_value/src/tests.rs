use super::evaluate;
use arbiter_policy_sdk::testing::ContextBuilder;
use arbiter_policy_sdk::{Action, Checkpoint};

fn order(age_days: u32, amount: f64) -> ContextBuilder {
    ContextBuilder::sample(Checkpoint::OrderCreate)
        .account_age_days(age_days)
        .amount(amount, "USD")
        .amount_reporting(amount)
}

#[test]
fn established_accounts_pass_at_any_amount() {
    assert!(evaluate(&order(7, 10_000.0).build()).is_pass());
}

#[test]
fn new_accounts_with_small_orders_pass() {
    assert!(evaluate(&order(0, 499.99).build()).is_pass());
}

#[test]
fn new_account_high_value_is_challenged() {
    let verdict = evaluate(&order(2, 750.0).build());
    assert_eq!(verdict.action, Action::Challenge);
    assert_eq!(verdict.score, 25.0);
    assert_eq!(
        verdict.reasons[0].detail.as_deref(),
        Some("account 2 days old, amount 750.00 USD (750.00 in the reporting currency)")
    );
}

#[test]
fn new_account_extreme_value_is_rejected() {
    let ctx = order(6, 2_500.0)
        .checkpoint(Checkpoint::PaymentAuthorize)
        .build();
    let verdict = evaluate(&ctx);
    assert_eq!(verdict.action, Action::Reject);
    assert!(verdict.has_reason("account.new_high_value"));
}

#[test]
fn guest_checkout_without_account_age_passes() {
    assert!(evaluate(&order(0, 9_000.0).no_account_age().build()).is_pass());
}

#[test]
fn refunds_are_not_this_policys_business() {
    let ctx = order(0, 9_000.0)
        .checkpoint(Checkpoint::RefundRequest)
        .build();
    assert!(evaluate(&ctx).is_pass());
}

/// JPY 5,000 is about 33 USD: not a high value in the reporting currency, whatever its
/// number of yen.
#[test]
fn amounts_are_compared_in_the_reporting_currency() {
    let yen = ContextBuilder::sample(Checkpoint::OrderCreate)
        .account_age_days(1)
        .amount(5_000.0, "JPY");
    assert!(evaluate(&yen.clone().amount_reporting(33.5).build()).is_pass());
    let verdict = evaluate(&yen.amount_reporting(3_350.0).build());
    assert_eq!(verdict.action, Action::Reject);
    assert_eq!(
        verdict.reasons[0].detail.as_deref(),
        Some("account 1 days old, amount 5000.00 JPY (3350.00 in the reporting currency)")
    );
}

#[test]
fn an_amount_without_a_rate_is_left_alone() {
    let ctx = ContextBuilder::sample(Checkpoint::OrderCreate)
        .account_age_days(1)
        .no_amount()
        .amount(9_000.0, "XAF");
    assert!(evaluate(&ctx.build()).is_pass());
}
