//! Refusing raw card numbers: recognising a primary account number (PAN) the way people and
//! forms write one, and nothing else.
//!
//! Arbiter takes card fingerprints, BIN and country only. The scan reads bytes (a request body,
//! a header, a CSV cell) in one pass and calls something a card number when all of these hold:
//!
//! 1. **Written as a card is written.** Digits joined by single spaces or single dashes form a
//!    *digit sequence* (`chk-109-1764787915` is the groups `109`, `1764787915`). A candidate is
//!    either one group of 14–19 digits (`4111111111111111`), or consecutive groups in a
//!    grouping cards are printed and typed in — 4-4-4-4, 4-4-4-4-3, 4-6-5 (Amex), 4-6-4
//!    (Diners) — with the same separator throughout (`4111 1111 1111 1111`,
//!    `3782-822463-10005`). Digits are never joined across other groupings, so dates, order
//!    numbers and request ids (`2026-12-03-0042-17`) are not read as one long number.
//! 2. **A brand issues it.** The prefix is in a brand's IIN range and the length is one that
//!    brand uses (see [`iin`]); timestamps (prefix 1) and years (`20…`) never are.
//! 3. **The Luhn check passes.**
//! 4. **Not a phone number.** A sequence right after `+` with at most 15 digits in all is an
//!    E.164 number (`+4915112345678`, `+86 138 1234 5678`), not a card.
//! 5. **Not part of an encoded id.** A candidate flush against letters (`card4111111111111111`,
//!    `x4111111111111111y`, `cc4111111111111111`) is a card number, unless the letters and
//!    digits around it form one hexadecimal encoding of bytes: an even number of `0-9a-fA-F`
//!    characters, exactly 16 (a 64-bit id) or more with a digit outside the candidate. That
//!    covers the ids we mint (`dec_` + the 32 hex digits of a UUIDv7), hashes, trace and span
//!    ids, whose digit runs pass a prefix and Luhn check by chance; a hex encoding mixes digits
//!    and letters throughout, a word glued to a card number has only letters around it. Base64
//!    and other alphanumeric tokens need no exception: a 14-digit run in them is vanishingly
//!    rare, and where one occurs it is treated as a PAN. A *grouped* candidate whose first or
//!    last group runs into hex letters is a piece of a hyphenated UUID
//!    (`742c765e-5659-4447-8241-2467eddc145e`), not a card. What slips through: a card number
//!    glued to hex letters only into exactly 16 characters (`a378282246310005`), and a grouped
//!    one glued to hex letters (`abc4111 1111 1111 1111`).
//!
//! `host/engine/tests/card_scan_corpus.rs` checks both sides: every published test PAN of the
//! major brands in every common grouping is found, and a generated corpus of over a million
//! ordinary values (ids, dates, phone numbers, order numbers, minted ids, UUIDs) has no false
//! refusal. A bare number that has a brand's prefix and length and passes Luhn cannot be told
//! from a card number and is refused.

mod iin;

pub use iin::{is_card_number, luhn_valid};

/// Groupings, as group lengths, that cards are written in (a single group is any length the
/// brand table accepts).
const GROUPINGS: [&[usize]; 4] = [&[4, 4, 4, 4], &[4, 4, 4, 4, 3], &[4, 6, 5], &[4, 6, 4]];

/// The most groups a grouping spans.
const MAX_GROUPS: usize = 5;

/// The longest card number.
const MAX_DIGITS: usize = 19;

/// The most digits an E.164 phone number has.
const MAX_E164_DIGITS: usize = 15;

/// True when `bytes` contain something written like a primary account number.
pub fn contains_card_number(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(u8::is_ascii_digit) {
        let (found, end) = scan_sequence(bytes, i + offset);
        if found {
            return true;
        }
        i = end;
    }
    false
}

/// One digit group: `bytes[start..end]`, and the separator before it (0 for the first).
#[derive(Clone, Copy, Default)]
struct Group {
    start: usize,
    end: usize,
    sep: u8,
}

