//! Fulfilment, decided without I/O: the order's last steps `PAID → FULFILLING → FULFILLED →
//! DONE` and the revenue the `FULFILLED` step recognises. [`OrderService::fulfil`] reads the
//! order (and, for `FULFILLED`, its payments and refunds), calls [`decide`] and hands the
//! [`Change`] to the store, which compare-and-sets the status, so a step is taken once however
//! often it is asked for.
//!
//! The revenue rule. Until an order is fulfilled, what its customer paid is held for them
//! (`customer_funds`, credited on capture). `FULFILLED` earns it: one `order.fulfilled` journal,
//! Dr `customer_funds`, Cr `revenue`, for what the payment that paid the order captured less
//! what its succeeded refunds gave back. A refund of it still at the channel makes that amount
//! unknown, so `FULFILLED` waits for it ([`TxError::RefundInFlight`]). A refund of that payment
//! that succeeds once revenue is recognised (order `FULFILLED` or `DONE`) reverses revenue: its
//! journal is Dr `revenue`, Cr `channel_clearing:<channel>` — a return after delivery is earned
//! money given back ([`refund_source`]).
//!
//! A *stray* capture — a payment that succeeded for an order no longer awaiting payment (paid
//! by another payment, or cancelled) — is never earned: the webhook refunds it in full at once
//! (its refund's key is [`auto_refund_key`]), its money stays in `customer_funds` until that
//! refund settles, and its refunds are always paid from `customer_funds`. Whether a payment is
//! stray is fixed in the transaction that captures it, so no later step can see it change.
//!
//! The read-to-commit window. `FULFILLED` decides from refunds read before its change commits;
//! a refund requested (and settled by the channel) in between would be paid from
//! `customer_funds` although revenue counted it. So the change carries, for every payment it
//! earns from, the number of refunds it read ([`refund_guards`]); the store refuses it if that
//! number moved, and the service decides again — now seeing the new refund in flight. The other
//! order of events needs nothing: a refund that succeeds while `FULFILLED` commits was read by
//! it (in flight: refused; terminal: it cannot succeed again) or created after the read (the
//! guard refuses) — unless it was created after `FULFILLED` committed, and then its webhook,
//! which comes after the refund is stored, reads the order as `FULFILLED` (paid from revenue).
//!
//! [`OrderService::fulfil`]: crate::orders::OrderService::fulfil

use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};

use crate::change::{Change, OrderStep, OutboxMessage, RefundCountGuard, ReservationEffect};
use crate::error::TxError;
use crate::ledger::{Account, Entry, Journal};
use crate::order::Order;
use crate::payment::{Payment, Refund};
use crate::status::{OrderStatus, PaymentStatus, RefundStatus, Status};
use crate::webhook::auto_refund_key;

/// The statuses a fulfilment request may ask for, in order.
pub const STEPS: [OrderStatus; 3] = [
    OrderStatus::Fulfilling,
    OrderStatus::Fulfilled,
    OrderStatus::Done,
];

/// The journal kind of recognised revenue.
pub const REVENUE_JOURNAL: &str = "order.fulfilled";

/// A payment of the order with its refunds: what the revenue is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub payment: Payment,
    pub refunds: Vec<Refund>,
}

impl Settlement {
    /// A capture the order did not want, refunded in full at once: never revenue.
    pub fn is_stray(&self) -> bool {
        let key = auto_refund_key(&self.payment.id);
        self.refunds.iter().any(|r| r.idempotency_key == key)
    }

    /// Whether `FULFILLED` earns from this payment: it succeeded and paid the order.
    pub fn earns(&self) -> bool {
        self.payment.status == PaymentStatus::Succeeded && !self.is_stray()
    }
}

/// What a fulfilment request comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fulfilment {
    /// The order is already in the asked status: nothing to write (a repeated request).
    Already,
    /// The step to apply: the transition, its outbox message and, for `FULFILLED`, the revenue.
    /// Boxed: a `Change` is large and `Already` is nothing.
    Step(Box<Change>),
}

/// Whether the order's revenue has been recognised (`FULFILLED` posted it).
pub fn revenue_recognised(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::Fulfilled | OrderStatus::Done)
}

/// The account a succeeded refund of a payment is paid from: `revenue` when the payment paid
/// the order (`paid_the_order`, i.e. not stray) and the order's revenue is recognised,
/// `customer_funds` otherwise.
pub fn refund_source(order: OrderStatus, paid_the_order: bool) -> Account {
    if paid_the_order && revenue_recognised(order) {
        Account::revenue()
    } else {
        Account::customer_funds()
    }
}

