//! Applying a domain [`Change`], written once for both backends: one savepoint of a
//! group-commit batch (`group_commit`) holds the applied-event mark, every status
//! compare-and-set with its history row, the stock effect, the journal with its balances, the
//! outbox rows and the due-queue completion — all or none.
//!
//! The order step, the status compare-and-set, the outbox insert and the payment lock are each
//! backend's own (`sqlite/changes.rs`, `postgres/changes.rs`): PostgreSQL writes a
//! compare-and-set with its history and outbox rows as one data-modifying statement to save
//! round trips, which SQLite cannot express, and has row locks SQLite does not need.

use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::ReservationStatus;
use arbiter_transactions::change::{
    Change, OrderStep, OutboxMessage, RefundCountGuard, ReservationEffect,
};
use arbiter_transactions::ledger::Journal;
use arbiter_transactions::status::{Status, Transition};
use arbiter_transactions::store::ChangeStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::payment_rows::refund_count_held;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::{balance_deltas, db, minor, moved};

/// A status compare-and-set with its history row: row `id` of `table` (a fixed name, never
/// user input) of the entity `entity` from `from` to `to`.
pub(crate) struct StatusMove<'a> {
    pub table: &'static str,
    pub entity: &'static str,
    pub id: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub note: &'a str,
    pub at: DateTime<Utc>,
}

impl<'a> StatusMove<'a> {
    /// Row `id` of `table` taking `transition`, noted `note`.
    fn new<S: Status>(
        table: &'static str,
        id: &'a str,
        transition: &Transition<S>,
        note: &'a str,
        at: DateTime<Utc>,
    ) -> StatusMove<'a> {
        StatusMove {
            table,
            entity: S::ENTITY,
            id,
            from: transition.from().as_str(),
            to: transition.to().as_str(),
            note,
            at,
        }
    }
}

