//! The transaction core's [`RiskClient`] over the in-process decision service: each order,
//! payment and refund step becomes a decision request at its checkpoint, decided, logged and
//! counted exactly like one that arrived over `POST /v1/decisions`, within a time bound.

use std::sync::Arc;
use std::time::Duration;

use arbiter_engine::{DecisionRequest, RequestError};
use arbiter_transactions::risk::{
    InvalidRisk, RiskAction, RiskClient, RiskError, RiskField, RiskRequest, RiskVerdict,
};
use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::services::decisions::DecisionService;

/// Asks the decision pipeline of this process.
pub struct InProcessRisk {
    decisions: Arc<DecisionService>,
    /// Past this the step follows its fail mode; the decision may still complete and be logged.
    timeout: Duration,
}

impl InProcessRisk {
    pub fn new(decisions: Arc<DecisionService>, timeout: Duration) -> InProcessRisk {
        InProcessRisk { decisions, timeout }
    }
}

#[async_trait]
impl RiskClient for InProcessRisk {
    /// The same validation `assess` runs, without deciding: a step asks before it writes.
    fn check(&self, request: &RiskRequest) -> Result<(), InvalidRisk> {
        decision_request(request).map(drop)
    }

    async fn assess(&self, request: &RiskRequest) -> Result<RiskVerdict, RiskError> {
        let req = decision_request(request)?;
        let outcome = tokio::time::timeout(self.timeout, self.decisions.decide(req))
            .await
            .map_err(|_| RiskError::Timeout)?
            .map_err(|e| RiskError::Unavailable(e.to_string()))?;
        let decision = outcome.decision;
        let action = RiskAction::parse(decision.action.as_str()).ok_or_else(|| {
            RiskError::Unavailable(format!("unexpected action `{}`", decision.action.as_str()))
        })?;
        Ok(RiskVerdict {
            action,
            decision_id: decision.decision_id.0,
        })
    }
}

/// The decision request for one step, validated as the HTTP edge validates one. A step the
/// pipeline cannot take (say, an unparseable IP) is bad input, [`InvalidRisk`] naming the
/// hint: the step is refused, never handed to the fail mode.
pub fn decision_request(r: &RiskRequest) -> Result<DecisionRequest, InvalidRisk> {
    let mut body = Map::new();
    body.insert("request_id".into(), json!(r.request_id));
    body.insert("event".into(), json!(r.checkpoint.as_str()));
    body.insert("amount".into(), json!(r.amount.to_wire()));
    body.insert("user".into(), json!({"id": r.user_id}));
    let mut device = Map::new();
    put(&mut device, "id", &r.device_id);
    put(&mut device, "ip", &r.ip);
    if !device.is_empty() {
        body.insert("device".into(), Value::Object(device));
    }
    if let Some(method) = &r.payment_method {
        body.insert("payment".into(), json!({"method": method}));
    }
    let mut shipping = Map::new();
    put(&mut shipping, "address", &r.shipping_address);
    put(&mut shipping, "country", &r.shipping_country);
    if !shipping.is_empty() {
        body.insert("shipping".into(), Value::Object(shipping));
    }
    // `<order|payment|refund id>:<checkpoint>`: the subject the step is about.
    if let Some((subject, _)) = r.request_id.split_once(':') {
        body.insert("order_id".into(), json!(subject));
    }
    DecisionRequest::from_value(Value::Object(body)).map_err(|e| invalid(&e))
}

/// The refusal as the step's hint names it: the decision request's field path mapped back to
/// the [`RiskRequest`] field it was built from.
fn invalid(e: &RequestError) -> InvalidRisk {
    let reason = match e {
        RequestError::InvalidValue { message, .. } | RequestError::InvalidType { message, .. } => {
            message.clone()
        }
        other => other.to_string(),
    };
    let path = e.field().unwrap_or_default();
    let field = match path {
        "device.ip" => RiskField::Ip,
        "device" | "device.id" => RiskField::Device,
        "user" | "user.id" => RiskField::User,
        "shipping.address" => RiskField::ShippingAddress,
        "shipping.country" => RiskField::ShippingCountry,
        "payment" | "payment.method" => RiskField::PaymentMethod,
        p if p.starts_with("amount") => RiskField::Amount,
        _ => RiskField::Request,
    };
    InvalidRisk { field, reason }
}

fn put(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arbiter_engine::Checkpoint;
    use arbiter_engine::money::Money;

    fn request() -> RiskRequest {
        RiskRequest {
            checkpoint: Checkpoint::OrderCreate,
            request_id: "ord_1:order.create".into(),
            amount: Money::from_stored(2599, "USD").expect("USD"),
            user_id: "u-1".into(),
            device_id: Some("dev-1".into()),
            ip: Some("203.0.113.7".into()),
            shipping_address: Some("1 Main St".into()),
            shipping_country: Some("US".into()),
            payment_method: Some("card".into()),
        }
    }

    #[test]
    fn every_hint_reaches_the_decision_request() {
        let req = decision_request(&request()).expect("valid");
        assert_eq!(req.checkpoint, Checkpoint::OrderCreate);
        assert_eq!(req.request_id, "ord_1:order.create");
        assert_eq!(req.amount, Money::from_stored(2599, "USD"));
        assert_eq!(req.user_id, "u-1");
        assert_eq!(req.device.id.as_deref(), Some("dev-1"));
        assert_eq!(req.device.ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(req.payment.method.as_deref(), Some("card"));
        assert_eq!(req.shipping.country.as_deref(), Some("US"));
        assert_eq!(req.order_id.as_deref(), Some("ord_1"));
    }

    #[test]
    fn a_request_the_pipeline_refuses_is_invalid_naming_the_hint() {
        let mut r = request();
        r.ip = Some("not an ip".into());
        let e = decision_request(&r).expect_err("refused");
        assert_eq!(e.field, RiskField::Ip);
        assert!(e.reason.contains("not an IP address"), "{e}");
        let mut r = request();
        r.user_id = " ".into();
        assert_eq!(
            decision_request(&r).expect_err("refused").field,
            RiskField::User
        );
        // A limit the decision request sets names the hint too, not the request as a whole.
        let mut r = request();
        r.user_id = "u".repeat(1000);
        let e = decision_request(&r).expect_err("refused");
        assert_eq!(e.field, RiskField::User, "{e}");
        assert!(e.reason.contains("longer than"), "{e}");
    }
}
