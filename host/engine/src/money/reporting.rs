//! Amounts in one reporting currency: a versioned table of exchange rates, and the
//! conversion every decision records.
//!
//! A threshold such as "over 500" means nothing across currencies (JPY 5,000 is about 33
//! USD). The pipeline converts each request's amount with the rate table in force and puts
//! the result in the context (`amount.reporting`, layout 2.1), so rules and policies compare
//! like with like. The converted amount, the rate and the table's version are stored with the
//! decision, so a replay reads what the decision saw even after the rates moved on.
//!
//! Rates are exact decimals (`rust_decimal`): `rates["JPY"] = "0.0067"` means one yen is
//! worth 0.0067 units of the reporting currency. The result is rounded to the reporting
//! currency's decimals, half to even (the banker's rounding ledgers use).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use iso_currency::Currency;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::Money;
use crate::error::RequestError;

/// The reporting currency of a deployment that never set a rate table.
pub const DEFAULT_REPORTING_CURRENCY: Currency = Currency::USD;
/// Most rates one table holds (ISO 4217 lists about 180 currencies).
pub const MAX_RATES: usize = 300;
/// Most integer and most fractional digits of a rate: from one Iranian rial in dollars
/// (0.000024) to one Kuwaiti dinar in rials (137,000,000), exact in an `i64` mantissa.
const MAX_RATE_DIGITS: usize = 9;

/// A rate table as a caller writes it: `{"reporting_currency": "USD", "rates": {"EUR":
/// "1.08", "JPY": "0.0067"}}`. Rates are decimal strings, like amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateTableWire {
    pub reporting_currency: String,
    pub rates: BTreeMap<String, String>,
}

/// The rates in force: how many units of `reporting` one unit of each currency is worth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateTable {
    /// 0 for the built-in table of a deployment that never set one.
    pub version: i64,
    pub reporting: Currency,
    rates: BTreeMap<Currency, Decimal>,
}

/// A rate table as stored: its version, what was written, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRateTable {
    pub version: i64,
    #[serde(flatten)]
    pub table: RateTableWire,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl StoredRateTable {
    /// The table, checked again (a stored table was checked when it was set; a row edited by
    /// hand into nonsense is refused here rather than used).
    pub fn rates(&self) -> Result<RateTable, RequestError> {
        RateTable::parse(&self.table, self.version)
    }
}

/// An amount converted into the reporting currency, as stored with the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportingAmount {
    /// Exact decimal string, rounded to the reporting currency's decimals.
    pub value: String,
    pub currency: String,
    /// Major units as a float, for thresholds only.
    pub approx: f64,
    /// The rate applied, as written in the table.
    pub rate: String,
    /// The version of the rate table it came from.
    pub rate_version: i64,
}

/// The table of a deployment that never set one: USD, converting only itself.
impl Default for RateTable {
    fn default() -> RateTable {
        RateTable::identity(DEFAULT_REPORTING_CURRENCY)
    }
}

impl RateTable {
    /// The table of a deployment that never set one: only the reporting currency itself.
    pub fn identity(reporting: Currency) -> RateTable {
        RateTable {
            version: 0,
            reporting,
            rates: BTreeMap::new(),
        }
    }

    /// Checks a caller's table; `version` is the one it will be stored as.
    pub fn parse(wire: &RateTableWire, version: i64) -> Result<RateTable, RequestError> {
        let reporting = Currency::from_code(&wire.reporting_currency).ok_or_else(|| {
            RequestError::UnknownCurrency {
                field: "reporting_currency".into(),
                value: super::amount::shown(&wire.reporting_currency),
            }
        })?;
        if wire.rates.len() > MAX_RATES {
            return Err(RequestError::InvalidValue {
                field: "rates".into(),
                message: format!("at most {MAX_RATES} rates"),
            });
        }
        let mut rates = BTreeMap::new();
        for (code, raw) in &wire.rates {
            let field = format!("rates.{}", super::amount::shown(code));
            let currency =
                Currency::from_code(code).ok_or_else(|| RequestError::UnknownCurrency {
                    field: field.clone(),
                    value: super::amount::shown(code),
                })?;
            let rate = parse_rate(&field, raw)?;
            if currency == reporting && rate != Decimal::ONE {
                return Err(RequestError::InvalidValue {
                    field,
                    message: format!("the reporting currency {code} is worth 1 of itself"),
                });
            }
            rates.insert(currency, rate);
        }
        Ok(RateTable {
            version,
            reporting,
            rates,
        })
    }

    /// The table as a caller writes it (what the API returns and the store keeps).
    pub fn to_wire(&self) -> RateTableWire {
        RateTableWire {
            reporting_currency: self.reporting.code().to_owned(),
            rates: self
                .rates
                .iter()
                .map(|(currency, rate)| (currency.code().to_owned(), rate.to_string()))
                .collect(),
        }
    }

    /// How many units of the reporting currency one unit of `currency` is worth.
    pub fn rate(&self, currency: Currency) -> Option<Decimal> {
        if currency == self.reporting {
            return Some(Decimal::ONE);
        }
        self.rates.get(&currency).copied()
    }

    /// `money` in the reporting currency; `None` when the table has no rate for its currency.
    pub fn convert(&self, money: &Money) -> Option<ReportingAmount> {
        let rate = self.rate(money.currency)?;
        let exponent = u32::from(self.reporting.exponent().unwrap_or(0));
        let value = money
            .amount
            .checked_mul(rate)?
            .round_dp_with_strategy(exponent, RoundingStrategy::MidpointNearestEven);
        let converted = Money {
            amount: value,
            currency: self.reporting,
        };
        Some(ReportingAmount {
            value: format!("{:.*}", exponent as usize, value),
            currency: self.reporting.code().to_owned(),
            approx: converted.approx_major(),
            rate: rate.to_string(),
            rate_version: self.version,
        })
    }
}

/// A positive decimal with at most [`MAX_RATE_DIGITS`] digits either side of the point.
fn parse_rate(field: &str, raw: &str) -> Result<Decimal, RequestError> {
    let invalid = |message: String| RequestError::InvalidValue {
        field: field.to_owned(),
        message,
    };
    let (int, frac) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (raw.contains('.') && frac.is_empty()) {
        return Err(invalid(format!(
            "a rate is a plain decimal string such as \"1.08\", not `{}`",
            super::amount::shown(raw)
        )));
    }
    if int.trim_start_matches('0').len() > MAX_RATE_DIGITS
        || frac.trim_end_matches('0').len() > MAX_RATE_DIGITS
    {
        return Err(invalid(format!(
            "a rate has at most {MAX_RATE_DIGITS} digits before and after the point"
        )));
    }
    let rate: Decimal = raw.parse().map_err(|_| invalid("not a decimal".into()))?;
    if rate.is_zero() {
        return Err(invalid("a rate must be above zero".into()));
    }
    Ok(rate.normalize())
}

#[cfg(test)]
mod tests;
