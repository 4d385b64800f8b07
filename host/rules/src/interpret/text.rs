//! Text operations with the language's exact semantics, shared by the interpreter and
//! documented for the code generator: ASCII-only case folding, byte-wise comparison,
//! characters counted as UTF-8 lead bytes, and the one decimal-number reader.

/// Longest text the language reads, in bytes; a longer one reads as missing. It bounds
/// the work of every text operation, so a compiled file's worst-case fuel is known before
/// it runs (identifiers, e-mails and country codes are far shorter; only free-form
/// attributes come near it).
pub const MAX_TEXT_BYTES: u32 = 2048;

/// Largest count of digits a text may have to be read as a number: up to 15 digits every
/// decimal is read exactly (one correctly rounded division of two exact `f64`s).
pub const MAX_NUMBER_DIGITS: u32 = 15;

/// Powers of ten exactly representable as `f64`, for the number reader.
pub const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A text value: bytes and whether it is read folded to lower case.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a> {
    pub bytes: &'a [u8],
    pub folded: bool,
}

impl Text<'_> {
    fn at(&self, i: usize) -> u8 {
        fold(self.bytes[i], self.folded)
    }
}

/// `b` folded to lower case when `folded` and it is an ASCII capital.
pub fn fold(b: u8, folded: bool) -> u8 {
    if folded && b.is_ascii_uppercase() {
        b | 0x20
    } else {
        b
    }
}

/// Byte-wise equality after folding each side by its own flag.
pub fn equal(a: Text<'_>, b: Text<'_>) -> bool {
    a.bytes.len() == b.bytes.len() && (0..a.bytes.len()).all(|i| a.at(i) == b.at(i))
}

/// Whether `a` holds `b` starting at byte `from`.
fn matches_at(a: Text<'_>, b: &[u8], from: usize) -> bool {
    b.iter()
        .enumerate()
        .all(|(i, byte)| a.at(from + i) == *byte)
}

pub fn starts_with(a: Text<'_>, prefix: &[u8]) -> bool {
    a.bytes.len() >= prefix.len() && matches_at(a, prefix, 0)
}

pub fn ends_with(a: Text<'_>, suffix: &[u8]) -> bool {
    a.bytes.len() >= suffix.len() && matches_at(a, suffix, a.bytes.len() - suffix.len())
}

pub fn contains(a: Text<'_>, needle: &[u8]) -> bool {
    a.bytes.len() >= needle.len()
        && (0..=a.bytes.len() - needle.len()).any(|i| matches_at(a, needle, i))
}

/// Characters: bytes that are not UTF-8 continuation bytes.
pub fn length(a: Text<'_>) -> f64 {
    f64::from(
        u32::try_from(a.bytes.iter().filter(|b| *b & 0xC0 != 0x80).count()).unwrap_or(u32::MAX),
    )
}

/// `-?D+(.D+)?` with at most [`MAX_NUMBER_DIGITS`] digits, as the mantissa divided by a
/// power of ten; anything else (exponents, `+`, spaces, more digits) is not a number.
pub fn parse_number(bytes: &[u8]) -> Option<f64> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut mantissa: u64 = 0;
    let (mut count, mut integer, mut fraction, mut dot) = (0u32, 0u32, 0u32, false);
    for b in digits {
        match b {
            b'0'..=b'9' => {
                count += 1;
                if count > MAX_NUMBER_DIGITS {
                    return None;
                }
                mantissa = mantissa * 10 + u64::from(b - b'0');
                if dot {
                    fraction += 1;
                } else {
                    integer += 1;
                }
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if integer == 0 || (dot && fraction == 0) {
        return None;
    }
    #[expect(clippy::cast_precision_loss, reason = "at most 15 digits: exact")]
    let value = mantissa as f64 / POWERS_OF_TEN[fraction as usize];
    Some(if negative { -value } else { value })
}

/// A number as a detail prints it: rounded to two decimals (ties to even), trailing zeros
/// and the point dropped, `-` only when the rounded value is not zero.
pub fn format_number(value: f64) -> String {
    let scaled = (value.abs() * 100.0).round_ties_even();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "saturating, as the compiled code's trunc_sat"
    )]
    let hundredths = scaled as i64 as u64;
    let mut out = String::new();
    if value < 0.0 && hundredths != 0 {
        out.push('-');
    }
    out.push_str(&(hundredths / 100).to_string());
    let fraction = hundredths % 100;
    if fraction != 0 {
        out.push('.');
        out.push(char::from(b'0' + (fraction / 10) as u8));
        if !fraction.is_multiple_of(10) {
            out.push(char::from(b'0' + (fraction % 10) as u8));
        }
    }
    out
}
