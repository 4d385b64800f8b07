//! The payment service: starting a payment (`POST /v1/orders/{id}/payments`), reading one, and
//! the card channel's webhook (`POST /v1/webhooks/card`) — verify the raw body, log the
//! callback, apply each event id once. Refunds are in [`crate::refunds`].

use std::sync::Arc;

use arbiter_engine::Checkpoint;
use arbiter_engine::clock::Clock;
use chrono::Duration;
use sha2::{Digest, Sha256};

use crate::change::{Change, PaymentStep};
use crate::error::TxError;
use crate::fulfilment::refund_source;
use crate::ids::{ChannelPaymentId, EventId, IdempotencyKey, OrderId, PaymentId};
use crate::order::{HistoryEntry, Order};
use crate::payment::{
    CARD, CallbackRecord, ChannelEvent, EventType, NewPayment, Payment, PaymentCreate, Refund,
    Verdict,
};
use crate::risk::{RiskAction, RiskClient, RiskFailMode, RiskRecord, RiskRequest};
use crate::signature::{DEFAULT_TOLERANCE, verify};
use crate::status::{OrderStatus, PaymentStatus, Status};
use crate::store::TransactionStore;
use crate::webhook::{Decided, auto_refund_key, payment_event, refund_event};

/// How often a webhook is re-decided when a concurrent step moved a status under it.
const MAX_ATTEMPTS: usize = 3;

/// A callback refused before any state was read.
struct Refused {
    verdict: Verdict,
    detail: String,
    /// The signature failure's reason, for a callback that was never verified.
    unverified: Option<&'static str>,
}

impl Refused {
    fn unverified(reason: &'static str, detail: impl Into<String>) -> Refused {
        Refused {
            verdict: Verdict::BadSignature,
            detail: detail.into(),
            unverified: Some(reason),
        }
    }
}

#[derive(Clone)]
pub struct PaymentConfig {
    /// What a risk-host failure means for `payment.authorize` and `refund.request`.
    pub risk_fail_mode: RiskFailMode,
    /// The card channel's webhook signing secret.
    pub webhook_secret: Vec<u8>,
    /// How far a signature's timestamp may be from now.
    pub signature_tolerance: Duration,
}

impl PaymentConfig {
    pub fn new(webhook_secret: Vec<u8>) -> PaymentConfig {
        PaymentConfig {
            risk_fail_mode: RiskFailMode::Closed,
            webhook_secret,
            signature_tolerance: DEFAULT_TOLERANCE,
        }
    }
}

/// A payment with its history and refunds, as `GET /v1/payments/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    pub payment: Payment,
    pub history: Vec<HistoryEntry>,
    pub refunds: Vec<Refund>,
}

/// What the webhook route answers: 4xx when `verdict.is_refusal()`, else 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReply {
    pub verdict: Verdict,
    pub detail: Option<String>,
    /// Why the signature failed (`missing`, `malformed`, `stale`, `mismatch`), when it did:
    /// such a callback is not stored, so the host counts and logs it under this reason.
    pub unverified: Option<&'static str>,
}

#[derive(Clone)]
pub struct PaymentService {
    pub(crate) store: Arc<dyn TransactionStore>,
    pub(crate) risk: Arc<dyn RiskClient>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: Arc<PaymentConfig>,
}

impl PaymentService {
    pub fn new(
        store: Arc<dyn TransactionStore>,
        risk: Arc<dyn RiskClient>,
        clock: Arc<dyn Clock>,
        config: PaymentConfig,
    ) -> PaymentService {
        PaymentService {
            store,
            risk,
            clock,
            config: Arc::new(config),
        }
    }

