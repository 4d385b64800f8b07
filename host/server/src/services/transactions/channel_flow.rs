//! The payment flow through a channel with an API (the card's Stripe API, Alipay, WeChat
//! Pay), as the host carries it: the domain decides
//! (start a payment, apply what a channel reports), the adapter signs and reads, and this file
//! sends and receives. A channel's answer about a payment or refund — to a notification, a
//! query or a refund request — is applied through the same `apply_notice` path, so whichever
//! arrives first applies and the others find it done.

use arbiter_transactions::channels::{
    Acknowledgement, ChannelError, ClientAction, Inbound, Notice, NoticeState,
};
use arbiter_transactions::ids::{ChannelRefundId, IdempotencyKey, OrderId};
use arbiter_transactions::payment::{Payment, Refund, Verdict};
use arbiter_transactions::payments::{PaymentRequest, WebhookReply};
use arbiter_transactions::status::PaymentStatus;
use chrono::Utc;

use super::TransactionServices;
use super::channels::ChannelCallError;
use crate::simulator::ChannelSimulator;

/// What a channel's notification got: the answer in the channel's own form, and what became
/// of it.
pub struct Answered {
    pub acknowledgement: Acknowledgement,
    pub reply: WebhookReply,
}

impl TransactionServices {
    /// Starts paying `order` as `request` asks (routed by the channel table); through a
    /// channel with an API also creates the payment there and returns what the buyer needs —
    /// a QR code, a card form's client secret — (the first answer is kept with the channel's
    /// own id for the payment, so a repeat with the same key shows the same). Without the card
    /// API configured a card payment waits for its webhook alone.
    pub async fn start_payment(
        &self,
        order: &OrderId,
        key: IdempotencyKey,
        request: &PaymentRequest,
    ) -> Result<(Payment, Option<ClientAction>), ChannelCallError> {
        let payment = self.payments.start_with(order, key, request).await?;
        let Ok(adapter) = self.channels.adapter(&payment.channel) else {
            return Ok((payment, None));
        };
        if let Some(created) = self.store.channel_created(&payment.id).await? {
            return Ok((payment, Some(created.action)));
        }
        if payment.status != PaymentStatus::Processing {
            return Ok((payment, None));
        }
        let subject = format!("Order {}", payment.order_id);
        let request = adapter.create_payment(&payment, &subject, Utc::now())?;
        let answer = self.channels.send(&payment.channel, request).await?;
        let created = adapter.read_created(&answer)?;
        self.store
            .save_channel_created(&payment.id, &created, Utc::now())
            .await?;
        let kept = self.store.channel_created(&payment.id).await?;
        Ok((payment, kept.map(|c| c.action)))
    }

    /// What the paying client needs for `payment`, once its channel said.
    pub async fn client_action(
        &self,
        payment: &arbiter_transactions::ids::PaymentId,
    ) -> Result<Option<ClientAction>, ChannelCallError> {
        Ok(self.store.channel_created(payment).await?.map(|c| c.action))
    }

