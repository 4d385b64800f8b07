//! Importing a channel's statement: read whole off the async workers (a day of a busy channel
//! is a million rows), then archived with its rows and audited in one transaction. A file that
//! does not read is refused with its line and nothing is stored.

use arbiter_engine::audit::Actor;
use arbiter_transactions::TxError;
use arbiter_transactions::reconciliation::archive::{
    ImportError, Imported, StoredStatement, prepare,
};
use arbiter_transactions::reconciliation::day::{SETTLEMENT_GRACE, window};
use arbiter_transactions::reconciliation::matching::{Outcome, Run, reconcile};
use arbiter_transactions::store::TransactionStore;
use chrono::{NaiveDate, Utc};

use super::TransactionServices;

/// Why a statement was not imported.
#[derive(Debug, thiserror::Error)]
pub enum StatementImportError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The reader itself failed (a panic): ours, not the file's.
    #[error("the statement reader stopped: {0}")]
    Reader(String),
}

impl TransactionServices {
    /// Reads `content` as `channel`'s statement of `date` and archives it as `actor`'s; the
    /// same file again is the statement held.
    pub async fn import_statement(
        &self,
        channel: &str,
        date: NaiveDate,
        content: Vec<u8>,
        actor: &Actor,
    ) -> Result<Imported, StatementImportError> {
        let (owned_channel, name) = (channel.to_owned(), actor.name.clone());
        let prepared = tokio::task::spawn_blocking(move || {
            prepare(&owned_channel, date, content, &name, Utc::now())
        })
        .await
        .map_err(|e| StatementImportError::Reader(e.to_string()))??;
        Ok(self.store.import_statement(&prepared, actor).await?)
    }

    pub async fn statement(&self, id: &str) -> Result<Option<StoredStatement>, TxError> {
        self.store.statement(id).await
    }

    /// [`reconcile_day`] over this server's store.
    pub async fn reconcile_day(
        &self,
        channel: &str,
        date: NaiveDate,
    ) -> Result<(StoredStatement, Outcome), TxError> {
        reconcile_day(&*self.store, channel, date).await
    }
}

/// Matches `channel`'s statement of `date` (the one imported last) against our book of that
/// day. Changes nothing.
pub async fn reconcile_day(
    store: &dyn TransactionStore,
    channel: &str,
    date: NaiveDate,
) -> Result<(StoredStatement, Outcome), TxError> {
    let statement = store
        .statement_of_day(channel, date)
        .await?
        .ok_or_else(|| TxError::NotFound {
            entity: "statement",
            id: format!("{channel} {date}"),
        })?;
    let rows = store.statement_rows(&statement.id).await?;
    let (from, to) = window(channel, date);
    let book = store.book(channel, from, to).await?;
    let outcome = tokio::task::spawn_blocking(move || {
        reconcile(&Run {
            rows: &rows,
            book: &book,
            until: to,
            settlement_delay: SETTLEMENT_GRACE,
            fees: None,
        })
    })
    .await
    .map_err(|e| TxError::invalid("run", format!("the matcher stopped: {e}")))?;
    Ok((statement, outcome))
}
