//! The steps of a [`Change`](arbiter_transactions::change::Change) that are SQLite's own
//! (`sql/changes.rs` applies the rest): a status compare-and-set is an UPDATE followed by its
//! history row — SQLite has no data-modifying CTEs to make it one statement, and on its single
//! in-process writer a statement costs no network round trip — and the payment lock a
//! refund-count check takes is the writer's lock it already holds.

use arbiter_transactions::TxError;
use arbiter_transactions::change::{OrderStep, OutboxMessage};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::columns::to_json;
use crate::dialect::Dialect;
use crate::sql::StatusMove;
use crate::transaction_rows::db;

impl SqliteStore {
    /// Moves the order (with its risk outcome), its history row and the change's outbox rows;
    /// `None` when its status was no longer `from`, else its reservation id.
    pub(crate) async fn move_order(
        conn: &mut SqliteConnection,
        step: &OrderStep,
        status: &StatusMove<'_>,
        outbox: &[OutboxMessage],
    ) -> Result<Option<String>, TxError> {
        let risk = step.risk.as_ref();
        let reservation: Option<String> = sqlx::query_scalar(
            "UPDATE orders SET status = $1, updated_at = $2, challenge_required = $3, \
             risk_action = COALESCE($4, risk_action), \
             risk_decision_id = CASE WHEN $4 IS NULL THEN risk_decision_id ELSE $5 END, \
             risk_fault = CASE WHEN $4 IS NULL THEN risk_fault ELSE $6 END, \
             risk_fail_mode = CASE WHEN $4 IS NULL THEN risk_fail_mode ELSE $7 END \
             WHERE id = $8 AND status = $9 RETURNING reservation_id",
        )
        .bind(status.to)
        .bind(SqliteStore::time(status.at))
        .bind(step.challenge_required)
        .bind(risk.map(|r| r.action.as_str()))
        .bind(risk.and_then(|r| r.decision_id.as_deref()))
        .bind(risk.and_then(|r| r.fault.as_deref()))
        .bind(risk.and_then(|r| r.fail_mode.map(|m| m.as_str())))
        .bind(status.id)
        .bind(status.from)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        if reservation.is_some() {
            history_of(conn, status).await?;
            SqliteStore::insert_outbox(conn, outbox, status.at).await?;
        }
        Ok(reservation)
    }

    /// Compare-and-sets a status, with its history row; `false` when it was no longer `from`.
    pub(crate) async fn set_status(
        conn: &mut SqliteConnection,
        status: &StatusMove<'_>,
    ) -> Result<bool, TxError> {
        let sql = format!(
            "UPDATE {} SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
            status.table
        );
        let updated = sqlx::query(&sql)
            .bind(status.to)
            .bind(SqliteStore::time(status.at))
            .bind(status.id)
            .bind(status.from)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        history_of(conn, status).await?;
        Ok(true)
    }

    /// Inserts the change's outbox rows in order; on the single writer, id order is commit
    /// order (`outbox.rs`).
    pub(crate) async fn insert_outbox(
        conn: &mut SqliteConnection,
        messages: &[OutboxMessage],
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        for message in messages {
            sqlx::query("INSERT INTO outbox (topic, payload, created_at) VALUES ($1, $2, $3)")
                .bind(&message.topic)
                .bind(to_json(&message.payload, "outbox payload")?)
                .bind(SqliteStore::time(at))
                .execute(&mut *conn)
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    /// Nothing to lock: the change already runs in the single writer's `BEGIN IMMEDIATE`
    /// transaction, and refunds are inserted only by changes on that writer
    /// (`insert_refund_in`), so none can appear before the batch commits.
    pub(crate) async fn lock_payment(
        _conn: &mut SqliteConnection,
        _payment_id: &str,
    ) -> Result<(), TxError> {
        Ok(())
    }
}

/// The history row of a status move that held.
async fn history_of(conn: &mut SqliteConnection, status: &StatusMove<'_>) -> Result<(), TxError> {
    SqliteStore::insert_history(
        conn,
        status.entity,
        status.id,
        Some(status.from),
        status.to,
        status.note,
        status.at,
    )
    .await
}
