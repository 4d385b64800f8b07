//! The storage contract of the transaction core. `arbiter-storage` implements each trait once
//! for SQLite and once for PostgreSQL; the domain never sees SQL.
//!
//! Every method that writes runs one database transaction. Statuses change only through
//! [`ChangeStore::apply`], which compare-and-sets each on its previous value and records a
//! history row; stock changes only under the SKU row's lock (`INVARIANT` comments in the
//! backends say which).

use arbiter_engine::money::Money;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::catalogue::{NewReservation, Product, Reservation, SkuView, StockLevel};
use crate::change::Change;
use crate::channels::Created;
use crate::channels::routing::ChannelRoute;
use crate::due::DueQueue;
use crate::error::TxError;
use crate::ids::{
    ChannelPaymentId, ChannelRefundId, IdempotencyKey, OrderId, PaymentId, RefundId, ReservationId,
    Sku,
};
use crate::ledger::{Account, Balance, CheckReport, Journal, check};
use crate::order::{HistoryEntry, NewOrder, Order, OrderCreate};
use crate::outbox::FeedRead;
pub use crate::outbox_relay::RelayStore;
use crate::payment::{CallbackRecord, NewPayment, Payment, PaymentCreate, Refund};
pub use crate::reconciliation::archive::StatementStore;
pub use crate::reconciliation::tickets::ReconStore;
use arbiter_engine::audit::Actor;

#[async_trait]
pub trait CatalogueStore: Send + Sync + 'static {
    /// Creates the SKU (with no stock) or updates its title and price.
    async fn put_product(&self, product: &Product) -> Result<SkuView, TxError>;
    async fn sku(&self, sku: &Sku) -> Result<Option<SkuView>, TxError>;
    /// Sets the units owned; refuses a total below `reserved + sold`
    /// ([`TxError::StockBelowCommitted`]) and an unknown SKU ([`TxError::NotFound`]).
    async fn set_stock_total(&self, sku: &Sku, total: i64) -> Result<StockLevel, TxError>;
    /// Holds every line or none: [`TxError::OutOfStock`] names the first short SKU.
    async fn reserve(&self, reservation: &NewReservation) -> Result<Reservation, TxError>;
    /// Held → released (units available again); any other status is
    /// [`TxError::StatusChanged`].
    async fn release_reservation(&self, id: &ReservationId) -> Result<Reservation, TxError>;
    /// Held → confirmed (units sold); any other status is [`TxError::StatusChanged`].
    async fn confirm_reservation(&self, id: &ReservationId) -> Result<Reservation, TxError>;
    async fn reservation(&self, id: &ReservationId) -> Result<Option<Reservation>, TxError>;
}

#[async_trait]
pub trait OrderStore: Send + Sync + 'static {
    /// In one transaction: claims the idempotency key, stores the order in `CREATING` with a
    /// history row, holds its reservation, and schedules its expiry (`order.expire` at
    /// `expires_at`). A used key returns [`OrderCreate::Existing`] with the order it made and
    /// writes nothing; too little stock is [`TxError::OutOfStock`] and writes nothing.
    async fn create_order(&self, order: &NewOrder) -> Result<OrderCreate, TxError>;
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, TxError>;
    async fn order_by_key(&self, key: &IdempotencyKey) -> Result<Option<Order>, TxError>;
    /// The status history of `entity` (`order`, `payment`, `refund`) `id`, oldest first.
    async fn history(&self, entity: &str, id: &str) -> Result<Vec<HistoryEntry>, TxError>;
}

