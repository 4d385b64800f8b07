//! The steps of a [`Change`](arbiter_transactions::change::Change) that are SQLite's own
//! (`sql/changes.rs` applies the rest): a status compare-and-set is an UPDATE followed by its
//! history row — SQLite has no data-modifying CTEs to make it one statement, and on its single
//! in-process writer a statement costs no network round trip — and the payment lock a
//! refund-count check takes is the writer's lock it already holds.

use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::ReservationStatus;
use arbiter_transactions::change::{OrderStep, OutboxMessage, ReservationEffect};
use arbiter_transactions::status::{OrderStatus, Status};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::columns::to_json;
use crate::dialect::Dialect;
use crate::transaction_rows::{db, moved};

impl SqliteStore {
    /// Moves the order, with its history row and the change's outbox rows, and applies the
    /// stock effect.
    pub(crate) async fn apply_order(
        conn: &mut SqliteConnection,
        step: &OrderStep,
        outbox: &[OutboxMessage],
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let (from, to) = (step.transition.from(), step.transition.to());
        let risk = step.risk.as_ref();
        let updated = sqlx::query(
            "UPDATE orders SET status = $1, updated_at = $2, challenge_required = $3, \
             risk_action = COALESCE($4, risk_action), \
             risk_decision_id = CASE WHEN $4 IS NULL THEN risk_decision_id ELSE $5 END, \
             risk_fault = CASE WHEN $4 IS NULL THEN risk_fault ELSE $6 END, \
             risk_fail_mode = CASE WHEN $4 IS NULL THEN risk_fail_mode ELSE $7 END \
             WHERE id = $8 AND status = $9",
        )
        .bind(to.as_str())
        .bind(SqliteStore::time(at))
        .bind(step.challenge_required)
        .bind(risk.map(|r| r.action.as_str()))
        .bind(risk.and_then(|r| r.decision_id.as_deref()))
        .bind(risk.and_then(|r| r.fault.as_deref()))
        .bind(risk.and_then(|r| r.fail_mode.map(|m| m.as_str())))
        .bind(step.id.as_str())
        .bind(from.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        if updated.rows_affected() == 0 {
            let actual: Option<String> =
                sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
                    .bind(step.id.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
            return Err(moved(
                OrderStatus::ENTITY,
                step.id.as_str(),
                from.as_str(),
                actual,
            ));
        }
        SqliteStore::insert_history(
            conn,
            OrderStatus::ENTITY,
            step.id.as_str(),
            Some(from.as_str()),
            to.as_str(),
            &step.note,
            at,
        )
        .await?;
        SqliteStore::insert_outbox(conn, outbox, at).await?;
        let finish = match step.reservation {
            ReservationEffect::Keep => return Ok(()),
            ReservationEffect::Confirm => ReservationStatus::Confirmed,
            ReservationEffect::Release => ReservationStatus::Released,
        };
        let reservation: String =
            sqlx::query_scalar("SELECT reservation_id FROM orders WHERE id = $1")
                .bind(step.id.as_str())
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
        SqliteStore::finish_in(conn, &reservation.as_str().into(), finish, at).await
    }

    /// Compare-and-sets the status of row `id` of `table` (a fixed name, never user input) from
    /// `from` to `to`, with its history row.
    #[expect(
        clippy::too_many_arguments,
        reason = "one column per argument of the history row"
    )]
    pub(crate) async fn move_status(
        conn: &mut SqliteConnection,
        table: &'static str,
        entity: &'static str,
        id: &str,
        from: &str,
        to: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let sql = format!(
            "UPDATE {table} SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4"
        );
        let updated = sqlx::query(&sql)
            .bind(to)
            .bind(SqliteStore::time(at))
            .bind(id)
            .bind(from)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        if updated.rows_affected() == 0 {
            let sql = format!("SELECT status FROM {table} WHERE id = $1");
            let actual: Option<String> = sqlx::query_scalar(&sql)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
            return Err(moved(entity, id, from, actual));
        }
        SqliteStore::insert_history(conn, entity, id, Some(from), to, note, at).await
    }

    /// Inserts the change's outbox rows in order; on the single writer, id order is commit order
    /// (`outbox.rs`).
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
