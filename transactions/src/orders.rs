//! The order service: the whole `POST /v1/orders` flow (price from the catalogue, reserve, ask
//! the risk host, end in `PENDING_PAYMENT` or `REJECTED`), cancellation while unpaid, and the
//! expiry job over the due queue — so a route is one call. It decides every change; the store
//! applies it atomically.
//!
//! Expiry runs over the store's due queue, or, when a shared dispatcher is configured
//! ([`OrderService::with_expiry_dispatch`]), over the dispatcher with the store's rows as the
//! truth behind it: a new order is offered to the dispatcher right after its commit, and
//! [`OrderService::sweep_expiries`] re-offers any due row the dispatcher lost. The expiry
//! methods live in the sibling file `orders/expiry.rs`.

mod fulfil;

use std::sync::Arc;

use arbiter_engine::Checkpoint;
use arbiter_engine::clock::Clock;
use arbiter_engine::money::Money;
use chrono::{DateTime, Duration, SubsecRound, Utc};

use crate::catalogue::{DEFAULT_RESERVATION_TTL, NewReservation};
use crate::change::{Change, DueDone, OrderStep, OutboxMessage, ReservationEffect};
use crate::due::{DueDispatch, ORDER_EXPIRY};
use crate::error::TxError;
use crate::ids::{IdempotencyKey, OrderId, ReservationId};
use crate::order::{HistoryEntry, NewOrder, Order, OrderCreate, OrderItem, OrderRequest};
use crate::risk::{RiskAction, RiskClient, RiskFailMode, RiskRecord, RiskRequest};
use crate::status::{OrderStatus, Status};
use crate::store::TransactionStore;

mod expiry;

/// Configuration of the order flow.
#[derive(Debug, Clone, Copy)]
pub struct OrderConfig {
    /// How long an unpaid order holds its stock.
    pub reservation_ttl: Duration,
    /// What a risk-host timeout or error means for `order.create`.
    pub risk_fail_mode: RiskFailMode,
}

impl Default for OrderConfig {
    fn default() -> OrderConfig {
        OrderConfig {
            reservation_ttl: DEFAULT_RESERVATION_TTL,
            risk_fail_mode: RiskFailMode::Open,
        }
    }
}

/// An order with its transition history, as `GET /v1/orders/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub order: Order,
    pub history: Vec<HistoryEntry>,
}

/// The order flow over a store, a risk client and a clock.
#[derive(Clone)]
pub struct OrderService {
    store: Arc<dyn TransactionStore>,
    risk: Arc<dyn RiskClient>,
    clock: Arc<dyn Clock>,
    config: OrderConfig,
    /// The shared dispatcher of `order.expire` keys, when one is configured; `None` claims
    /// from the store's own queue.
    expiry_dispatch: Option<Arc<dyn DueDispatch>>,
    /// Who settles an order's payments still open at their channels before it is cancelled
    /// (closes them there, or applies a payment the channel says was made); `None` where
    /// every channel reports by itself (the card).
    open_payments: Option<Arc<dyn OpenPayments>>,
}

/// Settles an order's payments still open at a channel before the order is cancelled, so an
/// order is never cancelled while its buyer's payment may still succeed: each is closed at its
/// channel, or, when the channel says it was paid, that payment is applied (the order is then
/// paid, not cancelled). Implemented by the host, which talks to the channels.
#[async_trait::async_trait]
pub trait OpenPayments: Send + Sync {
    async fn settle_before_cancel(&self, order: &Order) -> Result<Settled, TxError>;
}

/// What settling an order's open payments found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// None of its payments can be paid any more (each closed, or never open): cancel.
    Closed,
    /// One was paid at its channel and is now applied: the order is paid, not cancelled.
    Paid,
    /// A channel could not be asked: not now, later.
    Undecided,
}

impl OrderService {
    pub fn new(
        store: Arc<dyn TransactionStore>,
        risk: Arc<dyn RiskClient>,
        clock: Arc<dyn Clock>,
        config: OrderConfig,
    ) -> OrderService {
        OrderService {
            store,
            risk,
            clock,
            config,
            expiry_dispatch: None,
            open_payments: None,
        }
    }

    /// Dispatches order expiries through `dispatch` (shared by every replica) instead of
    /// claiming them from the store; the store's rows stay the truth behind it.
    pub fn with_expiry_dispatch(mut self, dispatch: Arc<dyn DueDispatch>) -> OrderService {
        self.expiry_dispatch = Some(dispatch);
        self
    }

    pub fn with_open_payments(mut self, settler: Arc<dyn OpenPayments>) -> OrderService {
        self.open_payments = Some(settler);
        self
    }

