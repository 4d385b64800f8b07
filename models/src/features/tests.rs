//! Each feature group of `extract` responds to its own input and only the features it names.

use std::collections::BTreeMap;

use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::context::{AmountView, EnrichedContext, GraphFeatures};
use arbiter_engine::velocity::{VelocityFeatures, WindowStats};

use super::*;

fn base() -> EnrichedContext {
    EnrichedContext {
        checkpoint: Checkpoint::PaymentAuthorize,
        request_id: "r".into(),
        amount: Some(AmountView {
            value: "99.00".into(),
            minor_units: 9900,
            currency: "EUR".into(),
            approx: 99.0,
            reporting: None,
        }),
        user_id: "u".into(),
        account_age_days: Some(400),
        email: Some("a@b.c".into()),
        email_domain: Some("b.c".into()),
        phone: None,
        device_id: Some("d".into()),
        ip: Some("192.0.2.1".into()),
        ip_country: Some("DE".into()),
        is_proxy: false,
        payment_method: None,
        card_fingerprint: Some("fp".into()),
        card_bin: None,
        card_country: Some("DE".into()),
        shipping_address_hash: None,
        shipping_country: Some("DE".into()),
        order_id: None,
        attributes: BTreeMap::new(),
        velocity: VelocityFeatures::default(),
        graph: None,
        watch_hits: Vec::new(),
        snoozed_rules: Vec::new(),
        model_score: None,
    }
}

fn at(v: &FeatureVector, name: &str) -> f64 {
    v[feature_index(name).unwrap_or_else(|| panic!("no feature {name}"))]
}

/// The names whose value differs between the two vectors.
fn changed(a: &FeatureVector, b: &FeatureVector) -> Vec<&'static str> {
    (0..FEATURE_COUNT)
        .filter(|&i| a[i] != b[i])
        .map(|i| FEATURE_NAMES[i])
        .collect()
}

#[test]
fn names_are_unique_and_all_slots_are_written() {
    let mut names = FEATURE_NAMES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), FEATURE_COUNT);
    let v = extract(&base());
    assert!(v.iter().all(|x| x.is_finite()));
    // The slots the other tests do not move by themselves hold what `base` implies.
    assert_eq!(at(&v, "checkpoint_payment_authorize"), 1.0);
    assert_eq!(at(&v, "graph_missing"), 1.0);
    assert!((at(&v, "account_age_days_log1p") - 401f64.ln()).abs() < 1e-12);
}

#[test]
fn amount_is_log1p_of_major_units_with_a_missing_flag() {
    let v = extract(&base());
    assert!((at(&v, "amount_log1p") - 100f64.ln()).abs() < 1e-12);
    assert_eq!(at(&v, "amount_missing"), 0.0);
    let mut ctx = base();
    ctx.amount = None;
    let w = extract(&ctx);
    assert_eq!(changed(&v, &w), ["amount_log1p", "amount_missing"]);
    assert_eq!(at(&w, "amount_missing"), 1.0);
}

#[test]
fn account_age_is_log1p_days_with_a_missing_flag() {
    let v = extract(&base());
    let mut ctx = base();
    ctx.account_age_days = Some(0);
    let w = extract(&ctx);
    assert_eq!(changed(&v, &w), ["account_age_days_log1p"]);
    assert_eq!(at(&w, "account_age_days_log1p"), 0.0);
    ctx.account_age_days = None;
    let w = extract(&ctx);
    assert_eq!(at(&w, "account_age_missing"), 1.0);
}

#[test]
fn each_velocity_entity_fills_its_own_four_features() {
    let v = extract(&base());
    let w = WindowStats {
        count_1h: 3,
        sum_1h: 9.0,
        count_24h: 7,
        sum_24h: 99.0,
    };
    for entity in ["user", "device", "card", "ip", "email"] {
        let mut ctx = base();
        match entity {
            "user" => ctx.velocity.user = w,
            "device" => ctx.velocity.device = Some(w),
            "card" => ctx.velocity.card = Some(w),
            "ip" => ctx.velocity.ip = Some(w),
            _ => ctx.velocity.email = Some(w),
        }
        let x = extract(&ctx);
        let expect: Vec<String> = ["count_1h", "count_24h", "sum_1h", "sum_24h"]
            .iter()
            .map(|s| format!("velocity_{entity}_{s}_log1p"))
            .collect();
        assert_eq!(changed(&v, &x), expect, "{entity}");
        assert!((at(&x, &expect[0]) - 4f64.ln()).abs() < 1e-12);
        assert!((at(&x, &expect[3]) - 100f64.ln()).abs() < 1e-12);
    }
}

