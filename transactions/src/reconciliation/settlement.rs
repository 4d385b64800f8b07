//! A statement day in the ledger: what the channel kept (its fees) and what it paid out, posted
//! against `channel_clearing:<channel>` — the account captures debit and refunds credit — so
//! that after a clean day the channel owes us nothing for that day. And the day read back from
//! the ledger: the clearing account's remainder and the day's profit and loss.
//!
//! - fees: `Dr channel_fees / Cr channel_clearing:<channel>` (a day whose refunds gave back more
//!   fees than its payments cost posts the other way);
//! - payout: `Dr bank / Cr channel_clearing:<channel>`. The card statement carries its payouts
//!   as rows; Alipay's and WeChat Pay's trade bills carry none — those channels settle the day's
//!   net (its payments less refunds and fees) to the merchant's account the next day, so that
//!   net is the day's payout.
//!
//! Every settlement journal's reference is `<channel>:<date>:<statement id>`: the day it belongs
//! to, whenever it is posted, and the statement it was read from, so a corrected statement of
//! the same day reverses exactly the journals of the one it replaces.

use std::collections::BTreeMap;

use arbiter_engine::money::Money;
use chrono::{DateTime, NaiveDate, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;

use super::day::window;
use super::statement::{RowKind, StatementRow};
use crate::error::TxError;
use crate::ledger::{Account, Entry, Journal};

/// Journal kinds a settlement posts; their reversals add `.reversed`.
pub const FEES_KIND: &str = "statement.fees";
pub const PAYOUT_KIND: &str = "statement.payout";
const SETTLEMENT_PREFIX: &str = "statement.";

/// What a statement says the channel kept and paid out, per currency (positive amounts are
/// money leaving the clearing account).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settlement {
    pub fees: BTreeMap<Currency, Decimal>,
    pub payouts: BTreeMap<Currency, Decimal>,
}

impl Settlement {
    /// Reads the fees and payouts of a statement's rows. A row of another kind (an adjustment,
    /// a dispute) is not settled here: it leaves the day's clearing short, for a person to book.
    pub fn of(channel: &str, rows: &[StatementRow]) -> Settlement {
        let mut tally = Tally::default();
        for row in rows {
            tally.add(row);
        }
        tally.settlement(channel)
    }

    /// The journals that post it, dated `at`: one for the fees and one for the payouts, each
    /// with an entry pair per currency; none for what is zero.
    pub fn journals(&self, reference: &str, at: DateTime<Utc>) -> Result<Vec<Journal>, TxError> {
        let clearing = clearing_account(reference);
        let mut journals = Vec::new();
        for (kind, amounts, debited) in [
            (FEES_KIND, &self.fees, Account::channel_fees()),
            (PAYOUT_KIND, &self.payouts, Account::bank()),
        ] {
            let entries: Vec<Entry> = amounts
                .iter()
                .flat_map(|(currency, amount)| {
                    let money = Money {
                        amount: *amount,
                        currency: *currency,
                    };
                    [
                        Entry::debit(debited.clone(), money),
                        Entry::credit(clearing.clone(), money),
                    ]
                })
                .collect();
            if !entries.is_empty() {
                journals.push(Journal::new(kind, reference, entries, at)?);
            }
        }
        Ok(journals)
    }
}

/// A statement's fees and payouts summed row by row, as a run reads the rows in a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    fees: BTreeMap<Currency, Decimal>,
    payouts: BTreeMap<Currency, Decimal>,
    /// The payments' and refunds' net: the payout of a channel whose statement has none.
    movements_net: BTreeMap<Currency, Decimal>,
    has_payouts: bool,
}

impl Tally {
    pub fn add(&mut self, row: &StatementRow) {
        let currency = row.gross.currency;
        let add = |map: &mut BTreeMap<Currency, Decimal>, amount: Decimal| {
            *map.entry(currency).or_default() += amount;
        };
        match row.kind {
            RowKind::Payment | RowKind::Refund => {
                add(&mut self.fees, row.fee.amount);
                add(&mut self.movements_net, row.net.amount);
            }
            // A fee on its own row is money taken from the balance: its amount is negative.
            RowKind::Fee => add(&mut self.fees, row.fee.amount - row.gross.amount),
            RowKind::Payout => {
                self.has_payouts = true;
                add(&mut self.payouts, -row.gross.amount);
            }
            RowKind::Other(_) => {}
        }
    }

