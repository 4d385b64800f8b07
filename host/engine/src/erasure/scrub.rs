//! Replacing identifiers by their pseudonyms inside stored values.
//!
//! Two rules, because an identifier may look like anything (a user id `42`, `129.99` or
//! `accept`) while stored records are full of structure (amounts, currency codes, actions):
//! - a value that is exactly an identifier — a text column's whole value, a JSON string
//!   under an identifier's key (`user_id`, `email`, `device`, …) — is replaced, whatever the
//!   identifier looks like;
//! - inside free text, raw bytes and every other JSON string, only *distinctive* identifiers
//!   are replaced by occurrence: six characters or more and not a number (an e-mail, a
//!   device or card id, an IP, an address, a phone with its `+`). A short or numeric user id
//!   in a reviewer's note stays; an amount `"129.99"` is never taken for user `129.99`;
//!   and strings under keys that are our own structure (`action`, `event`, `code`, `value`,
//!   ids we minted …) are never touched.
//!
//! An occurrence counts only when no ASCII letter or digit touches it on either side.

use serde_json::Value;

use super::Pseudonyms;

/// Whether `b` continues a word: an occurrence touching one is part of a longer identifier.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// The result of scrubbing one stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scrubbed<T> {
    /// No identifier occurs in it.
    Clean,
    /// The value with every occurrence replaced.
    Changed(T),
}

impl<T> Scrubbed<T> {
    pub fn changed(self) -> Option<T> {
        match self {
            Scrubbed::Clean => None,
            Scrubbed::Changed(v) => Some(v),
        }
    }
}

/// The JSON keys whose string values are identifiers (decision contexts, order requests,
/// the graph feed, events).
const IDENTIFIER_KEYS: [&str; 11] = [
    "user_id",
    "user",
    "email",
    "phone",
    "device_id",
    "device",
    "ip",
    "card_fingerprint",
    "shipping_address_hash",
    "address",
    "customer",
];

/// The JSON keys whose string values are structure we wrote (actions, checkpoints, codes,
/// amounts, ids we minted): never scrubbed by occurrence, so a person whose user id is
/// `accept` or `payment.authorize` cannot rewrite every decision's action or checkpoint.
/// (`value` is not one: a snooze's audit entry names its entity under it; an amount's value
/// is a number, which is never replaced by occurrence.)
const STRUCTURE_KEYS: [&str; 21] = [
    "action",
    "band",
    "checkpoint",
    "code",
    "currency",
    "decision_id",
    "event",
    "id",
    "kind",
    "label",
    "label_id",
    "layer",
    "method",
    "mode",
    "name",
    "outcome",
    "request_id",
    "review_id",
    "sku",
    "source",
    "status",
];

/// Whether `needle` may be replaced wherever it occurs (see the module doc).
pub(super) fn distinctive(needle: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(needle) else {
        return needle.len() >= 6;
    };
    text.chars().count() >= 6 && (text.starts_with('+') || text.parse::<f64>().is_err())
}

impl Pseudonyms {
    /// `bytes` with every whole occurrence of a distinctive identifier (or its form encoding)
    /// replaced.
    pub fn scrub_bytes(&self, bytes: &[u8]) -> Scrubbed<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for (needle, pseudonym) in &self.occurrences {
            let current = out.as_deref().unwrap_or(bytes);
            if let Some(replaced) = replace_whole(current, needle, pseudonym.as_bytes()) {
                out = Some(replaced);
            }
        }
        out.map_or(Scrubbed::Clean, Scrubbed::Changed)
    }

    /// `text` replaced when it is an identifier; else with every whole occurrence of a
    /// distinctive identifier replaced.
    pub fn scrub_text(&self, text: &str) -> Scrubbed<String> {
        if let Some(p) = self.of(text) {
            return Scrubbed::Changed(p.to_owned());
        }
        self.scrub_free_text(text)
    }

    /// `text` with every whole occurrence of a distinctive identifier replaced.
    fn scrub_free_text(&self, text: &str) -> Scrubbed<String> {
        match self.scrub_bytes(text.as_bytes()) {
            Scrubbed::Clean => Scrubbed::Clean,
            // Needles and pseudonyms are whole UTF-8 strings and a match starts and ends on
            // ASCII-or-boundary bytes, so the result is UTF-8; lossy only as a safeguard.
            Scrubbed::Changed(b) => Scrubbed::Changed(
                String::from_utf8(b)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// A JSON document with every string (and object key) scrubbed; numbers, booleans and
    /// structure untouched. Text that is not JSON is scrubbed as text.
    pub fn scrub_json(&self, text: &str) -> Scrubbed<String> {
        let Ok(mut value) = serde_json::from_str::<Value>(text) else {
            return self.scrub_text(text);
        };
        if !self.scrub_value(&mut value, None) {
            return Scrubbed::Clean;
        }
        match serde_json::to_string(&value) {
            Ok(s) => Scrubbed::Changed(s),
            Err(_) => self.scrub_text(text),
        }
    }

    /// Scrubs `value` (found under `key`, when in an object) in place; true when anything
    /// changed.
    pub fn scrub_value(&self, value: &mut Value, key: Option<&str>) -> bool {
        match value {
            Value::String(s) => {
                let scrubbed = match key {
                    Some(k) if IDENTIFIER_KEYS.contains(&k) => self.scrub_text(s),
                    Some(k) if STRUCTURE_KEYS.contains(&k) => Scrubbed::Clean,
                    _ => self.scrub_free_text(s),
                };
                match scrubbed {
                    Scrubbed::Clean => false,
                    Scrubbed::Changed(t) => {
                        *s = t;
                        true
                    }
                }
            }
            Value::Array(items) => {
                // Every item, not up to the first that changed; items keep the array's key.
                let mut changed = false;
                for item in items {
                    changed |= self.scrub_value(item, key);
                }
                changed
            }
            Value::Object(map) => {
                let entries = std::mem::take(map);
                let mut changed = false;
                for (key, mut v) in entries {
                    changed |= self.scrub_value(&mut v, Some(&key));
                    let key = match self.scrub_free_text(&key) {
                        Scrubbed::Clean => key,
                        Scrubbed::Changed(k) => {
                            changed = true;
                            k
                        }
                    };
                    map.insert(key, v);
                }
                changed
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
}

/// `haystack` with each occurrence of `needle` that no word byte touches replaced by `with`;
/// `None` when there is none.
fn replace_whole(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = find(&haystack[at..], needle) {
        let start = at + found;
        let end = start + needle.len();
        let before_ok = start == 0 || !is_word(haystack[start - 1]) || !is_word(needle[0]);
        let after_ok =
            end == haystack.len() || !is_word(haystack[end]) || !is_word(needle[needle.len() - 1]);
        if before_ok && after_ok {
            let buf = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
            buf.extend_from_slice(&haystack[copied..start]);
            buf.extend_from_slice(with);
            copied = end;
            at = end;
        } else {
            at = start + 1;
        }
        if at >= haystack.len() {
            break;
        }
    }
    out.map(|mut buf| {
        buf.extend_from_slice(&haystack[copied..]);
        buf
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
