//! [`OrderService::fulfil`]: one step of `PAID → FULFILLING → FULFILLED → DONE`, asked for by
//! the merchant as goods ship and arrive. What the step writes (and the revenue `FULFILLED`
//! recognises) is decided in [`crate::fulfilment`]; this reads what it needs and applies it.

use crate::error::TxError;
use crate::fulfilment::{Fulfilment, Settlement, decide};
use crate::ids::OrderId;
use crate::order::Order;
use crate::status::OrderStatus;

use super::{OrderService, OrderView};

/// How often a step is decided again when the store refused it because something it was
/// decided from moved (a status, or the refunds `FULFILLED` counted).
const MAX_ATTEMPTS: usize = 3;

impl OrderService {
    /// Moves the order to `to` (`FULFILLING`, `FULFILLED` or `DONE`), one legal step at a time,
    /// and answers the order with its history. Asking for the status the order is already in
    /// writes nothing and answers the same (so a retried request is harmless); a step the table
    /// does not allow is a transition error; `FULFILLED` with a refund still at the channel is
    /// [`TxError::RefundInFlight`]. A step the store refuses because its inputs moved is decided
    /// again from what is stored then: a concurrent request that took the same step makes it
    /// [`Fulfilment::Already`], a refund requested since the read makes it `RefundInFlight`.
    pub async fn fulfil(&self, id: &OrderId, to: OrderStatus) -> Result<OrderView, TxError> {
        let mut moved = None;
        for _ in 0..MAX_ATTEMPTS {
            let order = self.load(id).await?;
            let settlements = if to == OrderStatus::Fulfilled && order.status != to {
                self.settlements(&order).await?
            } else {
                Vec::new()
            };
            let change = match decide(&order, to, &settlements, self.clock.now())? {
                Fulfilment::Already => return self.get(id).await,
                Fulfilment::Step(change) => change,
            };
            match self.store.apply(&change).await {
                Ok(()) => return self.get(id).await,
                Err(e @ (TxError::StatusChanged { .. } | TxError::RefundsChanged { .. })) => {
                    moved = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(moved.unwrap_or_else(|| TxError::StatusChanged {
            entity: "order",
            id: id.0.clone(),
            expected: "a stable status".into(),
            actual: "still moving".into(),
        }))
    }

    /// The order's payments, each with its refunds.
    async fn settlements(&self, order: &Order) -> Result<Vec<Settlement>, TxError> {
        let mut settlements = Vec::new();
        for payment in self.store.payments_of(&order.id).await? {
            let refunds = self.store.refunds_of(&payment.id).await?;
            settlements.push(Settlement { payment, refunds });
        }
        Ok(settlements)
    }
}