    /// What `channel`'s statement settles: its payout rows, or — for Alipay's and WeChat Pay's
    /// bills, which carry none — the day's net.
    pub fn settlement(mut self, channel: &str) -> Settlement {
        if !self.has_payouts && channel != "card" {
            self.payouts = std::mem::take(&mut self.movements_net);
        }
        self.fees.retain(|_, amount| !amount.is_zero());
        self.payouts.retain(|_, amount| !amount.is_zero());
        Settlement {
            fees: self.fees,
            payouts: self.payouts,
        }
    }
}

/// The reference of a settlement: `<channel>:<date>:<statement id>`.
pub fn reference(channel: &str, date: NaiveDate, statement_id: &str) -> String {
    format!("{channel}:{}:{statement_id}", date.format("%Y-%m-%d"))
}

/// What every settlement reference of `channel`'s `date` starts with.
pub fn day_prefix(channel: &str, date: NaiveDate) -> String {
    format!("{channel}:{}:", date.format("%Y-%m-%d"))
}

fn clearing_account(reference: &str) -> Account {
    Account::channel_clearing(reference.split(':').next().unwrap_or_default())
}

/// Undoes a settlement's journals (a corrected statement of the same day replaces it).
pub fn reversals(posted: &[Journal], at: DateTime<Utc>) -> Result<Vec<Journal>, TxError> {
    posted
        .iter()
        .filter(|j| !j.kind().ends_with(".reversed"))
        .map(|j| j.reversal(&format!("{}.reversed", j.kind()), at))
        .collect()
}

/// Whether `journal` is a settlement journal of `channel`'s `date`, or one of the day's captures
/// and refunds (a journal touching the channel's clearing account dated inside the day).
pub fn belongs_to_day(journal: &Journal, channel: &str, date: NaiveDate) -> bool {
    if journal.kind().starts_with(SETTLEMENT_PREFIX) {
        return journal.reference().starts_with(&day_prefix(channel, date));
    }
    let (from, to) = window(channel, date);
    let clearing = Account::channel_clearing(channel);
    (from..to).contains(&journal.created_at())
        && journal.entries().iter().any(|e| e.account == clearing)
}

/// One currency of a channel's day, as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayResult {
    pub currency: Currency,
    /// Debited to the clearing account by captures.
    pub captured: Decimal,
    /// Credited to it by refunds.
    pub refunded: Decimal,
    /// The channel's fees (net of reversals and fees given back).
    pub fees: Decimal,
    /// Paid out to the bank.
    pub paid_out: Decimal,
    /// `captured - refunded - fees`.
    pub net_revenue: Decimal,
    /// What the channel still owes for the day: zero once a clean day is settled.
    pub clearing: Decimal,
}

/// The day's results per currency from its journals ([`belongs_to_day`]); a currency whose
/// postings all cancel out is left out.
pub fn day_results(journals: &[Journal], channel: &str, date: NaiveDate) -> Vec<DayResult> {
    let clearing = Account::channel_clearing(channel);
    let mut by_currency: BTreeMap<Currency, DayResult> = BTreeMap::new();
    for journal in journals.iter().filter(|j| belongs_to_day(j, channel, date)) {
        let settlement = journal.kind().starts_with(SETTLEMENT_PREFIX);
        for entry in journal.entries() {
            let currency = entry.amount.currency;
            let line = by_currency.entry(currency).or_insert(DayResult {
                currency,
                captured: Decimal::ZERO,
                refunded: Decimal::ZERO,
                fees: Decimal::ZERO,
                paid_out: Decimal::ZERO,
                net_revenue: Decimal::ZERO,
                clearing: Decimal::ZERO,
            });
            let amount = entry.amount.amount;
            if entry.account == clearing {
                line.clearing += amount;
                if !settlement && amount.is_sign_positive() {
                    line.captured += amount;
                } else if !settlement {
                    line.refunded -= amount;
                }
            } else if settlement && entry.account == Account::channel_fees() {
                line.fees += amount;
            } else if settlement && entry.account == Account::bank() {
                line.paid_out += amount;
            }
        }
    }
    by_currency
        .into_values()
        .map(|mut line| {
            line.net_revenue = line.captured - line.refunded - line.fees;
            line
        })
        // A currency whose postings cancel out (a settlement reversed) says nothing.
        .filter(|line| {
            [
                line.captured,
                line.refunded,
                line.fees,
                line.paid_out,
                line.clearing,
            ]
            .iter()
            .any(|d| !d.is_zero())
        })
        .collect()
}

#[cfg(test)]
mod tests;
