//! Reconciliation: a channel's statement imported, uploaded or fetched from the channel (read
//! whole off the async workers, a day of a busy channel being a million rows, then archived
//! with its rows and audited in one transaction; a file that does not read is refused with its
//! line and nothing is stored); a day's statement matched against the payment book and
//! recorded with its tickets and its settlement in the ledger; the tickets worked; and a day's
//! results read back from the ledger.

pub mod daily;
pub mod fetch;

use std::collections::BTreeMap;
use std::sync::Arc;

use arbiter_engine::audit::Actor;
use arbiter_transactions::TxError;
use arbiter_transactions::reconciliation::archive::{
    ImportError, Imported, StoredStatement, prepare,
};
use arbiter_transactions::reconciliation::day::{SETTLEMENT_GRACE, window};
use arbiter_transactions::reconciliation::matching::FeeSchedule;
use arbiter_transactions::reconciliation::merge::{Cursor, Params, reconcile_sorted};
use arbiter_transactions::reconciliation::settlement::{DayResult, Tally, day_results};
use arbiter_transactions::reconciliation::tickets::{
    NewRun, Recorded, Ticket, TicketFilter, resolution_note,
};
use arbiter_transactions::store::TransactionStore;

use crate::services::transactions::channels::{ChannelCallError, PaymentChannels};
use chrono::{NaiveDate, Utc};

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