/// Decides moving `order` to `to`. `settlements` are the order's payments with their refunds;
/// only `FULFILLED` reads them. A status outside [`STEPS`] is an invalid `status`; a step the
/// table does not allow from where the order is is a transition error.
pub fn decide(
    order: &Order,
    to: OrderStatus,
    settlements: &[Settlement],
    at: DateTime<Utc>,
) -> Result<Fulfilment, TxError> {
    if !STEPS.contains(&to) {
        return Err(TxError::invalid(
            "status",
            format!("`{to}` is not a fulfilment step: use FULFILLING, FULFILLED or DONE"),
        ));
    }
    if order.status == to {
        return Ok(Fulfilment::Already);
    }
    let transition = order.status.to(to)?;
    let (journal, refund_counts) = if to == OrderStatus::Fulfilled {
        (
            revenue_journal(order, settlements, at)?,
            refund_guards(settlements),
        )
    } else {
        (None, Vec::new())
    };
    let message = OutboxMessage {
        topic: format!("order.{}", to.as_str().to_ascii_lowercase()),
        payload: serde_json::json!({"order_id": order.id, "status": to}),
    };
    Ok(Fulfilment::Step(Box::new(Change {
        order: Some(OrderStep {
            id: order.id.clone(),
            transition,
            reservation: ReservationEffect::Keep,
            risk: None,
            challenge_required: order.challenge_required,
            note: "fulfilment".into(),
        }),
        journal,
        refund_counts,
        outbox: vec![message],
        at,
        ..Change::default()
    })))
}

/// The `order.fulfilled` journal: Dr `customer_funds`, Cr `revenue`, for what the order's
/// succeeded, not stray payment captured less its succeeded refunds. `None` when nothing is
/// left to earn (refunded in full). A refund of it still `REQUESTED` or `PROCESSING` is
/// [`TxError::RefundInFlight`]; stray captures and their refunds do not count.
pub fn revenue_journal(
    order: &Order,
    settlements: &[Settlement],
    at: DateTime<Utc>,
) -> Result<Option<Journal>, TxError> {
    let currency = order.total.currency;
    let mut net = Money::zero(currency);
    for settled in settlements {
        if !settled.earns() {
            continue;
        }
        net = add(&net, &settled.payment.amount, "captured amount")?;
        for refund in &settled.refunds {
            match refund.status {
                RefundStatus::Succeeded => {
                    net = add(&net, &refund.amount.negated(), "refunded amount")?;
                }
                RefundStatus::Failed => {}
                RefundStatus::Requested | RefundStatus::Processing => {
                    return Err(TxError::RefundInFlight {
                        order: order.id.0.clone(),
                        refund: refund.id.0.clone(),
                    });
                }
            }
        }
    }
    if net.amount.is_zero() {
        return Ok(None);
    }
    if net.amount.is_sign_negative() {
        // The store never lets refunds exceed the capture; a ledger built on that would lie.
        return Err(TxError::InvalidJournal {
            kind: REVENUE_JOURNAL.into(),
            reason: format!("order `{}` refunded more than it captured", order.id),
        });
    }
    Journal::new(
        REVENUE_JOURNAL,
        order.id.as_str(),
        vec![
            Entry::debit(Account::customer_funds(), net),
            Entry::credit(Account::revenue(), net),
        ],
        at,
    )
    .map(Some)
}

/// The guards that keep `FULFILLED`'s revenue true until it commits: for every payment it earns
/// from, the number of refunds read. Stray payments need none: their refunds are always paid
/// from `customer_funds`, whatever the order's status.
pub fn refund_guards(settlements: &[Settlement]) -> Vec<RefundCountGuard> {
    settlements
        .iter()
        .filter(|s| s.earns())
        .map(|s| RefundCountGuard {
            payment_id: s.payment.id.clone(),
            count: u64::try_from(s.refunds.len()).unwrap_or(u64::MAX),
        })
        .collect()
}

fn add(sum: &Money, amount: &Money, what: &str) -> Result<Money, TxError> {
    if sum.currency != amount.currency {
        return Err(TxError::CurrencyMismatch {
            what: what.to_owned(),
            left: sum.currency.code().to_owned(),
            right: amount.currency.code().to_owned(),
        });
    }
    sum.checked_add(amount).ok_or_else(|| TxError::Overflow {
        what: what.to_owned(),
    })
}

#[cfg(test)]
#[path = "fulfilment_tests.rs"]
mod tests;
