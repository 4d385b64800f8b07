//! [`Change`]: everything one domain step writes, which a store applies in ONE database
//! transaction or not at all — the status compare-and-sets, the stock effect, the ledger
//! journal, the outbox messages, the applied-event mark and the due-queue completion. Domain
//! code decides the change; the store only checks that nothing moved meanwhile — the statuses
//! it compare-and-sets, and the refund counts it guards ([`RefundCountGuard`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, OrderId, PaymentId, RefundId};
use crate::ledger::Journal;
use crate::payment::NewRefund;
use crate::risk::RiskRecord;
use crate::status::{OrderStatus, PaymentStatus, RefundStatus, Transition};

/// What happens to an order's reservation along with its transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReservationEffect {
    #[default]
    Keep,
    /// Held → confirmed: the units become sold.
    Confirm,
    /// Held → released: the units become available again.
    Release,
}

/// An order's transition and what goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStep {
    pub id: OrderId,
    /// Written only if the stored status still equals `transition.from()`.
    pub transition: Transition<OrderStatus>,
    pub reservation: ReservationEffect,
    /// Recorded on the order (the `order.create` decision).
    pub risk: Option<RiskRecord>,
    pub challenge_required: bool,
    /// Why, for the history row (`risk accept`, `cancelled by user`, `expired`).
    pub note: String,
}

/// A payment's transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentStep {
    pub id: PaymentId,
    /// Written only if the stored status still equals `transition.from()`.
    pub transition: Transition<PaymentStatus>,
    pub note: String,
}

/// A refund's transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundStep {
    pub id: RefundId,
    /// Written only if the stored status still equals `transition.from()`.
    pub transition: Transition<RefundStatus>,
    pub note: String,
}

/// An event leaving through the transactional outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// `order.paid`, `order.cancelled`, …
    pub topic: String,
    pub payload: serde_json::Value,
}

/// A channel event applied by this change: stored with a unique key, so a second change
/// carrying the same event is refused as `AlreadyApplied` and writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedEvent {
    pub channel: String,
    pub event_id: EventId,
}

/// A due-queue item this change completes (the expiry of an order it cancels or pays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDone {
    pub kind: String,
    pub key: String,
}

/// A payment's refunds as the domain read them, checked again inside the change's transaction:
/// the change applies only while the payment still has exactly `count` refunds, and is
/// otherwise refused as [`TxError::RefundsChanged`](crate::TxError::RefundsChanged) with
/// nothing written.
///
/// Why a count is enough: refunds are never deleted, and the step that guards them (the
/// revenue of `FULFILLED`) refuses to decide while any of them is in flight, so every refund it
/// read was terminal and can no longer change. An unchanged count therefore means an unchanged
/// set — no refund requested, and so none paid, since the read. The stores serialise the check
/// with refund creation (the payment row's lock on PostgreSQL, the single writer on SQLite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundCountGuard {
    pub payment_id: PaymentId,
    /// How many refunds of the payment (of any status) the decision was made from.
    pub count: u64,
}

/// One atomic step. Every part is optional; an empty change is a no-op.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change {
    pub event: Option<AppliedEvent>,
    pub order: Option<OrderStep>,
    pub payment: Option<PaymentStep>,
    pub refund: Option<RefundStep>,
    /// A refund to store in `REQUESTED`, refused with `RefundExceedsCaptured` when it and the
    /// payment's other refunds (all but failed ones) would exceed the captured amount.
    pub new_refund: Option<NewRefund>,
    /// Payments whose refunds must be exactly as many as the decision read, each checked under
    /// the payment row's lock after the order step (see [`RefundCountGuard`]). One per payment
    /// the decision earned from; empty for every change that does not depend on refunds.
    pub refund_counts: Vec<RefundCountGuard>,
    pub journal: Option<Journal>,
    pub outbox: Vec<OutboxMessage>,
    pub due_done: Option<DueDone>,
    /// The time written on history rows and `updated_at`.
    pub at: DateTime<Utc>,
}
