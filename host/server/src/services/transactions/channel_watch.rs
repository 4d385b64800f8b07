//! Compensation for what the channels fail to tell us. Three gaps close here:
//!
//! - **A lost notification.** A payment left `PROCESSING` at a channel with an API (the
//!   card's Stripe API, Alipay, WeChat Pay) longer than
//!   `--channel-query-after-secs` is queried, and what the channel answers is applied through
//!   the same path as a notification (a late notification then finds it done).
//! - **A refund left open**: a refund still `PROCESSING` past the same threshold is queried;
//!   one the channel never received (the request was lost) is sent again under its number.
//! - **An order cancelled while its buyer pays.** Before an unpaid order is cancelled (by the
//!   expiry worker or the buyer), each of its payments still open at a channel is closed
//!   there; a close the channel refuses because the payment was made turns into the paid
//!   path — the order ends paid, never cancelled with the money taken.
//!
//! Every answer that settles a payment or refund is applied and logged with its verdict like a
//! callback (`channel_callbacks`), under the id `query:…`, `close:…` or `refund:…` with the
//! payment or refund and its state.
//!
//! A channel that names payments by its own id (the card: Stripe's intent id) is asked with
//! the id kept from its answer to the create. A payment whose create it never answered has
//! none: the buyer never got what pays it, so a query finds nothing to apply and a close
//! closes it here without a call.

use std::sync::Arc;
use std::time::Duration;

use arbiter_transactions::TxError;
use arbiter_transactions::channels::{
    ChannelError, ChannelResponse, Closing, Notice, NoticeState, PaymentChannel, PaymentState,
    RefundState,
};
use arbiter_transactions::order::Order;
use arbiter_transactions::orders::{OpenPayments, Settled};
use arbiter_transactions::payment::{Payment, Refund};
use arbiter_transactions::payments::PaymentService;
use arbiter_transactions::status::PaymentStatus;
use arbiter_transactions::store::TransactionStore;
use chrono::Utc;
use tokio::sync::oneshot;
use tokio::time::MissedTickBehavior;

use super::channels::{ChannelCallError, PaymentChannels};

/// Most stale payments queried per round.
const BATCH: u32 = 100;

/// Queries and closes payments at their channels and applies what the channels answer.
pub struct ChannelSettler {
    payments: PaymentService,
    channels: Arc<PaymentChannels>,
    store: Arc<dyn TransactionStore>,
}

fn tag(state: &PaymentState) -> &'static str {
    match state {
        PaymentState::Pending => "pending",
        PaymentState::Paid { .. } => "paid",
        PaymentState::Closed => "closed",
        PaymentState::Unknown => "unknown",
    }
}

impl ChannelSettler {
    pub fn new(
        payments: PaymentService,
        channels: Arc<PaymentChannels>,
        store: Arc<dyn TransactionStore>,
    ) -> ChannelSettler {
        ChannelSettler {
            payments,
            channels,
            store,
        }
    }

    /// Applies what the channel answered (`how`: `query` or `close`) about `payment`.
    async fn apply(
        &self,
        how: &str,
        payment: &Payment,
        state: PaymentState,
        raw: &[u8],
    ) -> Result<PaymentState, ChannelCallError> {
        if matches!(state, PaymentState::Paid { .. } | PaymentState::Closed) {
            let notice = Notice {
                notice_id: format!("{how}:{}:{}", payment.id, tag(&state)),
                channel_payment_id: payment.channel_payment_id.0.clone(),
                state: NoticeState::Payment(state.clone()),
            };
            self.payments
                .apply_notice(&payment.channel, &notice, raw)
                .await?;
        }
        Ok(state)
    }

    /// The channel's own id for `payment`, from its answer to the create, when it gave one.
    async fn reference(&self, payment: &Payment) -> Result<Option<String>, ChannelCallError> {
        Ok(self
            .store
            .channel_created(&payment.id)
            .await?
            .and_then(|c| c.reference))
    }

    /// Asks `payment`'s channel what it is, and applies a paid or closed answer.
    pub async fn reconcile(&self, payment: &Payment) -> Result<PaymentState, ChannelCallError> {
        let adapter = self.channels.adapter(&payment.channel)?;
        let reference = self.reference(payment).await?;
        match self
            .query(adapter.as_ref(), payment, reference.as_deref())
            .await
        {
            Ok((state, answer)) => self.apply("query", payment, state, &answer.body).await,
            // Never created there: nothing can have paid it.
            Err(ChannelCallError::Channel(ChannelError::NotAtChannel { .. })) => {
                Ok(PaymentState::Unknown)
            }
            Err(e) => Err(e),
        }
    }

