use super::evaluate;
use arbiter_policy_sdk::testing::ContextBuilder;
use arbiter_policy_sdk::{Action, Checkpoint};

fn payment() -> ContextBuilder {
    ContextBuilder::sample(Checkpoint::PaymentAuthorize)
}

#[test]
fn agreeing_countries_pass() {
    assert!(evaluate(&payment().build()).is_pass());
}

#[test]
fn one_mismatch_on_a_small_amount_scores_a_little() {
    let verdict = evaluate(&payment().ip("198.51.100.2", "CA").build());
    assert_eq!(verdict.score, 15.0);
    assert_eq!(verdict.action, Action::None);
    assert_eq!(
        verdict.reasons[0].detail.as_deref(),
        Some("card=US ip=CA shipping=US")
    );
}

#[test]
fn three_countries_on_a_large_amount_reach_the_challenge_band() {
    let ctx = payment()
        .amount(1_500.0, "USD")
        .ip("198.51.100.2", "NG")
        .shipping_country("GB")
        .build();
    let verdict = evaluate(&ctx);
    assert_eq!(verdict.score, 60.0);
    assert!(verdict.has_reason("geo.mismatch"));
}

#[test]
fn medium_amounts_scale_by_half() {
    let ctx = payment()
        .amount(250.0, "EUR")
        .shipping_country("FR")
        .build();
    assert_eq!(evaluate(&ctx).score, 22.5);
}

#[test]
fn missing_countries_are_not_a_mismatch() {
    let ctx = ContextBuilder::new(Checkpoint::PaymentAuthorize)
        .card("fp", "US")
        .amount(5_000.0, "USD")
        .build();
    assert!(evaluate(&ctx).is_pass());
}

#[test]
fn other_checkpoints_are_ignored() {
    let ctx = ContextBuilder::sample(Checkpoint::AccountLogin)
        .ip("198.51.100.2", "RU")
        .build();
    assert!(evaluate(&ctx).is_pass());
}
