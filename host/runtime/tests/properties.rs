//! Properties over arbitrary contexts, with the real example policies: conversion never
//! fails, no example faults on any well-formed context, and a module answers the same
//! context the same way on a warm instance, a fresh one, and through the rule set.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::context::{AmountView, EnrichedContext, GraphFeatures};
use arbiter_engine::policy_set::{FailMode, ModuleRef};
use arbiter_engine::stages::RuleEvaluator;
use arbiter_engine::velocity::{VelocityFeatures, WindowStats};
use arbiter_runtime::bundled::BUNDLED;
use arbiter_runtime::{CompiledRuleSet, LoadedModule, PolicyRuntime, RuntimeConfig};
use proptest::prelude::*;
use serde_json::Value;

/// Each example loaded twice: `warm` keeps its instances, `fresh` recycles after every call.
struct Loaded {
    warm: Vec<(ModuleRef, Arc<LoadedModule>)>,
    fresh: Vec<Arc<LoadedModule>>,
}

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        let warm = PolicyRuntime::new(RuntimeConfig::default()).expect("runtime");
        let fresh = PolicyRuntime::new(RuntimeConfig {
            instances_recycle_after: 1,
            ..RuntimeConfig::default()
        })
        .expect("runtime");
        let mut loaded = Loaded {
            warm: Vec::new(),
            fresh: Vec::new(),
        };
        for (index, policy) in BUNDLED.iter().enumerate() {
            let artifact = warm.validate(policy.component).expect("valid");
            let module_ref = ModuleRef {
                name: policy.name.into(),
                version: i64::try_from(index).expect("small"),
                fail_mode: FailMode::Open,
            };
            let module = warm.load(&artifact.precompiled).expect("loads");
            loaded.warm.push((module_ref, module));
            // Artifacts load into any runtime with the same engine settings.
            loaded
                .fresh
                .push(fresh.load(&artifact.precompiled).expect("loads"));
        }
        loaded
    })
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

fn country() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[A-Z]{2}")
}

fn window() -> impl Strategy<Value = WindowStats> {
    (0u32..50, 0.0f64..5_000.0, 0u32..200, 0.0f64..50_000.0).prop_map(
        |(count_1h, sum_1h, count_24h, sum_24h)| WindowStats {
            count_1h,
            sum_1h,
            count_24h,
            sum_24h,
        },
    )
}

fn graph() -> impl Strategy<Value = GraphFeatures> {
    (
        proptest::array::uniform8(0u32..40),
        proptest::option::of(0u8..6),
        0.0f32..=1.0,
        0.0f32..=1.0,
    )
        .prop_map(
            |(counts, hops_to_fraud, fraud_share_2hop, score)| GraphFeatures {
                group_entities: counts[0],
                group_users: counts[1],
                users_per_device: counts[2],
                users_per_card: counts[3],
                users_per_address: counts[4],
                users_per_phone: counts[5],
                cards_per_device: counts[6],
                cards_per_user: counts[7],
                hops_to_fraud,
                fraud_share_2hop,
                score,
            },
        )
}

fn attribute() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        proptest::collection::vec(text(), 0..3).prop_map(Value::from),
    ]
}

prop_compose! {
    fn context()(
        checkpoint in proptest::sample::select(Checkpoint::ALL.to_vec()),
        request_id in text(),
        amount in proptest::option::of((0i64..100_000_000, "[A-Z]{3}")),
        user_id in text(),
        account_age_days in proptest::option::of(0u32..5_000),
        email in proptest::option::of(text()),
        device_id in proptest::option::of(text()),
        ip in proptest::option::of(text()),
        countries in (country(), country(), country()),
        is_proxy in any::<bool>(),
        card_fingerprint in proptest::option::of(text()),
        attributes in proptest::collection::btree_map(text(), attribute(), 0..6),
        windows in (window(), proptest::option::of(window()), proptest::option::of(window())),
        graph in proptest::option::of(graph()),
        watch_hits in proptest::collection::vec(text(), 0..3),
    ) -> EnrichedContext {
        let (ip_country, card_country, shipping_country) = countries;
        let (user, device, card) = windows;
        EnrichedContext {
            checkpoint,
            request_id,
            amount: amount.map(|(minor_units, currency)| AmountView {
                value: format!("{}.{:02}", minor_units / 100, minor_units % 100),
                minor_units,
                currency,
                approx: minor_units as f64 / 100.0,
                reporting: None,
            }),
            user_id,
            account_age_days,
            email_domain: email.as_ref().and_then(|e| e.split('@').nth(1).map(str::to_owned)),
            email,
            phone: None,
            device_id,
            ip,
            ip_country,
            is_proxy,
            payment_method: Some("card".into()),
            card_fingerprint,
            card_bin: None,
            card_country,
            shipping_address_hash: None,
            shipping_country,
            order_id: None,
            attributes: attributes.into_iter().collect::<BTreeMap<_, _>>(),
            velocity: VelocityFeatures { user, device, card, ip: None, email: None },
            graph,
            watch_hits,
            snoozed_rules: Vec::new(),
            model_score: None,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn examples_never_fault_and_answer_the_same_everywhere(ctx in context()) {
        let loaded = loaded();
        let rules = CompiledRuleSet::new(loaded.warm.clone());
        let layer = rules.evaluate(&ctx);
        prop_assert_eq!(layer.len(), loaded.warm.len());
        for (((module_ref, warm), fresh), result) in
            loaded.warm.iter().zip(&loaded.fresh).zip(&layer)
        {
            prop_assert!(result.fault.is_none(), "`{}`: {:?}", module_ref.name, result.fault);
            prop_assert!(result.score.is_finite());
            let again = warm.evaluate(&ctx).result.expect("no fault");
            let fresh = fresh.evaluate(&ctx).result.expect("no fault");
            prop_assert_eq!(again.action, result.action);
            prop_assert_eq!(fresh.action, result.action);
            prop_assert_eq!(again.score.to_bits(), result.score.to_bits());
            prop_assert_eq!(fresh.score.to_bits(), result.score.to_bits());
            prop_assert_eq!(&again.reasons, &result.reasons);
            prop_assert_eq!(&fresh.reasons, &result.reasons);
        }
    }
}
