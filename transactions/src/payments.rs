//! The payment service: starting a payment (`POST /v1/orders/{id}/payments`) and reading one.
//! What the channels report (notifications, query answers) is applied in [`callbacks`];
//! refunds are in [`crate::refunds`].

mod callbacks;

pub use callbacks::WebhookReply;

use std::sync::Arc;

use arbiter_engine::Checkpoint;
use arbiter_engine::clock::Clock;
use chrono::Duration;
use sha2::{Digest, Sha256};

use crate::change::{Change, PaymentStep};
use crate::channels::routing::{RouteRequest, Routed, route};
use crate::error::TxError;
use crate::ids::{ChannelPaymentId, IdempotencyKey, OrderId, PaymentId};
use crate::order::{HistoryEntry, Order};
use crate::payment::{CARD, NewPayment, Payment, PaymentCreate, Refund};
use crate::risk::{RiskAction, RiskClient, RiskFailMode, RiskRecord, RiskRequest};
use crate::signature::DEFAULT_TOLERANCE;
use crate::status::{OrderStatus, PaymentStatus, Status};
use crate::store::TransactionStore;

#[derive(Clone)]
pub struct PaymentConfig {
    /// What a risk-host failure means for `payment.authorize` and `refund.request`.
    pub risk_fail_mode: RiskFailMode,
    /// The card channel's webhook signing secret.
    pub webhook_secret: Vec<u8>,
    /// How far a signature's timestamp may be from now.
    pub signature_tolerance: Duration,
    /// The channels a payment may be started through: the card, and those the host has
    /// adapters for.
    pub channels: Vec<String>,
}

impl PaymentConfig {
    pub fn new(webhook_secret: Vec<u8>) -> PaymentConfig {
        PaymentConfig {
            risk_fail_mode: RiskFailMode::Closed,
            webhook_secret,
            signature_tolerance: DEFAULT_TOLERANCE,
            channels: vec![CARD.to_owned()],
        }
    }
}

/// What a payment asks for: a channel, a method (`card`, `qr`), or both.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaymentRequest {
    pub channel: Option<String>,
    pub method: Option<String>,
}

impl PaymentRequest {
    /// What the idempotency key's body hash covers (a channel alone hashes as it always did).
    fn hash_input(&self, order_id: &OrderId) -> String {
        match &self.method {
            None => format!(
                "{order_id}\n{}",
                self.channel.as_deref().unwrap_or_default()
            ),
            Some(method) => format!(
                "{order_id}\n{}\n{method}",
                self.channel.as_deref().unwrap_or_default()
            ),
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

    /// Starts paying an order awaiting payment through `channel`: [`PaymentService::start_with`]
    /// asking for that channel.
    pub async fn start(
        &self,
        order_id: &OrderId,
        key: IdempotencyKey,
        channel: &str,
    ) -> Result<Payment, TxError> {
        let request = PaymentRequest {
            channel: Some(channel.to_owned()),
            method: None,
        };
        self.start_with(order_id, key, &request).await
    }

    /// Starts paying an order awaiting payment through the channel `request` is routed to
    /// ([`crate::channels::routing`]: the one asked for when it is switched on, configured and
    /// takes the order's currency, else the best for the method): asks the risk host
    /// (`payment.authorize`), then stores the payment `INIT → PROCESSING` with where it went and
    /// why (or `FAILED` when rejected). The same key for the same order and request returns the
    /// same payment, wherever routing would send a new one now.
    pub async fn start_with(
        &self,
        order_id: &OrderId,
        key: IdempotencyKey,
        request: &PaymentRequest,
    ) -> Result<Payment, TxError> {
        let body_hash = hex::encode(Sha256::digest(request.hash_input(order_id)));
        let (payment, routed) = match self.store.payment_by_key(&key).await? {
            Some(p) if p.body_hash != body_hash => {
                return Err(TxError::IdempotencyConflict { key: key.0 });
            }
            Some(p) => (p, None),
            None => {
                let (p, routed) = self.create(order_id, key, request, body_hash).await?;
                (p, Some(routed))
            }
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
            (PaymentStatus::Failed, "rejected by risk".to_owned())
        } else {
            let note = routed.map_or_else(|| "sent to channel".to_owned(), |r| r.note);
            (PaymentStatus::Processing, note)
        };
        let change = Change {
            payment: Some(PaymentStep {
                id: payment.id.clone(),
                transition: payment.status.to(to)?,
                note,
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
        request: &PaymentRequest,
        body_hash: String,
    ) -> Result<(Payment, Routed), TxError> {
        let order = self.order(order_id).await?;
        // Only an order awaiting payment can be paid: the table says so.
        order.status.to(OrderStatus::Paid)?;
        let routes = self.store.channel_routes().await?;
        let routed = route(
            &routes,
            &self.config.channels,
            &RouteRequest {
                channel: request.channel.as_deref(),
                method: request.method.as_deref(),
                currency: order.total.currency.code(),
            },
        )?;
        let channel = routed.channel.as_str();
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
            PaymentCreate::Created(p) => Ok((p, routed)),
            PaymentCreate::Existing(p) if p.body_hash == body_hash => Ok((p, routed)),
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

    pub(crate) async fn load(&self, id: &PaymentId) -> Result<Payment, TxError> {
        self.store
            .payment(id)
            .await?
            .ok_or_else(|| TxError::NotFound {
                entity: "payment",
                id: id.0.clone(),
            })
    }

    pub(crate) async fn order(&self, id: &OrderId) -> Result<Order, TxError> {
        self.store
            .order(id)
            .await?
            .ok_or_else(|| TxError::NotFound {
                entity: "order",
                id: id.0.clone(),
            })
    }
}
