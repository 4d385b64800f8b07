//! Channel statements (`recon_statements`, `recon_statement_rows`), written once for both
//! backends: a statement and its rows go in one write transaction, in chunks of many rows per
//! `INSERT` (a day of a busy channel is a million rows), unless the same file is held already.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::money::Money;
use arbiter_transactions::TxError;
use arbiter_transactions::reconciliation::archive::{
    Imported, NewStatement, StatementStore, StoredStatement,
};
use arbiter_transactions::reconciliation::matching::{BookEntry, BookKind};
use arbiter_transactions::reconciliation::statement::{RowKind, StatementRow};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};

use crate::dialect::Dialect;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::db;

/// Parameters per statement row inserted (rows per `INSERT`: the dialect's batch).
const ROW_COLUMNS: usize = 11;
const COLUMNS: &str = "id, channel, statement_date, sha256, size_bytes, row_count, \
     imported_by, imported_at, expired_at";

fn corrupt(what: String) -> TxError {
    TxError::Store(arbiter_engine::store::StoreError::Corrupt(what))
}

fn minor(m: &Money) -> Result<i64, TxError> {
    m.checked_minor_units()
        .ok_or_else(|| corrupt(format!("a statement amount {} out of range", m.amount)))
}

/// `INSERT … VALUES ($1, …), ($12, …), …` for `n` rows.
fn insert_rows_sql(n: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO recon_statement_rows (statement_id, line, row_id, kind, channel_txn_id, \
         our_ref, currency, gross_minor, fee_minor, net_minor, booked_at) VALUES ",
    );
    for r in 0..n {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..ROW_COLUMNS {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * ROW_COLUMNS + c + 1));
        }
        sql.push(')');
    }
    sql
}

#[derive(sqlx::FromRow)]
struct StatementRecord<T> {
    id: String,
    channel: String,
    statement_date: String,
    sha256: String,
    size_bytes: i64,
    row_count: i64,
    imported_by: String,
    imported_at: T,
    expired_at: Option<T>,
}