#[async_trait]
pub trait PaymentStore: Send + Sync + 'static {
    /// Claims the idempotency key and stores the payment in `INIT` with a history row; a used
    /// key returns [`PaymentCreate::Existing`] and writes nothing.
    async fn create_payment(&self, payment: &NewPayment) -> Result<PaymentCreate, TxError>;
    async fn payment(&self, id: &PaymentId) -> Result<Option<Payment>, TxError>;
    async fn payment_by_key(&self, key: &IdempotencyKey) -> Result<Option<Payment>, TxError>;
    /// The order's payments, oldest first (fulfilment sums what they captured).
    async fn payments_of(&self, order: &OrderId) -> Result<Vec<Payment>, TxError>;
    async fn payment_by_channel_id(
        &self,
        id: &ChannelPaymentId,
    ) -> Result<Option<Payment>, TxError>;
    async fn refund(&self, id: &RefundId) -> Result<Option<Refund>, TxError>;
    async fn refund_by_key(&self, key: &IdempotencyKey) -> Result<Option<Refund>, TxError>;
    async fn refund_by_channel_id(&self, id: &ChannelRefundId) -> Result<Option<Refund>, TxError>;
    /// The payment's refunds, oldest first.
    async fn refunds_of(&self, payment: &PaymentId) -> Result<Vec<Refund>, TxError>;
    /// Appends to the callback log.
    async fn record_callback(&self, callback: &CallbackRecord) -> Result<(), TxError>;
    /// Keeps what the channel answered to the payment's create — what the paying client needs
    /// and the channel's own id for it — the first time it answered; a second save for the
    /// same payment keeps the first.
    async fn save_channel_created(
        &self,
        payment: &PaymentId,
        created: &Created,
        at: DateTime<Utc>,
    ) -> Result<(), TxError>;
    async fn channel_created(&self, payment: &PaymentId) -> Result<Option<Created>, TxError>;
    /// The channel table, every row.
    async fn channel_routes(&self) -> Result<Vec<ChannelRoute>, TxError>;
    /// Switches channel `name` on or off for new payments, audited as `actor`'s with
    /// `reason`; `None` when the table has no such channel.
    async fn switch_channel(
        &self,
        name: &str,
        enabled: bool,
        reason: &str,
        actor: &Actor,
    ) -> Result<Option<ChannelRoute>, TxError>;
    /// Refunds still `PROCESSING` of payments through `channel` since before `before`, oldest
    /// first: those a lost notification, or a request that never reached the channel, left
    /// open.
    async fn processing_refunds(
        &self,
        channel: &str,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Refund>, TxError>;
    /// Payments still `PROCESSING` through `channel` since before `before`, oldest first:
    /// those whose outcome a lost notification may have left unknown.
    async fn processing_payments(
        &self,
        channel: &str,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Payment>, TxError>;
}

#[async_trait]
pub trait ChangeStore: Send + Sync + 'static {
    /// Applies every part of `change` in one transaction, or nothing: a status that moved is
    /// [`TxError::StatusChanged`], an event applied before is [`TxError::AlreadyApplied`], a
    /// refund over the captured amount is [`TxError::RefundExceedsCaptured`].
    async fn apply(&self, change: &Change) -> Result<(), TxError>;
}

#[async_trait]
pub trait LedgerStore: Send + Sync + 'static {
    /// The account's balance per currency it has entries in (debits positive).
    async fn balance(&self, account: &Account) -> Result<Vec<Money>, TxError>;
    /// Every journal with its entries, oldest first (for `arbiter ledger check`).
    async fn journals(&self) -> Result<Vec<Journal>, TxError>;
    /// Every kept balance.
    async fn balances(&self) -> Result<Vec<Balance>, TxError>;
    /// Every journal balances and every kept balance equals the sum of its entries.
    async fn check_ledger(&self) -> Result<CheckReport, TxError> {
        Ok(check(&self.journals().await?, &self.balances().await?))
    }
}

#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Up to `limit` committed events that follow event `after` (0: the start of the feed), in
    /// feed order; `None` when `after` is neither 0 nor the id of an event.
    ///
    /// The feed order is final: an event the feed has passed never appears behind it later, so
    /// paging by the last id seen never skips or repeats one. Where ids are taken in commit
    /// order (SQLite: one writer) it is id order; where they are not (PostgreSQL sequences),
    /// the backend says how it keeps that promise.
    ///
    /// An `after` that retention deleted is [`FeedRead::Expired`], unless it is where the feed
    /// now starts ([`Self::feed_start`]): that one reads on from there.
    async fn events_after(&self, after: i64, limit: u32) -> Result<FeedRead, TxError>;

    /// The last event retention deleted (0: none was): the feed starts after it.
    async fn feed_start(&self) -> Result<i64, TxError>;

    /// Deletes, oldest first in feed order, at most `limit` events created before `before`,
    /// none past event `up_to` when given (the relay's position: what it has not published
    /// stays), and records the last one deleted as where the feed starts. Stops at the first
    /// event that must stay, so what is deleted is always a prefix of the feed. Returns how
    /// many were deleted; one transaction, one pruner at a time.
    async fn prune_outbox(
        &self,
        before: DateTime<Utc>,
        up_to: Option<i64>,
        limit: u32,
    ) -> Result<u64, TxError>;
}

/// Everything one backend provides to the transaction core.
pub trait TransactionStore:
    CatalogueStore
    + OrderStore
    + PaymentStore
    + ChangeStore
    + LedgerStore
    + OutboxStore
    + RelayStore
    + DueQueue
    + StatementStore
    + ReconStore
{
}

impl<
    T: CatalogueStore
        + OrderStore
        + PaymentStore
        + ChangeStore
        + LedgerStore
        + OutboxStore
        + RelayStore
        + DueQueue
        + StatementStore
        + ReconStore,
> TransactionStore for T
{
}
