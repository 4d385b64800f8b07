//! How the transaction core asks the risk host: the [`RiskClient`] trait (the host implements
//! it in process or over HTTP) and the fail mode that decides what a timeout or error means.
//! Timeouts are the client's to enforce (this crate has no runtime); it reports them as
//! [`RiskError::Timeout`].
//!
//! The fail mode is for faults only. A request the risk host refuses to decide (an IP that is
//! not one) is bad input, not a fault: [`RiskClient::check`] finds it before a step writes
//! anything, so the step is refused naming the field; should `assess` still answer
//! [`RiskError::Invalid`], the step is rejected, whatever the fail mode — otherwise a caller
//! could buy the fail-open path (a block-listed user paid for) with one malformed field.

use arbiter_engine::Checkpoint;
use arbiter_engine::money::Money;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::TxError;

/// The risk host's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskAction {
    Accept,
    Challenge,
    Reject,
}

impl RiskAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskAction::Accept => "accept",
            RiskAction::Challenge => "challenge",
            RiskAction::Reject => "reject",
        }
    }
    pub fn parse(s: &str) -> Option<RiskAction> {
        [Self::Accept, Self::Challenge, Self::Reject]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// A decision: its action and the id under which the host logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskVerdict {
    pub action: RiskAction,
    pub decision_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskError {
    #[error("risk host timed out")]
    Timeout,
    #[error("risk host failed: {0}")]
    Unavailable(String),
    /// The request itself is one the risk host refuses: bad input, never a fault.
    #[error(transparent)]
    Invalid(#[from] InvalidRisk),
}

/// Which hint of a [`RiskRequest`] the risk host refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskField {
    Amount,
    User,
    Device,
    Ip,
    ShippingAddress,
    ShippingCountry,
    PaymentMethod,
    /// Anything else (the step's own ids, or the request as a whole).
    Request,
}

impl RiskField {
    /// The field as an order request (`POST /v1/orders`) names it.
    pub fn order_field(self) -> &'static str {
        match self {
            RiskField::Amount => "items",
            RiskField::User => "user",
            RiskField::Device => "device",
            RiskField::Ip => "ip",
            RiskField::ShippingAddress => "shipping.address",
            RiskField::ShippingCountry => "shipping.country",
            RiskField::PaymentMethod => "payment_method",
            RiskField::Request => "request",
        }
    }
}

/// A risk request the host refuses to decide, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid risk request: `{}`: {reason}", field.order_field())]
pub struct InvalidRisk {
    pub field: RiskField,
    pub reason: String,
}

impl InvalidRisk {
    /// The refusal of a step whose hints are invalid. `of_order` when the hints are the
    /// order's, taken up by a later step (a payment, a refund): the field is then `order.<f>`.
    pub fn refusal(self, of_order: bool) -> TxError {
        let field = self.field.order_field();
        if of_order {
            TxError::invalid(
                &format!("order.{field}"),
                format!("the order's `{field}`: {}", self.reason),
            )
        } else {
            TxError::invalid(field, self.reason)
        }
    }
}

/// What a risk-host failure means: `open` proceeds as if accepted, `closed` rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFailMode {
    #[default]
    Open,
    Closed,
}

impl RiskFailMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskFailMode::Open => "open",
            RiskFailMode::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<RiskFailMode> {
        [Self::Open, Self::Closed]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// What the transaction core tells the risk host about one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRequest {
    pub checkpoint: Checkpoint,
    /// Stable per step (`<order id>:order.create`), so a retried step is one decision.
    pub request_id: String,
    pub amount: Money,
    pub user_id: String,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub shipping_address: Option<String>,
    pub shipping_country: Option<String>,
    pub payment_method: Option<String>,
}

#[async_trait]
pub trait RiskClient: Send + Sync + 'static {
    /// Whether the risk host would take `request`, without deciding it: a step asks before it
    /// writes anything, so invalid hints are refused with nothing half-written. No I/O. The
    /// default takes everything (`assess` may still answer [`RiskError::Invalid`]).
    fn check(&self, request: &RiskRequest) -> Result<(), InvalidRisk> {
        let _ = request;
        Ok(())
    }
    async fn assess(&self, request: &RiskRequest) -> Result<RiskVerdict, RiskError>;
}