    /// Starts paying an order awaiting payment through `channel` (only `card`): asks the risk
    /// host (`payment.authorize`), then stores the payment `INIT → PROCESSING` (or `FAILED` when
    /// rejected). The same key for the same order returns the same payment.
    pub async fn start(
        &self,
        order_id: &OrderId,
        key: IdempotencyKey,
        channel: &str,
    ) -> Result<Payment, TxError> {
        if channel != CARD {
            return Err(TxError::invalid(
                "channel",
                format!("unknown channel `{channel}`"),
            ));
        }
        let body_hash = hex::encode(Sha256::digest(format!("{order_id}\n{channel}")));
        let payment = match self.store.payment_by_key(&key).await? {
            Some(p) if p.body_hash != body_hash => {
                return Err(TxError::IdempotencyConflict { key: key.0 });
            }
            Some(p) => p,
            None => self.create(order_id, key, channel, body_hash).await?,
        };
        if payment.status != PaymentStatus::Init {
            return Ok(payment);
        }
        // Fresh, or left in INIT by a crash: hand it to the channel now.
        let rejected = payment
            .risk
            .as_ref()
            .is_some_and(|r| r.action == RiskAction::Reject);
        let (to, note) = if rejected {
            (PaymentStatus::Failed, "rejected by risk")
        } else {
            (PaymentStatus::Processing, "sent to channel")
        };
        let change = Change {
            payment: Some(PaymentStep {
                id: payment.id.clone(),
                transition: payment.status.to(to)?,
                note: note.into(),
            }),
            at: self.clock.now(),
            ..Change::default()
        };
        match self.store.apply(&change).await {
            Ok(()) | Err(TxError::StatusChanged { .. }) => self.load(&payment.id).await,
            Err(e) => Err(e),
        }
    }

    async fn create(
        &self,
        order_id: &OrderId,
        key: IdempotencyKey,
        channel: &str,
        body_hash: String,
    ) -> Result<Payment, TxError> {
        let order = self.order(order_id).await?;
        // Only an order awaiting payment can be paid: the table says so.
        order.status.to(OrderStatus::Paid)?;
        // Orders total more than zero since the catalogue refuses zero prices; one made before
        // it did has nothing to capture (and no journal could record a capture of nothing).
        if order.total.checked_minor_units().is_none_or(|m| m <= 0) {
            return Err(TxError::invalid(
                "order_id",
                format!("order `{order_id}` totals zero: there is nothing to pay"),
            ));
        }
        let id = PaymentId::generate();
        let request = RiskRequest {
            checkpoint: Checkpoint::PaymentAuthorize,
            request_id: format!("{id}:{}", Checkpoint::PaymentAuthorize.as_str()),
            amount: order.total,
            user_id: order.request.user.clone(),
            device_id: order.request.device.clone(),
            ip: order.request.ip.clone(),
            shipping_address: order.request.shipping.as_ref().map(|s| s.address.clone()),
            shipping_country: order
                .request
                .shipping
                .as_ref()
                .and_then(|s| s.country.clone()),
            payment_method: Some(channel.to_owned()),
        };
        // The hints are the order's: one the risk host refuses is refused here, before the
        // payment is stored, not handed to the fail mode.
        self.risk.check(&request).map_err(|e| e.refusal(true))?;
        let answer = self.risk.assess(&request).await;
        let new = NewPayment {
            id,
            order_id: order.id.clone(),
            idempotency_key: key,
            body_hash: body_hash.clone(),
            channel: channel.to_owned(),
            channel_payment_id: ChannelPaymentId::generate(),
            amount: order.total,
            risk: Some(RiskRecord::resolve(answer, self.config.risk_fail_mode)),
            created_at: self.clock.now(),
        };
        match self.store.create_payment(&new).await? {
            PaymentCreate::Created(p) => Ok(p),
            PaymentCreate::Existing(p) if p.body_hash == body_hash => Ok(p),
            PaymentCreate::Existing(p) => Err(TxError::IdempotencyConflict {
                key: p.idempotency_key.0,
            }),
        }
    }

    /// The payment, its history and its refunds.
    pub async fn get(&self, id: &PaymentId) -> Result<PaymentView, TxError> {
        let payment = self.load(id).await?;
        let history = self
            .store
            .history(PaymentStatus::ENTITY, id.as_str())
            .await?;
        let refunds = self.store.refunds_of(id).await?;
        Ok(PaymentView {
            payment,
            history,
            refunds,
        })
    }

