//! Money: an exact decimal amount with an ISO 4217 currency, never a float.

use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::RequestError;

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
    /// Parses and checks the wire shape; `field` names the field in errors (`amount`).
    pub fn parse(field: &str, wire: &MoneyWire) -> Result<Money, RequestError> {
        let currency =
            Currency::from_code(&wire.currency).ok_or_else(|| RequestError::UnknownCurrency {
                field: format!("{field}.currency"),
                value: wire.currency.clone(),
            })?;
        let amount: Decimal =
            wire.value
                .trim()
                .parse()
                .map_err(|_| RequestError::InvalidAmount {
                    field: format!("{field}.value"),
                    value: wire.value.clone(),
                })?;
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(RequestError::NegativeAmount {
                field: format!("{field}.value"),
            });
        }
        let allowed = u32::from(currency.exponent().unwrap_or(0));
        if amount.normalize().scale() > allowed {
            return Err(RequestError::TooManyDecimals {
                field: format!("{field}.value"),
                currency: currency.code().to_owned(),
                allowed,
            });
        }
        Ok(Money { amount, currency })
    }

    /// Decimals the currency allows (USD 2, JPY 0).
    pub fn exponent(&self) -> u32 {
        u32::from(self.currency.exponent().unwrap_or(0))
    }

    /// The amount in integer minor units (cents), exact.
    pub fn minor_units(&self) -> i64 {
        let scaled = self.amount * Decimal::from(10_i64.pow(self.exponent()));
        i64::try_from(scaled.trunc()).unwrap_or(i64::MAX)
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
mod tests {
    use super::*;

    fn wire(value: &str, currency: &str) -> MoneyWire {
        MoneyWire {
            value: value.into(),
            currency: currency.into(),
        }
    }

    #[test]
    fn parses_usd_with_two_decimals() {
        let m = Money::parse("amount", &wire("129.99", "USD")).expect("valid");
        assert_eq!(m.minor_units(), 12999);
        assert_eq!(m.currency.code(), "USD");
    }

    #[test]
    fn trailing_zeros_do_not_count_as_decimals() {
        let m = Money::parse("amount", &wire("5.000", "JPY")).expect("valid");
        assert_eq!(m.minor_units(), 5);
    }

    #[test]
    fn refuses_more_decimals_than_the_currency_allows() {
        let err = Money::parse("amount", &wire("1.001", "USD")).unwrap_err();
        assert!(matches!(
            err,
            RequestError::TooManyDecimals { allowed: 2, .. }
        ));
        let err = Money::parse("amount", &wire("1.5", "JPY")).unwrap_err();
        assert!(matches!(
            err,
            RequestError::TooManyDecimals { allowed: 0, .. }
        ));
    }

    #[test]
    fn minor_units_round_trip_exactly_and_arithmetic_is_checked() {
        let usd = Currency::USD;
        let m = Money::from_minor_units(12999, usd);
        assert_eq!(m.amount.to_string(), "129.99");
        assert_eq!(m.checked_minor_units(), Some(12999));
        assert_eq!(
            Money::from_minor_units(-5, usd).checked_minor_units(),
            Some(-5)
        );
        assert_eq!(
            Money::from_minor_units(7, Currency::JPY).amount,
            Decimal::from(7)
        );
        let sub_cent = Money {
            amount: Decimal::new(1001, 3),
            currency: usd,
        };
        assert_eq!(sub_cent.checked_minor_units(), None, "never rounds");
        let sum = m
            .checked_add(&Money::from_minor_units(1, usd))
            .expect("same currency");
        assert_eq!(sum.checked_minor_units(), Some(13000));
        assert_eq!(m.checked_add(&Money::zero(Currency::EUR)), None);
        assert_eq!(m.checked_sub(&m).map(|d| d.amount.is_zero()), Some(true));
        assert_eq!(
            m.checked_mul(3).and_then(|t| t.checked_minor_units()),
            Some(38997)
        );
        assert_eq!(m.negated().checked_minor_units(), Some(-12999));
    }

    #[test]
    fn refuses_negative_unknown_and_garbage() {
        assert!(matches!(
            Money::parse("amount", &wire("-1", "USD")),
            Err(RequestError::NegativeAmount { .. })
        ));
        assert!(matches!(
            Money::parse("amount", &wire("1", "XYZ")),
            Err(RequestError::UnknownCurrency { .. })
        ));
        assert!(matches!(
            Money::parse("amount", &wire("ten", "USD")),
            Err(RequestError::InvalidAmount { .. })
        ));
    }
}