#[test]
fn missing_entities_raise_their_flags() {
    let v = extract(&base());
    let mut ctx = base();
    ctx.device_id = None;
    ctx.card_fingerprint = None;
    ctx.ip = None;
    ctx.email = None;
    let w = extract(&ctx);
    assert_eq!(
        changed(&v, &w),
        [
            "device_missing",
            "card_missing",
            "ip_missing",
            "email_missing"
        ]
    );
}

#[test]
fn geo_mismatches_need_both_sides_known() {
    let v = extract(&base());
    let mut ctx = base();
    ctx.ip_country = Some("NG".into());
    assert_eq!(
        changed(&v, &extract(&ctx)),
        ["card_ip_country_mismatch", "shipping_ip_country_mismatch"]
    );
    let mut ctx = base();
    ctx.shipping_country = Some("US".into());
    assert_eq!(
        changed(&v, &extract(&ctx)),
        [
            "shipping_card_country_mismatch",
            "shipping_ip_country_mismatch"
        ]
    );
    let mut ctx = base();
    ctx.ip_country = None;
    ctx.shipping_country = Some("US".into());
    ctx.card_country = None;
    assert!(
        changed(&v, &extract(&ctx)).is_empty(),
        "unknown is no mismatch"
    );
    let mut ctx = base();
    ctx.is_proxy = true;
    assert_eq!(changed(&v, &extract(&ctx)), ["is_proxy"]);
}

#[test]
fn graph_features_are_transformed_and_flagged_when_absent() {
    let v = extract(&base());
    assert_eq!(at(&v, "graph_missing"), 1.0);
    let mut ctx = base();
    ctx.graph = Some(GraphFeatures {
        group_entities: 9,
        group_users: 3,
        users_per_device: 4,
        users_per_card: 2,
        users_per_address: 5,
        users_per_phone: 6,
        cards_per_device: 7,
        cards_per_user: 8,
        hops_to_fraud: Some(1),
        fraud_share_2hop: 0.25,
        score: 42.0,
    });
    let w = extract(&ctx);
    let graph_names: Vec<&str> = FEATURE_NAMES
        .iter()
        .copied()
        .filter(|n| n.starts_with("graph_"))
        .collect();
    assert_eq!(changed(&v, &w), graph_names);
    assert!((at(&w, "graph_group_users_log1p") - 4f64.ln()).abs() < 1e-12);
    assert_eq!(at(&w, "graph_fraud_proximity"), 0.5);
    assert_eq!(at(&w, "graph_fraud_share_2hop"), 0.25);
    assert_eq!(at(&w, "graph_score"), 42.0);
    ctx.graph = Some(GraphFeatures {
        hops_to_fraud: Some(0),
        ..GraphFeatures::default()
    });
    assert_eq!(at(&extract(&ctx), "graph_fraud_proximity"), 1.0);
    ctx.graph = Some(GraphFeatures::default());
    assert_eq!(at(&extract(&ctx), "graph_fraud_proximity"), 0.0);
}

#[test]
fn watch_hits_and_checkpoint_one_hot() {
    let v = extract(&base());
    assert_eq!(at(&v, "checkpoint_payment_authorize"), 1.0);
    let mut ctx = base();
    ctx.watch_hits = vec!["a".into(), "b".into(), "c".into()];
    assert_eq!(changed(&v, &extract(&ctx)), ["watch_hits_log1p"]);
    assert!((at(&extract(&ctx), "watch_hits_log1p") - 4f64.ln()).abs() < 1e-12);
    let expected = [
        (Checkpoint::OrderCreate, Some("checkpoint_order_create")),
        (Checkpoint::RefundRequest, Some("checkpoint_refund_request")),
        (Checkpoint::AccountLogin, Some("checkpoint_account_login")),
        (Checkpoint::PromoRedeem, None),
    ];
    for (cp, name) in expected {
        let mut ctx = base();
        ctx.checkpoint = cp;
        let w = extract(&ctx);
        let one_hot: Vec<&str> = FEATURE_NAMES
            .iter()
            .copied()
            .filter(|n| n.starts_with("checkpoint_"))
            .filter(|n| at(&w, n) == 1.0)
            .collect();
        assert_eq!(one_hot, name.into_iter().collect::<Vec<_>>(), "{cp:?}");
    }
}

#[test]
fn non_finite_inputs_become_zero() {
    let mut ctx = base();
    ctx.amount = ctx.amount.map(|a| AmountView {
        approx: f64::NAN,
        ..a
    });
    ctx.velocity.user.sum_24h = f64::INFINITY;
    let v = extract(&ctx);
    assert!(v.iter().all(|x| x.is_finite()));
    assert_eq!(at(&v, "amount_log1p"), 0.0);
}
