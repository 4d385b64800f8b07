//! A reconciliation run as recorded, and the difference tickets it opens: every difference a
//! run finds is a ticket a person works (`OPEN → RESOLVED` with a note), unless a later run of
//! the same day no longer finds it (`OPEN → CLEARED`, a late or corrected statement). A
//! difference is one ticket per day however often the day is run again: a ticket is keyed by
//! its channel, day, kind and reference. Recording a run also posts the statement's settlement
//! ([`super::settlement`]), in the same transaction.

use std::collections::BTreeMap;

use arbiter_engine::audit::Actor;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::matching::{Difference, DifferenceKind, Outcome};
use super::settlement::Settlement;
use crate::error::TxError;
use crate::status::TicketStatus;

/// The longest resolution note kept.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// A run to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub id: String,
    pub channel: String,
    pub date: NaiveDate,
    pub statement_id: String,
    pub outcome: Outcome,
    pub settlement: Settlement,
    pub at: DateTime<Utc>,
}

impl NewRun {
    pub fn new(
        channel: &str,
        date: NaiveDate,
        statement_id: &str,
        outcome: Outcome,
        settlement: Settlement,
        at: DateTime<Utc>,
    ) -> NewRun {
        NewRun {
            id: format!("rr_{}", uuid::Uuid::now_v7().simple()),
            channel: channel.to_owned(),
            date,
            statement_id: statement_id.to_owned(),
            outcome,
            settlement,
            at,
        }
    }

    /// Nothing to look at: no difference and nothing pending. The ledger check expects such a
    /// day's clearing account to be zero.
    pub fn is_clean(&self) -> bool {
        self.outcome.differences.is_empty() && self.outcome.pending == 0
    }

    /// The ticket each difference opens (unless the day holds one for it already).
    pub fn tickets(&self) -> Vec<Ticket> {
        self.outcome
            .differences
            .iter()
            .map(|d| Ticket::open(self, d))
            .collect()
    }
}

/// What recording a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Tickets opened by this run (a difference already ticketed for the day opens none).
    pub opened: usize,
    /// Open tickets of the day this run no longer finds.
    pub cleared: usize,
    /// Whether this run posted the statement's settlement (a statement is settled once).
    pub settled: bool,
}

/// One difference to work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: String,
    pub run_id: String,
    pub channel: String,
    pub date: NaiveDate,
    pub kind: DifferenceKind,
    pub reference: String,
    pub line: Option<usize>,
    pub detail: String,
    pub status: TicketStatus,
    pub opened_at: DateTime<Utc>,
    /// Who closed it: a person's name, or the run that no longer found it.
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

impl Ticket {
    fn open(run: &NewRun, difference: &Difference) -> Ticket {
        Ticket {
            id: format!("rt_{}", uuid::Uuid::now_v7().simple()),
            run_id: run.id.clone(),
            channel: run.channel.clone(),
            date: run.date,
            kind: difference.kind,
            reference: difference.reference.clone(),
            line: difference.line,
            detail: difference.detail.clone(),
            status: TicketStatus::Open,
            opened_at: run.at,
            closed_by: None,
            closed_at: None,
            note: None,
        }
    }

    /// The key a day holds one ticket per: kind and reference.
    pub fn key(&self) -> (DifferenceKind, &str) {
        (self.kind, self.reference.as_str())
    }
}

/// Whitespace as the API document's patterns (ECMAScript `\s`) count it, so that a note the
/// document calls blank (`\S` absent) is the one refused here, and no other.
fn ecma_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// A resolution as a person writes it: the note is trimmed, and must say something.
pub fn resolution_note(note: &str) -> Result<String, TxError> {
    let trimmed = note.trim_matches(ecma_space);
    if trimmed.is_empty() {
        return Err(TxError::invalid(
            "note",
            "say how the difference was resolved",
        ));
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(TxError::invalid(
            "note",
            format!("at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Which tickets to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub channel: Option<String>,
    pub date: Option<NaiveDate>,
    pub kind: Option<DifferenceKind>,
    /// Only tickets older than this one (the previous page's last id).
    pub before: Option<String>,
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRun {
    pub id: String,
    pub channel: String,
    pub date: NaiveDate,
    pub statement_id: String,
    pub rows: u64,
    pub matched: u64,
    pub pending: u64,
    pub by_kind: BTreeMap<String, u64>,
    pub clean: bool,
    pub ran_by: String,
    pub ran_at: DateTime<Utc>,
}

/// Where runs and tickets are kept.
#[async_trait]
pub trait ReconStore: Send + Sync + 'static {
    /// In one transaction, audited as `actor`'s: stores the run, opens its tickets (a
    /// difference the day holds a ticket for already opens none), clears the day's open
    /// tickets the run no longer finds, and posts the statement's settlement unless it is
    /// posted already — reversing the settlement of another statement of the same day first.
    async fn record_run(&self, run: &NewRun, actor: &Actor) -> Result<Recorded, TxError>;
    async fn run_record(&self, id: &str) -> Result<Option<StoredRun>, TxError>;
    /// Up to `limit` tickets matching `filter`, newest first.
    async fn tickets(&self, filter: &TicketFilter, limit: u32) -> Result<Vec<Ticket>, TxError>;
    async fn ticket(&self, id: &str) -> Result<Option<Ticket>, TxError>;
    /// `OPEN → RESOLVED` with `note`, by `actor`, audited; refused with
    /// [`TxError::StatusChanged`] when the ticket is no longer open.
    async fn resolve_ticket(
        &self,
        id: &str,
        note: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Ticket, TxError>;
    /// Every channel day whose latest run was clean.
    async fn clean_days(&self) -> Result<Vec<(String, NaiveDate)>, TxError>;
    /// Takes the claim `name` for `holder` until `until`, unless another holds it past `now`
    /// or it is done; whether it was taken. One replica of many gets it.
    async fn claim_job(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, TxError>;
    /// Marks `holder`'s claim `name` done: never taken again.
    async fn finish_job(&self, name: &str, holder: &str, at: DateTime<Utc>) -> Result<(), TxError>;
    /// The journals of `channel`'s `date` ([`super::settlement::belongs_to_day`]).
    async fn day_journals(
        &self,
        channel: &str,
        date: NaiveDate,
    ) -> Result<Vec<crate::ledger::Journal>, TxError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_trimmed_and_must_say_something() {
        assert_eq!(
            resolution_note("  refunded by hand\n").expect("note"),
            "refunded by hand"
        );
        for blank in ["", "   ", "\u{3000}\t", "\u{feff}"] {
            assert!(resolution_note(blank).is_err(), "{blank:?}");
        }
        // Not whitespace to the API document's patterns: a note.
        assert!(resolution_note("\u{85}").is_ok());
        assert!(resolution_note(&"x".repeat(MAX_NOTE_CHARS)).is_ok());
        assert!(resolution_note(&"x".repeat(MAX_NOTE_CHARS + 1)).is_err());
    }
}
