//! The double-entry ledger: accounts, journals whose entries sum to zero per currency, and the
//! `check` that re-verifies what a store holds. A [`Journal`] can only be built balanced; a
//! store writes it in the same database transaction as the state change that causes it.
//!
//! Sign convention: an entry's amount is positive for a debit and negative for a credit, so an
//! account's balance is the plain sum of its entries.

use std::collections::BTreeMap;
use std::fmt;

use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::TxError;
use crate::ids::JournalId;

/// A ledger account, such as `revenue` or `channel_clearing:card`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Account(pub String);

impl Account {
    /// What we hold for customers: paid for, not yet earned.
    pub fn customer_funds() -> Account {
        Account("customer_funds".into())
    }
    /// Money the channel owes us (captured, not yet settled to our bank).
    pub fn channel_clearing(channel: &str) -> Account {
        Account(format!("channel_clearing:{channel}"))
    }
    /// Earned on fulfilment.
    pub fn revenue() -> Account {
        Account("revenue".into())
    }
    /// Refunds promised to customers and not yet paid out by the channel.
    pub fn refunds_payable() -> Account {
        Account("refunds_payable".into())
    }
    /// What the channels charged us (their fees on our statements).
    pub fn channel_fees() -> Account {
        Account("channel_fees".into())
    }
    /// Our bank account: where the channels pay out.
    pub fn bank() -> Account {
        Account("bank".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One line of a journal: a debit (positive) or credit (negative) to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub account: Account,
    pub amount: Money,
}

impl Entry {
    pub fn debit(account: Account, amount: Money) -> Entry {
        Entry { account, amount }
    }
    pub fn credit(account: Account, amount: Money) -> Entry {
        Entry {
            account,
            amount: amount.negated(),
        }
    }
}

/// A balanced set of entries: for every currency, the entries sum to zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    id: JournalId,
    /// What caused it (`payment.captured`, `refund.succeeded`), for reading the ledger.
    kind: String,
    /// The id of the causing object (a payment or refund id).
    reference: String,
    entries: Vec<Entry>,
    created_at: DateTime<Utc>,
}

impl Journal {
    /// Refuses an unbalanced journal, one with fewer than two entries, a zero entry, or an
    /// amount that is not a whole number of the currency's minor units.
    pub fn new(
        kind: &str,
        reference: &str,
        entries: Vec<Entry>,
        created_at: DateTime<Utc>,
    ) -> Result<Journal, TxError> {
        let invalid = |reason: &str| TxError::InvalidJournal {
            kind: kind.to_owned(),
            reason: reason.to_owned(),
        };
        if entries.len() < 2 {
            return Err(invalid("fewer than two entries"));
        }
        if entries.iter().any(|e| e.amount.amount.is_zero()) {
            return Err(invalid("a zero entry"));
        }
        if entries
            .iter()
            .any(|e| e.amount.checked_minor_units().is_none())
        {
            return Err(invalid("an amount finer than the currency's minor unit"));
        }
        if let Some(currency) = unbalanced_currency(&entries) {
            return Err(TxError::UnbalancedJournal {
                kind: kind.to_owned(),
                currency,
            });
        }
        Ok(Journal {
            id: JournalId::generate(),
            kind: kind.to_owned(),
            reference: reference.to_owned(),
            entries,
            created_at,
        })
    }

    /// A journal read back from storage, re-checked: a stored journal that does not balance is
    /// reported by [`check`], so this does not refuse it.
    pub fn stored(
        id: JournalId,
        kind: String,
        reference: String,
        entries: Vec<Entry>,
        created_at: DateTime<Utc>,
    ) -> Journal {
        Journal {
            id,
            kind,
            reference,
            entries,
            created_at,
        }
    }

    pub fn id(&self) -> &JournalId {
        &self.id
    }
    pub fn kind(&self) -> &str {
        &self.kind
    }
    pub fn reference(&self) -> &str {
        &self.reference
    }
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    pub fn is_balanced(&self) -> bool {
        unbalanced_currency(&self.entries).is_none()
    }

    /// The journal that undoes this one: every entry negated.
    pub fn reversal(&self, kind: &str, at: DateTime<Utc>) -> Result<Journal, TxError> {
        let entries = self
            .entries
            .iter()
            .map(|e| Entry {
                account: e.account.clone(),
                amount: e.amount.negated(),
            })
            .collect();
        Journal::new(kind, &self.reference, entries, at)
    }
}

/// The first currency whose entries do not sum to zero (or overflow), if any.
fn unbalanced_currency(entries: &[Entry]) -> Option<String> {
    let mut sums: BTreeMap<&str, Option<Decimal>> = BTreeMap::new();
    for e in entries {
        let sum = sums
            .entry(e.amount.currency.code())
            .or_insert(Some(Decimal::ZERO));
        *sum = sum.and_then(|s| s.checked_add(e.amount.amount));
    }
    sums.into_iter()
        .find(|(_, sum)| sum.is_none_or(|s| !s.is_zero()))
        .map(|(code, _)| code.to_owned())
}

/// An account's balance in one currency, as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub account: Account,
    pub amount: Money,
}

/// What [`check`] found wrong; empty when the ledger is sound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub journals: usize,
    pub unbalanced_journals: Vec<JournalId>,
    /// Accounts whose kept balance differs from the sum of their entries:
    /// (account, currency, kept, summed).
    pub mismatched_balances: Vec<(Account, String, Decimal, Decimal)>,
}

impl CheckReport {
    pub fn is_sound(&self) -> bool {
        self.unbalanced_journals.is_empty() && self.mismatched_balances.is_empty()
    }
}

/// Verifies that every journal balances and every kept balance equals the sum of its entries
/// (an account with entries but no kept balance counts as kept zero, and the reverse).
pub fn check(journals: &[Journal], balances: &[Balance]) -> CheckReport {
    let mut summed: BTreeMap<(Account, String), Decimal> = BTreeMap::new();
    let mut report = CheckReport {
        journals: journals.len(),
        ..CheckReport::default()
    };
    for j in journals {
        if !j.is_balanced() {
            report.unbalanced_journals.push(j.id.clone());
        }
        for e in &j.entries {
            let key = (e.account.clone(), e.amount.currency.code().to_owned());
            let sum = summed.entry(key).or_insert(Decimal::ZERO);
            *sum = sum.saturating_add(e.amount.amount);
        }
    }
    let mut kept: BTreeMap<(Account, String), Decimal> = BTreeMap::new();
    for b in balances {
        kept.insert(
            (b.account.clone(), b.amount.currency.code().to_owned()),
            b.amount.amount,
        );
    }
    let keys: std::collections::BTreeSet<_> = summed.keys().chain(kept.keys()).cloned().collect();
    for key in keys {
        let s = summed.get(&key).copied().unwrap_or(Decimal::ZERO);
        let k = kept.get(&key).copied().unwrap_or(Decimal::ZERO);
        if s != k {
            report.mismatched_balances.push((key.0, key.1, k, s));
        }
    }
    report
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
