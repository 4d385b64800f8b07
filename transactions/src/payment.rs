//! Payments, refunds and the card channel's events: the stored [`Payment`] and [`Refund`], what
//! a store needs to create them, and [`ChannelEvent`] — Stripe's event shape, so a real Stripe
//! account is a configuration away from the simulated card channel.

use std::collections::BTreeMap;

use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channels::card::{PAYMENT_KEY, REFUND_KEY};
use crate::channels::{Notice, NoticeState, PaymentState, RefundState};
use crate::error::TxError;
use crate::ids::{
    ChannelPaymentId, ChannelRefundId, EventId, IdempotencyKey, OrderId, PaymentId, RefundId,
};
use crate::risk::RiskRecord;
use crate::status::{PaymentStatus, RefundStatus};

/// The card channel's name: in accounts (`channel_clearing:card`) and the callback log.
pub const CARD: &str = "card";

/// A payment to be stored in `INIT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub idempotency_key: IdempotencyKey,
    pub body_hash: String,
    pub channel: String,
    pub channel_payment_id: ChannelPaymentId,
    /// The order's total: what the channel must capture, exactly.
    pub amount: Money,
    pub risk: Option<RiskRecord>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub idempotency_key: IdempotencyKey,
    pub body_hash: String,
    pub channel: String,
    pub channel_payment_id: ChannelPaymentId,
    pub status: PaymentStatus,
    pub amount: Money,
    pub risk: Option<RiskRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What `create_payment` did with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentCreate {
    Created(Payment),
    Existing(Payment),
}

/// A refund to be stored in `REQUESTED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    pub id: RefundId,
    pub payment_id: PaymentId,
    pub idempotency_key: IdempotencyKey,
    pub body_hash: String,
    pub channel_refund_id: ChannelRefundId,
    pub amount: Money,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: RefundId,
    pub payment_id: PaymentId,
    pub idempotency_key: IdempotencyKey,
    pub body_hash: String,
    pub channel_refund_id: ChannelRefundId,
    pub status: RefundStatus,
    pub amount: Money,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The event types the card channel sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "payment_intent.succeeded")]
    PaymentSucceeded,
    #[serde(rename = "payment_intent.payment_failed")]
    PaymentFailed,
    /// The intent was cancelled unpaid (by us, or when it timed out): it can no longer be paid.
    #[serde(rename = "payment_intent.canceled")]
    PaymentCanceled,
    #[serde(rename = "refund.updated")]
    RefundUpdated,
}

/// `data.object`: the payment intent, or the refund on refund events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventObject {
    /// The channel payment id, or the channel refund id on refund events.
    pub id: String,
    /// The channel payment id, on refund events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_intent: Option<String>,
    /// Minor units.
    pub amount: i64,
    /// Lowercase ISO 4217, as Stripe sends it (`usd`).
    pub currency: String,
    pub status: String,
    /// Ours on Stripe's objects: `channel_payment_id` on an intent, `channel_refund_id` on a
    /// refund (Stripe names them with its own ids).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    pub object: EventObject,
}

/// A channel event in Stripe's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelEvent {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub created: i64,
    pub data: EventData,
}

impl ChannelEvent {
    /// Parses a verified raw body; unknown event types are refused here.
    pub fn parse(raw: &[u8]) -> Result<ChannelEvent, TxError> {
        serde_json::from_slice(raw).map_err(|e| TxError::invalid("body", e.to_string()))
    }

    /// What the event reports, channel-neutral; `Err` with the reason when its amount is in a
    /// currency we do not know (it cannot be the payment's: a mismatch).
    pub fn notice(&self) -> Result<Notice, String> {
        let o = &self.data.object;
        let amount = || {
            self.amount().ok_or_else(|| {
                format!(
                    "the channel says {} {}: unknown currency",
                    o.amount, o.currency
                )
            })
        };
        // Stripe's own ids name the objects; ours travel in their metadata. An object without
        // it was created under our id (an event of the simulated channel without its API).
        let ours = |key: &str, theirs: &str| {
            o.metadata
                .get(key)
                .cloned()
                .unwrap_or_else(|| theirs.to_owned())
        };
        let (channel_payment_id, state) = match self.kind {
            EventType::PaymentSucceeded => (
                ours(PAYMENT_KEY, &o.id),
                NoticeState::Payment(PaymentState::Paid {
                    amount: amount()?,
                    channel_trade_id: o.id.clone(),
                }),
            ),
            EventType::PaymentFailed | EventType::PaymentCanceled => (
                ours(PAYMENT_KEY, &o.id),
                NoticeState::Payment(PaymentState::Closed),
            ),
            EventType::RefundUpdated => (
                ours(PAYMENT_KEY, o.payment_intent.as_deref().unwrap_or_default()),
                NoticeState::Refund {
                    channel_refund_id: ours(REFUND_KEY, &o.id),
                    state: match o.status.as_str() {
                        "succeeded" => RefundState::Succeeded { amount: amount()? },
                        "failed" | "canceled" => RefundState::Failed {
                            reason: format!("refund status `{}`", o.status),
                        },
                        _ => RefundState::Processing,
                    },
                },
            ),
        };
        Ok(Notice {
            notice_id: self.id.0.clone(),
            channel_payment_id,
            state,
        })
    }

