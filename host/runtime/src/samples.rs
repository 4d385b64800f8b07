//! The sample contexts every uploaded module is run on before it is accepted.
//!
//! They cover every checkpoint, amounts in currencies with 0 and 2 decimals and no amount
//! at all, amounts with and without a reporting-currency conversion, with and without a model
//! score, every optional field present and absent, graph features present and absent,
//! string and non-string attributes, watch-list hits and non-ASCII text — so a module that
//! traps, runs away or answers nonsense on some shape of input is caught at upload rather
//! than in production. They are also realistic inputs for benchmarks and tests.

use std::collections::BTreeMap;

use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::context::{AmountView, EnrichedContext, GraphFeatures};
use arbiter_engine::money::{Money, MoneyWire, RateTable, RateTableWire};
use arbiter_engine::velocity::{VelocityFeatures, WindowStats};
use serde_json::{Value, json};

/// The built-in sample contexts, in a fixed order (validation errors name the index).
/// The names of the sample contexts, in the order of [`sample_contexts`]: an upload refused
/// on sample `i` names `SAMPLE_NAMES[i]`.
pub const SAMPLE_NAMES: [&str; 8] = [
    "card_payment",
    "new_account_order",
    "refund",
    "proxied_login",
    "promo_redemption",
    "card_testing_burst",
    "zero_amount_verification",
    "bare_order",
];

pub fn sample_contexts() -> Vec<EnrichedContext> {
    vec![
        card_payment(),
        new_account_order(),
        refund(),
        proxied_login(),
        promo_redemption(),
        card_testing_burst(),
        zero_amount_verification(),
        bare_order(),
    ]
}

/// An amount, converted into USD at the samples' rates (USD and EUR have one, JPY not).
fn amount(value: &str, minor_units: i64, currency: &str, approx: f64) -> Option<AmountView> {
    let rates = RateTableWire {
        reporting_currency: "USD".into(),
        rates: BTreeMap::from([("EUR".to_owned(), "1.08".to_owned())]),
    };
    let money = MoneyWire {
        value: value.into(),
        currency: currency.into(),
    };
    let reporting = RateTable::parse(&rates, 1)
        .ok()
        .zip(Money::parse("amount", &money).ok())
        .and_then(|(rates, money)| rates.convert(&money));
    Some(AmountView {
        value: value.into(),
        minor_units,
        currency: currency.into(),
        approx,
        reporting,
    })
}

fn window(count_1h: u32, sum_1h: f64, count_24h: u32, sum_24h: f64) -> WindowStats {
    WindowStats {
        count_1h,
        sum_1h,
        count_24h,
        sum_24h,
    }
}

fn attributes(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), value.clone()))
        .collect()
}

/// Everything absent that can be: a guest checkout with nothing but a user.
fn base(checkpoint: Checkpoint, request_id: &str, user_id: &str) -> EnrichedContext {
    EnrichedContext {
        checkpoint,
        request_id: request_id.into(),
        amount: None,
        user_id: user_id.into(),
        account_age_days: None,
        email: None,
        email_domain: None,
        phone: None,
        device_id: None,
        ip: None,
        ip_country: None,
        is_proxy: false,
        payment_method: None,
        card_fingerprint: None,
        card_bin: None,
        card_country: None,
        shipping_address_hash: None,
        shipping_country: None,
        order_id: None,
        attributes: BTreeMap::new(),
        velocity: VelocityFeatures::default(),
        graph: None,
        watch_hits: Vec::new(),
        snoozed_rules: Vec::new(),
        model_score: None,
    }
}

/// A typical card payment: every field filled, three countries agreeing, some velocity.
pub(crate) fn card_payment() -> EnrichedContext {
    EnrichedContext {
        amount: amount("129.99", 12_999, "USD", 129.99),
        model_score: Some(0.04),
        account_age_days: Some(420),
        email: Some("jane.doe@example.com".into()),
        email_domain: Some("example.com".into()),
        phone: Some("+14155550123".into()),
        device_id: Some("dev-7f3a9c".into()),
        ip: Some("203.0.113.24".into()),
        ip_country: Some("US".into()),
        payment_method: Some("card".into()),
        card_fingerprint: Some("fp_4c1d2e3f".into()),
        card_bin: Some("424242".into()),
        card_country: Some("US".into()),
        shipping_address_hash: Some(
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        ),
        shipping_country: Some("US".into()),
        order_id: Some("ord_000123".into()),
        attributes: attributes(&[("channel", json!("web")), ("items", json!(2))]),
        velocity: VelocityFeatures {
            user: window(1, 35.0, 3, 210.5),
            device: Some(window(1, 35.0, 2, 95.0)),
            card: Some(window(0, 0.0, 2, 95.0)),
            ip: Some(window(2, 50.0, 4, 260.0)),
            email: Some(window(1, 35.0, 3, 210.5)),
        },
        ..base(
            Checkpoint::PaymentAuthorize,
            "req-card-payment",
            "user-1001",
        )
    }
}

