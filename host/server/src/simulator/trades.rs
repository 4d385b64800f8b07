//! The simulated channels' book of trades: what a channel holds about each payment it was
//! asked to create — amount, where to notify, paid or closed, its refunds — in memory, as the
//! state its answers and notifications are made from. Every move follows the channel's rules:
//! only a waiting trade is paid or closed, a refund needs a paid trade and fits in what is
//! left, and a repeated refund request is the same refund.

use std::collections::HashMap;
use std::sync::Mutex;

use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeStatus {
    /// Created; the buyer has not paid.
    Waiting,
    Paid,
    /// Closed unpaid.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    pub amount: Money,
    pub notify_url: String,
    pub subject: String,
    pub status: TradeStatus,
    /// The channel's own transaction number.
    pub trade_no: String,
    pub refunds: Vec<SimRefund>,
    /// When the buyer paid.
    pub paid_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRefund {
    /// The merchant's refund number (`out_request_no`, `out_refund_no`).
    pub number: String,
    pub amount: Money,
    /// When the channel took it.
    pub at: DateTime<Utc>,
}

/// What a close found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    NoSuchTrade,
    Closed,
    /// Paid: a paid trade is not closed.
    AlreadyPaid,
}

/// What a refund request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refunded {
    NoSuchTrade,
    NotPaid,
    /// More than what is left of the trade.
    Exceeds,
    /// Taken now.
    New(SimRefund),
    /// The same number again: the refund taken before.
    Repeat(SimRefund),
}

#[derive(Default)]
pub struct Trades {
    trades: Mutex<HashMap<String, Trade>>,
}

impl Trades {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Trade>) -> T) -> T {
        // A panic while holding the lock leaves the map as it was between two whole moves.
        let mut trades = self
            .trades
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut trades)
    }

    /// Opens trade `number`, or returns it when it exists with the same amount (a retried
    /// create); `None` when it exists with another amount.
    pub fn open(
        &self,
        number: &str,
        amount: Money,
        notify_url: &str,
        subject: &str,
    ) -> Option<Trade> {
        self.with(|trades| {
            let trade = trades.entry(number.to_owned()).or_insert_with(|| Trade {
                amount,
                notify_url: notify_url.to_owned(),
                subject: subject.to_owned(),
                status: TradeStatus::Waiting,
                trade_no: format!("SIM{}", uuid::Uuid::now_v7().simple()),
                refunds: Vec::new(),
                paid_at: None,
            });
            (trade.amount == amount).then(|| trade.clone())
        })
    }

    pub fn get(&self, number: &str) -> Option<Trade> {
        self.with(|trades| trades.get(number).cloned())
    }

    /// The buyer paid (`true`) or the trade timed out unpaid (`false`); the trade after it,
    /// unchanged when it was no longer waiting.
    pub fn settle(&self, number: &str, paid: bool) -> Option<Trade> {
        self.with(|trades| {
            let trade = trades.get_mut(number)?;
            if trade.status == TradeStatus::Waiting {
                trade.status = if paid {
                    trade.paid_at = Some(Utc::now());
                    TradeStatus::Paid
                } else {
                    TradeStatus::Closed
                };
            }
            Some(trade.clone())
        })
    }

    pub fn close(&self, number: &str) -> Closed {
        self.with(|trades| match trades.get_mut(number) {
            None => Closed::NoSuchTrade,
            Some(t) if t.status == TradeStatus::Paid => Closed::AlreadyPaid,
            Some(t) => {
                t.status = TradeStatus::Closed;
                Closed::Closed
            }
        })
    }

    pub fn refund(&self, number: &str, refund_number: &str, amount: Money) -> Refunded {
        self.with(|trades| {
            let Some(trade) = trades.get_mut(number) else {
                return Refunded::NoSuchTrade;
            };
            if let Some(r) = trade.refunds.iter().find(|r| r.number == refund_number) {
                return Refunded::Repeat(r.clone());
            }
            if trade.status != TradeStatus::Paid {
                return Refunded::NotPaid;
            }
            let refunded = trade
                .refunds
                .iter()
                .try_fold(Money::zero(trade.amount.currency), |sum, r| {
                    sum.checked_add(&r.amount)
                });
            let left = refunded.and_then(|r| trade.amount.checked_sub(&r));
            if amount.currency != trade.amount.currency
                || left.is_none_or(|left| amount.amount > left.amount)
            {
                return Refunded::Exceeds;
            }
            let refund = SimRefund {
                number: refund_number.to_owned(),
                amount,
                at: Utc::now(),
            };
            trade.refunds.push(refund.clone());
            Refunded::New(refund)
        })
    }

    pub fn refund_of(&self, number: &str, refund_number: &str) -> Option<SimRefund> {
        self.with(|trades| {
            trades
                .get(number)?
                .refunds
                .iter()
                .find(|r| r.number == refund_number)
                .cloned()
        })
    }

    /// Every trade by its number: what a statement is written from.
    pub fn all(&self) -> Vec<(String, Trade)> {
        self.with(|trades| {
            trades
                .iter()
                .map(|(number, t)| (number.clone(), t.clone()))
                .collect()
        })
    }

    /// The trade a refund number belongs to, and the refund.
    pub fn find_refund(&self, refund_number: &str) -> Option<(String, Trade, SimRefund)> {
        self.with(|trades| {
            trades.iter().find_map(|(number, t)| {
                let r = t.refunds.iter().find(|r| r.number == refund_number)?;
                Some((number.clone(), t.clone(), r.clone()))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;

    fn cny(fen: i64) -> Money {
        Money::from_minor_units(fen, Currency::CNY)
    }

    #[test]
    fn a_trade_is_paid_or_closed_once_and_refunded_within_what_was_paid() {
        let trades = Trades::default();
        assert!(trades.open("t1", cny(1000), "http://n", "s").is_some());
        assert!(
            trades.open("t1", cny(1000), "http://n", "s").is_some(),
            "a retry"
        );
        assert!(
            trades.open("t1", cny(999), "http://n", "s").is_none(),
            "another amount"
        );
        assert_eq!(trades.refund("t1", "r1", cny(100)), Refunded::NotPaid);
        assert_eq!(
            trades.settle("t1", true).map(|t| t.status),
            Some(TradeStatus::Paid)
        );
        assert_eq!(
            trades.settle("t1", false).map(|t| t.status),
            Some(TradeStatus::Paid)
        );
        assert_eq!(trades.close("t1"), Closed::AlreadyPaid);
        assert!(matches!(
            trades.refund("t1", "r1", cny(600)),
            Refunded::New(_)
        ));
        assert!(matches!(
            trades.refund("t1", "r1", cny(600)),
            Refunded::Repeat(_)
        ));
        assert_eq!(trades.refund("t1", "r2", cny(401)), Refunded::Exceeds);
        assert!(matches!(
            trades.refund("t1", "r2", cny(400)),
            Refunded::New(_)
        ));
        assert_eq!(trades.close("nope"), Closed::NoSuchTrade);
        assert!(trades.open("t2", cny(5), "http://n", "s").is_some());
        assert_eq!(trades.close("t2"), Closed::Closed);
        assert_eq!(
            trades.settle("t2", true).map(|t| t.status),
            Some(TradeStatus::Closed)
        );
    }
}
