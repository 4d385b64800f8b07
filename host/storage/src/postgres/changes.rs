//! Applying a domain [`Change`] on PostgreSQL: one savepoint of a group-commit batch
//! (`group_commit`) holds the applied-event mark, every status compare-and-set with its
//! history row, the stock effect, the journal with its balances, the outbox rows and the
//! due-queue completion — all or none.

use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::ReservationStatus;
use arbiter_transactions::change::{
    Change, OrderStep, OutboxMessage, RefundCountGuard, ReservationEffect,
};
use arbiter_transactions::ledger::Journal;
use arbiter_transactions::status::{OrderStatus, PaymentStatus, RefundStatus, Status};
use arbiter_transactions::store::ChangeStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::PgStore;
use super::catalogue::finish_in;
use super::payments::insert_refund_in;
use crate::columns::to_json;
use crate::payment_rows::refund_count_held;
use crate::transaction_rows::{balance_deltas, db, minor, moved as moved_error, pg_ts as ts};

#[async_trait]
impl ChangeStore for PgStore {
    async fn apply(&self, change: &Change) -> Result<(), TxError> {
        let change = change.clone();
        self.changes
            .run(move |conn| Box::pin(async move { apply_in(conn, &change).await }))
            .await
    }
}

/// Applies `change` inside the caller's write transaction (see [`ChangeStore::apply`]).
async fn apply_in(conn: &mut PgConnection, change: &Change) -> Result<(), TxError> {
    // INVARIANT: a change is atomic, and every status it writes is still the one the domain
    // decided from. Each status UPDATE locks its row; a concurrent change waits and then
    // re-checks `status = <from>` against the committed row (READ COMMITTED), matching
    // nothing if the status moved. Rows are locked in one order (event, order, payment,
    // refund, SKUs by name, balances by account) so two single changes cannot deadlock. A
    // batch keeps the locks of its earlier writes, so the batches of two writers (creations
    // and changes) or of two replicas can:
    // PostgreSQL then fails one statement (40P01), whose write rolls back to its savepoint
    // and answers 503 (retry with the same key); the rest of its batch commits.
    let at = change.at;
    if let Some(event) = &change.event {
        // INVARIANT: an event id is applied once. A second INSERT of the same key waits
        // for the first transaction and, once it commits, does nothing.
        let marked = sqlx::query(
            "INSERT INTO applied_events (channel, event_id, applied_at) VALUES ($1, $2, $3) \
             ON CONFLICT (channel, event_id) DO NOTHING",
        )
        .bind(&event.channel)
        .bind(event.event_id.as_str())
        .bind(ts(at))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        if marked.rows_affected() == 0 {
            return Err(TxError::AlreadyApplied {
                event_id: event.event_id.0.clone(),
            });
        }
    }
    if let Some(step) = &change.order {
        // The change's outbox rows go with the order's statement (one round trip fewer).
        apply_order(conn, step, &change.outbox, at).await?;
    }
    check_refund_counts(conn, &change.refund_counts).await?;
    if let Some(step) = &change.payment {
        let (from, to) = (step.transition.from(), step.transition.to());
        move_status(
            conn,
            "payments",
            PaymentStatus::ENTITY,
            step.id.as_str(),
            from.as_str(),
            to.as_str(),
            &step.note,
            at,
        )
        .await?;
    }
    if let Some(refund) = &change.new_refund {
        insert_refund_in(conn, refund, at).await?;
    }
    if let Some(step) = &change.refund {
        let (from, to) = (step.transition.from(), step.transition.to());
        move_status(
            conn,
            "refunds",
            RefundStatus::ENTITY,
            step.id.as_str(),
            from.as_str(),
            to.as_str(),
            &step.note,
            at,
        )
        .await?;
    }
    if let Some(journal) = &change.journal {
        insert_journal(conn, journal).await?;
    }
    if change.order.is_none() && !change.outbox.is_empty() {
        let (topics, payloads) = outbox_columns(&change.outbox)?;
        sqlx::query(
            "INSERT INTO outbox (topic, payload, created_at) \
             SELECT m.topic, m.payload, $3 \
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS m (topic, payload, n) \
             ORDER BY m.n",
        )
        .bind(topics)
        .bind(payloads)
        .bind(ts(at))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    if let Some(done) = &change.due_done {
        sqlx::query("DELETE FROM due_items WHERE kind = $1 AND key = $2")
            .bind(&done.kind)
            .bind(&done.key)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

/// Refuses the change unless each guarded payment still has the refunds it was decided from.
async fn check_refund_counts(
    conn: &mut PgConnection,
    guards: &[RefundCountGuard],
) -> Result<(), TxError> {
    // INVARIANT: `FULFILLED` earns from exactly the refunds it read. A refund is inserted only
    // under its payment row's lock (`insert_refund_in`); taking that lock first makes this
    // count and a refund's creation take turns, and the count (a fresh READ COMMITTED snapshot
    // after the lock is granted) sees every refund committed before it. Held to commit, the
    // lock keeps new refunds out until revenue is posted. Payments in id order, after the order
    // row: the documented lock order.
    let mut guards: Vec<&RefundCountGuard> = guards.iter().collect();
    guards.sort_by(|a, b| a.payment_id.as_str().cmp(b.payment_id.as_str()));
    for guard in guards {
        sqlx::query("SELECT id FROM payments WHERE id = $1 FOR UPDATE")
            .bind(guard.payment_id.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refunds WHERE payment_id = $1")
            .bind(guard.payment_id.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
        refund_count_held(guard, count)?;
    }
    Ok(())
}

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

async fn apply_order(
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
    .bind(ts(at))
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
        let actual: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
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
    finish_in(conn, &reservation.as_str().into(), finish, at).await
}

/// Compare-and-sets the status of row `id` of `table` (a fixed name, never user input) from
/// `from` to `to`, with its history row.
#[expect(
    clippy::too_many_arguments,
    reason = "one column per argument of the history row"
)]
async fn move_status(
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
        .bind(ts(at))
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

/// Writes a journal, its entries and the balances they move.
pub(super) async fn insert_journal(
    conn: &mut PgConnection,
    journal: &Journal,
) -> Result<(), TxError> {
    sqlx::query(
        "INSERT INTO ledger_journals (id, kind, reference, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(journal.id().as_str())
    .bind(journal.kind())
    .bind(journal.reference())
    .bind(ts(journal.created_at()))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    for (line, entry) in journal.entries().iter().enumerate() {
        sqlx::query(
            "INSERT INTO ledger_entries (journal_id, line, account, amount_minor, currency) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(journal.id().as_str())
        .bind(i64::try_from(line).unwrap_or(i64::MAX))
        .bind(entry.account.as_str())
        .bind(minor(&entry.amount, "ledger entry")?)
        .bind(entry.amount.currency.code())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    for (account, currency, delta) in balance_deltas(journal)? {
        sqlx::query(
            "INSERT INTO ledger_balances (account, currency, balance_minor) VALUES ($1, $2, $3) \
             ON CONFLICT (account, currency) DO UPDATE \
             SET balance_minor = ledger_balances.balance_minor + excluded.balance_minor",
        )
        .bind(account)
        .bind(currency)
        .bind(delta)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}
