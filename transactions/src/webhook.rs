//! What a channel's report does, decided without I/O: given what the channel says a payment
//! or refund became (a [`PaymentState`] or [`RefundState`], read from a notification or from
//! a query of any channel) and the stored payment (and its order, or the refund), the
//! [`Verdict`] and the [`Change`] to apply. The
//! ledger journals posted here are the capture (`payment.captured`) and the refund
//! (`refund.succeeded`, from `customer_funds` or, once the order's revenue is recognised, from
//! `revenue`: see [`crate::fulfilment`]); the crate README lists the accounts.

use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};

use crate::change::{
    AppliedEvent, Change, DueDone, OrderStep, OutboxMessage, PaymentStep, RefundStep,
    ReservationEffect,
};
use crate::channels::{PaymentState, RefundState};
use crate::due::ORDER_EXPIRY;
use crate::error::TxError;
use crate::ids::{ChannelRefundId, EventId, IdempotencyKey, PaymentId, RefundId};
use crate::ledger::{Account, Entry, Journal};
use crate::order::Order;
use crate::payment::{NewRefund, Payment, Refund, Verdict};
use crate::status::{OrderStatus, PaymentStatus, RefundStatus, Status};

/// A verdict, why, and the change to apply when the verdict is `Applied`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub verdict: Verdict,
    pub detail: Option<String>,
    pub change: Option<Change>,
}

impl Decided {
    pub(crate) fn no_change(verdict: Verdict, detail: impl Into<String>) -> Decided {
        Decided {
            verdict,
            detail: Some(detail.into()),
            change: None,
        }
    }
}

/// The capture journal: the channel owes us the amount, which we hold for the customer.
pub fn capture_journal(payment: &Payment, at: DateTime<Utc>) -> Result<Journal, TxError> {
    Journal::new(
        "payment.captured",
        payment.id.as_str(),
        vec![
            Entry::debit(Account::channel_clearing(&payment.channel), payment.amount),
            Entry::credit(Account::customer_funds(), payment.amount),
        ],
        at,
    )
}

/// The prefix of automatic refunds' keys, refused on client requests.
pub const AUTO_REFUND_PREFIX: &str = "auto-refund:";

/// The key of the full refund a stray capture gets at once (a payment that succeeded for an
/// order no longer awaiting payment): one per payment, stored with the capture that causes it.
pub fn auto_refund_key(payment: &PaymentId) -> IdempotencyKey {
    IdempotencyKey(format!("{AUTO_REFUND_PREFIX}{payment}"))
}

/// The refund journal: the money goes back out through the channel, from `from` — what we
/// held for the customer, or revenue for a return after fulfilment
/// ([`crate::fulfilment::refund_source`]).
pub fn refund_journal(
    refund: &Refund,
    channel: &str,
    from: &Account,
    at: DateTime<Utc>,
) -> Result<Journal, TxError> {
    Journal::new(
        "refund.succeeded",
        refund.id.as_str(),
        vec![
            Entry::debit(from.clone(), refund.amount),
            Entry::credit(Account::channel_clearing(channel), refund.amount),
        ],
        at,
    )
}

fn mismatch(reported: &Money, expected: &Money) -> Option<Decided> {
    (reported != expected).then(|| {
        Decided::no_change(
            Verdict::Mismatch,
            format!(
                "the channel says {} {}, expected {} {}",
                reported.amount,
                reported.currency.code(),
                expected.amount,
                expected.currency.code()
            ),
        )
    })
}

fn outbox(topic: &str, payload: serde_json::Value) -> OutboxMessage {
    OutboxMessage {
        topic: topic.to_owned(),
        payload,
    }
}

