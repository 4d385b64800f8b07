//! The simulated card acquirer's sending side: on an admin's request it builds the signed
//! Stripe-shaped event for a payment or refund and posts it to the webhook endpoint over HTTP,
//! as a real acquirer would — once or several times (a duplicate is the same event id again),
//! after a delay (a slow channel), sequentially or all at once (concurrent retries). Out of
//! order is two triggers in the order the test wants.
//!
//! With `--channel-simulator` a payment created at the simulated card API is paid there
//! instead (the buyer confirms the intent, or abandons it and it is cancelled) and the
//! simulator sends the event under Stripe's ids — or loses it (`times: 0`), for the query
//! worker to recover.

use std::sync::Arc;
use std::time::Duration;

use arbiter_engine::clock::Clock;
use arbiter_transactions::TxError;
use arbiter_transactions::card::{CardChannel, SignedEvent};
use arbiter_transactions::ids::{ChannelPaymentId, ChannelRefundId};
use arbiter_transactions::payment::EventType;
use arbiter_transactions::store::TransactionStore;
use serde::{Deserialize, Serialize};

use crate::simulator::card::CardSim;
use crate::simulator::delivery::{self, Outgoing};
pub use crate::simulator::delivery::{Attempt, Delivery};

/// What the channel reports for the payment or refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
}

/// The event sent and every answer to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    pub event_id: String,
    pub event_type: String,
    pub attempts: Vec<Attempt>,
}

pub struct CardChannelSender {
    channel: CardChannel,
    store: Arc<dyn TransactionStore>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    /// Where to post; `None` means this server, at the address the trigger was sent to.
    webhook_url: Option<String>,
    /// The simulated card API, with `--channel-simulator`.
    sim: Option<Arc<CardSim>>,
}

impl CardChannelSender {
    pub fn new(
        channel: CardChannel,
        store: Arc<dyn TransactionStore>,
        clock: Arc<dyn Clock>,
        webhook_url: Option<String>,
        sim: Option<Arc<CardSim>>,
    ) -> CardChannelSender {
        CardChannelSender {
            channel,
            store,
            clock,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            webhook_url,
            sim,
        }
    }

    /// Sends `payment_intent.succeeded` / `.payment_failed` for the payment.
    pub async fn payment_event(
        &self,
        id: &ChannelPaymentId,
        outcome: Outcome,
        delivery: Delivery,
        host: Option<&str>,
    ) -> Result<Sent, TxError> {
        let payment =
            self.store
                .payment_by_channel_id(id)
                .await?
                .ok_or_else(|| TxError::NotFound {
                    entity: "payment",
                    id: id.0.clone(),
                })?;
        let simulated = self
            .sim
            .as_ref()
            .and_then(|sim| Some((sim, sim.intent_of(&id.0)?)));
        if let Some((sim, intent)) = simulated {
            delivery::check(&delivery, true)
                .map_err(|(field, reason)| TxError::invalid(field, reason))?;
            let (kind, reported) = sim
                .report(&intent, outcome == Outcome::Succeeded, delivery)
                .await
                .map_err(|e| TxError::invalid("channel_payment_id", e.to_string()))?;
            return Ok(Sent {
                event_id: reported.notice_id,
                event_type: type_name(kind),
                attempts: reported.attempts,
            });
        }
        let target = self.target(host, &delivery)?;
        tokio::time::sleep(delivery.delay).await;
        let signed =
            self.channel
                .payment_event(&payment, outcome == Outcome::Succeeded, self.clock.now());
        Ok(self.deliver(&target, signed, delivery).await)
    }

    /// Sends `refund.updated` (succeeded or failed) for the refund.
    pub async fn refund_event(
        &self,
        id: &ChannelRefundId,
        outcome: Outcome,
        delivery: Delivery,
        host: Option<&str>,
    ) -> Result<Sent, TxError> {
        let target = self.target(host, &delivery)?;
        let not_found = |entity, id: &str| TxError::NotFound {
            entity,
            id: id.to_owned(),
        };
        let refund = self
            .store
            .refund_by_channel_id(id)
            .await?
            .ok_or_else(|| not_found("refund", &id.0))?;
        let payment = self
            .store
            .payment(&refund.payment_id)
            .await?
            .ok_or_else(|| not_found("payment", &refund.payment_id.0))?;
        tokio::time::sleep(delivery.delay).await;
        // A refund the simulated API took is named by its ids there.
        let at_api = self.sim.as_ref().and_then(|sim| sim.refund_of(&id.0));
        let signed = self.channel.stripe_refund_event(
            &refund,
            &payment,
            at_api
                .as_ref()
                .map(|(intent, id)| (intent.as_str(), id.as_str())),
            outcome == Outcome::Succeeded,
            self.clock.now(),
        );
        Ok(self.deliver(&target, signed, delivery).await)
    }

    /// The endpoint, after checking the delivery's bounds (an event the simulated API does
    /// not hold is delivered at least once).
    fn target(&self, host: Option<&str>, delivery: &Delivery) -> Result<String, TxError> {
        delivery::check(delivery, false)
            .map_err(|(field, reason)| TxError::invalid(field, reason))?;
        match (&self.webhook_url, host) {
            (Some(url), _) => Ok(url.clone()),
            (None, Some(host)) => Ok(format!("http://{host}/v1/webhooks/card")),
            (None, None) => Err(TxError::invalid(
                "Host",
                "needed to find the webhook endpoint when ARBITER_CARD_WEBHOOK_URL is unset",
            )),
        }
    }

    async fn deliver(&self, target: &str, signed: SignedEvent, delivery: Delivery) -> Sent {
        let outgoing = Outgoing {
            url: target.to_owned(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("stripe-signature".into(), signed.signature.clone()),
            ],
            body: signed.body.clone(),
        };
        Sent {
            event_id: signed.event.id.0.clone(),
            event_type: type_name(signed.event.kind),
            attempts: delivery::deliver(&self.http, outgoing, delivery).await,
        }
    }
}

/// The event type as Stripe writes it (`payment_intent.succeeded`).
fn type_name(kind: EventType) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
