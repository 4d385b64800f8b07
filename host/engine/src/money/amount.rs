//! Reading an amount a caller wrote: a strict decimal grammar and a documented maximum, so no
//! later arithmetic on it (minor units, sums, a price times a quantity) can overflow or round.
//!
//! `rust_decimal`'s own `FromStr` is too lenient for money: it takes `1E+5`, `1_000`, `+5`,
//! `.5`, and rounds `1.00000000000000000000000000001` to `1` without a word; its largest value
//! (`79228162514264337593543950335`) overflows the moment it is scaled to minor units. Here
//! the digits are checked first and the `Decimal` is built from at most 16 of them.

use rust_decimal::Decimal;

use crate::error::RequestError;

/// The most integer digits an amount may have: amounts are below 10^12 major units
/// (`999999999999.99` USD). That is above any single checkout in any currency still in use
/// (10^12 VND is about US$40M), and keeps every amount under 10^16 minor units (currencies
/// have at most 4 decimals), so even ~900 of the largest amounts summed fit an `i64`.
pub const MAX_AMOUNT_INTEGER_DIGITS: usize = 12;

/// Longest part of a refused value echoed back in an error.
const SHOWN_CHARS: usize = 40;

/// `value` cut to [`SHOWN_CHARS`] for an error message.
pub(super) fn shown(value: &str) -> String {
    let mut chars = value.chars();
    let mut out: String = chars.by_ref().take(SHOWN_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Parses `raw` as a non-negative amount with at most `exponent` decimals (trailing zeros do
/// not count) for `currency`; `field` names it in errors.
pub(super) fn parse(
    field: &str,
    raw: &str,
    exponent: u32,
    currency: &str,
) -> Result<Decimal, RequestError> {
    let text = raw.trim();
    let invalid = || RequestError::InvalidAmount {
        field: field.to_owned(),
        value: shown(raw),
    };
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) if !f.is_empty() => (i, f),
        Some(_) => return Err(invalid()),
        None => (unsigned, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) {
        return Err(invalid());
    }
    let written_frac_len = frac.len();
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    if negative && !(int.is_empty() && frac.is_empty()) {
        return Err(RequestError::NegativeAmount {
            field: field.to_owned(),
        });
    }
    if int.len() > MAX_AMOUNT_INTEGER_DIGITS {
        return Err(RequestError::AmountOutOfRange {
            field: field.to_owned(),
            max: largest(exponent),
        });
    }
    if frac.len() > exponent as usize {
        return Err(RequestError::TooManyDecimals {
            field: field.to_owned(),
            currency: currency.to_owned(),
            allowed: exponent,
        });
    }
    // At most 12 + 4 digits (the largest ISO 4217 exponent is 4): an i64. The scale the
    // caller wrote (`500.00`) is kept when it fits Decimal's 28 digits, so the amount reads
    // back as written.
    let mantissa = int
        .bytes()
        .chain(frac.bytes())
        .fold(0_i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    let written = written_frac_len.min(28 - int.len());
    let padding = written.saturating_sub(frac.len());
    let scaled = i128::from(mantissa) * 10_i128.pow(u32::try_from(padding).map_err(|_| invalid())?);
    let scale = u32::try_from(frac.len() + padding).map_err(|_| invalid())?;
    Decimal::try_from_i128_with_scale(scaled, scale).map_err(|_| invalid())
}

/// The largest amount accepted, written out: `999999999999.99` for two decimals.
fn largest(exponent: u32) -> String {
    let nines = |n: usize| "9".repeat(n);
    if exponent == 0 {
        nines(MAX_AMOUNT_INTEGER_DIGITS)
    } else {
        format!(
            "{}.{}",
            nines(MAX_AMOUNT_INTEGER_DIGITS),
            nines(exponent as usize)
        )
    }
}
