//! The run as a merge of two sorted sources: the statement's rows and the day's book, each in
//! the order of our id at the channel, walked side by side — so a day of a million rows is
//! matched in one pass holding one row and one entry at a time, whatever the size of either.
//! Only what does not pair by our id is kept (rows without our id, entries without a row): the
//! channel's own id pairs those at the end, and what is left is a difference. In a healthy day
//! that remainder is the differences themselves, a handful.
//!
//! Our ids are unique across payments and refunds (each kind has its own prefix), so an id
//! names at most one book entry.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};

use super::matching::{
    BookEntry, BookKind, FeeSchedule, Outcome, compare, missing_channel, missing_local,
};
use super::settlement::Tally;
use super::statement::{RowKind, StatementRow};
use crate::error::TxError;

/// Items in ascending order of our id (byte order; items without one anywhere), pulled one at
/// a time: a database cursor, or a sorted list.
pub trait Sorted<T>: Send {
    fn pull(&mut self) -> impl Future<Output = Result<Option<T>, TxError>> + Send;
}

/// A sorted list as a [`Sorted`] source.
pub struct InOrder<I>(pub I);

impl<T: Send, I: Iterator<Item = T> + Send> Sorted<T> for InOrder<I> {
    fn pull(&mut self) -> impl Future<Output = Result<Option<T>, TxError>> + Send {
        std::future::ready(Ok(self.0.next()))
    }
}

/// A store's cursor as a [`Sorted`] source.
pub struct Cursor<'a, T>(pub futures_core::stream::BoxStream<'a, Result<T, TxError>>);

impl<T: Send> Sorted<T> for Cursor<'_, T> {
    fn pull(&mut self) -> impl Future<Output = Result<Option<T>, TxError>> + Send {
        std::future::poll_fn(|cx| self.0.as_mut().poll_next(cx).map(Option::transpose))
    }
}

/// How to match.
#[derive(Debug, Clone)]
pub struct Params {
    /// The statement's end: book entries done before `until - settlement_delay` must be on it.
    pub until: DateTime<Utc>,
    pub settlement_delay: Duration,
    pub fees: Option<FeeSchedule>,
}

fn book_kind(row: &StatementRow) -> Option<BookKind> {
    match row.kind {
        RowKind::Payment => Some(BookKind::Capture),
        RowKind::Refund => Some(BookKind::Refund),
        _ => None,
    }
}

/// What the walk does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// A fee, payout or other row: tallied only.
    NotAMovement,
    /// The row's id sorts before the entry's, or it has none: the row is alone.
    RowAlone,
    /// The row and the entry carry the same id of ours.
    SameId,
    /// The entry's id sorts before the row's: nothing more can name it.
    EntryDone,
}

/// The walk's state: the outcome so far and what did not pair by our id.
struct Walk<'p> {
    params: &'p Params,
    outcome: Outcome,
    rows_alone: Vec<StatementRow>,
    entries_alone: Vec<BookEntry>,
}

impl Walk<'_> {
    fn paired(&mut self, row: &StatementRow, entry: &BookEntry) {
        let found = compare(row, entry, self.params.fees.as_ref());
        if found.is_empty() {
            self.outcome.matched += 1;
        }
        self.outcome.differences.extend(found);
    }

    /// Pairs the leftovers by the channel's id; what is still alone is a difference (or, for
    /// an entry inside the settlement delay, pending).
    fn finish(mut self) -> Outcome {
        let mut by_txn: HashMap<&str, usize> = HashMap::new();
        for (i, entry) in self.entries_alone.iter().enumerate() {
            if let Some(txn) = &entry.channel_txn_id {
                by_txn.insert(txn.as_str(), i);
            }
        }
        let mut seen = vec![false; self.entries_alone.len()];
        let mut found = Vec::new();
        let mut matched = 0;
        for row in &self.rows_alone {
            let pair = by_txn
                .get(row.channel_txn_id.as_str())
                .copied()
                .filter(|i| !seen[*i] && Some(self.entries_alone[*i].kind) == book_kind(row));
            match pair {
                Some(i) => {
                    seen[i] = true;
                    let differences =
                        compare(row, &self.entries_alone[i], self.params.fees.as_ref());
                    if differences.is_empty() {
                        matched += 1;
                    }
                    found.extend(differences);
                }
                None => found.push(missing_local(row, "that we have no record of")),
            }
        }
        let due = self.params.until - self.params.settlement_delay;
        for (entry, _) in self.entries_alone.iter().zip(&seen).filter(|(_, s)| !**s) {
            if !entry.done {
                continue;
            }
            if entry.at >= due {
                self.outcome.pending += 1;
            } else {
                found.push(missing_channel(entry));
            }
        }
        self.outcome.matched += matched;
        self.outcome.differences.extend(found);
        // Row differences in file order, then what the statement lacks by our id.
        self.outcome
            .differences
            .sort_by(|a, b| match (a.line, b.line) {
                (Some(x), Some(y)) => x.cmp(&y).then(a.kind.cmp(&b.kind)),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => a.reference.cmp(&b.reference),
            });
        self.outcome
    }
}

/// Matches `rows` against `book`, both in ascending order of our id, and tallies every row
/// into `tally` (fees, payouts) on the way.
pub async fn reconcile_sorted(
    rows: &mut impl Sorted<StatementRow>,
    book: &mut impl Sorted<BookEntry>,
    params: &Params,
    tally: &mut Tally,
) -> Result<Outcome, TxError> {
    let mut walk = Walk {
        params,
        outcome: Outcome {
            rows: 0,
            matched: 0,
            pending: 0,
            differences: Vec::new(),
        },
        rows_alone: Vec::new(),
        entries_alone: Vec::new(),
    };
    let mut row = rows.pull().await?;
    let mut entry = book.pull().await?;
    // Whether the current entry has its row already: a second row for it is money moved twice.
    let mut entry_paired = false;
    loop {
        let step = match (&row, &entry) {
            (None, None) => break,
            (Some(r), _) if book_kind(r).is_none() => Step::NotAMovement,
            (Some(r), Some(e)) => match &r.our_ref {
                Some(ours) => match ours.as_str().cmp(e.our_ref.as_str()) {
                    Ordering::Less => Step::RowAlone,
                    Ordering::Equal => Step::SameId,
                    Ordering::Greater => Step::EntryDone,
                },
                None => Step::RowAlone,
            },
            (Some(_), None) => Step::RowAlone,
            (None, Some(_)) => Step::EntryDone,
        };
        if step == Step::EntryDone {
            if let Some(e) = entry.take()
                && !entry_paired
            {
                walk.entries_alone.push(e);
            }
            entry_paired = false;
            entry = book.pull().await?;
            continue;
        }
        let Some(r) = row.take() else { break };
        tally.add(&r);
        match (step, entry.as_ref()) {
            (Step::NotAMovement, _) => {}
            (Step::SameId, Some(e)) if Some(e.kind) == book_kind(&r) => {
                walk.outcome.rows += 1;
                if entry_paired {
                    walk.outcome.differences.push(missing_local(
                        &r,
                        "a second time for the same movement of ours",
                    ));
                } else {
                    walk.paired(&r, e);
                    entry_paired = true;
                }
            }
            // No id of ours, one the book does not hold, or ours of another kind (a refund
            // row naming the payment): left for the channel's id.
            _ => {
                walk.outcome.rows += 1;
                walk.rows_alone.push(r);
            }
        }
        row = rows.pull().await?;
    }
    Ok(walk.finish())
}

#[cfg(test)]
mod tests;