    /// `POST /v1/webhooks/{channel}`: verified by the channel's adapter before anything reads
    /// it; applied (a refund's change looked up at the channel first) and answered as the
    /// channel expects only after the change committed. One that fails verification is
    /// counted and logged without its body, never stored.
    pub async fn channel_notification(
        &self,
        channel: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Answered, ChannelCallError> {
        let adapter = self.channels.adapter(channel)?;
        let notice = match adapter.notification(Inbound { headers, body }, Utc::now()) {
            Ok(notice) => notice,
            // Signed by the channel but not in its format: kept with its body, like a card
            // event that verifies and does not parse.
            Err(e @ ChannelError::Malformed { .. }) => {
                let reply = self
                    .payments
                    .record_malformed(adapter.name(), body, e.to_string())
                    .await?;
                let mut acknowledgement = adapter.acknowledge(false);
                acknowledgement.status = 400;
                return Ok(Answered {
                    acknowledgement,
                    reply,
                });
            }
            Err(e) => {
                self.refused_callbacks
                    .record(adapter.name(), e.reason(), body.len());
                let mut acknowledgement = adapter.acknowledge(false);
                acknowledgement.status = 400;
                return Ok(Answered {
                    acknowledgement,
                    reply: WebhookReply {
                        verdict: Verdict::BadSignature,
                        detail: Some(e.to_string()),
                        unverified: Some(e.reason()),
                    },
                });
            }
        };
        let notice = match &notice.state {
            NoticeState::RefundChanged { channel_refund_id } => {
                let id = ChannelRefundId(channel_refund_id.clone());
                match self.store.refund_by_channel_id(&id).await? {
                    Some(refund) => Notice {
                        state: NoticeState::Refund {
                            channel_refund_id: channel_refund_id.clone(),
                            state: self.settler.refund_state(&refund).await?,
                        },
                        ..notice
                    },
                    None => notice,
                }
            }
            _ => notice,
        };
        let reply = self.payments.apply_notice(channel, &notice, body).await?;
        Ok(Answered {
            acknowledgement: adapter.acknowledge(true),
            reply,
        })
    }

    /// Requests a refund (the domain's rules, risk asked); through a channel with an API it
    /// is also sent to the channel, keyed by the refund's own id there so a repeat is the same
    /// refund, and what the channel answers is applied at once (Alipay refunds synchronously;
    /// WeChat Pay and the card answer pending and report the outcome). A card payment the
    /// API never created (taken by webhook alone) is refunded by webhook alone.
    pub async fn request_refund(
        &self,
        payment: &arbiter_transactions::ids::PaymentId,
        key: IdempotencyKey,
        amount: arbiter_engine::money::Money,
        reason: &str,
    ) -> Result<Refund, ChannelCallError> {
        let refund = self
            .payments
            .request_refund(payment, key, amount, reason)
            .await?;
        if refund.status != arbiter_transactions::status::RefundStatus::Processing {
            return Ok(refund);
        }
        let Some(payment) = self.store.payment(&refund.payment_id).await? else {
            return Ok(refund);
        };
        if self.channels.adapter(&payment.channel).is_err() {
            // The card channel without its API reports refunds by webhook.
            return Ok(refund);
        }
        match self.settler.send_refund(&payment, &refund).await {
            Ok(_) | Err(ChannelCallError::Channel(ChannelError::NotAtChannel { .. })) => {}
            Err(e) => return Err(e),
        }
        Ok(self.payments.get_refund(&refund.id).await?.refund)
    }

    /// The simulator, when this server runs one.
    fn simulator(&self, channel: &str) -> Result<&ChannelSimulator, ChannelCallError> {
        self.simulator
            .as_deref()
            .ok_or_else(|| not_simulated(channel))
    }

    /// The simulated channel's buyer: pays trade `id` (or lets it close) and notifies.
    pub async fn simulate_buyer(
        &self,
        channel: &str,
        id: &str,
        paid: bool,
        delivery: crate::simulator::delivery::Delivery,
    ) -> Result<crate::simulator::Reported, ChannelCallError> {
        let reported = self
            .simulator(channel)?
            .report(channel, id, paid, delivery)
            .await
            .ok_or_else(|| not_simulated(channel))?;
        reported.map_err(|e| match e {
            crate::simulator::SimError::NoSuchTrade => {
                ChannelCallError::Tx(arbiter_transactions::TxError::NotFound {
                    entity: "trade",
                    id: id.to_owned(),
                })
            }
            e => ChannelCallError::Unreachable {
                channel: channel.to_owned(),
                reason: e.to_string(),
            },
        })
    }

    /// The channel table, each row with whether this server can pay through it.
    pub async fn channel_table(
        &self,
    ) -> Result<Vec<(arbiter_transactions::channels::routing::ChannelRoute, bool)>, ChannelCallError>
    {
        let routes = self.store.channel_routes().await?;
        Ok(routes
            .into_iter()
            .map(|r| {
                let configured = self.channels.pays_through(&r.name);
                (r, configured)
            })
            .collect())
    }

    /// Switches channel `name` on or off for new payments (audited as `actor`'s).
    pub async fn switch_channel(
        &self,
        name: &str,
        enabled: bool,
        reason: &str,
        actor: &arbiter_engine::audit::Actor,
    ) -> Result<(arbiter_transactions::channels::routing::ChannelRoute, bool), ChannelCallError>
    {
        let route = self
            .store
            .switch_channel(name, enabled, reason, actor)
            .await?
            .ok_or_else(|| arbiter_transactions::TxError::NotFound {
                entity: "channel",
                id: name.to_owned(),
            })?;
        let configured = self.channels.pays_through(&route.name);
        Ok((route, configured))
    }

    /// Makes the simulated `channel` fail its next `calls` protocol calls.
    pub fn simulate_outage(&self, channel: &str, calls: u32) -> Result<(), ChannelCallError> {
        if self.simulator(channel)?.fail_next(channel, calls) {
            Ok(())
        } else {
            Err(not_simulated(channel))
        }
    }
}

impl TransactionServices {
    /// Plants differences in the simulated `channel`'s next statements.
    pub fn plant_statement_differences(
        &self,
        channel: &str,
        plants: Vec<crate::simulator::statements::Plant>,
    ) -> Result<(), ChannelCallError> {
        if self.simulator(channel)?.plant(channel, plants) {
            Ok(())
        } else {
            Err(not_simulated(channel))
        }
    }
}

fn not_simulated(channel: &str) -> ChannelCallError {
    ChannelCallError::NotConfigured(format!(
        "{channel} simulator (start the server with --channel-simulator)"
    ))
}
