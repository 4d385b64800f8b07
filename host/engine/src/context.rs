//! The enriched context: every normalised field and every feature value a decision was made
//! on. It is stored with the decision, so a replay sees exactly what the pipeline saw.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checkpoint::Checkpoint;
use crate::money::{RateTable, ReportingAmount};
use crate::normalize;
use crate::request::DecisionRequest;
use crate::velocity::VelocityFeatures;

/// The amount as every later layer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmountView {
    /// Exact decimal string, e.g. `"129.99"`.
    pub value: String,
    pub minor_units: i64,
    pub currency: String,
    /// Major units as a float, for thresholds and features only.
    pub approx: f64,
    /// The amount in the reporting currency, with the rate and table version used; absent
    /// when the rate table has no rate for the currency (and in decisions made before rate
    /// tables existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting: Option<ReportingAmount>,
}

/// Link-graph features (filled by the graph stage): the graph's own [`arbiter_graph::Features`],
/// defined there once. Its serde names are the stored decision's `context.graph` and the
/// fields the runtime hands a policy module; the guest SDK keeps its own copy of that layout.
pub use arbiter_graph::Features as GraphFeatures;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrichedContext {
    pub checkpoint: Checkpoint,
    pub request_id: String,
    pub amount: Option<AmountView>,
    pub user_id: String,
    pub account_age_days: Option<u32>,
    pub email: Option<String>,
    pub email_domain: Option<String>,
    pub phone: Option<String>,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub ip_country: Option<String>,
    pub is_proxy: bool,
    pub payment_method: Option<String>,
    pub card_fingerprint: Option<String>,
    pub card_bin: Option<String>,
    pub card_country: Option<String>,
    /// SHA-256 of the normalised address; the address itself is not kept.
    pub shipping_address_hash: Option<String>,
    pub shipping_country: Option<String>,
    pub order_id: Option<String>,
    pub attributes: BTreeMap<String, Value>,
    pub velocity: VelocityFeatures,
    pub graph: Option<GraphFeatures>,
    /// Watch-list reason codes that matched.
    pub watch_hits: Vec<String>,
    /// The rules snoozed for this request's entities when it was decided (sorted): their
    /// results are recorded but count for nothing. Stored with the context, so a replay
    /// silences the same rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snoozed_rules: Vec<String>,
    /// The model layer's score, for the rules to read (layout 2.1). Set by
    /// `pipeline::evaluate_policy` from the model outcome it scores with, so a replay with
    /// another model hands the rules that model's score; not stored (the decision's
    /// `layers.model` holds it).
    #[serde(skip)]
    pub model_score: Option<f64>,
}

impl EnrichedContext {
    /// Normalises a validated request, its amount converted into the reporting currency with
    /// `rates`; features are filled in by the pipeline.
    pub fn normalise(req: &DecisionRequest, rates: &RateTable) -> EnrichedContext {
        let (email, email_domain) = match req.email.as_deref() {
            Some(raw) => {
                let (e, d) = normalize::email(raw);
                (Some(e), d)
            }
            None => (None, None),
        };
        let non_empty = |s: String| if s.is_empty() { None } else { Some(s) };
        EnrichedContext {
            checkpoint: req.checkpoint,
            request_id: req.request_id.clone(),
            amount: req.amount.map(|m| AmountView {
                value: m.to_wire().value,
                minor_units: m.minor_units(),
                currency: m.currency.code().to_owned(),
                approx: m.approx_major(),
                reporting: rates.convert(&m),
            }),
            user_id: req.user_id.clone(),
            account_age_days: req.account_age_days,
            email: email.and_then(non_empty),
            email_domain,
            phone: req
                .phone
                .as_deref()
                .map(normalize::phone)
                .and_then(non_empty),
            device_id: req
                .device
                .id
                .as_deref()
                .map(normalize::id)
                .and_then(non_empty),
            ip: req.device.ip.as_deref().and_then(normalize::ip),
            ip_country: req.device.ip_country.as_deref().map(normalize::country),
            is_proxy: req.device.is_proxy,
            payment_method: req.payment.method.clone(),
            card_fingerprint: req
                .payment
                .card_fingerprint
                .as_deref()
                .map(normalize::id)
                .and_then(non_empty),
            card_bin: req.payment.card_bin.clone(),
            card_country: req.payment.card_country.as_deref().map(normalize::country),
            shipping_address_hash: req.shipping.address.as_deref().map(normalize::address_hash),
            shipping_country: req.shipping.country.as_deref().map(normalize::country),
            order_id: req.order_id.clone(),
            attributes: req.attributes.clone(),
            velocity: VelocityFeatures::default(),
            graph: None,
            watch_hits: Vec::new(),
            snoozed_rules: Vec::new(),
            model_score: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GraphFeatures;

    /// A stored decision's `context.graph` is this JSON. The type is the graph crate's now;
    /// its names and order are still a stored format the engine answers for.
    #[test]
    fn graph_features_keep_their_stored_layout() {
        let features = GraphFeatures {
            group_entities: 1,
            group_users: 2,
            users_per_device: 3,
            users_per_card: 4,
            users_per_address: 5,
            users_per_phone: 6,
            cards_per_device: 7,
            cards_per_user: 8,
            hops_to_fraud: Some(2),
            fraud_share_2hop: 0.5,
            score: 0.25,
        };
        let json = serde_json::to_string(&features).expect("serialise");
        assert_eq!(
            json,
            r#"{"group_entities":1,"group_users":2,"users_per_device":3,"users_per_card":4,"users_per_address":5,"users_per_phone":6,"cards_per_device":7,"cards_per_user":8,"hops_to_fraud":2,"fraud_share_2hop":0.5,"score":0.25}"#
        );
        let back: GraphFeatures = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, features);
    }
}