    /// The event's amount, or `None` when its currency is unknown.
    pub fn amount(&self) -> Option<Money> {
        Money::from_stored(
            self.data.object.amount,
            &self.data.object.currency.to_ascii_uppercase(),
        )
    }
}

/// One entry of the callback log: every callback whose signature verified, with its raw body,
/// whatever became of it. Build it with [`CallbackRecord::verified`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRecord {
    pub channel: String,
    /// `None` when the verified body could not be parsed.
    pub event_id: Option<EventId>,
    pub raw: Vec<u8>,
    pub verdict: Verdict,
    pub detail: Option<String>,
    pub received_at: DateTime<Utc>,
}

impl CallbackRecord {
    /// The log entry for a callback of any channel, or `None` when its signature failed. The
    /// log keeps raw bodies only of callbacks the channel's secret vouched for: anyone can post
    /// an unsigned body, and storing each in full would let them fill the disk. A refused
    /// callback is counted and logged (without its body) by the host instead.
    pub fn verified(
        channel: &str,
        event_id: Option<EventId>,
        raw: &[u8],
        verdict: Verdict,
        detail: Option<String>,
        received_at: DateTime<Utc>,
    ) -> Option<CallbackRecord> {
        (verdict != Verdict::BadSignature).then(|| CallbackRecord {
            channel: channel.to_owned(),
            event_id,
            raw: raw.to_vec(),
            verdict,
            detail,
            received_at,
        })
    }
}

/// What became of a callback. The route answers `BadSignature` and `Malformed` with a 4xx and
/// everything else with 200, so the channel stops retrying what can never apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Applied,
    /// The event id (or its effect) was applied before.
    Duplicate,
    /// Amount or currency differ from the payment: recorded, flagged, never applied.
    Mismatch,
    /// Names no payment or refund we know, or arrives for one that cannot move that way.
    Ignored,
    BadSignature,
    Malformed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Applied => "applied",
            Verdict::Duplicate => "duplicate",
            Verdict::Mismatch => "mismatch",
            Verdict::Ignored => "ignored",
            Verdict::BadSignature => "bad_signature",
            Verdict::Malformed => "malformed",
        }
    }

    /// `true` for the verdicts a channel should be told off for (4xx).
    pub fn is_refusal(self) -> bool {
        matches!(self, Verdict::BadSignature | Verdict::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_verified_callbacks_are_logged() {
        let at = Utc::now();
        let record = |verdict| CallbackRecord::verified(CARD, None, b"{}", verdict, None, at);
        assert_eq!(record(Verdict::BadSignature), None);
        for verdict in [
            Verdict::Applied,
            Verdict::Duplicate,
            Verdict::Mismatch,
            Verdict::Ignored,
            Verdict::Malformed,
        ] {
            assert_eq!(record(verdict).map(|r| r.raw), Some(b"{}".to_vec()));
        }
    }

    #[test]
    fn parses_stripes_event_shape() {
        let raw = br#"{"id":"evt_1","type":"payment_intent.succeeded","created":1700000000,
            "data":{"object":{"id":"pi_1","amount":1299,"currency":"usd","status":"succeeded"}}}"#;
        let event = ChannelEvent::parse(raw).expect("parses");
        assert_eq!(event.kind, EventType::PaymentSucceeded);
        assert_eq!(event.amount(), Money::from_stored(1299, "USD"));
        let refund = br#"{"id":"evt_2","type":"refund.updated","created":1,
            "data":{"object":{"id":"re_1","payment_intent":"pi_1","amount":5,"currency":"eur","status":"failed"}}}"#;
        let event = ChannelEvent::parse(refund).expect("parses");
        assert_eq!(event.data.object.payment_intent.as_deref(), Some("pi_1"));
        assert!(ChannelEvent::parse(br#"{"id":"evt_3","type":"charge.captured"}"#).is_err());
    }

    #[test]
    fn a_card_event_reads_as_a_channel_neutral_notice() {
        let paid = br#"{"id":"evt_1","type":"payment_intent.succeeded","created":1,
            "data":{"object":{"id":"pi_1","amount":1299,"currency":"usd","status":"succeeded"}}}"#;
        let notice = ChannelEvent::parse(paid)
            .expect("parses")
            .notice()
            .expect("known");
        assert_eq!(notice.notice_id, "evt_1");
        assert_eq!(notice.channel_payment_id, "pi_1");
        assert_eq!(
            notice.state,
            NoticeState::Payment(PaymentState::Paid {
                amount: Money::from_stored(1299, "USD").expect("USD"),
                channel_trade_id: "pi_1".into()
            })
        );
        let refund = br#"{"id":"evt_2","type":"refund.updated","created":1,
            "data":{"object":{"id":"re_1","payment_intent":"pi_1","amount":5,"currency":"eur","status":"failed"}}}"#;
        let notice = ChannelEvent::parse(refund)
            .expect("parses")
            .notice()
            .expect("known");
        assert_eq!(notice.channel_payment_id, "pi_1");
        assert!(matches!(
            notice.state,
            NoticeState::Refund { channel_refund_id, state: RefundState::Failed { .. } } if channel_refund_id == "re_1"
        ));
        let unknown = br#"{"id":"evt_3","type":"payment_intent.succeeded","created":1,
            "data":{"object":{"id":"pi_1","amount":1299,"currency":"xyz","status":"succeeded"}}}"#;
        assert!(
            ChannelEvent::parse(unknown)
                .expect("parses")
                .notice()
                .is_err()
        );
    }
}
