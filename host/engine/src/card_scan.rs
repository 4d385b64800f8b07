//! Refusing raw card numbers at the edge.
//!
//! Arbiter takes card fingerprints, BIN and country only. Any run of 13–19 digits (single
//! spaces or dashes allowed between digits) that passes the Luhn check is treated as a raw
//! card number. The scan runs over the raw request bytes *before* parsing, so a card number
//! in any field, key or even in malformed JSON is caught, and the payload is never logged.
//!
//! A run glued to a letter (`dec_01a2…927142964926901`, a hex id or token) is part of an
//! identifier, not a card number: ids we mint ourselves are hex and would otherwise be refused
//! about once in a few hundred. A PAN written flush against letters is therefore not caught;
//! one standing alone, quoted, or after punctuation is.

/// True when `bytes` contain something that looks like a primary account number.
pub fn contains_card_number(bytes: &[u8]) -> bool {
    let mut digits: Vec<u8> = Vec::with_capacity(19);
    // Whether the current run started right after a letter (part of an identifier).
    let mut glued = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_digit() {
            if digits.is_empty() {
                glued = i > 0 && bytes[i - 1].is_ascii_alphabetic();
            }
            digits.push(b - b'0');
        } else if (b == b' ' || b == b'-')
            && !digits.is_empty()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            // A separator inside a digit run: keep the run going.
        } else {
            if !glued && !b.is_ascii_alphabetic() && is_card_like(&digits) {
                return true;
            }
            digits.clear();
        }
        i += 1;
    }
    !glued && is_card_like(&digits)
}

fn is_card_like(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && luhn_valid(digits)
}

/// The Luhn (mod 10) check over decimal digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plain_spaced_and_dashed_card_numbers() {
        assert!(contains_card_number(br#"{"note":"4111111111111111"}"#));
        assert!(contains_card_number(br#"{"note":"4111 1111 1111 1111"}"#));
        assert!(contains_card_number(br#"{"note":"4111-1111-1111-1111"}"#));
        assert!(contains_card_number(br#"{"pan":4111111111111111}"#));
        // Amex, 15 digits.
        assert!(contains_card_number(b"378282246310005"));
    }

    #[test]
    fn ignores_numbers_that_are_not_cards() {
        // Fails Luhn.
        assert!(!contains_card_number(br#"{"n":"4111111111111112"}"#));
        // Too short (phone number, BIN).
        assert!(!contains_card_number(
            br#"{"phone":"+15551234567","card_bin":"411111"}"#
        ));
        // Too long.
        assert!(!contains_card_number(b"41111111111111111111111"));
        // Digit runs inside identifiers (hex ids, tokens) are not card numbers.
        assert!(!contains_card_number(
            br#"{"decision_id":"dec_01a206d9ba5a74c2a927142964926901"}"#
        ));
        assert!(!contains_card_number(br#"{"id":"4111111111111111abc"}"#));
        assert!(contains_card_number(br#"{"id":"x_4111111111111111"}"#));
        // Digits separated by other punctuation are separate runs.
        assert!(!contains_card_number(b"4111.1111.1111.1111"));
    }

    #[test]
    fn double_separators_break_a_run() {
        assert!(!contains_card_number(b"4111  1111  1111  1111"));
    }
}