    /// Creates (or, for a used key with the same request, returns) an order. Ends in
    /// `PENDING_PAYMENT` (with `challenge_required` on a challenge) or `REJECTED` with its stock
    /// released. Too little stock is [`TxError::OutOfStock`] and stores nothing; a used key with
    /// another request is [`TxError::IdempotencyConflict`].
    pub async fn create(
        &self,
        key: IdempotencyKey,
        request: OrderRequest,
    ) -> Result<Order, TxError> {
        if key.0.trim().is_empty() || key.0.len() > 255 {
            return Err(TxError::invalid(
                "Idempotency-Key",
                "must be 1 to 255 characters",
            ));
        }
        if request.user.trim().is_empty() {
            return Err(TxError::invalid("user", "must not be empty"));
        }
        let body_hash = request.body_hash();
        // A used key is found by `create_order` itself, before it reserves anything (one read
        // fewer on the hot path than asking first).
        let now = self.clock.now();
        let reservation = NewReservation::new(
            ReservationId::generate(),
            &request.items,
            now + self.config.reservation_ttl,
        )?;
        let mut items = Vec::with_capacity(reservation.lines().len());
        for line in reservation.lines() {
            let view = self
                .store
                .sku(&line.sku)
                .await?
                .ok_or_else(|| TxError::NotFound {
                    entity: "sku",
                    id: line.sku.0.clone(),
                })?;
            // The catalogue refuses such prices; one stored before it did must not make an order
            // of nothing to pay (its payment could never be captured, nor journalled).
            if view
                .product
                .price
                .checked_minor_units()
                .is_none_or(|m| m <= 0)
            {
                return Err(TxError::invalid(
                    "items",
                    format!("sku `{}` has no positive price", line.sku),
                ));
            }
            items.push(OrderItem {
                sku: line.sku.clone(),
                quantity: line.quantity,
                unit_price: view.product.price,
            });
        }
        let total = order_total(&items)?;
        let id = OrderId::generate();
        // Hints the risk host would refuse are the caller's error, refused here before anything
        // is reserved or stored: never a fault for the fail mode to wave through.
        let risk = risk_request(&id, &request, total);
        self.risk.check(&risk).map_err(|e| e.refusal(false))?;
        let new = NewOrder {
            id,
            idempotency_key: key.clone(),
            body_hash: body_hash.clone(),
            request,
            items,
            total,
            reservation_id: reservation.id.clone(),
            expires_at: reservation.expires_at,
            created_at: now,
        };
        let order = match self.store.create_order(&new).await? {
            OrderCreate::Created(order) => order,
            OrderCreate::Existing(existing) => return same_request(existing, &body_hash, &key),
        };
        self.offer_expiry(&order).await;
        let answer = self.risk.assess(&risk).await;
        let record = RiskRecord::resolve(answer, self.config.risk_fail_mode);
        let (to, effect) = match record.action {
            RiskAction::Accept | RiskAction::Challenge => {
                (OrderStatus::PendingPayment, ReservationEffect::Keep)
            }
            RiskAction::Reject => (OrderStatus::Rejected, ReservationEffect::Release),
        };
        let note = match &record.fault {
            None => format!("risk {}", record.action.as_str()),
            Some(fault) => format!(
                "risk {} by fail mode `{}`: {fault}",
                record.action.as_str(),
                self.config.risk_fail_mode.as_str()
            ),
        };
        let challenge_required = record.action == RiskAction::Challenge;
        let step = OrderStep {
            id: order.id.clone(),
            transition: order.status.to(to)?,
            reservation: effect,
            risk: Some(record.clone()),
            challenge_required,
            note,
        };
        let done = (to == OrderStatus::Rejected).then(|| expiry_done(&order.id));
        // Stores keep microseconds: the order answered below equals the one a read returns.
        let at = self.clock.now().trunc_subsecs(6);
        match self.store.apply(&order_change(step, done, at)).await {
            // The compare-and-set held, so the stored order is this one: no read needed.
            Ok(()) => Ok(Order {
                status: to,
                challenge_required,
                risk: Some(record),
                updated_at: at,
                ..order
            }),
            // The expiry job got there first (a risk host slower than the TTL): report what is.
            Err(TxError::StatusChanged { .. }) => self.load(&order.id).await,
            Err(e) => Err(e),
        }
    }

    /// The order and its history.
    pub async fn get(&self, id: &OrderId) -> Result<OrderView, TxError> {
        let order = self.load(id).await?;
        let history = self.store.history(OrderStatus::ENTITY, id.as_str()).await?;
        Ok(OrderView { order, history })
    }