/// What was asked and what it led to, recorded on the order (or payment, refund).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRecord {
    /// The action the step followed: the host's, the fail mode's when it failed, or `reject`
    /// when it refused the request as invalid.
    pub action: RiskAction,
    /// The host's decision id; `None` when the host failed or refused.
    pub decision_id: Option<String>,
    /// Why the host gave no answer, when it did not.
    pub fault: Option<String>,
    /// The fail mode applied, only when the host failed (never for an invalid request).
    pub fail_mode: Option<RiskFailMode>,
}

impl RiskRecord {
    /// Applies the fail mode to a failed call; an answer is taken as given; a request the host
    /// refused as invalid is rejected, whatever the fail mode.
    pub fn resolve(answer: Result<RiskVerdict, RiskError>, fail_mode: RiskFailMode) -> RiskRecord {
        match answer {
            Ok(v) => RiskRecord {
                action: v.action,
                decision_id: Some(v.decision_id),
                fault: None,
                fail_mode: None,
            },
            Err(e @ RiskError::Invalid(_)) => RiskRecord {
                action: RiskAction::Reject,
                decision_id: None,
                fault: Some(e.to_string()),
                fail_mode: None,
            },
            Err(e) => RiskRecord {
                action: match fail_mode {
                    RiskFailMode::Open => RiskAction::Accept,
                    RiskFailMode::Closed => RiskAction::Reject,
                },
                decision_id: None,
                fault: Some(e.to_string()),
                fail_mode: Some(fail_mode),
            },
        }
    }
}

