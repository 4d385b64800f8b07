//! The steps of a [`Change`](arbiter_transactions::change::Change) that are PostgreSQL's own
//! (`sql/changes.rs` applies the rest): a status compare-and-set with its history row (and,
//! for the order, the change's outbox rows) is one data-modifying statement, one round trip of
//! the writer's batch instead of three; and a refund-count check locks the payment row.

use arbiter_transactions::TxError;
use arbiter_transactions::change::{OrderStep, OutboxMessage};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::PgStore;
use crate::columns::to_json;
use crate::dialect::Dialect;
use crate::sql::StatusMove;
use crate::transaction_rows::db;

/// The outbox rows' topics and JSON payloads, as the array columns `unnest` reads, in order.
fn outbox_columns(messages: &[OutboxMessage]) -> Result<(Vec<&str>, Vec<String>), TxError> {
    let mut topics = Vec::with_capacity(messages.len());
    let mut payloads = Vec::with_capacity(messages.len());
    for message in messages {
        topics.push(message.topic.as_str());
        payloads.push(to_json(&message.payload, "outbox payload")?);
    }
    Ok((topics, payloads))
}

impl PgStore {
    /// Moves the order (with its risk outcome), its history row and the change's outbox rows
    /// in one statement (one round trip of the writer's batch); `None` when its status was no
    /// longer `from`, else its reservation id. Outbox rows are inserted in the change's order,
    /// so their ids are too.
    pub(crate) async fn move_order(
        conn: &mut PgConnection,
        step: &OrderStep,
        status: &StatusMove<'_>,
        outbox: &[OutboxMessage],
    ) -> Result<Option<String>, TxError> {
        let risk = step.risk.as_ref();
        let (topics, payloads) = outbox_columns(outbox)?;
        sqlx::query_scalar(
            "WITH moved AS ( \
                 UPDATE orders SET status = $1, updated_at = $2, challenge_required = $3, \
                 risk_action = COALESCE($4, risk_action), \
                 risk_decision_id = CASE WHEN $4 IS NULL THEN risk_decision_id ELSE $5 END, \
                 risk_fault = CASE WHEN $4 IS NULL THEN risk_fault ELSE $6 END, \
                 risk_fail_mode = CASE WHEN $4 IS NULL THEN risk_fail_mode ELSE $7 END \
                 WHERE id = $8 AND status = $9 \
                 RETURNING id, reservation_id \
             ), history AS ( \
                 INSERT INTO status_history (entity, entity_id, from_status, to_status, note, at) \
                 SELECT $10, id, $9, $1, $11, $2 FROM moved \
             ), outbox AS ( \
                 INSERT INTO outbox (topic, payload, created_at) \
                 SELECT m.topic, m.payload, $2 \
                 FROM unnest($12::text[], $13::text[]) WITH ORDINALITY AS m (topic, payload, n) \
                 WHERE EXISTS (SELECT 1 FROM moved) \
                 ORDER BY m.n \
             ) \
             SELECT reservation_id FROM moved",
        )
        .bind(status.to)
        .bind(PgStore::time(status.at))
        .bind(step.challenge_required)
        .bind(risk.map(|r| r.action.as_str()))
        .bind(risk.and_then(|r| r.decision_id.as_deref()))
        .bind(risk.and_then(|r| r.fault.as_deref()))
        .bind(risk.and_then(|r| r.fail_mode.map(|m| m.as_str())))
        .bind(status.id)
        .bind(status.from)
        .bind(status.entity)
        .bind(status.note)
        .bind(topics)
        .bind(payloads)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)
    }

    /// Compare-and-sets a status with its history row in one statement (one round trip);
    /// `false` when it was no longer `from`.
    pub(crate) async fn set_status(
        conn: &mut PgConnection,
        status: &StatusMove<'_>,
    ) -> Result<bool, TxError> {
        let sql = format!(
            "WITH moved AS ( \
                 UPDATE {} SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 \
                 RETURNING id \
             ), history AS ( \
                 INSERT INTO status_history (entity, entity_id, from_status, to_status, note, at) \
                 SELECT $5, id, $4, $1, $6, $2 FROM moved \
             ) \
             SELECT count(*) FROM moved",
            status.table
        );
        let moved: i64 = sqlx::query_scalar(&sql)
            .bind(status.to)
            .bind(PgStore::time(status.at))
            .bind(status.id)
            .bind(status.from)
            .bind(status.entity)
            .bind(status.note)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
        Ok(moved > 0)
    }

    /// Inserts the change's outbox rows in one statement, in order.
    pub(crate) async fn insert_outbox(
        conn: &mut PgConnection,
        messages: &[OutboxMessage],
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        if messages.is_empty() {
            return Ok(());
        }
        let (topics, payloads) = outbox_columns(messages)?;
        sqlx::query(
            "INSERT INTO outbox (topic, payload, created_at) \
             SELECT m.topic, m.payload, $3 \
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS m (topic, payload, n) \
             ORDER BY m.n",
        )
        .bind(topics)
        .bind(payloads)
        .bind(PgStore::time(at))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// Locks the payment row a refund-count check reads under.
    pub(crate) async fn lock_payment(
        conn: &mut PgConnection,
        payment_id: &str,
    ) -> Result<(), TxError> {
        // INVARIANT: a refund is inserted only under its payment row's lock (`insert_refund_in`);
        // taking that lock first makes the count and a refund's creation take turns, and the count
        // (a fresh READ COMMITTED snapshot after the lock is granted) sees every refund committed
        // before it. Held to commit, the lock keeps new refunds out until revenue is posted.
        sqlx::query("SELECT id FROM payments WHERE id = $1 FOR UPDATE")
            .bind(payment_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        Ok(())
    }
}
