//! The builder the cases are written with: a benign request body plus features, edited
//! field by field, then validated and normalised as the pipeline does, its amount converted
//! into USD with the bench's rate table (EUR and JPY have a rate).

use std::collections::BTreeMap;

use arbiter_engine::context::GraphFeatures;
use arbiter_engine::money::{RateTable, RateTableWire};
use arbiter_engine::velocity::{VelocityFeatures, WindowStats};
use arbiter_engine::{DecisionRequest, EnrichedContext};
use serde_json::{Value, json};

use super::{Case, Expected};

/// A context under construction: the request body and its features.
pub(super) struct Build {
    body: Value,
    velocity: VelocityFeatures,
    graph: Option<GraphFeatures>,
}

impl Build {
    /// A benign card payment from a long-standing US customer: no rule fires on it.
    pub(super) fn payment() -> Build {
        let body = json!({
            "request_id": "req-peer-bench",
            "event": "payment.authorize",
            "amount": {"value": "49.99", "currency": "USD"},
            "user": {"id": "user-1001", "account_age_days": 400,
                     "email": "jane.doe@example.com", "phone": "+14155550123"},
            "device": {"id": "dev-7f3a9c", "ip": "203.0.113.24", "ip_country": "US",
                       "is_proxy": false},
            "payment": {"method": "card", "card_fingerprint": "fp_4c1d2e3f",
                        "card_bin": "424242", "card_country": "US"},
            "shipping": {"address": "1 Main St, Springfield", "country": "US"},
            "order_id": "ord-000123",
            "attributes": {"channel": "web", "items": 2}
        });
        let quiet = window(0, 0.0, 1, 49.99);
        Build {
            body,
            velocity: VelocityFeatures {
                user: quiet,
                device: Some(quiet),
                card: Some(quiet),
                ip: Some(quiet),
                email: Some(quiet),
            },
            graph: Some(benign_graph()),
        }
    }

    /// A promotion redemption (no amount) carrying `promo_code`.
    pub(super) fn promo(code: Value) -> Build {
        Build::payment()
            .set("/event", json!("promo.redeem"))
            .remove("amount")
            .set("/attributes/promo_code", code)
    }

    /// Sets the field at the JSON pointer `pointer`, adding it to its (existing) object.
    pub(super) fn set(mut self, pointer: &str, value: Value) -> Build {
        let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
        let object = self
            .body
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("no object `{parent}` in the base request"));
        object.insert(key.to_owned(), value);
        self
    }

    pub(super) fn remove(mut self, key: &str) -> Build {
        if let Some(object) = self.body.as_object_mut() {
            object.remove(key);
        }
        self
    }

    pub(super) fn amount(self, value: &str, currency: &str) -> Build {
        self.set("/amount", json!({"value": value, "currency": currency}))
    }

    pub(super) fn card(mut self, stats: Option<WindowStats>) -> Build {
        self.velocity.card = stats;
        self
    }

    pub(super) fn device(mut self, stats: Option<WindowStats>) -> Build {
        self.velocity.device = stats;
        self
    }

    pub(super) fn graph(mut self, edit: impl FnOnce(&mut GraphFeatures)) -> Build {
        let mut graph = self.graph.unwrap_or_else(benign_graph);
        edit(&mut graph);
        self.graph = Some(graph);
        self
    }

    pub(super) fn no_graph(mut self) -> Build {
        self.graph = None;
        self
    }

    pub(super) fn case(self, name: &'static str, expected: Expected) -> Case {
        let request = DecisionRequest::from_slice(self.body.to_string().as_bytes())
            .unwrap_or_else(|error| panic!("case `{name}` is not a valid request: {error}"));
        let mut context = EnrichedContext::normalise(&request, &rates());
        context.velocity = self.velocity;
        context.graph = self.graph;
        Case {
            name,
            context,
            expected,
        }
    }
}

pub(super) fn window(count_1h: u32, sum_1h: f64, count_24h: u32, sum_24h: f64) -> WindowStats {
    WindowStats {
        count_1h,
        sum_1h,
        count_24h,
        sum_24h,
    }
}

/// The rates the cases are converted with: USD reporting, EUR at 1.08, JPY at 0.0067.
fn rates() -> RateTable {
    let wire = RateTableWire {
        reporting_currency: "USD".into(),
        rates: BTreeMap::from([
            ("EUR".to_owned(), "1.08".to_owned()),
            ("JPY".to_owned(), "0.0067".to_owned()),
        ]),
    };
    RateTable::parse(&wire, 1).expect("the bench's rate table is valid")
}

/// A customer alone in their group: one user, one card, no fraud anywhere near.
fn benign_graph() -> GraphFeatures {
    GraphFeatures {
        group_entities: 4,
        group_users: 1,
        users_per_device: 1,
        users_per_card: 1,
        users_per_address: 1,
        users_per_phone: 1,
        cards_per_device: 1,
        cards_per_user: 1,
        hops_to_fraud: None,
        fraud_share_2hop: 0.0,
        score: 0.02,
    }
}
