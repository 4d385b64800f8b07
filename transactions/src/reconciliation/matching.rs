//! Matching a channel's statement against our payment book: every statement row of a payment
//! or refund is paired with what we recorded, by our id at the channel when the statement
//! carries it, else by the channel's transaction id, and every disagreement becomes a
//! [`Difference`] of one kind. Pure: the caller reads the rows and the book, stores the result.
//!
//! - `missing_local`: the channel moved money we have no record of;
//! - `missing_channel`: we captured or refunded and the statement does not show it, once the
//!   channel's settlement delay has passed (before that it is only pending, not a difference);
//! - `amount_mismatch`, `currency_mismatch`: the same movement for another amount;
//! - `status_mismatch`: the channel moved money for a payment or refund we hold as not done
//!   (failed, or still processing);
//! - `fee_unexpected`: the fee is not the channel's schedule applied to the amount.

use std::future::Future as _;

use arbiter_engine::money::Money;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use super::statement::StatementRow;

/// What our book says was moved through a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookEntry {
    pub kind: BookKind,
    /// Our id at the channel: the payment's or the refund's channel id.
    pub our_ref: String,
    /// The channel's own id for it, when we hold one.
    pub channel_txn_id: Option<String>,
    /// Signed as the channel books it: a refund negative.
    pub amount: Money,
    /// Whether we hold it as done (a payment succeeded, a refund succeeded).
    pub done: bool,
    /// When we recorded it done (or created it, when not done).
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookKind {
    Capture,
    Refund,
}

/// A channel's fee schedule: `rate` of the amount plus `fixed`, rounded half away from zero to
/// the currency's minor unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeSchedule {
    pub rate: Decimal,
    pub fixed: Decimal,
    /// Whether a refund gives back the rate's part of the fee on the refunded amount (Alipay
    /// and WeChat Pay do; the card acquirer keeps its fee).
    pub returned_on_refund: bool,
}

impl FeeSchedule {
    /// `channel`'s schedule as an operator writes it, `RATE[+FIXED]`: `0.029+0.30` is 2.9 %
    /// plus 0.30, `0.006` is 0.6 %. The rate is a fraction below 1, the fixed part in major
    /// units; neither negative. Alipay's and WeChat Pay's refunds give their fee back.
    pub fn parse(channel: &str, text: &str) -> Result<FeeSchedule, String> {
        let (rate, fixed) = text.split_once('+').unwrap_or((text, "0"));
        let number = |part: &str, what: &str| {
            part.trim()
                .parse::<Decimal>()
                .ok()
                .filter(|d| !d.is_sign_negative())
                .ok_or_else(|| format!("`{text}`: the {what} is not a non-negative number"))
        };
        let (rate, fixed) = (number(rate, "rate")?, number(fixed, "fixed part")?);
        if rate >= Decimal::ONE {
            return Err(format!(
                "`{text}`: the rate is a fraction (0.029 for 2.9 %)"
            ));
        }
        Ok(FeeSchedule {
            rate,
            fixed,
            returned_on_refund: matches!(channel, "alipay" | "wechat"),
        })
    }

    /// The fee on `gross`. A refund (negative gross) costs nothing, or — where the channel
    /// gives its fee back — the negated rate's part of the refunded amount.
    pub fn fee(&self, gross: &Money) -> Money {
        let exponent = gross.exponent();
        let round =
            |d: Decimal| d.round_dp_with_strategy(exponent, RoundingStrategy::MidpointAwayFromZero);
        let amount = if !gross.amount.is_sign_negative() {
            round(gross.amount * self.rate + self.fixed)
        } else if self.returned_on_refund {
            -round(-gross.amount * self.rate)
        } else {
            Decimal::ZERO
        };
        Money {
            amount,
            currency: gross.currency,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DifferenceKind {
    MissingLocal,
    MissingChannel,
    AmountMismatch,
    CurrencyMismatch,
    StatusMismatch,
    FeeUnexpected,
}

impl DifferenceKind {
    pub const ALL: [DifferenceKind; 6] = [
        DifferenceKind::MissingLocal,
        DifferenceKind::MissingChannel,
        DifferenceKind::AmountMismatch,
        DifferenceKind::CurrencyMismatch,
        DifferenceKind::StatusMismatch,
        DifferenceKind::FeeUnexpected,
    ];

    /// [`DifferenceKind::as_str`] read back.
    pub fn parse(text: &str) -> Option<DifferenceKind> {
        DifferenceKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DifferenceKind::MissingLocal => "missing_local",
            DifferenceKind::MissingChannel => "missing_channel",
            DifferenceKind::AmountMismatch => "amount_mismatch",
            DifferenceKind::CurrencyMismatch => "currency_mismatch",
            DifferenceKind::StatusMismatch => "status_mismatch",
            DifferenceKind::FeeUnexpected => "fee_unexpected",
        }
    }
}

/// One disagreement between the statement and the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: DifferenceKind,
    /// Our id at the channel, or the channel's id when we have no record.
    pub reference: String,
    /// The statement's line, when a row is involved.
    pub line: Option<usize>,
    /// What the channel says and what we say, in words a reviewer reads.
    pub detail: String,
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Payment and refund rows read (fees, payouts and other rows are not matched here).
    pub rows: usize,
    pub matched: usize,
    /// Book entries not yet due on the statement (inside the settlement delay).
    pub pending: usize,
    pub differences: Vec<Difference>,
}

impl Outcome {
    /// Differences per row matched or not: the design's goal is below 1 in 10,000.
    pub fn difference_rate(&self) -> f64 {
        if self.rows == 0 {
            return 0.0;
        }
        self.differences.len() as f64 / self.rows as f64
    }
}

/// What to match and how.
pub struct Run<'a> {
    pub rows: &'a [StatementRow],
    pub book: &'a [BookEntry],
    /// The statement's end: book entries done before `until - settlement_delay` must be on it.
    pub until: DateTime<Utc>,
    pub settlement_delay: Duration,
    pub fees: Option<&'a FeeSchedule>,
}