    /// `POST /v1/webhooks/card`: verifies `signature` (the `Stripe-Signature` header) over the
    /// raw body before parsing it, applies the event at most once, and logs a verified callback
    /// with its verdict (see [`CallbackRecord::verified`]: one whose signature fails is not
    /// stored). Forged, stale, replayed and mismatched callbacks change nothing.
    pub async fn handle_card_webhook(
        &self,
        signature: Option<&str>,
        raw: &[u8],
    ) -> Result<WebhookReply, TxError> {
        let now = self.clock.now();
        let (verdict, detail, event_id, unverified) = match self.webhook(signature, raw).await? {
            Ok((decided, event_id)) => (decided.verdict, decided.detail, Some(event_id), None),
            Err(refused) => (
                refused.verdict,
                Some(refused.detail),
                None,
                refused.unverified,
            ),
        };
        if let Some(record) =
            CallbackRecord::verified(CARD, event_id, raw, verdict, detail.clone(), now)
        {
            self.store.record_callback(&record).await?;
        }
        Ok(WebhookReply {
            verdict,
            detail,
            unverified,
        })
    }

    /// The verdict for one callback; the inner `Err` is a refusal before any state was read.
    async fn webhook(
        &self,
        signature: Option<&str>,
        raw: &[u8],
    ) -> Result<Result<(Decided, EventId), Refused>, TxError> {
        let secret = &self.config.webhook_secret;
        let tolerance = self.config.signature_tolerance;
        let now = self.clock.now().timestamp();
        let Some(header) = signature else {
            return Ok(Err(Refused::unverified("missing", "no signature header")));
        };
        if let Err(e) = verify(secret, header, raw, now, tolerance) {
            return Ok(Err(Refused::unverified(e.reason(), e.to_string())));
        }
        let event = match ChannelEvent::parse(raw) {
            Ok(event) => event,
            Err(e) => {
                return Ok(Err(Refused {
                    verdict: Verdict::Malformed,
                    detail: e.to_string(),
                    unverified: None,
                }));
            }
        };
        for _ in 0..MAX_ATTEMPTS {
            let decided = self.decide(&event).await?;
            let Some(change) = &decided.change else {
                return Ok(Ok((decided, event.id)));
            };
            match self.store.apply(change).await {
                Ok(()) => return Ok(Ok((decided, event.id))),
                Err(TxError::AlreadyApplied { .. }) => {
                    let duplicate = Decided {
                        verdict: Verdict::Duplicate,
                        detail: Some("event already applied".into()),
                        change: None,
                    };
                    return Ok(Ok((duplicate, event.id)));
                }
                // A concurrent step moved a status: decide again from what is stored now.
                Err(TxError::StatusChanged { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(TxError::StatusChanged {
            entity: "payment",
            id: event.data.object.id.clone(),
            expected: "a stable status".into(),
            actual: "still moving".into(),
        })
    }

    async fn decide(&self, event: &ChannelEvent) -> Result<Decided, TxError> {
        let now = self.clock.now();
        let ignored = |what: &str, id: &str| Decided {
            verdict: Verdict::Ignored,
            detail: Some(format!("unknown {what} `{id}`")),
            change: None,
        };
        let object = &event.data.object;
        match event.kind {
            EventType::PaymentSucceeded | EventType::PaymentFailed => {
                let id = ChannelPaymentId(object.id.clone());
                let Some(payment) = self.store.payment_by_channel_id(&id).await? else {
                    return Ok(ignored("payment", &object.id));
                };
                let order = self.order(&payment.order_id).await?;
                payment_event(event, &payment, &order, now)
            }
            EventType::RefundUpdated => {
                let id = crate::ids::ChannelRefundId(object.id.clone());
                let Some(refund) = self.store.refund_by_channel_id(&id).await? else {
                    return Ok(ignored("refund", &object.id));
                };
                let payment = self.load(&refund.payment_id).await?;
                let order = self.order(&payment.order_id).await?;
                // Stored with the payment's success, so it cannot change under this decision.
                let stray = self
                    .store
                    .refund_by_key(&auto_refund_key(&payment.id))
                    .await?
                    .is_some();
                let from = refund_source(order.status, !stray);
                refund_event(event, &refund, &payment.channel, &from, now)
            }
        }
    }

    pub(crate) async fn load(&self, id: &PaymentId) -> Result<Payment, TxError> {
        self.store
            .payment(id)
            .await?
            .ok_or_else(|| TxError::NotFound {
                entity: "payment",
                id: id.0.clone(),
            })
    }

    async fn order(&self, id: &OrderId) -> Result<Order, TxError> {
        self.store
            .order(id)
            .await?
            .ok_or_else(|| TxError::NotFound {
                entity: "order",
                id: id.0.clone(),
            })
    }
}
