//! The steps of a [`Change`](arbiter_transactions::change::Change) that are PostgreSQL's own
//! (`sql/changes.rs` applies the rest): a status compare-and-set with its history row (and,
//! for the order, the change's outbox rows) is one data-modifying statement, one round trip of
//! the writer's batch instead of three; and a refund-count check locks the payment row.

use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::ReservationStatus;
use arbiter_transactions::change::{OrderStep, OutboxMessage, ReservationEffect};
use arbiter_transactions::status::{OrderStatus, Status};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::PgStore;
use crate::columns::to_json;
use crate::dialect::Dialect;
use crate::transaction_rows::{db, moved as moved_error};

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
    /// Moves the order with its history row and the change's outbox rows in one statement, and
    /// applies the stock effect.
    pub(crate) async fn apply_order(
        conn: &mut PgConnection,
        step: &OrderStep,
        outbox: &[OutboxMessage],
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        let (from, to) = (step.transition.from(), step.transition.to());
        let risk = step.risk.as_ref();
        let (topics, payloads) = outbox_columns(outbox)?;
        // The compare-and-set, its history row and the change's outbox rows in one statement
        // (one round trip of the writer's batch); the reservation id comes back with it for the
        // stock effect. Outbox rows are inserted in the change's order, so their ids are too.
        let reservation: Option<String> = sqlx::query_scalar(
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
        .bind(to.as_str())
        .bind(PgStore::time(at))
        .bind(step.challenge_required)
        .bind(risk.map(|r| r.action.as_str()))
        .bind(risk.and_then(|r| r.decision_id.as_deref()))
        .bind(risk.and_then(|r| r.fault.as_deref()))
        .bind(risk.and_then(|r| r.fail_mode.map(|m| m.as_str())))
        .bind(step.id.as_str())
        .bind(from.as_str())
        .bind(OrderStatus::ENTITY)
        .bind(&step.note)
        .bind(topics)
        .bind(payloads)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        let Some(reservation) = reservation else {
            let actual: Option<String> =
                sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
                    .bind(step.id.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
            return Err(moved_error(
                OrderStatus::ENTITY,
                step.id.as_str(),
                from.as_str(),
                actual,
            ));
        };
        let finish = match step.reservation {
            ReservationEffect::Keep => return Ok(()),
            ReservationEffect::Confirm => ReservationStatus::Confirmed,
            ReservationEffect::Release => ReservationStatus::Released,
        };
        PgStore::finish_in(conn, &reservation.as_str().into(), finish, at).await
    }

    /// Compare-and-sets the status of row `id` of `table` (a fixed name, never user input) from
    /// `from` to `to`, with its history row.
    #[expect(
        clippy::too_many_arguments,
        reason = "one column per argument of the history row"
    )]
    pub(crate) async fn move_status(
        conn: &mut PgConnection,
        table: &'static str,
        entity: &'static str,
        id: &str,
        from: &str,
        to: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<(), TxError> {
        // The compare-and-set and its history row in one statement: one round trip.
        let sql = format!(
            "WITH moved AS ( \
                 UPDATE {table} SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 \
                 RETURNING id \
             ), history AS ( \
                 INSERT INTO status_history (entity, entity_id, from_status, to_status, note, at) \
                 SELECT $5, id, $4, $1, $6, $2 FROM moved \
             ) \
             SELECT count(*) FROM moved"
        );
        let moved: i64 = sqlx::query_scalar(&sql)
            .bind(to)
            .bind(PgStore::time(at))
            .bind(id)
            .bind(from)
            .bind(entity)
            .bind(note)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
        if moved == 0 {
            let sql = format!("SELECT status FROM {table} WHERE id = $1");
            let actual: Option<String> = sqlx::query_scalar(&sql)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
            return Err(moved_error(entity, id, from, actual));
        }
        Ok(())
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
