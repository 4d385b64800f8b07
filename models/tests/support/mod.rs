//! Synthetic decisions for the integration tests and the bench: real `EnrichedContext`
//! values (the type the pipeline builds) with a planted fraud signal, turned into training
//! examples through the same `extract` the scorer uses.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fixture"
)]

use std::collections::BTreeMap;

use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::context::{AmountView, EnrichedContext, GraphFeatures};
use arbiter_engine::velocity::{VelocityFeatures, WindowStats};
use arbiter_models::{Example, extract};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A plain payment context: an old account, home country everywhere, no proxy.
pub fn context(amount: f64, age_days: u32, proxy: bool) -> EnrichedContext {
    EnrichedContext {
        checkpoint: Checkpoint::PaymentAuthorize,
        request_id: "req-1".into(),
        amount: Some(AmountView {
            value: format!("{amount:.2}"),
            minor_units: (amount * 100.0).round() as i64,
            currency: "EUR".into(),
            approx: amount,
            reporting: None,
        }),
        user_id: "user-1".into(),
        account_age_days: Some(age_days),
        email: Some("a@example.com".into()),
        email_domain: Some("example.com".into()),
        phone: None,
        device_id: Some("dev-1".into()),
        ip: Some("192.0.2.1".into()),
        ip_country: Some("DE".into()),
        is_proxy: proxy,
        payment_method: Some("card".into()),
        card_fingerprint: Some("fp-1".into()),
        card_bin: Some("424242".into()),
        card_country: Some("DE".into()),
        shipping_address_hash: None,
        shipping_country: Some("DE".into()),
        order_id: None,
        attributes: BTreeMap::new(),
        velocity: VelocityFeatures {
            user: WindowStats {
                count_1h: 1,
                sum_1h: amount,
                count_24h: 2,
                sum_24h: 2.0 * amount,
            },
            ..VelocityFeatures::default()
        },
        graph: Some(GraphFeatures::default()),
        watch_hits: Vec::new(),
        snoozed_rules: Vec::new(),
        model_score: None,
    }
}

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A stream of `n` decisions one minute apart. Fraud is planted on proxy + new account + high
/// amount (each raises the log-odds), with noise features (velocity, graph size, checkpoint)
/// that carry no signal, and an overall fraud rate near 7 %. The best possible ROC AUC on
/// this stream (the true probabilities) is about 0.94: the label itself is a coin flip. With
/// `random_labels` the label is a coin with the same rate, independent of the features.
pub fn stream(n: usize, seed: u64, random_labels: bool) -> Vec<Example> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let proxy = rng.random_bool(0.12);
            let new_account = rng.random_bool(0.15);
            let high_amount = rng.random_bool(0.15);
            let amount = if high_amount {
                rng.random_range(400.0..3000.0)
            } else {
                rng.random_range(5.0..150.0)
            };
            let age = if new_account {
                rng.random_range(0..3)
            } else {
                rng.random_range(30..2000)
            };
            let mut ctx = context(amount, age, proxy);
            ctx.velocity.user.count_24h = rng.random_range(0..10);
            ctx.graph = Some(GraphFeatures {
                group_users: rng.random_range(1..5),
                ..GraphFeatures::default()
            });
            if rng.random_bool(0.3) {
                ctx.checkpoint = Checkpoint::OrderCreate;
            }
            let log_odds = -7.0
                + 4.5 * f64::from(u8::from(proxy))
                + 4.5 * f64::from(u8::from(new_account))
                + 4.5 * f64::from(u8::from(high_amount));
            let p = 1.0 / (1.0 + (-log_odds).exp());
            let fraud = if random_labels {
                rng.random_bool(0.07)
            } else {
                rng.random_bool(p)
            };
            Example {
                features: extract(&ctx),
                fraud,
                at: start() + Duration::minutes(i as i64),
            }
        })
        .collect()
}
