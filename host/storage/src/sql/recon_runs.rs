//! Reconciliation runs, their tickets and the statements' settlements (`recon_runs`,
//! `recon_tickets`, `recon_settlements`), written once for both backends. Recording a run is
//! one write transaction: the run, its new tickets, the day's cleared ones, the settlement's
//! journals with their balances, and the audit entry.

use std::collections::{BTreeMap, HashSet};

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_transactions::TxError;
use arbiter_transactions::ledger::Journal;
use arbiter_transactions::reconciliation::day::window;
use arbiter_transactions::reconciliation::matching::DifferenceKind;
use arbiter_transactions::reconciliation::settlement::{
    FEES_KIND, PAYOUT_KIND, belongs_to_day, day_prefix, reference, reversals,
};
use arbiter_transactions::reconciliation::tickets::{
    NewRun, ReconStore, Recorded, StoredRun, Ticket, TicketFilter,
};
use arbiter_transactions::status::{Status, TicketStatus};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::dialect::Dialect;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::{JournalEntryRow, db, journals};

/// Parameters per ticket inserted (tickets per `INSERT`: the dialect's batch).
const TICKET_COLUMNS: usize = 10;
/// A ticket's columns, in [`TicketRow`]'s order.
const TICKET_FIELDS: &str = "id, run_id, channel, statement_date, kind, reference, line, detail, \
     status, opened_at, closed_by, closed_at, note";
const RUN_SELECT: &str = "SELECT id, channel, statement_date, statement_id, row_count, matched, \
     pending, by_kind, clean, ran_by, ran_at FROM recon_runs";
const JOURNAL_SELECT: &str = "SELECT j.id, j.kind, j.reference, j.created_at, e.account, \
     e.amount_minor, e.currency FROM ledger_journals j JOIN ledger_entries e \
     ON e.journal_id = j.id";

fn corrupt(what: String) -> TxError {
    TxError::Store(arbiter_engine::store::StoreError::Corrupt(what))
}

fn day_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn parse_day(text: &str) -> Result<NaiveDate, TxError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| corrupt(format!("day `{text}`")))
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `INSERT … VALUES (…), …` for `n` tickets; a difference the day holds already is skipped.
fn insert_tickets_sql(n: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO recon_tickets (id, run_id, channel, statement_date, kind, reference, line, \
         detail, status, opened_at) VALUES ",
    );
    for r in 0..n {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..TICKET_COLUMNS {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * TICKET_COLUMNS + c + 1));
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (channel, statement_date, kind, reference) DO NOTHING");
    sql
}

#[derive(sqlx::FromRow)]
struct TicketRow<T> {
    id: String,
    run_id: String,
    channel: String,
    statement_date: String,
    kind: String,
    reference: String,
    line: Option<i64>,
    detail: String,
    status: String,
    opened_at: T,
    closed_by: Option<String>,
    closed_at: Option<T>,
    note: Option<String>,
}