    async fn query(
        &self,
        adapter: &dyn PaymentChannel,
        payment: &Payment,
        reference: Option<&str>,
    ) -> Result<(PaymentState, ChannelResponse), ChannelCallError> {
        let request = adapter.query_payment(payment, reference, Utc::now())?;
        let answer = self.channels.send(adapter.name(), request).await?;
        Ok((adapter.read_payment_state(&answer)?, answer))
    }

    /// Closes `payment` at its channel; when the channel will not close it (paid), asks what
    /// it is and applies that.
    async fn close(&self, payment: &Payment) -> Result<PaymentState, ChannelCallError> {
        let adapter = self.channels.adapter(&payment.channel)?;
        let reference = self.reference(payment).await?;
        let request = match adapter.close_payment(payment, reference.as_deref(), Utc::now()) {
            Ok(request) => request,
            // The channel never answered its create: the buyer has nothing to pay it with.
            Err(ChannelError::NotAtChannel { .. }) => {
                return self
                    .apply("close", payment, PaymentState::Closed, &[])
                    .await;
            }
            Err(e) => return Err(e.into()),
        };
        let answer = self.channels.send(adapter.name(), request).await?;
        match adapter.read_closing(&answer)? {
            Closing::Closed | Closing::NeverCreated => {
                self.apply("close", payment, PaymentState::Closed, &answer.body)
                    .await
            }
            Closing::QueryFirst => {
                let (state, answer) = self
                    .query(adapter.as_ref(), payment, reference.as_deref())
                    .await?;
                self.apply("query", payment, state, &answer.body).await
            }
        }
    }
}

#[async_trait::async_trait]
impl OpenPayments for ChannelSettler {
    async fn settle_before_cancel(&self, order: &Order) -> Result<Settled, TxError> {
        let mut settled = Settled::Closed;
        for payment in self.store.payments_of(&order.id).await? {
            if payment.status != PaymentStatus::Processing
                || self.channels.adapter(&payment.channel).is_err()
            {
                continue;
            }
            match self.close(&payment).await {
                Ok(PaymentState::Paid { .. }) => return Ok(Settled::Paid),
                Ok(PaymentState::Closed) => {}
                // Refused closing (paid or finished), yet not paid by the query: say nothing
                // until the channel agrees with itself.
                Ok(PaymentState::Pending | PaymentState::Unknown) => settled = Settled::Undecided,
                Err(ChannelCallError::Tx(e)) => return Err(e),
                Err(e) => {
                    tracing::warn!(
                        channel = %payment.channel,
                        payment = %payment.id,
                        error = %e,
                        "could not close a payment at its channel; its order is not cancelled yet"
                    );
                    settled = Settled::Undecided;
                }
            }
        }
        Ok(settled)
    }
}

impl ChannelSettler {
    /// Applies what a channel answered (`how`: `refund`, `query`) about `refund` of `payment`
    /// when it is final, as a notice named `<how>:<refund>:<state>`.
    async fn apply_refund(
        &self,
        how: &str,
        payment: &Payment,
        refund: &Refund,
        state: RefundState,
        answer: &ChannelResponse,
    ) -> Result<RefundState, ChannelCallError> {
        let tag = match &state {
            RefundState::Succeeded { .. } => "succeeded",
            RefundState::Failed { .. } => "failed",
            RefundState::Processing | RefundState::Unknown => return Ok(state),
        };
        let notice = Notice {
            notice_id: format!("{how}:{}:{tag}", refund.id),
            channel_payment_id: payment.channel_payment_id.0.clone(),
            state: NoticeState::Refund {
                channel_refund_id: refund.channel_refund_id.0.clone(),
                state: state.clone(),
            },
        };
        self.payments
            .apply_notice(&payment.channel, &notice, &answer.body)
            .await?;
        Ok(state)
    }

