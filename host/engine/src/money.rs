//! Money: an exact decimal amount with an ISO 4217 currency, never a float.

use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::RequestError;

mod amount;
pub mod reporting;

pub use amount::MAX_AMOUNT_INTEGER_DIGITS;
pub use reporting::{RateTable, RateTableWire, ReportingAmount};

/// An amount of one currency. `amount` never has more decimals than the currency allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

/// The wire shape: `{"value": "129.99", "currency": "USD"}`; the value is a string so no
/// JSON number ever passes through a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyWire {
    pub value: String,
    pub currency: String,
}

impl Money {
    /// Parses and checks the wire shape; `field` names the field in errors (`amount`). The
    /// value is a plain decimal (`129.99`: no exponent, sign, underscores or spaces inside),
    /// not negative, below [`MAX_AMOUNT_INTEGER_DIGITS`] integer digits and with no more
    /// decimals than the currency allows; see [`amount`].
    pub fn parse(field: &str, wire: &MoneyWire) -> Result<Money, RequestError> {
        let currency =
            Currency::from_code(&wire.currency).ok_or_else(|| RequestError::UnknownCurrency {
                field: format!("{field}.currency"),
                value: amount::shown(&wire.currency),
            })?;
        let amount = amount::parse(
            &format!("{field}.value"),
            &wire.value,
            u32::from(currency.exponent().unwrap_or(0)),
            currency.code(),
        )?;
        Ok(Money { amount, currency })
    }

    /// Every ISO 4217 code [`Money::parse`] accepts, in alphabetical order: what an API
    /// document lists. Found by asking for each three-letter code (the table has no listing
    /// without an extra dependency); 17,576 lookups, once.
    pub fn currency_codes() -> Vec<&'static str> {
        let letters = || b'A'..=b'Z';
        letters()
            .flat_map(|a| letters().flat_map(move |b| letters().map(move |c| [a, b, c])))
            .filter_map(|code| Currency::from_code(std::str::from_utf8(&code).ok()?))
            .map(|c| c.code())
            .collect()
    }

    /// Decimals the currency allows (USD 2, JPY 0).
    pub fn exponent(&self) -> u32 {
        u32::from(self.currency.exponent().unwrap_or(0))
    }

    /// The amount in integer minor units (cents), truncated. Exact for every amount
    /// [`Money::parse`] accepts (at most 16 digits in all); an amount built some other way that
    /// does not fit saturates at `i64::MIN`/`i64::MAX` instead of panicking. Money movements
    /// use [`Money::checked_minor_units`].
    pub fn minor_units(&self) -> i64 {
        let saturated = if self.amount.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        };
        10_i64
            .checked_pow(self.exponent())
            .and_then(|factor| self.amount.checked_mul(Decimal::from(factor)))
            .and_then(|scaled| i64::try_from(scaled.trunc()).ok())
            .unwrap_or(saturated)
    }

    /// Major units as a float, for score thresholds and features only, never for money movement.
    pub fn approx_major(&self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.amount.to_f64().unwrap_or(f64::MAX)
    }

    pub fn to_wire(&self) -> MoneyWire {
        MoneyWire {
            value: self.amount.normalize().to_string(),
            currency: self.currency.code().to_owned(),
        }
    }

    /// Nothing, in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money {
            amount: Decimal::ZERO,
            currency,
        }
    }

    /// `minor` integer minor units (cents) of `currency`, exact: how storage reads money back.
    pub fn from_minor_units(minor: i64, currency: Currency) -> Money {
        let exponent = u32::from(currency.exponent().unwrap_or(0));
        Money {
            amount: Decimal::new(minor, exponent),
            currency,
        }
    }

    /// [`Money::from_minor_units`] for a stored ISO 4217 `code`; `None` for an unknown code.
    pub fn from_stored(minor: i64, code: &str) -> Option<Money> {
        Currency::from_code(code).map(|currency| Money::from_minor_units(minor, currency))
    }

    /// The amount in integer minor units, or `None` when it has more decimals than the
    /// currency allows or does not fit an `i64`: unlike [`Money::minor_units`], never rounds
    /// or saturates, so money paths (storage, ledger) use this one.
    pub fn checked_minor_units(&self) -> Option<i64> {
        let scaled = self
            .amount
            .checked_mul(Decimal::from(10_i64.checked_pow(self.exponent())?))?;
        if !scaled.fract().is_zero() {
            return None;
        }
        i64::try_from(scaled).ok()
    }

    /// The sum, or `None` when the currencies differ or the sum overflows.
    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        (self.currency == other.currency).then_some(())?;
        Some(Money {
            amount: self.amount.checked_add(other.amount)?,
            currency: self.currency,
        })
    }

    /// The difference, or `None` when the currencies differ or it overflows.
    pub fn checked_sub(&self, other: &Money) -> Option<Money> {
        (self.currency == other.currency).then_some(())?;
        Some(Money {
            amount: self.amount.checked_sub(other.amount)?,
            currency: self.currency,
        })
    }

    /// `quantity` times this amount (a unit price times a line's quantity), or `None` on
    /// overflow.
    pub fn checked_mul(&self, quantity: u32) -> Option<Money> {
        Some(Money {
            amount: self.amount.checked_mul(Decimal::from(quantity))?,
            currency: self.currency,
        })
    }

    /// The same amount with the opposite sign (a credit for a debit in a journal).
    #[must_use]
    pub fn negated(&self) -> Money {
        Money {
            amount: -self.amount,
            currency: self.currency,
        }
    }
}

#[cfg(test)]
mod tests;
