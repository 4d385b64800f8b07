//! Row types of the `payments` and `refunds` tables, shared by both backends (generic over the
//! timestamp column type).

use arbiter_engine::store::StoreError;
use arbiter_transactions::TxError;
use arbiter_transactions::change::RefundCountGuard;
use arbiter_transactions::ids::{
    ChannelPaymentId, ChannelRefundId, IdempotencyKey, OrderId, PaymentId, RefundId,
};
use arbiter_transactions::payment::{NewRefund, Payment, Refund};
use arbiter_transactions::status::{PaymentStatus, RefundStatus, Status};

use crate::rows::StoredTime;
use crate::transaction_rows::{corrupt, minor, money, risk_record};

/// The columns of a [`PaymentRow`].
pub(crate) const PAYMENT_COLUMNS: &str = "id, order_id, idempotency_key, body_hash, channel, \
    channel_payment_id, status, amount_minor, currency, risk_action, risk_decision_id, \
    risk_fault, risk_fail_mode, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct PaymentRow<T> {
    id: String,
    order_id: String,
    idempotency_key: String,
    body_hash: String,
    channel: String,
    channel_payment_id: String,
    status: String,
    amount_minor: i64,
    currency: String,
    risk_action: Option<String>,
    risk_decision_id: Option<String>,
    risk_fault: Option<String>,
    risk_fail_mode: Option<String>,
    created_at: T,
    updated_at: T,
}

impl<T: StoredTime> PaymentRow<T> {
    pub fn into_payment(self) -> Result<Payment, StoreError> {
        Ok(Payment {
            status: PaymentStatus::parse(&self.status)
                .ok_or_else(|| corrupt("payment status", &self.status))?,
            amount: money(self.amount_minor, &self.currency)?,
            risk: risk_record(
                self.risk_action,
                self.risk_decision_id,
                self.risk_fault,
                self.risk_fail_mode,
            )?,
            id: PaymentId(self.id),
            order_id: OrderId(self.order_id),
            idempotency_key: IdempotencyKey(self.idempotency_key),
            body_hash: self.body_hash,
            channel: self.channel,
            channel_payment_id: ChannelPaymentId(self.channel_payment_id),
            created_at: self.created_at.into_utc()?,
            updated_at: self.updated_at.into_utc()?,
        })
    }
}

/// The columns of a [`RefundRow`].
pub(crate) const REFUND_COLUMNS: &str = "id, payment_id, idempotency_key, body_hash, \
    channel_refund_id, status, amount_minor, currency, reason, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RefundRow<T> {
    id: String,
    payment_id: String,
    idempotency_key: String,
    body_hash: String,
    channel_refund_id: String,
    status: String,
    amount_minor: i64,
    currency: String,
    reason: String,
    created_at: T,
    updated_at: T,
}

impl<T: StoredTime> RefundRow<T> {
    pub fn into_refund(self) -> Result<Refund, StoreError> {
        Ok(Refund {
            status: RefundStatus::parse(&self.status)
                .ok_or_else(|| corrupt("refund status", &self.status))?,
            amount: money(self.amount_minor, &self.currency)?,
            id: RefundId(self.id),
            payment_id: PaymentId(self.payment_id),
            idempotency_key: IdempotencyKey(self.idempotency_key),
            body_hash: self.body_hash,
            channel_refund_id: ChannelRefundId(self.channel_refund_id),
            reason: self.reason,
            created_at: self.created_at.into_utc()?,
            updated_at: self.updated_at.into_utc()?,
        })
    }
}

/// Refuses a refund of a payment that is not captured (`status`), or one that with the
/// `refunded` minor units already claimed would exceed the `captured` amount.
pub(crate) fn check_refund(
    refund: &NewRefund,
    status: &str,
    captured: i64,
    currency: &str,
    refunded: i64,
) -> Result<(), TxError> {
    if status != PaymentStatus::Succeeded.as_str() {
        return Err(TxError::invalid(
            "payment_id",
            format!("payment is {status}, not captured"),
        ));
    }
    let wanted = minor(&refund.amount, "refund amount")?;
    if refund.amount.currency.code() != currency || refunded.saturating_add(wanted) > captured {
        let remaining = money(captured - refunded, currency)?;
        return Err(TxError::RefundExceedsCaptured {
            requested: format!("{} {}", refund.amount.amount, refund.amount.currency.code()),
            remaining: format!("{} {}", remaining.amount, remaining.currency.code()),
        });
    }
    Ok(())
}

/// Refuses a change whose guarded payment no longer has the `count` refunds it was decided
/// from (`RefundsChanged`).
pub(crate) fn refund_count_held(guard: &RefundCountGuard, count: i64) -> Result<(), TxError> {
    let actual = u64::try_from(count).unwrap_or_default();
    if actual != guard.count {
        return Err(TxError::RefundsChanged {
            payment: guard.payment_id.0.clone(),
            expected: guard.count,
            actual,
        });
    }
    Ok(())
}
