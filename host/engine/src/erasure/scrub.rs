//! Replacing identifiers by their pseudonyms inside stored values: free text and raw bytes by
//! occurrence, JSON string by string (never inside a number or a key's structure).

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

impl Pseudonyms {
    /// `bytes` with every whole occurrence of an identifier (or its form encoding) replaced.
    pub fn scrub_bytes(&self, bytes: &[u8]) -> Scrubbed<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for (needle, pseudonym) in &self.needles {
            let current = out.as_deref().unwrap_or(bytes);
            if let Some(replaced) = replace_whole(current, needle, pseudonym.as_bytes()) {
                out = Some(replaced);
            }
        }
        out.map_or(Scrubbed::Clean, Scrubbed::Changed)
    }

    /// `text` with every whole occurrence of an identifier replaced.
    pub fn scrub_text(&self, text: &str) -> Scrubbed<String> {
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
        if !self.scrub_value(&mut value) {
            return Scrubbed::Clean;
        }
        match serde_json::to_string(&value) {
            Ok(s) => Scrubbed::Changed(s),
            Err(_) => self.scrub_text(text),
        }
    }

    /// Scrubs `value` in place; true when anything changed.
    pub fn scrub_value(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => match self.scrub_text(s) {
                Scrubbed::Clean => false,
                Scrubbed::Changed(t) => {
                    *s = t;
                    true
                }
            },
            Value::Array(items) => {
                // Every item, not up to the first that changed.
                let mut changed = false;
                for item in items {
                    changed |= self.scrub_value(item);
                }
                changed
            }
            Value::Object(map) => {
                let entries = std::mem::take(map);
                let mut changed = false;
                for (key, mut v) in entries {
                    changed |= self.scrub_value(&mut v);
                    let key = match self.scrub_text(&key) {
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
