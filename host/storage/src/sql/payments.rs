//! Payments, refunds and the callback log, written once for both backends. Refund creation
//! checks the captured amount inside the caller's write transaction, with the payment row
//! locked where the database has row locks (see `insert_refund_in`).

use arbiter_engine::audit::Actor;
use arbiter_transactions::TxError;
use arbiter_transactions::channels::routing::ChannelRoute;
use arbiter_transactions::channels::{ClientAction, Created};
use arbiter_transactions::ids::{
    ChannelPaymentId, ChannelRefundId, IdempotencyKey, OrderId, PaymentId, RefundId,
};
use arbiter_transactions::payment::{
    CallbackRecord, NewPayment, NewRefund, Payment, PaymentCreate, Refund,
};
use arbiter_transactions::status::{PaymentStatus, RefundStatus, Status};
use arbiter_transactions::store::PaymentStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::payment_rows::{PAYMENT_COLUMNS, PaymentRow, REFUND_COLUMNS, RefundRow, check_refund};
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::{db, minor};

fn corrupt_action(kind: &str) -> TxError {
    TxError::Store(arbiter_engine::store::StoreError::Corrupt(format!(
        "payment client action kind `{kind}`"
    )))
}

/// `$conn`: the backend's connection type; `$for_update`: how a read locks the payment row
/// it reads (PostgreSQL), which SQLite's single writer does not need.
macro_rules! payment_store {
    ($store:ty, conn: $conn:ty, for_update: $for_update:literal) => {
        #[async_trait]
        impl PaymentStore for $store {
            async fn create_payment(&self, payment: &NewPayment) -> Result<PaymentCreate, TxError> {
                let risk = payment.risk.as_ref();
                let mut tx = self.begin_write().await?;
                // INVARIANT: one payment per idempotency key: the UNIQUE index refuses a second row
                // and `DO NOTHING` turns that into "answer with the first".
                let inserted = sqlx::query(
                    "INSERT INTO payments (id, order_id, idempotency_key, body_hash, channel, \
                     channel_payment_id, status, amount_minor, currency, risk_action, \
                     risk_decision_id, \
                     risk_fault, risk_fail_mode, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) \
                     ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(payment.id.as_str())
                .bind(payment.order_id.as_str())
                .bind(payment.idempotency_key.as_str())
                .bind(&payment.body_hash)
                .bind(&payment.channel)
                .bind(payment.channel_payment_id.as_str())
                .bind(PaymentStatus::Init.as_str())
                .bind(minor(&payment.amount, "payment amount")?)
                .bind(payment.amount.currency.code())
                .bind(risk.map(|r| r.action.as_str()))
                .bind(risk.and_then(|r| r.decision_id.as_deref()))
                .bind(risk.and_then(|r| r.fault.as_deref()))
                .bind(risk.and_then(|r| r.fail_mode.map(|m| m.as_str())))
                .bind(<$store>::time(payment.created_at))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                if inserted.rows_affected() == 1 {
                    <$store>::insert_history(
                        &mut tx,
                        PaymentStatus::ENTITY,
                        payment.id.as_str(),
                        None,
                        PaymentStatus::Init.as_str(),
                        "created",
                        payment.created_at,
                    )
                    .await?;
                }
                let stored = <$store>::payment_where(
                    &mut tx,
                    "idempotency_key",
                    payment.idempotency_key.as_str(),
                )
                .await?
                .ok_or_else(|| TxError::NotFound {
                    entity: "payment",
                    id: payment.id.0.clone(),
                })?;
                tx.commit().await.map_err(db)?;
                Ok(if inserted.rows_affected() == 1 {
                    PaymentCreate::Created(stored)
                } else {
                    PaymentCreate::Existing(stored)
                })
            }

            async fn payment(&self, id: &PaymentId) -> Result<Option<Payment>, TxError> {
                let mut conn = self.reader().acquire().await.map_err(db)?;
                <$store>::payment_where(&mut conn, "id", id.as_str()).await
            }

            async fn payment_by_key(
                &self,
                key: &IdempotencyKey,
            ) -> Result<Option<Payment>, TxError> {
                let mut conn = self.reader().acquire().await.map_err(db)?;
                <$store>::payment_where(&mut conn, "idempotency_key", key.as_str()).await
            }

            async fn payments_of(&self, order: &OrderId) -> Result<Vec<Payment>, TxError> {
                let sql = format!(
                    "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 ORDER BY \
                     created_at, id"
                );
                let rows: Vec<PaymentRow<<$store as Dialect>::Time>> = sqlx::query_as(&sql)
                    .bind(order.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(db)?;
                Ok(rows
                    .into_iter()
                    .map(PaymentRow::into_payment)
                    .collect::<Result<_, _>>()?)
            }

            async fn payment_by_channel_id(
                &self,
                id: &ChannelPaymentId,
            ) -> Result<Option<Payment>, TxError> {
                let mut conn = self.reader().acquire().await.map_err(db)?;
                <$store>::payment_where(&mut conn, "channel_payment_id", id.as_str()).await
            }

            async fn refund(&self, id: &RefundId) -> Result<Option<Refund>, TxError> {
                self.refund_where("id", id.as_str()).await
            }

            async fn refund_by_key(&self, key: &IdempotencyKey) -> Result<Option<Refund>, TxError> {
                self.refund_where("idempotency_key", key.as_str()).await
            }

            async fn refund_by_channel_id(
                &self,
                id: &ChannelRefundId,
            ) -> Result<Option<Refund>, TxError> {
                self.refund_where("channel_refund_id", id.as_str()).await
            }

            async fn refunds_of(&self, payment: &PaymentId) -> Result<Vec<Refund>, TxError> {
                let sql = format!(
                    "SELECT {REFUND_COLUMNS} FROM refunds WHERE payment_id = $1 ORDER BY id"
                );
                let rows: Vec<RefundRow<<$store as Dialect>::Time>> = sqlx::query_as(&sql)
                    .bind(payment.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(db)?;
                Ok(rows
                    .into_iter()
                    .map(RefundRow::into_refund)
                    .collect::<Result<_, _>>()?)
            }

            async fn record_callback(&self, callback: &CallbackRecord) -> Result<(), TxError> {
                sqlx::query(
                    "INSERT INTO channel_callbacks (channel, event_id, raw, verdict, detail, \
                     received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&callback.channel)
                .bind(callback.event_id.as_ref().map(|e| e.as_str()))
                .bind(&callback.raw)
                .bind(callback.verdict.as_str())
                .bind(callback.detail.as_deref())
                .bind(<$store>::time(callback.received_at))
                .execute(self.writer())
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn channel_routes(&self) -> Result<Vec<ChannelRoute>, TxError> {
                self.read_channel_routes().await
            }

            async fn switch_channel(
                &self,
                name: &str,
                enabled: bool,
                reason: &str,
                actor: &Actor,
            ) -> Result<Option<ChannelRoute>, TxError> {
                self.write_channel_switch(name, enabled, reason, actor).await
            }

            async fn save_channel_created(
                &self,
                payment: &PaymentId,
                created: &Created,
                at: DateTime<Utc>,
            ) -> Result<(), TxError> {
                // INVARIANT: one answer per payment, the first: the primary key refuses a
                // second and `DO NOTHING` keeps the first.
                sqlx::query(
                    "INSERT INTO payment_client_actions \
                     (payment_id, kind, value, channel_reference, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (payment_id) DO NOTHING",
                )
                .bind(payment.as_str())
                .bind(created.action.kind())
                .bind(created.action.value())
                .bind(created.reference.as_deref())
                .bind(<$store>::time(at))
                .execute(self.writer())
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn channel_created(
                &self,
                payment: &PaymentId,
            ) -> Result<Option<Created>, TxError> {
                let row: Option<(String, String, Option<String>)> = sqlx::query_as(
                    "SELECT kind, value, channel_reference FROM payment_client_actions \
                     WHERE payment_id = $1",
                )
                .bind(payment.as_str())
                .fetch_optional(self.reader())
                .await
                .map_err(db)?;
                row.map(|(kind, value, reference)| {
                    let action = ClientAction::from_stored(&kind, value)
                        .ok_or_else(|| corrupt_action(&kind))?;
                    Ok(Created { action, reference })
                })
                .transpose()
            }

            async fn processing_refunds(
                &self,
                channel: &str,
                before: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<Refund>, TxError> {
                let rows: Vec<RefundRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "SELECT {REFUND_COLUMNS} FROM refunds \
                     WHERE status = 'PROCESSING' AND updated_at < $1 \
                     AND payment_id IN (SELECT id FROM payments WHERE channel = $2) \
                     ORDER BY updated_at LIMIT $3"
                ))
                .bind(<$store>::time(before))
                .bind(channel)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                rows.into_iter()
                    .map(|row| row.into_refund().map_err(TxError::from))
                    .collect()
            }

            async fn processing_payments(
                &self,
                channel: &str,
                before: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<Payment>, TxError> {
                let rows: Vec<PaymentRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "SELECT {PAYMENT_COLUMNS} FROM payments \
                     WHERE status = 'PROCESSING' AND updated_at < $1 AND channel = $2 \
                     ORDER BY updated_at LIMIT $3"
                ))
                .bind(<$store>::time(before))
                .bind(channel)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                rows.into_iter()
                    .map(|row| row.into_payment().map_err(TxError::from))
                    .collect()
            }
        }

        impl $store {
            /// The refund whose `column` (a fixed name, never user input) equals `value`.
            async fn refund_where(
                &self,
                column: &'static str,
                value: &str,
            ) -> Result<Option<Refund>, TxError> {
                let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE {column} = $1");
                let row: Option<RefundRow<<$store as Dialect>::Time>> = sqlx::query_as(&sql)
                    .bind(value)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db)?;
                Ok(row.map(RefundRow::into_refund).transpose()?)
            }

            /// The payment whose `column` (a fixed name, never user input) equals `value`.
            async fn payment_where(
                conn: &mut $conn,
                column: &'static str,
                value: &str,
            ) -> Result<Option<Payment>, TxError> {
                let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE {column} = $1");
                let row: Option<PaymentRow<<$store as Dialect>::Time>> = sqlx::query_as(&sql)
                    .bind(value)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
                Ok(row.map(PaymentRow::into_payment).transpose()?)
            }

            /// Stores `refund` in `REQUESTED` inside the caller's write transaction, unless it and
            /// the payment's other refunds (all but failed ones) would exceed the captured amount.
            pub(crate) async fn insert_refund_in(
                conn: &mut $conn,
                refund: &NewRefund,
                at: DateTime<Utc>,
            ) -> Result<(), TxError> {
                // INVARIANT: refunds never exceed the capture. On SQLite the payment read, the sum
                // and the insert run in the single writer's `BEGIN IMMEDIATE` transaction: no other
                // refund of this payment is inserted in between. On PostgreSQL `$for_update` on the
                // payment row makes concurrent refunds of one payment take turns; each sums the
                // refunds after the previous one committed (READ COMMITTED takes a fresh snapshot
                // per statement) and inserts before releasing the lock at commit.
                let payment: Option<(String, i64, String)> = sqlx::query_as(concat!(
                    "SELECT status, amount_minor, currency FROM payments WHERE id = $1",
                    $for_update
                ))
                .bind(refund.payment_id.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
                let Some((status, captured, currency)) = payment else {
                    return Err(TxError::NotFound {
                        entity: "payment",
                        id: refund.payment_id.0.clone(),
                    });
                };
                let refunded: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds \
                     WHERE payment_id = $1 AND status <> 'FAILED'",
                )
                .bind(refund.payment_id.as_str())
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
                check_refund(refund, &status, captured, &currency, refunded)?;
                <$store>::insert_refund_row(conn, refund, at).await
            }

            async fn insert_refund_row(
                conn: &mut $conn,
                refund: &NewRefund,
                at: DateTime<Utc>,
            ) -> Result<(), TxError> {
                let inserted = sqlx::query(
                    "INSERT INTO refunds (id, payment_id, idempotency_key, body_hash, \
                     channel_refund_id, \
                     status, amount_minor, currency, reason, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
                     ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(refund.id.as_str())
                .bind(refund.payment_id.as_str())
                .bind(refund.idempotency_key.as_str())
                .bind(&refund.body_hash)
                .bind(refund.channel_refund_id.as_str())
                .bind(RefundStatus::Requested.as_str())
                .bind(minor(&refund.amount, "refund amount")?)
                .bind(refund.amount.currency.code())
                .bind(&refund.reason)
                .bind(<$store>::time(refund.created_at))
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                if inserted.rows_affected() == 0 {
                    return Err(TxError::IdempotencyConflict {
                        key: refund.idempotency_key.0.clone(),
                    });
                }
                <$store>::insert_history(
                    conn,
                    RefundStatus::ENTITY,
                    refund.id.as_str(),
                    None,
                    RefundStatus::Requested.as_str(),
                    &refund.reason,
                    at,
                )
                .await
            }
        }
    };
}

payment_store!(SqliteStore, conn: sqlx::SqliteConnection, for_update: "");
payment_store!(PgStore, conn: sqlx::PgConnection, for_update: " FOR UPDATE");
