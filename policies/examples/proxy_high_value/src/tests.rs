use super::evaluate;
use arbiter_policy_sdk::testing::ContextBuilder;
use arbiter_policy_sdk::{Action, Checkpoint};

fn proxied(amount: f64) -> ContextBuilder {
    ContextBuilder::sample(Checkpoint::PaymentAuthorize)
        .amount(amount, "EUR")
        .ip("198.51.100.9", "NL")
        .proxy(true)
}

#[test]
fn a_high_value_payment_without_proxy_passes() {
    assert!(evaluate(&proxied(5_000.0).proxy(false).build()).is_pass());
}

#[test]
fn a_small_proxied_payment_passes() {
    assert!(evaluate(&proxied(249.99).build()).is_pass());
}

#[test]
fn a_high_value_proxied_payment_is_challenged() {
    let verdict = evaluate(&proxied(300.0).build());
    assert_eq!(verdict.action, Action::Challenge);
    assert_eq!(verdict.score, 20.0);
    assert_eq!(
        verdict.reasons[0].detail.as_deref(),
        Some("proxy ip 198.51.100.9 (NL), amount 300.00 EUR")
    );
}

#[test]
fn a_very_high_value_scores_more() {
    let verdict = evaluate(&proxied(1_200.0).build());
    assert_eq!(verdict.action, Action::Challenge);
    assert_eq!(verdict.score, 35.0);
    assert!(verdict.has_reason("network.proxy_high_value"));
}

#[test]
fn orders_are_left_to_the_payment_step() {
    let ctx = proxied(5_000.0).checkpoint(Checkpoint::OrderCreate).build();
    assert!(evaluate(&ctx).is_pass());
}

#[test]
fn a_payment_without_amount_passes() {
    assert!(evaluate(&proxied(0.0).no_amount().build()).is_pass());
}