    /// The payment `refund` is of.
    async fn payment_of(&self, refund: &Refund) -> Result<Payment, ChannelCallError> {
        Ok(self
            .store
            .payment(&refund.payment_id)
            .await?
            .ok_or_else(|| TxError::NotFound {
                entity: "payment",
                id: refund.payment_id.0.clone(),
            })?)
    }

    /// What `payment`'s channel says of `refund` now, with its answer.
    async fn query_refund(
        &self,
        payment: &Payment,
        refund: &Refund,
    ) -> Result<(RefundState, ChannelResponse), ChannelCallError> {
        let adapter = self.channels.adapter(&payment.channel)?;
        let reference = self.reference(payment).await?;
        let request = adapter.query_refund(refund, payment, reference.as_deref(), Utc::now())?;
        let answer = self.channels.send(adapter.name(), request).await?;
        Ok((adapter.read_refund_state(refund, &answer)?, answer))
    }

    /// What the channel says of `refund` now (nothing applied).
    pub async fn refund_state(&self, refund: &Refund) -> Result<RefundState, ChannelCallError> {
        let payment = self.payment_of(refund).await?;
        Ok(self.query_refund(&payment, refund).await?.0)
    }

    /// Sends `refund` of `payment` to the channel, under the refund's number there (a repeat
    /// is the same refund), and applies a final answer.
    pub async fn send_refund(
        &self,
        payment: &Payment,
        refund: &Refund,
    ) -> Result<RefundState, ChannelCallError> {
        let adapter = self.channels.adapter(&payment.channel)?;
        let reference = self.reference(payment).await?;
        let request = adapter.refund(refund, payment, reference.as_deref(), Utc::now())?;
        let answer = self.channels.send(adapter.name(), request).await?;
        let state = adapter.read_refund(refund, &answer)?;
        self.apply_refund("refund", payment, refund, state, &answer)
            .await
    }

    /// Asks the channel what `refund` became and applies a final answer; a refund the channel
    /// does not know (its request never arrived) is sent again, under the same refund number.
    pub async fn reconcile_refund(&self, refund: &Refund) -> Result<RefundState, ChannelCallError> {
        let payment = self.payment_of(refund).await?;
        match self.query_refund(&payment, refund).await? {
            (RefundState::Unknown, _) => self.send_refund(&payment, refund).await,
            (state, answer) => {
                self.apply_refund("query", &payment, refund, state, &answer)
                    .await
            }
        }
    }
}

/// The running compensation worker; dropping it stops the loop.
pub struct ChannelWatch {
    _stop: oneshot::Sender<()>,
}

impl ChannelWatch {
    /// Every `interval`, queries the payments `PROCESSING` at a channel for longer than
    /// `after` and applies what the channels answer.
    pub fn spawn(
        settler: Arc<ChannelSettler>,
        interval: Duration,
        after: Duration,
    ) -> ChannelWatch {
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => settler.round(after).await,
                }
            }
        });
        ChannelWatch { _stop: stop }
    }
}

impl ChannelSettler {
    /// One round of the worker: each configured channel's refunds and payments left open.
    async fn round(&self, after: Duration) {
        let before = Utc::now() - chrono::Duration::from_std(after).unwrap_or_default();
        for channel in self.channels.names() {
            match self.store.processing_refunds(channel, before, BATCH).await {
                Ok(refunds) => {
                    for refund in refunds {
                        match self.reconcile_refund(&refund).await {
                            Ok(_) => {}
                            // A card refund of a payment taken by webhook alone: its webhook
                            // says.
                            Err(ChannelCallError::Channel(ChannelError::NotAtChannel {
                                ..
                            })) => {}
                            Err(e) => tracing::warn!(
                                channel,
                                refund = %refund.id,
                                error = %e,
                                "could not settle a refund at its channel"
                            ),
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(channel, error = %e, "the compensation worker cannot read refunds")
                }
            }
            match self.store.processing_payments(channel, before, BATCH).await {
                Ok(stale) => {
                    for payment in stale {
                        match self.reconcile(&payment).await {
                            Ok(state) => tracing::debug!(
                                channel,
                                payment = %payment.id,
                                state = tag(&state),
                                "queried a payment its channel had not reported"
                            ),
                            Err(e) => tracing::warn!(
                                channel,
                                payment = %payment.id,
                                error = %e,
                                "could not query a payment at its channel"
                            ),
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(channel, error = %e, "the compensation worker cannot read payments")
                }
            }
        }
    }
}
