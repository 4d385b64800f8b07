//! The simulated card acquirer's outgoing side: it builds the events a real Stripe account
//! would send for a payment or refund, in Stripe's shape, signed with the shared secret the
//! way Stripe signs them. Tests and the admin trigger route use it to play the channel —
//! including sending an event twice or out of order, which is just sending it again.

use chrono::{DateTime, Utc};

use crate::ids::EventId;
use crate::payment::{ChannelEvent, EventData, EventObject, EventType, Payment, Refund};
use crate::signature::sign;

/// An event ready to post: the raw body and its `Stripe-Signature` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEvent {
    pub event: ChannelEvent,
    pub body: Vec<u8>,
    pub signature: String,
}

/// The card channel, holding the webhook signing secret.
#[derive(Clone)]
pub struct CardChannel {
    secret: Vec<u8>,
}

impl CardChannel {
    pub fn new(secret: Vec<u8>) -> CardChannel {
        CardChannel { secret }
    }

    /// `payment_intent.succeeded` (or `.payment_failed`) for `payment`, for its exact amount.
    pub fn payment_event(
        &self,
        payment: &Payment,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> SignedEvent {
        let (kind, status) = if succeeded {
            (EventType::PaymentSucceeded, "succeeded")
        } else {
            (EventType::PaymentFailed, "requires_payment_method")
        };
        let object = EventObject {
            id: payment.channel_payment_id.0.clone(),
            payment_intent: None,
            amount: payment.amount.checked_minor_units().unwrap_or_default(),
            currency: payment.amount.currency.code().to_ascii_lowercase(),
            status: status.into(),
        };
        self.signed(kind, object, at)
    }

    /// `refund.updated` for `refund` of `payment`, `succeeded` or `failed`.
    pub fn refund_event(
        &self,
        refund: &Refund,
        payment: &Payment,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> SignedEvent {
        let object = EventObject {
            id: refund.channel_refund_id.0.clone(),
            payment_intent: Some(payment.channel_payment_id.0.clone()),
            amount: refund.amount.checked_minor_units().unwrap_or_default(),
            currency: refund.amount.currency.code().to_ascii_lowercase(),
            status: if succeeded { "succeeded" } else { "failed" }.into(),
        };
        self.signed(EventType::RefundUpdated, object, at)
    }

    /// Signs an arbitrary body at `at` (for forged-body and stale-signature tests).
    pub fn sign(&self, body: &[u8], at: DateTime<Utc>) -> String {
        sign(&self.secret, at.timestamp(), body)
    }

    fn signed(&self, kind: EventType, object: EventObject, at: DateTime<Utc>) -> SignedEvent {
        let event = ChannelEvent {
            id: EventId::generate(),
            kind,
            created: at.timestamp(),
            data: EventData { object },
        };
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let signature = self.sign(&body, at);
        SignedEvent {
            event,
            body,
            signature,
        }
    }
}