impl<T: StoredTime> StatementRecord<T> {
    fn into_statement(self) -> Result<StoredStatement, TxError> {
        Ok(StoredStatement {
            date: NaiveDate::parse_from_str(&self.statement_date, "%Y-%m-%d")
                .map_err(|_| corrupt(format!("statement date `{}`", self.statement_date)))?,
            size_bytes: u64::try_from(self.size_bytes).unwrap_or_default(),
            row_count: u64::try_from(self.row_count).unwrap_or_default(),
            imported_at: self.imported_at.into_utc()?,
            expired_at: self.expired_at.map(T::into_utc).transpose()?,
            id: self.id,
            channel: self.channel,
            sha256: self.sha256,
            imported_by: self.imported_by,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RowRecord<T> {
    line: i64,
    row_id: String,
    kind: String,
    channel_txn_id: String,
    our_ref: Option<String>,
    currency: String,
    gross_minor: i64,
    fee_minor: i64,
    net_minor: i64,
    booked_at: T,
}

impl<T: StoredTime> RowRecord<T> {
    fn into_row(self) -> Result<StatementRow, TxError> {
        let money = |minor| {
            Money::from_stored(minor, &self.currency)
                .ok_or_else(|| corrupt(format!("statement row currency `{}`", self.currency)))
        };
        Ok(StatementRow {
            line: usize::try_from(self.line).unwrap_or_default(),
            kind: RowKind::from_stored(&self.kind)
                .ok_or_else(|| corrupt(format!("statement row kind `{}`", self.kind)))?,
            gross: money(self.gross_minor)?,
            fee: money(self.fee_minor)?,
            net: money(self.net_minor)?,
            at: self.booked_at.into_utc()?,
            id: self.row_id,
            channel_txn_id: self.channel_txn_id,
            our_ref: self.our_ref,
        })
    }
}

/// One entry of the book as the query reads it.
#[derive(sqlx::FromRow)]
struct BookRow<T> {
    our_ref: String,
    channel_txn_id: Option<String>,
    amount_minor: i64,
    currency: String,
    at: T,
    /// `capture` or `refund`.
    kind: String,
    /// `done` (succeeded in the window, at its success) or `open` (not done, at its creation).
    state: String,
}

impl<T: StoredTime> BookRow<T> {
    fn into_entry(self) -> Result<BookEntry, TxError> {
        let kind = match self.kind.as_str() {
            "capture" => BookKind::Capture,
            _ => BookKind::Refund,
        };
        let amount = Money::from_stored(self.amount_minor, &self.currency)
            .ok_or_else(|| corrupt(format!("payment currency `{}`", self.currency)))?;
        Ok(BookEntry {
            kind,
            amount: match kind {
                BookKind::Capture => amount,
                BookKind::Refund => amount.negated(),
            },
            done: self.state == "done",
            our_ref: self.our_ref,
            channel_txn_id: self.channel_txn_id,
            at: self.at.into_utc()?,
        })
    }
}

/// The book of a channel's window: `$1` the channel, `$2`..`$3` the window, `$4` a day before
/// its start (what is not done is read from then). Payments and refunds that succeeded in the
/// window, at their success; those created since `$4` that have not, at their creation.
macro_rules! book_query {
    ($order:literal) => {
        concat!(
            "SELECT our_ref, channel_txn_id, amount_minor, currency, at, kind, state FROM (",
            "SELECT p.channel_payment_id AS our_ref, a.channel_reference AS channel_txn_id, \
             p.amount_minor, p.currency, h.at AS at, 'capture' AS kind, 'done' AS state \
             FROM status_history h JOIN payments p ON p.id = h.entity_id \
             LEFT JOIN payment_client_actions a ON a.payment_id = p.id \
             WHERE h.entity = 'payment' AND h.to_status = 'SUCCEEDED' \
             AND h.at >= $2 AND h.at < $3 AND p.channel = $1 ",
            "UNION ALL SELECT p.channel_payment_id, a.channel_reference, p.amount_minor, \
             p.currency, p.created_at, 'capture', 'open' FROM payments p \
             LEFT JOIN payment_client_actions a ON a.payment_id = p.id \
             WHERE p.channel = $1 AND p.status <> 'SUCCEEDED' \
             AND p.created_at >= $4 AND p.created_at < $3 ",
            "UNION ALL SELECT r.channel_refund_id, NULL, r.amount_minor, r.currency, h.at, \
             'refund', 'done' FROM status_history h JOIN refunds r ON r.id = h.entity_id \
             JOIN payments p ON p.id = r.payment_id \
             WHERE h.entity = 'refund' AND h.to_status = 'SUCCEEDED' \
             AND h.at >= $2 AND h.at < $3 AND p.channel = $1 ",
            "UNION ALL SELECT r.channel_refund_id, NULL, r.amount_minor, r.currency, \
             r.created_at, 'refund', 'open' FROM refunds r JOIN payments p ON p.id = r.payment_id \
             WHERE p.channel = $1 AND r.status <> 'SUCCEEDED' \
             AND r.created_at >= $4 AND r.created_at < $3",
            ") b ORDER BY our_ref",
            $order
        )
    };
}

const ROW_SELECT: &str = "SELECT line, row_id, kind, channel_txn_id, our_ref, currency, \
     gross_minor, fee_minor, net_minor, booked_at FROM recon_statement_rows \
     WHERE statement_id = $1";

macro_rules! statement_store {
    ($store:ty, byte_order: $order:literal) => {
        #[async_trait]
        impl StatementStore for $store {
            async fn import_statement(
                &self,
                statement: &NewStatement,
                actor: &Actor,
            ) -> Result<Imported, TxError> {
                let mut tx = self.begin_write().await?;
                let size = i64::try_from(statement.content.len()).unwrap_or(i64::MAX);
                let count = i64::try_from(statement.rows.len()).unwrap_or(i64::MAX);
                // INVARIANT: one statement per channel, day and content: the UNIQUE (channel,
                // day, sha256)
                // index refuses a second — also one imported concurrently, whose insert waits
                // for the first to commit — and `DO NOTHING` turns that into "answer with the
                // first", read once this transaction is dropped.
                let inserted = sqlx::query(
                    "INSERT INTO recon_statements (id, channel, statement_date, sha256, \
                     size_bytes, row_count, content, imported_by, imported_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (channel, statement_date, sha256) DO NOTHING",
                )
                .bind(&statement.id)
                .bind(&statement.channel)
                .bind(statement.date.format("%Y-%m-%d").to_string())
                .bind(&statement.sha256)
                .bind(size)
                .bind(count)
                .bind(&statement.content)
                .bind(&statement.imported_by)
                .bind(<$store>::time(statement.imported_at))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                // The statement the rows belong to: this one, or the one held before whose file
                // and rows retention took (the same file brings them back).
                let mut id = statement.id.clone();
                if inserted.rows_affected() == 0 {
                    let first: StatementRecord<<$store as Dialect>::Time> =
                        sqlx::query_as(&format!(
                            "SELECT {COLUMNS} FROM recon_statements \
                             WHERE channel = $1 AND sha256 = $2 AND statement_date = $3"
                        ))
                        .bind(&statement.channel)
                        .bind(&statement.sha256)
                        .bind(statement.date.format("%Y-%m-%d").to_string())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db)?;
                    let first = first.into_statement()?;
                    // INVARIANT: restored once: the guard on `expired_at` lets one of two
                    // concurrent imports of the file through (the other's update waits for the
                    // first to commit, then finds nothing to restore). A restored statement is
                    // imported anew: retention's age starts again.
                    let restored = first.expired_at.is_some()
                        && sqlx::query(
                            "UPDATE recon_statements SET content = $1, expired_at = NULL, \
                             imported_by = $2, imported_at = $3 \
                             WHERE id = $4 AND expired_at IS NOT NULL",
                        )
                        .bind(&statement.content)
                        .bind(&statement.imported_by)
                        .bind(<$store>::time(statement.imported_at))
                        .bind(&first.id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected()
                            == 1;
                    if !restored {
                        drop(tx);
                        return Ok(Imported::Existing(first));
                    }
                    id = first.id;
                }
                for chunk in statement
                    .rows
                    .chunks(<$store as Dialect>::rows_per_insert(ROW_COLUMNS))
                {
                    let sql = insert_rows_sql(chunk.len());
                    let mut query = sqlx::query(&sql);
                    for row in chunk {
                        query = query
                            .bind(&id)
                            .bind(i64::try_from(row.line).unwrap_or(i64::MAX))
                            .bind(&row.id)
                            .bind(row.kind.stored())
                            .bind(&row.channel_txn_id)
                            .bind(row.our_ref.as_deref())
                            .bind(row.gross.currency.code())
                            .bind(minor(&row.gross)?)
                            .bind(minor(&row.fee)?)
                            .bind(minor(&row.net)?)
                            .bind(<$store>::time(row.at));
                    }
                    query.execute(&mut *tx).await.map_err(db)?;
                }
                <$store>::audit(
                    &mut tx,
                    actor,
                    AuditRecord::statement_imported(
                        &id,
                        &statement.channel,
                        &statement.date.format("%Y-%m-%d").to_string(),
                        &statement.sha256,
                        statement.content.len() as u64,
                        statement.rows.len() as u64,
                    ),
                )
                .await?;
                tx.commit().await.map_err(db)?;
                Ok(Imported::New(StoredStatement {
                    id,
                    channel: statement.channel.clone(),
                    date: statement.date,
                    sha256: statement.sha256.clone(),
                    size_bytes: statement.content.len() as u64,
                    row_count: statement.rows.len() as u64,
                    imported_by: statement.imported_by.clone(),
                    // As stored: to the microsecond.
                    imported_at: <$store>::time(statement.imported_at).into_utc()?,
                    expired_at: None,
                }))
            }

            async fn statement(&self, id: &str) -> Result<Option<StoredStatement>, TxError> {
                let row: Option<StatementRecord<<$store as Dialect>::Time>> = sqlx::query_as(
                    &format!("SELECT {COLUMNS} FROM recon_statements WHERE id = $1"),
                )
                .bind(id)
                .fetch_optional(self.reader())
                .await
                .map_err(db)?;
                row.map(StatementRecord::into_statement).transpose()
            }

            async fn statement_of_day(
                &self,
                channel: &str,
                date: NaiveDate,
            ) -> Result<Option<StoredStatement>, TxError> {
                let row: Option<StatementRecord<<$store as Dialect>::Time>> =
                    sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM recon_statements \
                         WHERE channel = $1 AND statement_date = $2 \
                         ORDER BY imported_at DESC, id DESC LIMIT 1"
                    ))
                    .bind(channel)
                    .bind(date.format("%Y-%m-%d").to_string())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db)?;
                row.map(StatementRecord::into_statement).transpose()
            }

            async fn statement_content(&self, id: &str) -> Result<Option<Vec<u8>>, TxError> {
                let row: Option<(Vec<u8>,)> =
                    sqlx::query_as("SELECT content FROM recon_statements WHERE id = $1")
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db)?;
                Ok(row.map(|(content,)| content))
            }

            async fn statement_rows(&self, id: &str) -> Result<Vec<StatementRow>, TxError> {
                let rows: Vec<RowRecord<<$store as Dialect>::Time>> =
                    sqlx::query_as(&format!("{ROW_SELECT} ORDER BY line"))
                .bind(id)
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                rows.into_iter().map(RowRecord::into_row).collect()
            }

            fn stream_statement_rows<'a>(
                &'a self,
                id: &'a str,
            ) -> BoxStream<'a, Result<StatementRow, TxError>> {
                const SORTED: &str = concat!(
                    "SELECT line, row_id, kind, channel_txn_id, our_ref, currency, \
                     gross_minor, fee_minor, net_minor, booked_at FROM recon_statement_rows \
                     WHERE statement_id = $1 ORDER BY our_ref",
                    $order
                );
                sqlx::query_as::<_, RowRecord<<$store as Dialect>::Time>>(SORTED)
                    .bind(id)
                    .fetch(self.reader())
                    .map(|row| row.map_err(db).and_then(RowRecord::into_row))
                    .boxed()
            }

            fn stream_book<'a>(
                &'a self,
                channel: &'a str,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
            ) -> BoxStream<'a, Result<BookEntry, TxError>> {
                sqlx::query_as::<_, BookRow<<$store as Dialect>::Time>>(book_query!($order))
                    .bind(channel)
                    .bind(<$store>::time(from))
                    .bind(<$store>::time(to))
                    .bind(<$store>::time(from - chrono::Duration::days(1)))
                    .fetch(self.reader())
                    .map(|row| row.map_err(db).and_then(BookRow::into_entry))
                    .boxed()
            }

            async fn book(
                &self,
                channel: &str,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
            ) -> Result<Vec<BookEntry>, TxError> {
                self.stream_book(channel, from, to).try_collect().await
            }
        }
    };
}

// Our ids compared byte for byte, as the run's merge compares them: SQLite's default
// collation is bytewise; PostgreSQL's follows the database's locale unless told `"C"`.
statement_store!(SqliteStore, byte_order: "");
statement_store!(PgStore, byte_order: " COLLATE \"C\"");
