//! One row of a channel's statement, whatever the channel, and why a statement is refused.

use std::collections::HashSet;

use arbiter_engine::money::Money;
use chrono::{DateTime, NaiveDateTime, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;

use crate::channels::BEIJING;

/// What a statement row records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    /// Money captured from a buyer.
    Payment,
    /// Money returned to a buyer.
    Refund,
    /// The channel's fee on its own row (the card channel's `stripe_fee`).
    Fee,
    /// Money paid out to the merchant's bank.
    Payout,
    /// Anything else the channel books (adjustments, disputes), by the channel's own name.
    Other(String),
}

impl RowKind {
    /// As stored: `payment`, `refund`, `fee`, `payout`, or `other:<the channel's name>`.
    pub fn stored(&self) -> String {
        match self {
            RowKind::Payment => "payment".into(),
            RowKind::Refund => "refund".into(),
            RowKind::Fee => "fee".into(),
            RowKind::Payout => "payout".into(),
            RowKind::Other(name) => format!("other:{name}"),
        }
    }

    /// [`RowKind::stored`] read back; `None` for text it never writes.
    pub fn from_stored(text: &str) -> Option<RowKind> {
        Some(match text {
            "payment" => RowKind::Payment,
            "refund" => RowKind::Refund,
            "fee" => RowKind::Fee,
            "payout" => RowKind::Payout,
            other => RowKind::Other(other.strip_prefix("other:")?.to_owned()),
        })
    }
}

/// One row, channel-neutral. Amounts are signed as the channel books them: a refund's gross
/// is negative, a fee is positive and taken from the gross (`net = gross - fee`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRow {
    /// The line of the file the row was read from (1-based), for every later message.
    pub line: usize,
    /// The channel's id of this row: unique within a statement.
    pub id: String,
    pub kind: RowKind,
    /// The channel's id of what the row is about (the charge or payment intent, the trade).
    pub channel_txn_id: String,
    /// Our id at the channel, when the statement carries it (`out_trade_no`, a refund's
    /// `out_refund_no`).
    pub our_ref: Option<String>,
    pub gross: Money,
    pub fee: Money,
    pub net: Money,
    pub at: DateTime<Utc>,
}

/// Why a statement was refused: the line (1-based; 0 for the file as a whole) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", if *line == 0 { "the file".to_owned() } else { format!("line {line}") })]
pub struct StatementError {
    pub line: usize,
    pub problem: String,
}

impl StatementError {
    pub fn at(line: usize, problem: impl Into<String>) -> StatementError {
        StatementError {
            line,
            problem: problem.into(),
        }
    }

    pub fn file(problem: impl Into<String>) -> StatementError {
        StatementError::at(0, problem)
    }
}

/// Most rows one statement may hold: a day of a busy channel is far below it; a file beyond it
/// is refused rather than read into memory.
pub const MAX_ROWS: usize = 2_000_000;

/// `text` as an amount of `currency` written in major units with exactly the currency's
/// decimals (`12.30` for EUR, `1230` for JPY); a leading `-` allowed.
pub fn major_units(text: &str, currency: Currency) -> Result<Money, String> {
    let exponent = u32::from(currency.exponent().unwrap_or(0));
    let amount: Decimal = text
        .parse()
        .map_err(|_| format!("`{text}` is not an amount"))?;
    if amount.scale() != exponent {
        return Err(format!(
            "`{text}` has {} decimals, {} takes {exponent}",
            amount.scale(),
            currency.code()
        ));
    }
    Ok(Money { amount, currency })
}

/// Refuses a statement whose row ids repeat, naming the second line.
pub fn unique_ids(rows: &[StatementRow]) -> Result<(), StatementError> {
    let mut seen = HashSet::with_capacity(rows.len());
    for row in rows {
        if !seen.insert(row.id.as_str()) {
            return Err(StatementError::at(
                row.line,
                format!("the id `{}` appears twice", row.id),
            ));
        }
    }
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time (how both Chinese channels write their bills), as UTC.
pub fn beijing_time(text: &str) -> Result<DateTime<Utc>, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .and_then(|t| t.and_local_timezone(BEIJING).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("`{text}` is not `YYYY-MM-DD HH:MM:SS`"))
}

/// What a reader found on one line; [`Booked::row`] adds the net.
pub struct Booked<'a> {
    pub line: usize,
    pub id: String,
    pub kind: RowKind,
    pub channel_txn_id: String,
    /// Our id as written; empty when the line has none.
    pub our_ref: &'a str,
    pub gross: Money,
    pub fee: Money,
    pub at: DateTime<Utc>,
}

impl Booked<'_> {
    /// The row, its net the gross less the fee.
    pub fn row(self) -> Result<StatementRow, StatementError> {
        let net = self
            .gross
            .checked_sub(&self.fee)
            .ok_or_else(|| StatementError::at(self.line, "the amounts overflow"))?;
        Ok(StatementRow {
            line: self.line,
            id: self.id,
            kind: self.kind,
            channel_txn_id: self.channel_txn_id,
            our_ref: Some(self.our_ref.to_owned()).filter(|r| !r.is_empty()),
            gross: self.gross,
            fee: self.fee,
            net,
            at: self.at,
        })
    }
}