/// Why a statement could not be fetched and imported.
#[derive(Debug, thiserror::Error)]
pub enum StatementFetchError {
    #[error(transparent)]
    Channel(#[from] ChannelCallError),
    #[error(transparent)]
    Import(#[from] StatementImportError),
}

/// What fetching a day's statement did.
#[derive(Debug, Clone)]
pub enum FetchedStatement {
    Imported(Imported),
    /// The channel has not written that day's statement yet, in its words.
    NotYet(String),
}

/// The channels' fee schedules, by channel.
pub type FeeSchedules = BTreeMap<String, FeeSchedule>;

/// A day's run as recorded.
#[derive(Debug, Clone)]
pub struct DayRun {
    pub statement: StoredStatement,
    pub run: NewRun,
    pub recorded: Recorded,
    /// Whether the statement's fees were checked against a schedule.
    pub fees_checked: bool,
}

pub struct ReconService {
    store: Arc<dyn TransactionStore>,
    fees: FeeSchedules,
    /// The configured channels, whose statements can be fetched.
    channels: Arc<PaymentChannels>,
    /// Held, not used: dropping the service stops the daily job.
    _daily: Option<daily::DailyJob>,
}

impl ReconService {
    pub fn new(
        store: Arc<dyn TransactionStore>,
        fees: FeeSchedules,
        channels: Arc<PaymentChannels>,
    ) -> ReconService {
        ReconService {
            store,
            fees,
            channels,
            _daily: None,
        }
    }

    /// Starts the daily job (see [`daily`]).
    pub fn with_daily_job(mut self, job: daily::DailyJob) -> ReconService {
        self._daily = Some(job);
        self
    }

    /// Reads `content` as `channel`'s statement of `date` and archives it as `actor`'s; the
    /// same file again is the statement held.
    pub async fn import_statement(
        &self,
        channel: &str,
        date: NaiveDate,
        content: Vec<u8>,
        actor: &Actor,
    ) -> Result<Imported, StatementImportError> {
        import(&self.store, channel, date, content, actor).await
    }

    /// Fetches `channel`'s statement of `date` from the channel and imports it as `actor`'s.
    pub async fn fetch_statement(
        &self,
        channel: &str,
        date: NaiveDate,
        actor: &Actor,
    ) -> Result<FetchedStatement, StatementFetchError> {
        fetch_and_import(&self.store, &self.channels, channel, date, actor).await
    }

    pub async fn statement(&self, id: &str) -> Result<Option<StoredStatement>, TxError> {
        self.store.statement(id).await
    }

    /// [`reconcile_day`] over this server's store and fee schedules.
    pub async fn reconcile_day(
        &self,
        channel: &str,
        date: NaiveDate,
        actor: &Actor,
    ) -> Result<DayRun, TxError> {
        reconcile_day(&self.store, &self.fees, channel, date, actor).await
    }

    pub async fn tickets(&self, filter: &TicketFilter, limit: u32) -> Result<Vec<Ticket>, TxError> {
        self.store.tickets(filter, limit).await
    }

    pub async fn ticket(&self, id: &str) -> Result<Ticket, TxError> {
        self.store
            .ticket(id)
            .await?
            .ok_or_else(|| TxError::NotFound {
                entity: "reconciliation ticket",
                id: id.to_owned(),
            })
    }

    /// Resolves an open ticket with `note` (trimmed, 1 to 2,000 characters), as `actor`.
    pub async fn resolve(&self, id: &str, note: &str, actor: &Actor) -> Result<Ticket, TxError> {
        let note = resolution_note(note)?;
        self.store
            .resolve_ticket(id, &note, actor, Utc::now())
            .await
    }

    /// `channel`'s `date` as the ledger holds it, per currency.
    pub async fn day(&self, channel: &str, date: NaiveDate) -> Result<Vec<DayResult>, TxError> {
        let journals = self.store.day_journals(channel, date).await?;
        Ok(day_results(&journals, channel, date))
    }
}

/// Reads `content` as `channel`'s statement of `date` off the async workers and archives it.
pub async fn import(
    store: &Arc<dyn TransactionStore>,
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
    Ok(store.import_statement(&prepared, actor).await?)
}

/// Fetches `channel`'s statement of `date` from the channel and imports it (the same file
/// again is the statement held).
pub async fn fetch_and_import(
    store: &Arc<dyn TransactionStore>,
    channels: &PaymentChannels,
    channel: &str,
    date: NaiveDate,
    actor: &Actor,
) -> Result<FetchedStatement, StatementFetchError> {
    match fetch::fetch_statement(channels, channel, date).await? {
        fetch::Fetched::NotYet(why) => Ok(FetchedStatement::NotYet(why)),
        fetch::Fetched::File(content) => Ok(FetchedStatement::Imported(
            import(store, channel, date, content, actor).await?,
        )),
    }
}

/// Matches `channel`'s statement of `date` (the one imported last) against our book of that
/// day, and records the run as `actor`'s: its tickets, and the statement's settlement in the
/// ledger (once per statement).
pub async fn reconcile_day(
    store: &Arc<dyn TransactionStore>,
    fees: &FeeSchedules,
    channel: &str,
    date: NaiveDate,
    actor: &Actor,
) -> Result<DayRun, TxError> {
    let statement = store
        .statement_of_day(channel, date)
        .await?
        .ok_or_else(|| TxError::NotFound {
            entity: "statement",
            id: format!("{channel} {date}"),
        })?;
    if let Some(at) = statement.expired_at {
        return Err(TxError::StatementExpired {
            id: statement.id,
            channel: channel.to_owned(),
            date: date.to_string(),
            at: at.to_rfc3339(),
        });
    }
    let (from, to) = window(channel, date);
    let params = Params {
        until: to,
        settlement_delay: SETTLEMENT_GRACE,
        fees: fees.get(channel).cloned(),
    };
    // Both cursors walked side by side: memory holds what does not pair, not the day.
    let mut tally = Tally::default();
    let outcome = reconcile_sorted(
        &mut Cursor(store.stream_statement_rows(&statement.id)),
        &mut Cursor(store.stream_book(channel, from, to)),
        &params,
        &mut tally,
    )
    .await?;
    let settlement = tally.settlement(channel);
    let run = NewRun::new(
        channel,
        date,
        &statement.id,
        outcome,
        settlement,
        Utc::now(),
    );
    let recorded = store.record_run(&run, actor).await?;
    Ok(DayRun {
        statement,
        run,
        recorded,
        fees_checked: fees.contains_key(channel),
    })
}
