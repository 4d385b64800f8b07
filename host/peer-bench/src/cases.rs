//! The contexts every engine is checked and measured on, each with the verdict the example
//! policies' READMEs give for it.
//!
//! They are built the way the pipeline builds them — a request body validated by
//! [`DecisionRequest::from_slice`](arbiter_engine::DecisionRequest::from_slice) and normalised by [`EnrichedContext::normalise`](arbiter_engine::EnrichedContext::normalise) — and
//! then given the velocity and graph features the enrichment stages would have added.
//! Together they take every branch of every rule, its boundaries included (an amount of
//! exactly 200, a mean of exactly 10, a fraud share of exactly 0.2 and 0.5).

use std::borrow::Cow;

use arbiter_engine::{Action, EnrichedContext};
use serde_json::{Value, json};

use crate::RulesVerdict;
use build::{Build, window};

mod build;

/// The verdict a case must get, from the policies' documented tables.
#[derive(Debug, Clone, Copy)]
pub struct Expected {
    pub action: Action,
    pub score: f64,
    /// In any order (engines order them differently; the check sorts both sides).
    pub reasons: &'static [&'static str],
}

impl Expected {
    /// As a verdict, reasons sorted (compare with [`RulesVerdict::sorted`]).
    pub fn verdict(&self) -> RulesVerdict {
        RulesVerdict {
            action: self.action,
            score: self.score,
            reasons: self
                .reasons
                .iter()
                .map(|code| Cow::Borrowed(*code))
                .collect(),
        }
        .sorted()
    }
}

/// One context and what the rules must say about it.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    pub context: EnrichedContext,
    pub expected: Expected,
}

const GEO: &str = "geo.mismatch";
const NEW: &str = "account.new_high_value";
const TESTING: &str = "velocity.card_testing";
const PROXY: &str = "network.proxy_high_value";
const MULTI: &str = "promo.multi_account";
const PROMO_NEW: &str = "promo.new_account";
const LINKED: &str = "graph.fraud_linked";
const SHARE: &str = "graph.fraud_neighbourhood";
const LARGE: &str = "graph.large_group";
const CARDS: &str = "graph.cards_per_device";

fn expect(action: Action, score: f64, reasons: &'static [&'static str]) -> Expected {
    Expected {
        action,
        score,
        reasons,
    }
}

