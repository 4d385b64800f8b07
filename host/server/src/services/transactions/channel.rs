//! The simulated card acquirer's sending side: on an admin's request it builds the signed
//! Stripe-shaped event for a payment or refund and posts it to the webhook endpoint over HTTP,
//! as a real acquirer would — once or several times (a duplicate is the same event id again),
//! after a delay (a slow channel), sequentially or all at once (concurrent retries). Out of
//! order is two triggers in the order the test wants.

use std::sync::Arc;
use std::time::Duration;

use arbiter_engine::clock::Clock;
use arbiter_transactions::TxError;
use arbiter_transactions::card::{CardChannel, SignedEvent};
use arbiter_transactions::ids::{ChannelPaymentId, ChannelRefundId};
use arbiter_transactions::store::TransactionStore;
use serde::{Deserialize, Serialize};

/// Most deliveries of one event per trigger.
pub const MAX_TIMES: u32 = 20;
/// Longest delay before sending.
pub const MAX_DELAY_MS: u64 = 30_000;

/// What the channel reports for the payment or refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
}

/// How to deliver one event.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub outcome: Outcome,
    /// The same event, this many times.
    pub times: u32,
    /// Waited before signing and sending (the signature is as fresh as the send).
    pub delay: Duration,
    /// All copies at once instead of one after another.
    pub concurrent: bool,
}

/// What the endpoint answered to one copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The HTTP status, or `None` when the request itself failed.
    pub status: Option<u16>,
    /// The webhook's verdict (`applied`, `duplicate`, …) or problem code.
    pub answer: Option<String>,
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
}

impl CardChannelSender {
    pub fn new(
        channel: CardChannel,
        store: Arc<dyn TransactionStore>,
        clock: Arc<dyn Clock>,
        webhook_url: Option<String>,
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
        }
    }

    /// Sends `payment_intent.succeeded` / `.payment_failed` for the payment.
    pub async fn payment_event(
        &self,
        id: &ChannelPaymentId,
        delivery: Delivery,
        host: Option<&str>,
    ) -> Result<Sent, TxError> {
        let target = self.target(host, &delivery)?;
        let payment =
            self.store
                .payment_by_channel_id(id)
                .await?
                .ok_or_else(|| TxError::NotFound {
                    entity: "payment",
                    id: id.0.clone(),
                })?;
        tokio::time::sleep(delivery.delay).await;
        let signed = self.channel.payment_event(
            &payment,
            delivery.outcome == Outcome::Succeeded,
            self.clock.now(),
        );
        Ok(self.deliver(&target, signed, delivery).await)
    }

    /// Sends `refund.updated` (succeeded or failed) for the refund.
    pub async fn refund_event(
        &self,
        id: &ChannelRefundId,
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
        let signed = self.channel.refund_event(
            &refund,
            &payment,
            delivery.outcome == Outcome::Succeeded,
            self.clock.now(),
        );
        Ok(self.deliver(&target, signed, delivery).await)
    }

    /// The endpoint, after checking the delivery's bounds.
    fn target(&self, host: Option<&str>, delivery: &Delivery) -> Result<String, TxError> {
        if !(1..=MAX_TIMES).contains(&delivery.times) {
            return Err(TxError::invalid(
                "times",
                format!("must be 1 to {MAX_TIMES}"),
            ));
        }
        if delivery.delay > Duration::from_millis(MAX_DELAY_MS) {
            return Err(TxError::invalid(
                "delay_ms",
                format!("must be at most {MAX_DELAY_MS}"),
            ));
        }
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
        let mut attempts = Vec::new();
        if delivery.concurrent {
            // Every copy in its own task, as a channel's parallel retries would arrive.
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..delivery.times {
                let (http, target, signed) = (self.http.clone(), target.to_owned(), signed.clone());
                tasks.spawn(async move { (i, post(&http, &target, &signed).await) });
            }
            let mut done: Vec<(u32, Attempt)> = tasks.join_all().await;
            done.sort_by_key(|(i, _)| *i);
            attempts.extend(done.into_iter().map(|(_, a)| a));
        } else {
            for _ in 0..delivery.times {
                attempts.push(post(&self.http, target, &signed).await);
            }
        }
        Sent {
            event_id: signed.event.id.0.clone(),
            event_type: event_type(&signed),
            attempts,
        }
    }
}

async fn post(http: &reqwest::Client, target: &str, signed: &SignedEvent) -> Attempt {
    let sent = http
        .post(target)
        .header("content-type", "application/json")
        .header("stripe-signature", &signed.signature)
        .body(signed.body.clone())
        .send()
        .await;
    match sent {
        Err(e) => {
            tracing::warn!(error = %e, "card channel could not deliver a webhook");
            Attempt {
                status: None,
                answer: None,
            }
        }
        Ok(response) => {
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let answer = body
                .get("verdict")
                .or_else(|| body.get("code"))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            Attempt {
                status: Some(status),
                answer,
            }
        }
    }
}

fn event_type(signed: &SignedEvent) -> String {
    serde_json::to_value(signed.event.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