impl Group {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Reads the digit sequence starting at `start`; returns whether it holds a card number and
/// the index just past it.
fn scan_sequence(bytes: &[u8], start: usize) -> (bool, usize) {
    // The last MAX_GROUPS groups, oldest first once full: every grouping ends at the newest.
    let mut recent = [Group::default(); MAX_GROUPS];
    let mut count = 0;
    let mut digits = 0;
    let mut found = false;
    let mut i = start;
    loop {
        let group_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let sep = if count == 0 {
            0
        } else {
            bytes[group_start - 1]
        };
        recent.rotate_left(1);
        recent[MAX_GROUPS - 1] = Group {
            start: group_start,
            end: i,
            sep,
        };
        count += 1;
        digits += i - group_start;
        let continues = i + 1 < bytes.len()
            && (bytes[i] == b' ' || bytes[i] == b'-')
            && bytes[i + 1].is_ascii_digit();
        if !found {
            let shown = count.min(MAX_GROUPS);
            found = ends_a_card_number(bytes, &recent[MAX_GROUPS - shown..], count, !continues);
        }
        if !continues {
            break;
        }
        i += 1;
    }
    let phone = start > 0 && bytes[start - 1] == b'+' && digits <= MAX_E164_DIGITS;
    (found && !phone, i)
}

/// Whether a card number ends at the newest of `groups` (the sequence's last few, oldest
/// first; `count` groups seen in all, `last` when the newest ends the sequence).
fn ends_a_card_number(bytes: &[u8], groups: &[Group], count: usize, last: bool) -> bool {
    (1..=groups.len()).any(|span| {
        let window = &groups[groups.len() - span..];
        let written_like_a_card = if span == 1 {
            (14..=MAX_DIGITS).contains(&window[0].len())
        } else {
            GROUPINGS.iter().any(|g| {
                g.len() == span && g.iter().zip(window).all(|(&len, group)| group.len() == len)
            }) && window[1..].iter().all(|g| g.sep == window[1].sep)
        };
        if !written_like_a_card {
            return false;
        }
        let mut buf = [0_u8; MAX_DIGITS];
        let mut n = 0;
        for g in window {
            for &b in &bytes[g.start..g.end] {
                buf[n] = b - b'0';
                n += 1;
            }
        }
        if !is_card_number(&buf[..n]) {
            return false;
        }
        let (first, newest) = (window[0], window[span - 1]);
        let starts_sequence = span == count;
        let glued_left =
            starts_sequence && first.start > 0 && bytes[first.start - 1].is_ascii_alphabetic();
        let glued_right = last && bytes.get(newest.end).is_some_and(u8::is_ascii_alphabetic);
        let id_part = |g: Group| {
            if span == 1 {
                in_hex_encoding(bytes, g)
            } else {
                hex_token(bytes, g).0
            }
        };
        let inside_an_id = (glued_left && id_part(first)) || (glued_right && id_part(newest));
        !inside_an_id
    })
}

/// True when `group` sits in an alphanumeric token that encodes bytes in hexadecimal: an even
/// number of `0-9a-fA-F` characters, either exactly 8 bytes (a 64-bit id) or longer with a digit
/// somewhere outside `group`. A hex encoding of random bytes mixes digits and letters
/// throughout; a word glued to a card number (`cc4111111111111111`) has letters only.
fn in_hex_encoding(bytes: &[u8], group: Group) -> bool {
    let (hex, start, end) = hex_token(bytes, group);
    let len = end - start;
    let digit_outside = bytes[start..group.start]
        .iter()
        .chain(&bytes[group.end..end])
        .any(u8::is_ascii_digit);
    hex && len >= 16 && len % 2 == 0 && (len == 16 || digit_outside)
}

/// The alphanumeric token around `group` (`bytes[start..end]`) and whether it is all hex
/// digits. A grouped candidate whose end group runs into hex letters is a piece of a
/// hyphenated UUID (`…-5659-4447-8241-2467eddc145e`), not a card number.
fn hex_token(bytes: &[u8], group: Group) -> (bool, usize, usize) {
    let mut start = group.start;
    while start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
        start -= 1;
    }
    let mut end = group.end;
    while end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
        end += 1;
    }
    let hex = bytes[start..end].iter().all(u8::is_ascii_hexdigit);
    (hex, start, end)
}

#[cfg(test)]
mod tests;