/// Every case, in a fixed order.
#[expect(
    clippy::too_many_lines,
    reason = "a table of cases reads best in one place"
)]
pub fn all() -> Vec<Case> {
    use Action::{Challenge, None, Reject};
    let p = Build::payment;
    vec![
        p().case("benign_payment", expect(None, 0.0, &[])),
        // geo_mismatch
        p().set("/device/ip_country", json!("GB"))
            .amount("120.00", "USD")
            .case("geo_two_countries_small", expect(None, 15.0, &[GEO])),
        p().set("/device/ip_country", json!("GB"))
            .amount("450.00", "EUR")
            .case("geo_two_countries_medium", expect(None, 22.5, &[GEO])),
        p().set("/device/ip_country", json!("NG"))
            .set("/shipping/country", json!("GB"))
            .amount("1500.00", "USD")
            .case("geo_three_countries_large", expect(None, 60.0, &[GEO])),
        p().set("/event", json!("order.create"))
            .set("/device/ip_country", json!("NG"))
            .set("/shipping/country", json!("GB"))
            .amount("150", "JPY")
            .case("geo_three_countries_order_jpy", expect(None, 30.0, &[GEO])),
        p().set("/shipping/country", Value::Null)
            .set("/device/ip_country", json!("FR"))
            .amount("200.00", "USD")
            .case("geo_no_shipping_at_200", expect(None, 22.5, &[GEO])),
        p().set("/event", json!("account.login"))
            .remove("amount")
            .set("/device/ip_country", json!("NG"))
            .case("geo_ignored_on_login", expect(None, 0.0, &[])),
        p().set("/payment/card_country", Value::Null)
            .set("/shipping/country", Value::Null)
            .amount("5000.00", "USD")
            .case("geo_single_country", expect(None, 0.0, &[])),
        // new_account_high_value
        p().set("/event", json!("order.create"))
            .set("/user/account_age_days", json!(2))
            .amount("750.00", "USD")
            .case("new_account_challenge", expect(Challenge, 25.0, &[NEW])),
        p().set("/user/account_age_days", json!(0))
            .set("/device/ip_country", json!("CA"))
            .amount("3000.00", "USD")
            .case(
                "new_account_reject_and_geo",
                expect(Reject, 80.0, &[NEW, GEO]),
            ),
        p().set("/user/account_age_days", json!(7))
            .amount("3000.00", "USD")
            .case("week_old_account_large", expect(None, 0.0, &[])),
        p().set("/user/account_age_days", Value::Null)
            .amount("2600.00", "USD")
            .case("guest_checkout_large", expect(None, 0.0, &[])),
        // proxy_high_value
        p().set("/device/is_proxy", json!(true))
            .amount("300.00", "EUR")
            .case("proxy_high_value", expect(Challenge, 20.0, &[PROXY])),
        p().set("/device/is_proxy", json!(true))
            .set("/device/ip_country", json!("NL"))
            .set("/shipping/country", json!("GB"))
            .amount("1200.00", "USD")
            .case(
                "proxy_very_high_three_countries",
                expect(Challenge, 95.0, &[GEO, PROXY]),
            ),
        p().set("/device/is_proxy", json!(true))
            .amount("249.99", "USD")
            .case("proxy_small", expect(None, 0.0, &[])),
        p().set("/event", json!("order.create"))
            .set("/device/is_proxy", json!(true))
            .amount("1200.00", "USD")
            .case("proxy_on_order_ignored", expect(None, 0.0, &[])),
        // card_testing
        p().amount("1.00", "USD")
            .card(Some(window(5, 6.0, 5, 6.0)))
            .case(
                "card_testing_card_challenge",
                expect(Challenge, 30.0, &[TESTING]),
            ),
        p().amount("0.50", "USD")
            .card(Some(window(11, 11.0, 11, 11.0)))
            .device(Some(window(12, 12.0, 12, 12.0)))
            .case(
                "card_testing_card_and_device",
                expect(Reject, 120.0, &[TESTING, TESTING]),
            ),
        p().amount("10.00", "USD")
            .card(Some(window(4, 40.0, 4, 40.0)))
            .case(
                "card_testing_mean_exactly_10",
                expect(Challenge, 30.0, &[TESTING]),
            ),
        p().amount("10.01", "USD")
            .card(Some(window(4, 40.0, 4, 40.0)))
            .case("card_testing_mean_above_10", expect(None, 0.0, &[])),
        p().amount("0.00", "USD")
            .card(Option::None)
            .device(Some(window(9, 5.0, 9, 5.0)))
            .case("card_testing_device_only", expect(Reject, 60.0, &[TESTING])),
        p().amount("1.00", "USD")
            .card(Some(window(3, 0.0, 3, 0.0)))
            .case("card_testing_too_few", expect(None, 0.0, &[])),
        // promo_abuse
        Build::promo(json!("SPRING25"))
            .graph(|g| g.users_per_device = 4)
            .case("promo_graph_challenge", expect(Challenge, 30.0, &[MULTI])),
        Build::promo(json!("SPRING25"))
            .set("/user/account_age_days", json!(0))
            .graph(|g| g.users_per_device = 7)
            .case(
                "promo_graph_reject_new_account",
                expect(Reject, 70.0, &[MULTI, PROMO_NEW]),
            ),
        Build::promo(json!("SPRING25"))
            .no_graph()
            .device(Some(window(2, 0.0, 9, 0.0)))
            .case(
                "promo_velocity_challenge",
                expect(Challenge, 30.0, &[MULTI]),
            ),
        Build::promo(json!("SPRING25"))
            .no_graph()
            .device(Some(window(2, 0.0, 20, 0.0)))
            .case("promo_velocity_reject", expect(Reject, 60.0, &[MULTI])),
        Build::promo(json!("SPRING25"))
            .set("/user/account_age_days", json!(0))
            .no_graph()
            .device(Some(window(2, 0.0, 7, 0.0)))
            .case(
                "promo_velocity_below_new_account",
                expect(None, 10.0, &[PROMO_NEW]),
            ),
        Build::promo(json!(""))
            .graph(|g| g.users_per_device = 9)
            .case("promo_empty_code", expect(None, 0.0, &[])),
        Build::promo(json!(2024))
            .no_graph()
            .device(Some(window(0, 0.0, 15, 0.0)))
            .case("promo_numeric_code", expect(Reject, 60.0, &[MULTI])),
        Build::promo(json!("SPRING25"))
            .set("/user/account_age_days", json!(0))
            .no_graph()
            .device(Option::None)
            .case(
                "promo_no_evidence_new_account",
                expect(None, 10.0, &[PROMO_NEW]),
            ),
        p().set("/attributes/promo_code", json!("SPRING25"))
            .graph(|g| g.users_per_device = 9)
            .case("promo_code_on_payment_ignored", expect(None, 0.0, &[])),
        // graph_ring
        p().graph(|g| g.hops_to_fraud = Some(0))
            .case("graph_fraud_marked", expect(Reject, 60.0, &[LINKED])),
        p().graph(|g| {
            g.hops_to_fraud = Some(1);
            g.fraud_share_2hop = 0.35;
            g.group_users = 7;
        })
        .case(
            "graph_neighbour_and_share",
            expect(Challenge, 65.0, &[LINKED, SHARE]),
        ),
        p().graph(|g| {
            g.hops_to_fraud = Some(2);
            g.fraud_share_2hop = 0.6;
            g.group_users = 2;
            g.cards_per_device = 5;
        })
        .case(
            "graph_high_share_small_group",
            expect(Challenge, 60.0, &[CARDS, LINKED, SHARE]),
        ),
        p().graph(|g| {
            g.hops_to_fraud = Some(3);
            g.fraud_share_2hop = 0.5;
            g.group_users = 30;
            g.cards_per_device = 9;
        })
        .case("graph_farm", expect(Reject, 115.0, &[CARDS, SHARE, LARGE])),
        p().graph(|g| {
            g.fraud_share_2hop = 0.2;
            g.group_users = 10;
            g.cards_per_device = 4;
        })
        .case(
            "graph_at_thresholds",
            expect(Challenge, 60.0, &[CARDS, SHARE, LARGE]),
        ),
        p().graph(|g| {
            g.fraud_share_2hop = 0.19;
            g.group_users = 9;
            g.cards_per_device = 3;
        })
        .case("graph_just_below", expect(None, 0.0, &[])),
        // several rules at once
        p().set("/event", json!("refund.request"))
            .set("/user/account_age_days", json!(0))
            .set("/device/is_proxy", json!(true))
            .set("/device/ip_country", json!("NG"))
            .set("/shipping/country", json!("GB"))
            .amount("3000.00", "USD")
            .card(Some(window(20, 0.0, 20, 0.0)))
            .graph(|g| g.hops_to_fraud = Some(1))
            .case(
                "refund_only_graph_applies",
                expect(Challenge, 40.0, &[LINKED]),
            ),
        p().set("/user/account_age_days", json!(1))
            .set("/device/is_proxy", json!(true))
            .set("/device/ip_country", json!("NG"))
            .set("/shipping/country", json!("GB"))
            .amount("3000.00", "USD")
            .card(Some(window(20, 0.0, 20, 0.0)))
            .graph(|g| {
                g.hops_to_fraud = Some(1);
                g.cards_per_device = 8;
            })
            .case(
                "kitchen_sink_payment",
                expect(Reject, 220.0, &[NEW, CARDS, LINKED, GEO, PROXY]),
            ),
    ]
}