/// A large order from a two-day-old account, three different countries, a graph group.
fn new_account_order() -> EnrichedContext {
    EnrichedContext {
        amount: amount("2500.00", 250_000, "EUR", 2500.0),
        model_score: Some(0.93),
        account_age_days: Some(2),
        email: Some("élodie.martin@exemple.fr".into()),
        email_domain: Some("exemple.fr".into()),
        device_id: Some("dev-b8e1".into()),
        ip: Some("2001:db8::1".into()),
        ip_country: Some("NL".into()),
        payment_method: Some("card".into()),
        card_fingerprint: Some("fp_99aa".into()),
        card_country: Some("FR".into()),
        shipping_country: Some("DE".into()),
        attributes: attributes(&[("items", json!(3)), ("gift", json!(true))]),
        velocity: VelocityFeatures {
            device: Some(window(0, 0.0, 0, 0.0)),
            ..VelocityFeatures::default()
        },
        graph: Some(GraphFeatures {
            group_entities: 7,
            group_users: 2,
            users_per_device: 1,
            users_per_card: 1,
            users_per_address: 2,
            users_per_phone: 0,
            cards_per_device: 1,
            cards_per_user: 2,
            hops_to_fraud: None,
            fraud_share_2hop: 0.0,
            score: 0.05,
        }),
        ..base(Checkpoint::OrderCreate, "req-new-account", "user-2002")
    }
}

/// A refund in a currency without decimals.
fn refund() -> EnrichedContext {
    EnrichedContext {
        amount: amount("4000", 4_000, "JPY", 4000.0),
        account_age_days: Some(90),
        order_id: Some("ord_000777".into()),
        payment_method: Some("card".into()),
        ..base(Checkpoint::RefundRequest, "req-refund", "user-3003")
    }
}

/// A login through a proxy, one hop from a fraud-marked entity.
fn proxied_login() -> EnrichedContext {
    EnrichedContext {
        device_id: Some("dev-c0ffee".into()),
        ip: Some("198.51.100.7".into()),
        ip_country: Some("RO".into()),
        is_proxy: true,
        graph: Some(GraphFeatures {
            group_entities: 40,
            group_users: 12,
            users_per_device: 5,
            users_per_card: 0,
            users_per_address: 0,
            users_per_phone: 1,
            cards_per_device: 9,
            cards_per_user: 1,
            hops_to_fraud: Some(1),
            fraud_share_2hop: 0.3,
            score: 0.72,
        }),
        watch_hits: vec!["list.watch.ip".into()],
        snoozed_rules: Vec::new(),
        ..base(Checkpoint::AccountLogin, "req-login", "user-4004")
    }
}

/// A promotion redeemed by a day-old account on a device shared by many users.
fn promo_redemption() -> EnrichedContext {
    EnrichedContext {
        account_age_days: Some(0),
        device_id: Some("dev-farm-01".into()),
        attributes: attributes(&[("promo_code", json!("WELCOME10"))]),
        velocity: VelocityFeatures {
            user: window(0, 0.0, 0, 0.0),
            device: Some(window(6, 0.0, 16, 0.0)),
            ..VelocityFeatures::default()
        },
        graph: Some(GraphFeatures {
            users_per_device: 7,
            group_users: 7,
            group_entities: 9,
            ..GraphFeatures::default()
        }),
        ..base(Checkpoint::PromoRedeem, "req-promo", "user-5005")
    }
}

/// A tiny authorisation in a burst on one card, through a proxy.
fn card_testing_burst() -> EnrichedContext {
    EnrichedContext {
        amount: amount("1.00", 100, "USD", 1.0),
        device_id: Some("dev-tester".into()),
        ip: Some("192.0.2.200".into()),
        ip_country: Some("JP".into()),
        is_proxy: true,
        payment_method: Some("card".into()),
        card_fingerprint: Some("fp_burst".into()),
        card_bin: Some("411111".into()),
        card_country: Some("BR".into()),
        velocity: VelocityFeatures {
            user: window(12, 12.0, 30, 45.0),
            device: Some(window(14, 14.5, 40, 60.0)),
            card: Some(window(12, 12.0, 12, 12.0)),
            ip: Some(window(14, 14.5, 40, 60.0)),
            email: None,
        },
        ..base(
            Checkpoint::PaymentAuthorize,
            "req-card-testing",
            "user-6006",
        )
    }
}

/// A payment without an amount (a card verification), with nested attributes.
fn zero_amount_verification() -> EnrichedContext {
    EnrichedContext {
        card_fingerprint: Some("fp_verify".into()),
        card_country: Some("CA".into()),
        ip_country: Some("CA".into()),
        attributes: attributes(&[
            ("cart", json!({"skus": ["a-1", "b-2"], "total": null})),
            ("note", json!("naïve café — ünïcödé ✓")),
            ("retry", json!(false)),
        ]),
        watch_hits: vec!["list.watch.device".into(), "list.watch.email".into()],
        snoozed_rules: Vec::new(),
        ..base(Checkpoint::PaymentAuthorize, "req-verify", "user-7007")
    }
}

/// An order with nothing but an amount and a user.
fn bare_order() -> EnrichedContext {
    EnrichedContext {
        amount: amount("0.01", 1, "USD", 0.01),
        ..base(Checkpoint::OrderCreate, "req-bare", "u")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_cover_every_checkpoint_and_both_shapes() {
        let samples = sample_contexts();
        assert!(samples.len() >= 6);
        for checkpoint in Checkpoint::ALL {
            assert!(
                samples.iter().any(|s| s.checkpoint == checkpoint),
                "{checkpoint:?}"
            );
        }
        assert!(samples.iter().any(|s| s.amount.is_none()));
        assert!(samples.iter().any(|s| s.amount.is_some()));
        assert!(samples.iter().any(|s| s.graph.is_none()));
        assert!(samples.iter().any(|s| s.graph.is_some()));
        assert!(samples.iter().any(|s| !s.attributes.is_empty()));
    }
}
