//! What the channels report, applied: the card channel's webhook (its `Stripe-Signature`
//! verified over the raw body before anything parses it), and a [`Notice`] any channel adapter
//! verified — a notification, or the answer to a query. Each report is decided from the stored
//! payment (or refund) and applied at most once (its event id is stored with the change); every
//! verified callback is logged with its verdict, while one whose signature fails is only
//! counted by the host, never stored.

use crate::channels::card::event::{self, EventError};
use crate::channels::{Notice, NoticeState};
use crate::error::TxError;
use crate::fulfilment::refund_source;
use crate::ids::{ChannelPaymentId, ChannelRefundId, EventId};
use crate::payment::{CARD, CallbackRecord, Verdict};
use crate::webhook::{Decided, auto_refund_key, payment_event, refund_event};

use super::PaymentService;

/// How often a report is re-decided when a concurrent step moved a status under it.
const MAX_ATTEMPTS: usize = 3;

/// What the webhook route answers: 4xx when `verdict.is_refusal()`, else 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReply {
    pub verdict: Verdict,
    pub detail: Option<String>,
    /// Why the signature failed (`missing`, `malformed`, `stale`, `mismatch`), when it did:
    /// such a callback is not stored, so the host counts and logs it under this reason.
    pub unverified: Option<&'static str>,
}

impl PaymentService {
    /// `POST /v1/webhooks/card`: verifies `signature` (the `Stripe-Signature` header) over the
    /// raw body before parsing it, applies the event at most once, and logs a verified callback
    /// with its verdict (see [`CallbackRecord::verified`]: one whose signature fails is not
    /// stored). Forged, stale, replayed and mismatched callbacks change nothing.
    pub async fn handle_card_webhook(
        &self,
        signature: Option<&str>,
        raw: &[u8],
    ) -> Result<WebhookReply, TxError> {
        match event::read(
            &self.config.webhook_secret,
            self.config.signature_tolerance,
            signature,
            raw,
            self.clock.now(),
        ) {
            Ok(notice) => self.apply_notice(CARD, &notice, raw).await,
            Err(EventError::Unverified { reason, detail }) => Ok(unverified(reason, detail)),
            Err(EventError::Malformed(detail)) => {
                self.log(CARD, None, raw, Verdict::Malformed, Some(detail))
                    .await
            }
            // An amount in a currency we do not know cannot be the payment's.
            Err(EventError::Mismatch { event_id, detail }) => {
                self.log(CARD, Some(event_id), raw, Verdict::Mismatch, Some(detail))
                    .await
            }
        }
    }

    /// Applies a notice from `channel` that its adapter verified (`raw`: the callback as it
    /// arrived, logged with the verdict): at most once per notice id, and only to a payment
    /// or refund that goes through `channel`.
    pub async fn apply_notice(
        &self,
        channel: &str,
        notice: &Notice,
        raw: &[u8],
    ) -> Result<WebhookReply, TxError> {
        let event_id = EventId(notice.notice_id.clone());
        let decided = self.settle(channel, &event_id, notice).await?;
        self.log(
            channel,
            Some(event_id),
            raw,
            decided.verdict,
            decided.detail,
        )
        .await
    }

    /// Logs a callback of `channel` whose signature verified but whose content is not in the
    /// channel's format (`Malformed`): kept with its body, nothing applied.
    pub async fn record_malformed(
        &self,
        channel: &str,
        raw: &[u8],
        detail: String,
    ) -> Result<WebhookReply, TxError> {
        self.log(channel, None, raw, Verdict::Malformed, Some(detail))
            .await
    }

    /// Decides and applies, deciding again when a concurrent step moved a status meanwhile.
    async fn settle(
        &self,
        channel: &str,
        event_id: &EventId,
        notice: &Notice,
    ) -> Result<Decided, TxError> {
        for _ in 0..MAX_ATTEMPTS {
            let decided = self.decide(channel, event_id, notice).await?;
            let Some(change) = &decided.change else {
                return Ok(decided);
            };
            match self.store.apply(change).await {
                Ok(()) => return Ok(decided),
                Err(TxError::AlreadyApplied { .. }) => {
                    return Ok(Decided {
                        verdict: Verdict::Duplicate,
                        detail: Some("event already applied".into()),
                        change: None,
                    });
                }
                Err(TxError::StatusChanged { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(TxError::StatusChanged {
            entity: "payment",
            id: notice.channel_payment_id.clone(),
            expected: "a stable status".into(),
            actual: "still moving".into(),
        })
    }

    async fn decide(
        &self,
        channel: &str,
        event_id: &EventId,
        notice: &Notice,
    ) -> Result<Decided, TxError> {
        let now = self.clock.now();
        let ignored = |detail: String| Decided {
            verdict: Verdict::Ignored,
            detail: Some(detail),
            change: None,
        };
        match &notice.state {
            NoticeState::Payment(state) => {
                let id = ChannelPaymentId(notice.channel_payment_id.clone());
                let Some(payment) = self.store.payment_by_channel_id(&id).await? else {
                    return Ok(ignored(format!("unknown payment `{id}`")));
                };
                // A channel speaks only for its own payments.
                if payment.channel != channel {
                    return Ok(ignored(format!("payment `{id}` is not through {channel}")));
                }
                let order = self.order(&payment.order_id).await?;
                payment_event(event_id, state, &payment, &order, now)
            }
            NoticeState::Refund {
                channel_refund_id,
                state,
            } => {
                let id = ChannelRefundId(channel_refund_id.clone());
                let Some(refund) = self.store.refund_by_channel_id(&id).await? else {
                    return Ok(ignored(format!("unknown refund `{id}`")));
                };
                let payment = self.load(&refund.payment_id).await?;
                if payment.channel != channel {
                    return Ok(ignored(format!("refund `{id}` is not through {channel}")));
                }
                let order = self.order(&payment.order_id).await?;
                // Stored with the payment's success, so it cannot change under this decision.
                let stray = self
                    .store
                    .refund_by_key(&auto_refund_key(&payment.id))
                    .await?
                    .is_some();
                let from = refund_source(order.status, !stray);
                refund_event(event_id, state, &refund, &payment.channel, &from, now)
            }
            NoticeState::RefundChanged { channel_refund_id } => Ok(ignored(format!(
                "refund `{channel_refund_id}` changed: its query says how"
            ))),
        }
    }

    /// Logs a verified callback with its verdict and answers it.
    async fn log(
        &self,
        channel: &str,
        event_id: Option<EventId>,
        raw: &[u8],
        verdict: Verdict,
        detail: Option<String>,
    ) -> Result<WebhookReply, TxError> {
        let now = self.clock.now();
        if let Some(record) =
            CallbackRecord::verified(channel, event_id, raw, verdict, detail.clone(), now)
        {
            self.store.record_callback(&record).await?;
        }
        Ok(WebhookReply {
            verdict,
            detail,
            unverified: None,
        })
    }
}

/// The answer to a callback whose signature failed: nothing read, nothing stored.
fn unverified(reason: &'static str, detail: impl Into<String>) -> WebhookReply {
    WebhookReply {
        verdict: Verdict::BadSignature,
        detail: Some(detail.into()),
        unverified: Some(reason),
    }
}
