use super::evaluate;
use arbiter_policy_sdk::testing::{ContextBuilder, window};
use arbiter_policy_sdk::{Action, Checkpoint};

fn authorize(amount: f64) -> ContextBuilder {
    ContextBuilder::sample(Checkpoint::PaymentAuthorize).amount(amount, "USD")
}

#[test]
fn an_ordinary_payment_passes() {
    assert!(evaluate(&authorize(49.99).build()).is_pass());
}

#[test]
fn a_few_small_attempts_pass() {
    let ctx = authorize(1.0).card_velocity(window(3, 3.0, 3, 3.0)).build();
    assert!(evaluate(&ctx).is_pass());
}

#[test]
fn five_small_attempts_on_a_card_are_challenged() {
    let ctx = authorize(1.0).card_velocity(window(4, 4.0, 4, 4.0)).build();
    let verdict = evaluate(&ctx);
    assert_eq!(verdict.action, Action::Challenge);
    assert_eq!(
        verdict.reasons[0].detail.as_deref(),
        Some("card: 5 authorisations in 1h, mean amount 1.00")
    );
}

#[test]
fn ten_small_attempts_on_a_device_are_rejected() {
    let ctx = authorize(0.0)
        .device_velocity(window(12, 6.0, 40, 20.0))
        .build();
    let verdict = evaluate(&ctx);
    assert_eq!(verdict.action, Action::Reject);
    assert_eq!(verdict.score, 60.0);
    assert!(verdict.has_reason("velocity.card_testing"));
}

#[test]
fn card_and_device_both_count() {
    let ctx = authorize(1.0)
        .card_velocity(window(5, 5.0, 5, 5.0))
        .device_velocity(window(9, 9.0, 9, 9.0))
        .build();
    let verdict = evaluate(&ctx);
    assert_eq!(verdict.action, Action::Reject);
    assert_eq!(verdict.score, 90.0);
    assert_eq!(verdict.reasons.len(), 2);
}

#[test]
fn many_large_purchases_are_not_card_testing() {
    let ctx = authorize(80.0)
        .card_velocity(window(12, 960.0, 12, 960.0))
        .build();
    assert!(evaluate(&ctx).is_pass());
}

#[test]
fn a_missing_amount_counts_as_a_zero_amount_check() {
    let ctx = authorize(0.0)
        .no_amount()
        .card_velocity(window(9, 0.0, 9, 0.0))
        .build();
    assert_eq!(evaluate(&ctx).action, Action::Reject);
}

#[test]
fn only_authorisations_are_judged() {
    let ctx = ContextBuilder::sample(Checkpoint::OrderCreate)
        .amount(1.0, "USD")
        .card_velocity(window(30, 30.0, 30, 30.0))
        .build();
    assert!(evaluate(&ctx).is_pass());
}
