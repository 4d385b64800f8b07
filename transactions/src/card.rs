//! The simulated card acquirer's outgoing side: it builds the events a real Stripe account
//! would send for a payment or refund, in Stripe's shape, signed with the shared secret the
//! way Stripe signs them. Tests and the admin trigger route use it to play the channel —
//! including sending an event twice or out of order, which is just sending it again.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::channels::card::{PAYMENT_KEY, REFUND_KEY};
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

    /// `payment_intent.succeeded` (or `.payment_failed`) for `payment`, for its exact amount,
    /// named by our channel id (a payment the channel's API never saw).
    pub fn payment_event(
        &self,
        payment: &Payment,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> SignedEvent {
        self.intent_event(payment, None, succeeded, at)
    }

    /// The same for a payment the API created as intent `intent` (`Some`): named by Stripe's
    /// id, ours in its metadata, as Stripe sends it.
    pub fn intent_event(
        &self,
        payment: &Payment,
        intent: Option<&str>,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> SignedEvent {
        let (kind, status) = if succeeded {
            (EventType::PaymentSucceeded, "succeeded")
        } else {
            (EventType::PaymentFailed, "requires_payment_method")
        };
        let ours = &payment.channel_payment_id.0;
        let object = EventObject {
            id: intent.unwrap_or(ours).to_owned(),
            payment_intent: None,
            amount: payment.amount.checked_minor_units().unwrap_or_default(),
            currency: payment.amount.currency.code().to_ascii_lowercase(),
            status: status.into(),
            metadata: intent
                .map(|_| BTreeMap::from([(PAYMENT_KEY.to_owned(), ours.clone())]))
                .unwrap_or_default(),
        };
        self.event(kind, object, at)
    }

    /// `refund.updated` for `refund` of `payment`, `succeeded` or `failed`, named by our ids.
    pub fn refund_event(
        &self,
        refund: &Refund,
        payment: &Payment,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> SignedEvent {
        self.stripe_refund_event(refund, payment, None, succeeded, at)
    }

    /// The same for a refund the API took: `ids` are Stripe's intent and refund ids, ours in
    /// the refund's metadata.
    pub fn stripe_refund_event(
        &self,
        refund: &Refund,
        payment: &Payment,
        ids: Option<(&str, &str)>,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> SignedEvent {
        let (intent, id) =
            ids.unwrap_or((&payment.channel_payment_id.0, &refund.channel_refund_id.0));
        let object = EventObject {
            id: id.to_owned(),
            payment_intent: Some(intent.to_owned()),
            amount: refund.amount.checked_minor_units().unwrap_or_default(),
            currency: refund.amount.currency.code().to_ascii_lowercase(),
            status: if succeeded { "succeeded" } else { "failed" }.into(),
            metadata: ids
                .map(|_| {
                    BTreeMap::from([
                        (PAYMENT_KEY.to_owned(), payment.channel_payment_id.0.clone()),
                        (REFUND_KEY.to_owned(), refund.channel_refund_id.0.clone()),
                    ])
                })
                .unwrap_or_default(),
        };
        self.event(EventType::RefundUpdated, object, at)
    }

    /// Signs an arbitrary body at `at` (for forged-body and stale-signature tests).
    pub fn sign(&self, body: &[u8], at: DateTime<Utc>) -> String {
        sign(&self.secret, at.timestamp(), body)
    }

    /// Event `kind` about `object`, signed at `at` (a fresh event id).
    pub fn event(&self, kind: EventType, object: EventObject, at: DateTime<Utc>) -> SignedEvent {
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