    /// Cancels an unpaid order and releases its stock. A paid or finished order is a
    /// transition error; a status that moved meanwhile is [`TxError::StatusChanged`].
    pub async fn cancel(&self, id: &OrderId) -> Result<Order, TxError> {
        let order = self.load(id).await?;
        // Refused as usual when it is no longer unpaid, before any channel is asked.
        order.status.to(OrderStatus::Cancelled)?;
        match self.payments_settled(&order).await? {
            Settled::Closed => {}
            // Paid at the channel meanwhile, and now applied: the order is paid.
            Settled::Paid => {
                self.load(id).await?.status.to(OrderStatus::Cancelled)?;
            }
            Settled::Undecided => {
                return Err(TxError::StatusChanged {
                    entity: "order",
                    id: id.0.clone(),
                    expected: order.status.to_string(),
                    actual: "a payment its channel cannot be asked about now".into(),
                });
            }
        }
        self.cancel_unpaid(&order, "cancelled by user").await?;
        self.load(id).await
    }

    /// Whether `order` has a payment that could still be paid at its channel.
    pub(crate) async fn payments_settled(&self, order: &Order) -> Result<Settled, TxError> {
        match &self.open_payments {
            Some(settler) => settler.settle_before_cancel(order).await,
            None => Ok(Settled::Closed),
        }
    }

    async fn cancel_unpaid(&self, order: &Order, note: &str) -> Result<(), TxError> {
        let step = OrderStep {
            id: order.id.clone(),
            transition: order.status.to(OrderStatus::Cancelled)?,
            reservation: ReservationEffect::Release,
            risk: None,
            challenge_required: order.challenge_required,
            note: note.to_owned(),
        };
        let change = order_change(step, Some(expiry_done(&order.id)), self.clock.now());
        self.store.apply(&change).await
    }

    async fn load(&self, id: &OrderId) -> Result<Order, TxError> {
        self.store
            .order(id)
            .await?
            .ok_or_else(|| TxError::NotFound {
                entity: "order",
                id: id.0.clone(),
            })
    }
}

/// The stored order for a used key, if the request is the same one.
fn same_request(existing: Order, body_hash: &str, key: &IdempotencyKey) -> Result<Order, TxError> {
    if existing.body_hash == body_hash {
        Ok(existing)
    } else {
        Err(TxError::IdempotencyConflict { key: key.0.clone() })
    }
}

/// The sum of the lines; every line in one currency.
fn order_total(items: &[OrderItem]) -> Result<Money, TxError> {
    let mut lines = items.iter().map(|i| {
        i.unit_price
            .checked_mul(i.quantity)
            .ok_or_else(|| TxError::Overflow {
                what: format!("line `{}`", i.sku),
            })
    });
    let first = lines
        .next()
        .ok_or_else(|| TxError::invalid("items", "at least one item"))??;
    lines.try_fold(first, |sum, line| {
        let line = line?;
        if line.currency != sum.currency {
            return Err(TxError::CurrencyMismatch {
                what: "order items".into(),
                left: sum.currency.code().into(),
                right: line.currency.code().into(),
            });
        }
        sum.checked_add(&line).ok_or_else(|| TxError::Overflow {
            what: "order total".into(),
        })
    })
}

fn risk_request(id: &OrderId, r: &OrderRequest, total: Money) -> RiskRequest {
    RiskRequest {
        checkpoint: Checkpoint::OrderCreate,
        request_id: format!("{id}:{}", Checkpoint::OrderCreate.as_str()),
        amount: total,
        user_id: r.user.clone(),
        device_id: r.device.clone(),
        ip: r.ip.clone(),
        shipping_address: r.shipping.as_ref().map(|s| s.address.clone()),
        shipping_country: r.shipping.as_ref().and_then(|s| s.country.clone()),
        payment_method: r.payment_method.clone(),
    }
}

fn expiry_done(id: &OrderId) -> DueDone {
    DueDone {
        kind: ORDER_EXPIRY.into(),
        key: id.0.clone(),
    }
}

/// An order step with its outbox message (`order.<status>`).
fn order_change(step: OrderStep, due_done: Option<DueDone>, at: DateTime<Utc>) -> Change {
    let to = step.transition.to();
    let message = OutboxMessage {
        topic: format!("order.{}", to.as_str().to_ascii_lowercase()),
        payload: serde_json::json!({"order_id": step.id, "status": to}),
    };
    Change {
        order: Some(step),
        outbox: vec![message],
        due_done,
        at,
        ..Change::default()
    }
}
