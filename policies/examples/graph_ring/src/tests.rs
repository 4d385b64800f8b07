use super::evaluate;
use arbiter_policy_sdk::testing::ContextBuilder;
use arbiter_policy_sdk::{Action, Checkpoint, GraphFeatures, Verdict};

fn with_graph(graph: GraphFeatures) -> Verdict {
    evaluate(
        &ContextBuilder::sample(Checkpoint::PaymentAuthorize)
            .graph(graph)
            .build(),
    )
}

#[test]
fn an_isolated_request_passes() {
    assert!(with_graph(GraphFeatures::default()).is_pass());
}

#[test]
fn no_graph_features_pass() {
    let ctx = ContextBuilder::sample(Checkpoint::PaymentAuthorize)
        .no_graph()
        .build();
    assert!(evaluate(&ctx).is_pass());
}

#[test]
fn a_fraud_marked_entity_in_the_request_is_rejected() {
    let verdict = with_graph(GraphFeatures {
        hops_to_fraud: Some(0),
        ..GraphFeatures::default()
    });
    assert_eq!(verdict.action, Action::Reject);
    assert_eq!(
        verdict.reasons[0].detail.as_deref(),
        Some("hops_to_fraud=0")
    );
}

#[test]
fn distance_two_only_scores() {
    let verdict = with_graph(GraphFeatures {
        hops_to_fraud: Some(2),
        ..GraphFeatures::default()
    });
    assert_eq!((verdict.action, verdict.score), (Action::None, 15.0));
    assert!(
        with_graph(GraphFeatures {
            hops_to_fraud: Some(3),
            ..GraphFeatures::default()
        })
        .is_pass()
    );
}

#[test]
fn a_fraudulent_neighbourhood_is_challenged_then_rejected() {
    let some = with_graph(GraphFeatures {
        fraud_share_2hop: 0.25,
        group_users: 8,
        ..GraphFeatures::default()
    });
    assert_eq!(some.action, Action::Challenge);
    assert_eq!(
        some.reasons[0].detail.as_deref(),
        Some("fraud_share_2hop=0.25 group_users=8")
    );

    let most = with_graph(GraphFeatures {
        fraud_share_2hop: 0.6,
        group_users: 5,
        ..GraphFeatures::default()
    });
    assert_eq!(most.action, Action::Reject);
}

#[test]
fn half_of_a_two_user_group_is_only_a_challenge() {
    let verdict = with_graph(GraphFeatures {
        fraud_share_2hop: 0.5,
        group_users: 2,
        ..GraphFeatures::default()
    });
    assert_eq!(verdict.action, Action::Challenge);
}

#[test]
fn a_ring_adds_up_every_signal() {
    let verdict = with_graph(GraphFeatures {
        group_entities: 80,
        group_users: 12,
        cards_per_device: 5,
        hops_to_fraud: Some(1),
        ..GraphFeatures::default()
    });
    assert_eq!(verdict.action, Action::Challenge);
    assert_eq!(verdict.score, 40.0 + 15.0 + 20.0);
    for code in [
        "graph.fraud_linked",
        "graph.large_group",
        "graph.cards_per_device",
    ] {
        assert!(verdict.has_reason(code), "missing {code}");
    }
}

#[test]
fn card_cycling_and_farms_are_challenged() {
    let cycling = with_graph(GraphFeatures {
        cards_per_device: 9,
        ..GraphFeatures::default()
    });
    assert_eq!(cycling.action, Action::Challenge);
    let farm = with_graph(GraphFeatures {
        group_users: 30,
        ..GraphFeatures::default()
    });
    assert_eq!(farm.action, Action::Challenge);
    assert!(farm.has_reason("graph.large_group"));
}