impl<T: StoredTime> TicketRow<T> {
    fn into_ticket(self) -> Result<Ticket, TxError> {
        Ok(Ticket {
            date: parse_day(&self.statement_date)?,
            kind: DifferenceKind::parse(&self.kind)
                .ok_or_else(|| corrupt(format!("difference kind `{}`", self.kind)))?,
            status: TicketStatus::parse(&self.status)
                .ok_or_else(|| corrupt(format!("ticket status `{}`", self.status)))?,
            line: self.line.and_then(|l| usize::try_from(l).ok()),
            opened_at: self.opened_at.into_utc()?,
            closed_at: self.closed_at.map(StoredTime::into_utc).transpose()?,
            id: self.id,
            run_id: self.run_id,
            channel: self.channel,
            reference: self.reference,
            detail: self.detail,
            closed_by: self.closed_by,
            note: self.note,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RunRow<T> {
    id: String,
    channel: String,
    statement_date: String,
    statement_id: String,
    row_count: i64,
    matched: i64,
    pending: i64,
    by_kind: String,
    clean: bool,
    ran_by: String,
    ran_at: T,
}

impl<T: StoredTime> RunRow<T> {
    fn into_run(self) -> Result<StoredRun, TxError> {
        let unsigned = |n: i64| u64::try_from(n).unwrap_or_default();
        Ok(StoredRun {
            date: parse_day(&self.statement_date)?,
            rows: unsigned(self.row_count),
            matched: unsigned(self.matched),
            pending: unsigned(self.pending),
            by_kind: serde_json::from_str(&self.by_kind)
                .map_err(|e| corrupt(format!("a run's counts by kind: {e}")))?,
            ran_at: self.ran_at.into_utc()?,
            id: self.id,
            channel: self.channel,
            statement_id: self.statement_id,
            clean: self.clean,
            ran_by: self.ran_by,
        })
    }
}

/// The differences of a run by kind, as stored.
fn by_kind(run: &NewRun) -> String {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for d in &run.outcome.differences {
        *counts.entry(d.kind.as_str()).or_default() += 1;
    }
    serde_json::to_string(&counts).unwrap_or_else(|_| "{}".into())
}

macro_rules! recon_store {
    ($store:ty, $conn:ty) => {
        impl $store {
            /// Opens the run's tickets; how many were new to the day.
            async fn open_tickets(conn: &mut $conn, run: &NewRun) -> Result<usize, TxError> {
                let mut opened = 0;
                let tickets = run.tickets();
                for chunk in tickets.chunks(<$store as Dialect>::rows_per_insert(TICKET_COLUMNS)) {
                    let sql = insert_tickets_sql(chunk.len());
                    let mut query = sqlx::query(&sql);
                    for t in chunk {
                        query = query
                            .bind(&t.id)
                            .bind(&t.run_id)
                            .bind(&t.channel)
                            .bind(day_text(t.date))
                            .bind(t.kind.as_str())
                            .bind(&t.reference)
                            .bind(t.line.map(count))
                            .bind(&t.detail)
                            .bind(t.status.as_str())
                            .bind(<$store>::time(t.opened_at));
                    }
                    let done = query.execute(&mut *conn).await.map_err(db)?;
                    opened += usize::try_from(done.rows_affected()).unwrap_or(usize::MAX);
                }
                Ok(opened)
            }

            /// Clears the day's open tickets the run no longer finds.
            async fn clear_tickets(conn: &mut $conn, run: &NewRun) -> Result<usize, TxError> {
                let open: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT id, kind, reference FROM recon_tickets \
                     WHERE channel = $1 AND statement_date = $2 AND status = $3",
                )
                .bind(&run.channel)
                .bind(day_text(run.date))
                .bind(TicketStatus::Open.as_str())
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
                let found: HashSet<(&str, &str)> = run
                    .outcome
                    .differences
                    .iter()
                    .map(|d| (d.kind.as_str(), d.reference.as_str()))
                    .collect();
                let step = TicketStatus::Open.to(TicketStatus::Cleared)?;
                let mut cleared = 0;
                for (id, kind, reference) in open {
                    if found.contains(&(kind.as_str(), reference.as_str())) {
                        continue;
                    }
                    let done = sqlx::query(
                        "UPDATE recon_tickets SET status = $1, closed_by = $2, closed_at = $3 \
                         WHERE id = $4 AND status = $5",
                    )
                    .bind(step.to().as_str())
                    .bind(&run.id)
                    .bind(<$store>::time(run.at))
                    .bind(&id)
                    .bind(step.from().as_str())
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    cleared += usize::try_from(done.rows_affected()).unwrap_or(usize::MAX);
                }
                Ok(cleared)
            }

            /// Posts the run's statement's settlement unless the day is settled from it
            /// already; a settlement from another statement of the day is reversed first.
            async fn settle(conn: &mut $conn, run: &NewRun) -> Result<bool, TxError> {
                let day = day_text(run.date);
                let prior: Option<(String,)> = sqlx::query_as(
                    "SELECT statement_id FROM recon_settlements \
                     WHERE channel = $1 AND statement_date = $2",
                )
                .bind(&run.channel)
                .bind(&day)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
                let mut posting = Vec::new();
                match prior {
                    Some((held,)) if held == run.statement_id => return Ok(false),
                    // INVARIANT: a day is settled from one statement at a time. The primary key
                    // (channel, day) refuses a second insert — a concurrent one waits for the
                    // first to commit, then does nothing — and the replacement below is a
                    // compare-and-set on the statement it replaces; a writer that loses either
                    // posts nothing.
                    None => {
                        let taken = sqlx::query(
                            "INSERT INTO recon_settlements (channel, statement_date, \
                             statement_id, run_id, settled_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (channel, statement_date) DO NOTHING",
                        )
                        .bind(&run.channel)
                        .bind(&day)
                        .bind(&run.statement_id)
                        .bind(&run.id)
                        .bind(<$store>::time(run.at))
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                        if taken.rows_affected() == 0 {
                            return Ok(false);
                        }
                    }
                    Some((held,)) => {
                        let taken = sqlx::query(
                            "UPDATE recon_settlements SET statement_id = $1, run_id = $2, \
                             settled_at = $3 WHERE channel = $4 AND statement_date = $5 \
                             AND statement_id = $6",
                        )
                        .bind(&run.statement_id)
                        .bind(&run.id)
                        .bind(<$store>::time(run.at))
                        .bind(&run.channel)
                        .bind(&day)
                        .bind(&held)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                        if taken.rows_affected() == 0 {
                            return Ok(false);
                        }
                        let rows: Vec<JournalEntryRow<<$store as Dialect>::Time>> =
                            sqlx::query_as(&format!(
                                "{JOURNAL_SELECT} WHERE j.reference = $1 \
                                 AND j.kind IN ($2, $3) ORDER BY j.id, e.line"
                            ))
                            .bind(reference(&run.channel, run.date, &held))
                            .bind(FEES_KIND)
                            .bind(PAYOUT_KIND)
                            .fetch_all(&mut *conn)
                            .await
                            .map_err(db)?;
                        posting.extend(reversals(&journals(rows)?, run.at)?);
                    }
                }
                posting.extend(
                    run.settlement
                        .journals(&reference(&run.channel, run.date, &run.statement_id), run.at)?,
                );
                for journal in &posting {
                    <$store>::insert_journal(conn, journal).await?;
                }
                Ok(true)
            }
        }

        #[async_trait]
        impl ReconStore for $store {
            async fn record_run(&self, run: &NewRun, actor: &Actor) -> Result<Recorded, TxError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO recon_runs (id, channel, statement_date, statement_id, \
                     row_count, matched, pending, by_kind, clean, ran_by, ran_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&run.id)
                .bind(&run.channel)
                .bind(day_text(run.date))
                .bind(&run.statement_id)
                .bind(count(run.outcome.rows))
                .bind(count(run.outcome.matched))
                .bind(count(run.outcome.pending))
                .bind(by_kind(run))
                .bind(run.is_clean())
                .bind(&actor.name)
                .bind(<$store>::time(run.at))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                let opened = <$store>::open_tickets(&mut tx, run).await?;
                let cleared = <$store>::clear_tickets(&mut tx, run).await?;
                let settled = <$store>::settle(&mut tx, run).await?;
                <$store>::audit(
                    &mut tx,
                    actor,
                    AuditRecord::reconciliation_run(
                        &run.id,
                        &run.channel,
                        &day_text(run.date),
                        &run.statement_id,
                        run.outcome.rows as u64,
                        run.outcome.differences.len() as u64,
                        opened as u64,
                        cleared as u64,
                        settled,
                    ),
                )
                .await?;
                tx.commit().await.map_err(db)?;
                Ok(Recorded {
                    opened,
                    cleared,
                    settled,
                })
            }

            async fn run_record(&self, id: &str) -> Result<Option<StoredRun>, TxError> {
                let row: Option<RunRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(&format!("{RUN_SELECT} WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db)?;
                row.map(RunRow::into_run).transpose()
            }

            async fn tickets(
                &self,
                filter: &TicketFilter,
                limit: u32,
            ) -> Result<Vec<Ticket>, TxError> {
                // One static statement: an absent filter binds NULL and matches every row.
                let rows: Vec<TicketRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "SELECT {TICKET_FIELDS} FROM recon_tickets WHERE ($1 IS NULL OR status = $1) \
                     AND ($2 IS NULL OR channel = $2) AND ($3 IS NULL OR statement_date = $3) \
                     AND ($4 IS NULL OR kind = $4) AND ($5 IS NULL OR id < $5) \
                     ORDER BY id DESC LIMIT $6"
                ))
                .bind(filter.status.map(TicketStatus::as_str))
                .bind(filter.channel.as_deref())
                .bind(filter.date.map(day_text))
                .bind(filter.kind.map(DifferenceKind::as_str))
                .bind(filter.before.as_deref())
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                rows.into_iter().map(TicketRow::into_ticket).collect()
            }

            async fn ticket(&self, id: &str) -> Result<Option<Ticket>, TxError> {
                let row: Option<TicketRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(&format!("SELECT {TICKET_FIELDS} FROM recon_tickets WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db)?;
                row.map(TicketRow::into_ticket).transpose()
            }

            async fn resolve_ticket(
                &self,
                id: &str,
                note: &str,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<Ticket, TxError> {
                let step = TicketStatus::Open.to(TicketStatus::Resolved)?;
                let mut tx = self.begin_write().await?;
                let row: Option<TicketRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "UPDATE recon_tickets SET status = $1, closed_by = $2, closed_at = $3, \
                     note = $4 WHERE id = $5 AND status = $6 RETURNING {TICKET_FIELDS}"
                ))
                .bind(step.to().as_str())
                .bind(&actor.name)
                .bind(<$store>::time(at))
                .bind(note)
                .bind(id)
                .bind(step.from().as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                let Some(row) = row else {
                    drop(tx);
                    let held = self.ticket(id).await?.ok_or_else(|| TxError::NotFound {
                        entity: "reconciliation ticket",
                        id: id.to_owned(),
                    })?;
                    return Err(TxError::StatusChanged {
                        entity: "reconciliation ticket",
                        id: id.to_owned(),
                        expected: step.from().as_str().to_owned(),
                        actual: held.status.as_str().to_owned(),
                    });
                };
                let ticket = row.into_ticket()?;
                <$store>::audit(
                    &mut tx,
                    actor,
                    AuditRecord::reconciliation_resolved(
                        &ticket.id,
                        ticket.kind.as_str(),
                        &ticket.reference,
                        note,
                    ),
                )
                .await?;
                tx.commit().await.map_err(db)?;
                Ok(ticket)
            }

            async fn clean_days(&self) -> Result<Vec<(String, NaiveDate)>, TxError> {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT r.channel, r.statement_date FROM recon_runs r \
                     WHERE r.clean AND r.id = (SELECT l.id FROM recon_runs l \
                     WHERE l.channel = r.channel AND l.statement_date = r.statement_date \
                     ORDER BY l.ran_at DESC, l.id DESC LIMIT 1) \
                     ORDER BY r.channel, r.statement_date",
                )
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                rows.into_iter()
                    .map(|(channel, day)| Ok((channel, parse_day(&day)?)))
                    .collect()
            }

            async fn claim_job(
                &self,
                name: &str,
                holder: &str,
                until: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<bool, TxError> {
                // INVARIANT: one holder at a time: the insert or the takeover of a lapsed,
                // unfinished claim is one statement on the claim's row, so of two replicas
                // asking at once one writes it and the other finds it held.
                let taken = sqlx::query(
                    "INSERT INTO job_claims (name, holder, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                     expires_at = excluded.expires_at \
                     WHERE job_claims.done_at IS NULL AND job_claims.expires_at <= $4",
                )
                .bind(name)
                .bind(holder)
                .bind(<$store>::time(until))
                .bind(<$store>::time(now))
                .execute(self.writer())
                .await
                .map_err(db)?;
                Ok(taken.rows_affected() == 1)
            }

            async fn finish_job(
                &self,
                name: &str,
                holder: &str,
                at: DateTime<Utc>,
            ) -> Result<(), TxError> {
                sqlx::query("UPDATE job_claims SET done_at = $1 WHERE name = $2 AND holder = $3")
                    .bind(<$store>::time(at))
                    .bind(name)
                    .bind(holder)
                    .execute(self.writer())
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn day_journals(
                &self,
                channel: &str,
                date: NaiveDate,
            ) -> Result<Vec<Journal>, TxError> {
                let (from, to) = window(channel, date);
                let prefix = day_prefix(channel, date);
                // The day's settlements by their reference (`<channel>:<day>:` then the
                // statement id, which never holds `%` or `_`), its captures and refunds by time.
                let rows: Vec<JournalEntryRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(&format!(
                        "{JOURNAL_SELECT} WHERE j.id IN (\
                         SELECT id FROM ledger_journals WHERE reference LIKE $1 \
                         UNION SELECT jj.id FROM ledger_journals jj \
                         JOIN ledger_entries ee ON ee.journal_id = jj.id \
                         WHERE jj.created_at >= $2 AND jj.created_at < $3 AND ee.account = $4) \
                         ORDER BY j.id, e.line"
                    ))
                    .bind(format!("{prefix}%"))
                    .bind(<$store>::time(from))
                    .bind(<$store>::time(to))
                    .bind(format!("channel_clearing:{channel}"))
                    .fetch_all(self.reader())
                    .await
                    .map_err(db)?;
                let mut day = journals(rows)?;
                day.retain(|j| belongs_to_day(j, channel, date));
                Ok(day)
            }
        }
    };
}

recon_store!(SqliteStore, sqlx::SqliteConnection);
recon_store!(PgStore, sqlx::PgConnection);