/// Matches the statement against the book, in memory: both sorted by our id and merged as the
/// stores' cursors are ([`super::merge`]).
pub fn reconcile(run: &Run<'_>) -> Outcome {
    let mut rows = run.rows.to_vec();
    rows.sort_by(|a, b| a.our_ref.cmp(&b.our_ref));
    let mut book = run.book.to_vec();
    book.sort_by(|a, b| a.our_ref.cmp(&b.our_ref));
    let params = super::merge::Params {
        until: run.until,
        settlement_delay: run.settlement_delay,
        fees: run.fees.cloned(),
    };
    let mut tally = super::settlement::Tally::default();
    let (mut rows, mut book) = (
        super::merge::InOrder(rows.into_iter()),
        super::merge::InOrder(book.into_iter()),
    );
    let merged = super::merge::reconcile_sorted(&mut rows, &mut book, &params, &mut tally);
    // Sorted lists never wait: the merge completes on its first poll.
    let mut merged = std::pin::pin!(merged);
    match merged
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(Ok(outcome)) => outcome,
        std::task::Poll::Ready(Err(e)) => unreachable!("a list does not fail: {e}"),
        std::task::Poll::Pending => unreachable!("a list does not wait"),
    }
}

/// What one statement row and the book entry it names say together: the differences found,
/// none when they agree.
pub(super) fn compare(
    row: &StatementRow,
    entry: &BookEntry,
    fees: Option<&FeeSchedule>,
) -> Vec<Difference> {
    let mut found = Vec::new();
    let differ = |kind, detail: String| Difference {
        kind,
        reference: entry.our_ref.clone(),
        line: Some(row.line),
        detail,
    };
    if row.gross.currency != entry.amount.currency {
        found.push(differ(
            DifferenceKind::CurrencyMismatch,
            format!(
                "the channel says {}, we say {}",
                row.gross.currency.code(),
                entry.amount.currency.code()
            ),
        ));
    } else if row.gross.amount != entry.amount.amount {
        found.push(differ(
            DifferenceKind::AmountMismatch,
            format!(
                "the channel says {}, we say {} {}",
                row.gross.amount,
                entry.amount.amount,
                entry.amount.currency.code()
            ),
        ));
    }
    if !entry.done {
        found.push(differ(
            DifferenceKind::StatusMismatch,
            "the channel moved the money; we hold it as not done".into(),
        ));
    }
    if let Some(schedule) = fees {
        let want = schedule.fee(&row.gross);
        if row.fee != want {
            found.push(differ(
                DifferenceKind::FeeUnexpected,
                format!(
                    "a fee of {}, the schedule says {}",
                    row.fee.amount, want.amount
                ),
            ));
        }
    }
    found
}

/// The channel moved money we have no record of.
pub(super) fn missing_local(row: &StatementRow, detail: &str) -> Difference {
    Difference {
        kind: DifferenceKind::MissingLocal,
        reference: row
            .our_ref
            .clone()
            .unwrap_or_else(|| row.channel_txn_id.clone()),
        line: Some(row.line),
        detail: format!(
            "the channel moved {} {} ({}) {detail}",
            row.gross.amount,
            row.gross.currency.code(),
            row.id
        ),
    }
}

/// We moved money the statement does not show.
pub(super) fn missing_channel(entry: &BookEntry) -> Difference {
    Difference {
        kind: DifferenceKind::MissingChannel,
        reference: entry.our_ref.clone(),
        line: None,
        detail: format!(
            "we {} {} {} at {}; the statement does not show it",
            match entry.kind {
                BookKind::Capture => "captured",
                BookKind::Refund => "refunded",
            },
            entry.amount.amount,
            entry.amount.currency.code(),
            entry.at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
    }
}

#[cfg(test)]
mod tests;