/// `$conn`: the backend's connection type, which the steps run inside a caller's transaction
/// take.
macro_rules! change_store {
    ($store:ty, conn: $conn:ty) => {
        #[async_trait]
        impl ChangeStore for $store {
            async fn apply(&self, change: &Change) -> Result<(), TxError> {
                let change = change.clone();
                self.change_writer()
                    .run(move |conn| {
                        Box::pin(async move { <$store>::apply_in(conn, &change).await })
                    })
                    .await
            }
        }

        impl $store {
            /// Applies `change` inside the caller's write transaction (see [`ChangeStore::apply`]).
            async fn apply_in(conn: &mut $conn, change: &Change) -> Result<(), TxError> {
                // INVARIANT: a change is atomic, and every status it writes is still the one the
                // domain decided from. On SQLite `BEGIN IMMEDIATE` on the single writer serialises
                // all changes; each UPDATE's `status = <from>` condition refuses a status that
                // moved before we got here. On PostgreSQL each status UPDATE locks its row; a
                // concurrent change waits and then re-checks `status = <from>` against the
                // committed row (READ COMMITTED), matching nothing if the status moved. Rows are
                // locked in one order (event, order, payment, refund, SKUs by name, balances by
                // account) so two single changes cannot deadlock. A batch keeps the locks of its
                // earlier writes, so the batches of two writers (creations and changes) or of two
                // replicas can: PostgreSQL then fails one statement (40P01), whose write rolls back
                // to its savepoint and answers 503 (retry with the same key); the rest of its batch
                // commits.
                let at = change.at;
                if let Some(event) = &change.event {
                    // INVARIANT: an event id is applied once: the primary key refuses a second mark
                    // (on PostgreSQL a second INSERT of the same key waits for the first
                    // transaction and, once it commits, does nothing).
                    let marked = sqlx::query(
                        "INSERT INTO applied_events (channel, event_id, applied_at) VALUES ($1, \
                         $2, $3) \
                         ON CONFLICT (channel, event_id) DO NOTHING",
                    )
                    .bind(&event.channel)
                    .bind(event.event_id.as_str())
                    .bind(<$store>::time(at))
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
                    // The change's outbox rows go with the order's statement (one round trip
                    // fewer).
                    <$store>::apply_order(conn, step, &change.outbox, at).await?;
                }
                <$store>::check_refund_counts(conn, &change.refund_counts).await?;
                if let Some(step) = &change.payment {
                    let status = StatusMove::new(
                        "payments",
                        step.id.as_str(),
                        &step.transition,
                        &step.note,
                        at,
                    );
                    <$store>::move_status(conn, &status).await?;
                }
                if let Some(refund) = &change.new_refund {
                    <$store>::insert_refund_in(conn, refund, at).await?;
                }
                if let Some(step) = &change.refund {
                    let status = StatusMove::new(
                        "refunds",
                        step.id.as_str(),
                        &step.transition,
                        &step.note,
                        at,
                    );
                    <$store>::move_status(conn, &status).await?;
                }
                if let Some(journal) = &change.journal {
                    <$store>::insert_journal(conn, journal).await?;
                }
                if change.order.is_none() {
                    <$store>::insert_outbox(conn, &change.outbox, at).await?;
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

            /// Moves the order, with its history row and the change's outbox rows, and applies
            /// the stock effect.
            async fn apply_order(
                conn: &mut $conn,
                step: &OrderStep,
                outbox: &[OutboxMessage],
                at: DateTime<Utc>,
            ) -> Result<(), TxError> {
                let status =
                    StatusMove::new("orders", step.id.as_str(), &step.transition, &step.note, at);
                let Some(reservation) = <$store>::move_order(conn, step, &status, outbox).await?
                else {
                    return Err(<$store>::refused_move(conn, &status).await);
                };
                let finish = match step.reservation {
                    ReservationEffect::Keep => return Ok(()),
                    ReservationEffect::Confirm => ReservationStatus::Confirmed,
                    ReservationEffect::Release => ReservationStatus::Released,
                };
                <$store>::finish_in(conn, &reservation.as_str().into(), finish, at).await
            }

            /// Compare-and-sets a payment's or refund's status, with its history row.
            async fn move_status(conn: &mut $conn, status: &StatusMove<'_>) -> Result<(), TxError> {
                if <$store>::set_status(conn, status).await? {
                    return Ok(());
                }
                Err(<$store>::refused_move(conn, status).await)
            }

            /// Why a compare-and-set matched nothing: the status it found instead (or none,
            /// the row being gone).
            async fn refused_move(conn: &mut $conn, status: &StatusMove<'_>) -> TxError {
                let sql = format!("SELECT status FROM {} WHERE id = $1", status.table);
                match sqlx::query_scalar(&sql)
                    .bind(status.id)
                    .fetch_optional(&mut *conn)
                    .await
                {
                    Ok(actual) => moved(status.entity, status.id, status.from, actual),
                    Err(e) => db(e),
                }
            }

            /// Refuses the change unless each guarded payment still has the refunds it was decided
            /// from.
            async fn check_refund_counts(
                conn: &mut $conn,
                guards: &[RefundCountGuard],
            ) -> Result<(), TxError> {
                // INVARIANT: `FULFILLED` earns from exactly the refunds it read. A refund is
                // inserted only where `lock_payment` would wait for this change
                // (`insert_refund_in`), so none can appear between this count and the commit of the
                // batch that holds it. Payments in id order, after the order row: the documented
                // lock order.
                let mut guards: Vec<&RefundCountGuard> = guards.iter().collect();
                guards.sort_by(|a, b| a.payment_id.as_str().cmp(b.payment_id.as_str()));
                for guard in guards {
                    <$store>::lock_payment(conn, guard.payment_id.as_str()).await?;
                    let count: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM refunds WHERE payment_id = $1")
                            .bind(guard.payment_id.as_str())
                            .fetch_one(&mut *conn)
                            .await
                            .map_err(db)?;
                    refund_count_held(guard, count)?;
                }
                Ok(())
            }

            /// Writes a journal, its entries and the balances they move.
            pub(crate) async fn insert_journal(
                conn: &mut $conn,
                journal: &Journal,
            ) -> Result<(), TxError> {
                sqlx::query(
                    "INSERT INTO ledger_journals (id, kind, reference, created_at) VALUES ($1, $2, \
                     $3, $4)",
                )
                .bind(journal.id().as_str())
                .bind(journal.kind())
                .bind(journal.reference())
                .bind(<$store>::time(journal.created_at()))
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                for (line, entry) in journal.entries().iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO ledger_entries (journal_id, line, account, amount_minor, \
                         currency) \
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
                        "INSERT INTO ledger_balances (account, currency, balance_minor) VALUES \
                         ($1, $2, $3) \
                         ON CONFLICT (account, currency) DO UPDATE \
                         SET balance_minor = ledger_balances.balance_minor + \
                         excluded.balance_minor",
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
        }
    };
}

change_store!(SqliteStore, conn: sqlx::SqliteConnection);
change_store!(PgStore, conn: sqlx::PgConnection);
