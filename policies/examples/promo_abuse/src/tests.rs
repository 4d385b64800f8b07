use super::evaluate;
use arbiter_policy_sdk::testing::{ContextBuilder, window};
use arbiter_policy_sdk::{Action, Checkpoint, GraphFeatures};

fn redeem() -> ContextBuilder {
    ContextBuilder::sample(Checkpoint::PromoRedeem).attribute("promo_code", "SPRING25")
}

fn users_on_device(users: u32) -> GraphFeatures {
    GraphFeatures {
        users_per_device: users,
        ..GraphFeatures::default()
    }
}

#[test]
fn a_single_user_device_passes() {
    assert!(evaluate(&redeem().build()).is_pass());
}

#[test]
fn three_users_on_the_device_are_challenged() {
    let verdict = evaluate(&redeem().graph(users_on_device(3)).build());
    assert_eq!(verdict.action, Action::Challenge);
    assert_eq!(
        verdict.reasons[0].detail.as_deref(),
        Some("promo SPRING25: 3 users on the device (graph)")
    );
}

#[test]
fn six_users_on_the_device_are_rejected() {
    let verdict = evaluate(&redeem().graph(users_on_device(6)).build());
    assert_eq!(verdict.action, Action::Reject);
    assert_eq!(verdict.score, 60.0);
}

#[test]
fn the_graph_outranks_device_velocity() {
    let ctx = redeem()
        .graph(users_on_device(1))
        .device_velocity(window(20, 0.0, 40, 0.0))
        .build();
    assert!(evaluate(&ctx).is_pass());
}

#[test]
fn without_a_graph_device_velocity_is_used() {
    let busy = redeem()
        .no_graph()
        .device_velocity(window(2, 0.0, 9, 0.0))
        .build();
    let verdict = evaluate(&busy);
    assert_eq!(verdict.action, Action::Challenge);
    assert!(verdict.has_reason("promo.multi_account"));

    let quiet = redeem()
        .no_graph()
        .device_velocity(window(2, 0.0, 7, 0.0))
        .build();
    assert!(evaluate(&quiet).is_pass());
}

#[test]
fn an_account_created_today_adds_score() {
    let verdict = evaluate(
        &redeem()
            .account_age_days(0)
            .graph(users_on_device(4))
            .build(),
    );
    assert_eq!(verdict.action, Action::Challenge);
    assert_eq!(verdict.score, 40.0);
    assert!(verdict.has_reason("promo.new_account"));
}

#[test]
fn redemptions_without_a_code_or_elsewhere_pass() {
    let no_code = ContextBuilder::sample(Checkpoint::PromoRedeem)
        .graph(users_on_device(9))
        .build();
    assert!(evaluate(&no_code).is_pass());
    let empty = ContextBuilder::sample(Checkpoint::PromoRedeem)
        .attribute("promo_code", "")
        .graph(users_on_device(9))
        .build();
    assert!(evaluate(&empty).is_pass());
    let order = redeem()
        .checkpoint(Checkpoint::OrderCreate)
        .graph(users_on_device(9))
        .build();
    assert!(evaluate(&order).is_pass());
}