/// The decision a label or chargeback addressed by `order` belongs to: the `payment.authorize`
/// decision of its captured payment, else of its latest payment the risk host decided, else
/// the order's own `order.create` decision. `payments` are the order's, oldest first.
///
/// Why `payment.authorize` first: a chargeback disputes a captured payment, and the decision
/// that let that money move is the payment's — the heavy checkpoint, the one the model is
/// meant to learn fraud on. An order never paid still has its `order.create` decision.
///
/// Only decisions the transaction core recorded on its own rows count: a decision some caller
/// posted to the decision API naming the order id is never one, so no caller can steer a
/// label (and the graph marks and training it drives) onto a decision of their choosing.
pub fn decision_of_record<'a>(
    order: &'a crate::order::Order,
    payments: &'a [crate::payment::Payment],
) -> Option<&'a str> {
    let decided = |p: &&'a crate::payment::Payment| {
        p.order_id == order.id && p.risk.as_ref().is_some_and(|r| r.decision_id.is_some())
    };
    let captured = payments
        .iter()
        .filter(decided)
        .rfind(|p| p.status == crate::status::PaymentStatus::Succeeded);
    captured
        .or_else(|| payments.iter().rfind(decided))
        .and_then(|p| p.risk.as_ref()?.decision_id.as_deref())
        .or_else(|| order.risk.as_ref()?.decision_id.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_follow_the_fail_mode_and_are_recorded() {
        let open = RiskRecord::resolve(Err(RiskError::Timeout), RiskFailMode::Open);
        assert_eq!(open.action, RiskAction::Accept);
        assert_eq!(open.fail_mode, Some(RiskFailMode::Open));
        assert_eq!(open.fault.as_deref(), Some("risk host timed out"));
        let closed = RiskRecord::resolve(
            Err(RiskError::Unavailable("503".into())),
            RiskFailMode::Closed,
        );
        assert_eq!(closed.action, RiskAction::Reject);
        let answered = RiskRecord::resolve(
            Ok(RiskVerdict {
                action: RiskAction::Challenge,
                decision_id: "dec_1".into(),
            }),
            RiskFailMode::Closed,
        );
        assert_eq!(answered.action, RiskAction::Challenge);
        assert_eq!(answered.fail_mode, None);
        assert_eq!(answered.decision_id.as_deref(), Some("dec_1"));
    }

    #[test]
    fn an_invalid_request_is_rejected_whatever_the_fail_mode() {
        let invalid = || {
            Err(RiskError::Invalid(InvalidRisk {
                field: RiskField::Ip,
                reason: "`x` is not an IP address".into(),
            }))
        };
        for mode in [RiskFailMode::Open, RiskFailMode::Closed] {
            let record = RiskRecord::resolve(invalid(), mode);
            assert_eq!(record.action, RiskAction::Reject, "{mode:?}");
            assert_eq!(record.fail_mode, None);
            assert!(record.fault.is_some_and(|f| f.contains("`ip`")));
        }
    }

    #[test]
    fn an_invalid_hint_is_refused_naming_the_callers_field() {
        let invalid = InvalidRisk {
            field: RiskField::ShippingCountry,
            reason: "bad".into(),
        };
        assert!(matches!(
            invalid.clone().refusal(false),
            TxError::Invalid { field, .. } if field == "shipping.country"
        ));
        assert!(matches!(
            invalid.refusal(true),
            TxError::Invalid { field, reason } if field == "order.shipping.country" && reason.contains("order's")
        ));
    }

    fn record(decision: Option<&str>) -> Option<RiskRecord> {
        Some(RiskRecord {
            action: RiskAction::Accept,
            decision_id: decision.map(str::to_owned),
            fault: decision.is_none().then(|| "timed out".to_owned()),
            fail_mode: decision.is_none().then_some(RiskFailMode::Open),
        })
    }

    fn order(decision: Option<&str>) -> crate::order::Order {
        use crate::ids::{IdempotencyKey, OrderId, ReservationId};
        let now = chrono::Utc::now();
        crate::order::Order {
            id: OrderId::from("ord_1"),
            idempotency_key: IdempotencyKey::from("k"),
            body_hash: String::new(),
            status: crate::status::OrderStatus::Paid,
            request: crate::order::OrderRequest {
                items: vec![],
                user: "u".into(),
                device: None,
                ip: None,
                shipping: None,
                payment_method: None,
            },
            items: vec![],
            total: Money::from_stored(100, "USD").expect("USD"),
            reservation_id: ReservationId::from("res_1"),
            challenge_required: false,
            risk: record(decision),
            expires_at: now,
            created_at: now,
            updated_at: now,
        }
    }

    fn payment(
        id: &str,
        status: crate::status::PaymentStatus,
        decision: Option<&str>,
    ) -> crate::payment::Payment {
        use crate::ids::{ChannelPaymentId, IdempotencyKey, OrderId, PaymentId};
        let now = chrono::Utc::now();
        crate::payment::Payment {
            id: PaymentId::from(id),
            order_id: OrderId::from("ord_1"),
            idempotency_key: IdempotencyKey::from(id),
            body_hash: String::new(),
            channel: "card".into(),
            channel_payment_id: ChannelPaymentId::from(id),
            status,
            amount: Money::from_stored(100, "USD").expect("USD"),
            risk: record(decision),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_decision_of_record_is_the_captured_payments_then_the_latest_then_the_orders() {
        use crate::status::PaymentStatus::{Failed, Processing, Succeeded};
        let o = order(Some("dec_order"));
        assert_eq!(decision_of_record(&o, &[]), Some("dec_order"));
        let failed = payment("pay_1", Failed, Some("dec_pay_1"));
        let captured = payment("pay_2", Succeeded, Some("dec_pay_2"));
        let later = payment("pay_3", Processing, Some("dec_pay_3"));
        let payments = [failed.clone(), captured, later.clone()];
        assert_eq!(decision_of_record(&o, &payments), Some("dec_pay_2"));
        assert_eq!(
            decision_of_record(&o, &[failed.clone(), later]),
            Some("dec_pay_3")
        );
        // A payment decided by the fail mode has no decision: the others stand in.
        let undecided = payment("pay_4", Succeeded, None);
        assert_eq!(
            decision_of_record(&o, &[failed, undecided.clone()]),
            Some("dec_pay_1")
        );
        assert_eq!(
            decision_of_record(&o, std::slice::from_ref(&undecided)),
            Some("dec_order")
        );
        assert_eq!(decision_of_record(&order(None), &[undecided]), None);
    }
}
