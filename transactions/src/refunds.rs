//! Refund requests (`POST /v1/refunds`) and reads, on the [`PaymentService`]: partial refunds
//! allowed, the sum of a payment's refunds never above its captured amount — the store checks
//! that under the payment row's lock, so it holds under concurrent requests too.

use arbiter_engine::Checkpoint;
use arbiter_engine::money::Money;
use sha2::{Digest, Sha256};

use crate::change::{Change, RefundStep};
use crate::error::TxError;
use crate::ids::{ChannelRefundId, IdempotencyKey, PaymentId, RefundId};
use crate::order::HistoryEntry;
use crate::payment::{NewRefund, Refund};
use crate::payments::PaymentService;
use crate::risk::{RiskAction, RiskRecord, RiskRequest};
use crate::status::{PaymentStatus, RefundStatus, Status};
use crate::webhook::AUTO_REFUND_PREFIX;

/// A refund with its history, as `GET /v1/refunds/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundView {
    pub refund: Refund,
    pub history: Vec<HistoryEntry>,
}

impl PaymentService {
    /// Requests a refund of `amount` of a succeeded payment: asks the risk host
    /// (`refund.request`), stores it `REQUESTED → PROCESSING` (sent to the channel; `FAILED`
    /// when rejected). More than what is left of the capture is
    /// [`TxError::RefundExceedsCaptured`] and stores nothing.
    pub async fn request_refund(
        &self,
        payment_id: &PaymentId,
        key: IdempotencyKey,
        amount: Money,
        reason: &str,
    ) -> Result<Refund, TxError> {
        if key.0.starts_with(AUTO_REFUND_PREFIX) {
            // Such a key marks a stray capture's automatic refund (never revenue): a client's
            // refund must not pass for one.
            return Err(TxError::invalid(
                "Idempotency-Key",
                format!("the `{AUTO_REFUND_PREFIX}` prefix is reserved for automatic refunds"),
            ));
        }
        match amount.checked_minor_units() {
            Some(minor) if minor > 0 => {}
            _ => {
                return Err(TxError::invalid(
                    "amount",
                    "must be positive, in minor units",
                ));
            }
        }
        let body_hash = hex::encode(Sha256::digest(format!(
            "{payment_id}\n{}\n{}\n{reason}",
            amount.amount.normalize(),
            amount.currency.code()
        )));
        if let Some(existing) = self.store.refund_by_key(&key).await? {
            return same_refund(existing, &body_hash, &key);
        }
        let payment = self.load(payment_id).await?;
        if payment.status != PaymentStatus::Succeeded {
            return Err(TxError::invalid(
                "payment_id",
                format!("payment `{payment_id}` is {}, not captured", payment.status),
            ));
        }
        if amount.currency != payment.amount.currency {
            return Err(TxError::CurrencyMismatch {
                what: "refund".into(),
                left: payment.amount.currency.code().into(),
                right: amount.currency.code().into(),
            });
        }
        let order = self.store.order(&payment.order_id).await?;
        let id = RefundId::generate();
        let request = RiskRequest {
            checkpoint: Checkpoint::RefundRequest,
            request_id: format!("{id}:{}", Checkpoint::RefundRequest.as_str()),
            amount,
            user_id: order
                .as_ref()
                .map(|o| o.request.user.clone())
                .unwrap_or_default(),
            device_id: order.as_ref().and_then(|o| o.request.device.clone()),
            ip: order.as_ref().and_then(|o| o.request.ip.clone()),
            shipping_address: None,
            shipping_country: None,
            payment_method: Some(payment.channel.clone()),
        };
        // Refused before anything is stored, never decided by the fail mode.
        self.risk.check(&request).map_err(|e| e.refusal(true))?;
        let risk =
            RiskRecord::resolve(self.risk.assess(&request).await, self.config.risk_fail_mode);
        let (to, note) = if risk.action == RiskAction::Reject {
            (RefundStatus::Failed, "rejected by risk")
        } else {
            (RefundStatus::Processing, "sent to channel")
        };
        let refund = NewRefund {
            id: id.clone(),
            payment_id: payment.id.clone(),
            idempotency_key: key.clone(),
            body_hash: body_hash.clone(),
            channel_refund_id: ChannelRefundId::generate(),
            amount,
            reason: reason.to_owned(),
            created_at: self.clock.now(),
        };
        let change = Change {
            refund: Some(RefundStep {
                id: id.clone(),
                transition: RefundStatus::Requested.to(to)?,
                note: note.into(),
            }),
            new_refund: Some(refund),
            at: self.clock.now(),
            ..Change::default()
        };
        match self.store.apply(&change).await {
            Ok(()) => self.load_refund(&id).await,
            // A concurrent request with the same key stored first.
            Err(TxError::IdempotencyConflict { .. }) => match self.store.refund_by_key(&key).await?
            {
                Some(existing) => same_refund(existing, &body_hash, &key),
                None => Err(TxError::IdempotencyConflict { key: key.0 }),
            },
            Err(e) => Err(e),
        }
    }

    /// The refund and its history.
    pub async fn get_refund(&self, id: &RefundId) -> Result<RefundView, TxError> {
        let refund = self.load_refund(id).await?;
        let history = self
            .store
            .history(RefundStatus::ENTITY, id.as_str())
            .await?;
        Ok(RefundView { refund, history })
    }

    async fn load_refund(&self, id: &RefundId) -> Result<Refund, TxError> {
        self.store
            .refund(id)
            .await?
            .ok_or_else(|| TxError::NotFound {
                entity: "refund",
                id: id.0.clone(),
            })
    }
}

fn same_refund(existing: Refund, body_hash: &str, key: &IdempotencyKey) -> Result<Refund, TxError> {
    if existing.body_hash == body_hash {
        Ok(existing)
    } else {
        Err(TxError::IdempotencyConflict { key: key.0.clone() })
    }
}