/// What the channel reported (`event_id`: its notification's id, or a query's) about
/// `payment` of `order`: paid, or closed unpaid. A payment still pending, or unknown to the
/// channel, moves nothing.
pub fn payment_event(
    event_id: &EventId,
    state: &PaymentState,
    payment: &Payment,
    order: &Order,
    at: DateTime<Utc>,
) -> Result<Decided, TxError> {
    let to = match state {
        PaymentState::Paid { amount, .. } => {
            if let Some(flagged) = mismatch(amount, &payment.amount) {
                return Ok(flagged);
            }
            PaymentStatus::Succeeded
        }
        PaymentState::Closed => PaymentStatus::Failed,
        PaymentState::Pending | PaymentState::Unknown => {
            return Ok(Decided::no_change(
                Verdict::Ignored,
                "the payment is still open at the channel",
            ));
        }
    };
    if payment.status == to {
        return Ok(Decided::no_change(
            Verdict::Duplicate,
            format!("payment already {to}"),
        ));
    }
    let Ok(transition) = payment.status.to(to) else {
        return Ok(Decided::no_change(
            Verdict::Ignored,
            format!("payment is {}, cannot become {to}", payment.status),
        ));
    };
    let mut change = Change {
        event: Some(AppliedEvent {
            channel: payment.channel.clone(),
            event_id: event_id.clone(),
        }),
        payment: Some(PaymentStep {
            id: payment.id.clone(),
            transition,
            note: format!("channel event `{event_id}`"),
        }),
        at,
        ..Change::default()
    };
    let ids = serde_json::json!({"order_id": order.id, "payment_id": payment.id});
    if to == PaymentStatus::Failed {
        change.outbox.push(outbox("payment.failed", ids));
    } else {
        change.journal = Some(capture_journal(payment, at)?);
        change.outbox.push(outbox("payment.succeeded", ids.clone()));
        match order.status {
            OrderStatus::PendingPayment => {
                change.order = Some(OrderStep {
                    id: order.id.clone(),
                    transition: order.status.to(OrderStatus::Paid)?,
                    reservation: ReservationEffect::Confirm,
                    risk: None,
                    challenge_required: order.challenge_required,
                    note: format!("payment `{}` succeeded", payment.id),
                });
                change.due_done = Some(DueDone {
                    kind: ORDER_EXPIRY.into(),
                    key: order.id.0.clone(),
                });
                change.outbox.push(outbox("order.paid", ids));
            }
            // Money arrived for an order that no longer wants it (cancelled, or paid by
            // another payment): keep the record straight and give it back in full.
            status => {
                if status == OrderStatus::Cancelled {
                    change.order = Some(OrderStep {
                        id: order.id.clone(),
                        transition: status.to(OrderStatus::CancelledAfterPay)?,
                        reservation: ReservationEffect::Keep,
                        risk: None,
                        challenge_required: order.challenge_required,
                        note: format!("payment `{}` succeeded after cancellation", payment.id),
                    });
                    change.outbox.push(outbox("order.cancelled_after_pay", ids));
                }
                let refund = NewRefund {
                    id: RefundId::generate(),
                    payment_id: payment.id.clone(),
                    idempotency_key: auto_refund_key(&payment.id),
                    body_hash: String::new(),
                    channel_refund_id: ChannelRefundId::generate(),
                    amount: payment.amount,
                    reason: format!("payment succeeded for a {status} order"),
                    created_at: at,
                };
                change.refund = Some(RefundStep {
                    id: refund.id.clone(),
                    transition: RefundStatus::Requested.to(RefundStatus::Processing)?,
                    note: "sent to channel".into(),
                });
                change.new_refund = Some(refund);
            }
        }
    }
    Ok(Decided {
        verdict: Verdict::Applied,
        detail: None,
        change: Some(change),
    })
}

/// What the channel reported about `refund` (of a payment through `channel`); a success is
/// paid from `from` ([`crate::fulfilment::refund_source`]).
pub fn refund_event(
    event_id: &EventId,
    state: &RefundState,
    refund: &Refund,
    channel: &str,
    from: &Account,
    at: DateTime<Utc>,
) -> Result<Decided, TxError> {
    let to = match state {
        RefundState::Succeeded { amount } => {
            if let Some(flagged) = mismatch(amount, &refund.amount) {
                return Ok(flagged);
            }
            RefundStatus::Succeeded
        }
        RefundState::Failed { .. } => RefundStatus::Failed,
        RefundState::Processing | RefundState::Unknown => {
            return Ok(Decided::no_change(
                Verdict::Ignored,
                "the refund is still open at the channel",
            ));
        }
    };
    if refund.status == to {
        return Ok(Decided::no_change(
            Verdict::Duplicate,
            format!("refund already {to}"),
        ));
    }
    let Ok(transition) = refund.status.to(to) else {
        return Ok(Decided::no_change(
            Verdict::Ignored,
            format!("refund is {}, cannot become {to}", refund.status),
        ));
    };
    let ids = serde_json::json!({"refund_id": refund.id, "payment_id": refund.payment_id});
    let succeeded = to == RefundStatus::Succeeded;
    let change = Change {
        event: Some(AppliedEvent {
            channel: channel.to_owned(),
            event_id: event_id.clone(),
        }),
        refund: Some(RefundStep {
            id: refund.id.clone(),
            transition,
            note: format!("channel event `{event_id}`"),
        }),
        journal: succeeded
            .then(|| refund_journal(refund, channel, from, at))
            .transpose()?,
        outbox: vec![outbox(
            if succeeded {
                "refund.succeeded"
            } else {
                "refund.failed"
            },
            ids,
        )],
        at,
        ..Change::default()
    };
    Ok(Decided {
        verdict: Verdict::Applied,
        detail: None,
        change: Some(change),
    })
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
