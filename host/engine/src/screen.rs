//! Screening a JSON body before anything reads or stores it: no raw card number in any string,
//! key or number *as decoded* (a JSON escape such as `\u0034111…` hides nothing), and no NUL
//! character (PostgreSQL text cannot hold one). Every route's JSON body passes through here.
//!
//! Cost: the card scan runs once over the raw bytes. Without a backslash in the body, the raw
//! bytes of every string, key and number *are* their decoded text, and the JSON punctuation
//! around them (quotes, colons, commas) never joins or glues digits, so a clean raw scan is the
//! answer. Only a body with an escape, or one the raw scan flags, is parsed and walked; the
//! walk decides and names the field at fault. Malformed JSON the raw scan flags is refused as
//! a whole (`body`); other malformed JSON is left to the parser's own error. Numbers are read
//! as integers (`4111111111111111`) or as the float serde_json parsed (`4111111111111111.0`);
//! a float in exponent notation (`4.3604894652272204e38`) is not a card number as written.

use serde_json::Value;

use crate::card_scan::contains_card_number;
use crate::error::RequestError;
use crate::field_path::{Step, render};

/// `Ok` when `body` carries no raw card number and no NUL character.
pub fn screen_json(body: &[u8]) -> Result<(), RequestError> {
    let flagged = contains_card_number(body);
    if !flagged && !body.contains(&b'\\') {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => walk(&value, &mut Vec::new()),
        Err(_) if flagged => Err(RequestError::RawCardNumber {
            field: "body".into(),
            key: false,
        }),
        Err(_) => Ok(()),
    }
}

/// Checks one decoded text (a string or a key) found at `path`.
fn check_text(text: &str, path: &[Step<'_>], key: bool) -> Result<(), RequestError> {
    if text.contains('\0') {
        return Err(RequestError::InvalidValue {
            field: render(path),
            message: if key {
                "a key contains the NUL character (\\u0000)".into()
            } else {
                "must not contain the NUL character (\\u0000)".into()
            },
        });
    }
    if contains_card_number(text.as_bytes()) {
        return Err(RequestError::RawCardNumber {
            field: render(path),
            key,
        });
    }
    Ok(())
}

/// Depth is bounded by serde_json's recursion limit (128) on the parse that built `value`.
fn walk<'a>(value: &'a Value, path: &mut Vec<Step<'a>>) -> Result<(), RequestError> {
    match value {
        Value::String(s) => check_text(s, path, false),
        Value::Number(n) => check_text(&n.to_string(), path, false),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                walk(item, path)?;
                path.pop();
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, v) in map {
                // The key is checked before it is shown in any path.
                check_text(k, path, true)?;
                path.push(Step::Key(k));
                walk(v, path)?;
                path.pop();
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card_field(body: &[u8]) -> Option<(String, bool)> {
        match screen_json(body) {
            Err(RequestError::RawCardNumber { field, key }) => Some((field, key)),
            _ => None,
        }
    }

    #[test]
    fn names_the_field_holding_a_card_number() {
        assert_eq!(
            card_field(br#"{"user":{"id":"4111 1111 1111 1111"}}"#),
            Some(("user.id".into(), false))
        );
        assert_eq!(
            card_field(br#"{"attributes":{"tags":["a",4111111111111111]}}"#),
            Some(("attributes.tags[1]".into(), false))
        );
        assert_eq!(
            card_field(br#"{"attributes":{"4111111111111111":true}}"#),
            Some(("attributes".into(), true))
        );
        assert_eq!(
            card_field(br#"{"4111111111111111":1}"#),
            Some(("body".into(), true))
        );
        assert_eq!(
            card_field(b"{ broken 5500-0000-0000-0004"),
            Some(("body".into(), false))
        );
    }

    #[test]
    fn json_escapes_hide_no_card_number() {
        assert_eq!(
            card_field(br#"{"note":"\u0034111111111111111"}"#),
            Some(("note".into(), false))
        );
        assert_eq!(
            card_field(br#"{"note":"4111\u00201111\u00201111\u00201111"}"#),
            Some(("note".into(), false))
        );
        assert_eq!(
            card_field(br#"{"\u003411111111111111\u0031":"x"}"#),
            Some(("body".into(), true))
        );
        // An escape that decodes to something ordinary is fine.
        assert_eq!(
            screen_json(br#"{"note":"line one\nchk-109-1764787915"}"#),
            Ok(())
        );
    }

    #[test]
    fn refuses_nul_naming_the_field() {
        assert!(matches!(
            screen_json(br#"{"user":{"id":"u\u0000"}}"#),
            Err(RequestError::InvalidValue { field, .. }) if field == "user.id"
        ));
        assert!(matches!(
            screen_json(br#"{"a":[{"k\u0000":1}]}"#),
            Err(RequestError::InvalidValue { field, .. }) if field == "a[0]"
        ));
        // A literal backslash followed by `u0000` is not NUL.
        assert_eq!(screen_json(br#"{"path":"C:\\u0000"}"#), Ok(()));
    }
}
