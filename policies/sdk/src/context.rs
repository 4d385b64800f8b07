//! The context a policy decides on, read in place from the buffer the host passes.
//!
//! [`Context`] owns the bytes `evaluate` received (no copy: the canonical ABI already put
//! them in the guest's memory) and answers each question by reading a few bytes at a fixed
//! offset of the layout (`crate::layout`, specified in `policies/wit/policy.wit`). Nothing
//! is decoded up front, so a policy pays only for the fields it reads.
//!
//! Validation: [`Context::from_bytes`] checks the header (magic, major version, section
//! sizes, checkpoint) in constant time. A text is bounds- and UTF-8-checked when it is
//! read; a buffer that fails such a check panics, which in a policy module is a trap that
//! the host records as a fault. Only the host writes these buffers, so that never happens
//! to an honest host — the checks exist so a bug cannot become undefined behaviour.

use std::fmt;

use crate::layout::{self, bit, text, window};
use crate::{Amount, Checkpoint, GraphFeatures, Velocity, WindowStats};

/// The enriched, normalised context of one decision. Every accessor is pure and cheap.
#[derive(Clone, PartialEq, Eq)]
pub struct Context {
    /// The buffer as the host wrote it (layout 2.x).
    bytes: Vec<u8>,
    /// Where the text area starts (checked to lie inside `bytes`).
    text_offset: usize,
    /// The `present` bits, without those of 2.1 fields a 2.0 `fixed-len` does not cover.
    present: u32,
}

/// Why a buffer is not a context this SDK can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    reason: &'static str,
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed context buffer: {}", self.reason)
    }
}

impl std::error::Error for LayoutError {}

impl Context {
    /// Reads a buffer of layout 2.x, checking its header.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Context, LayoutError> {
        let refuse = |reason| Err(LayoutError { reason });
        if bytes.len() < layout::FIXED_END_2_0 {
            return refuse("shorter than the 2.0 header and fixed section");
        }
        if bytes[layout::AT_MAGIC..layout::AT_MAGIC + 4] != layout::MAGIC {
            return refuse("no `ARBC` magic");
        }
        if read_u16(&bytes, layout::AT_MAJOR) != layout::MAJOR {
            return refuse("layout major version is not 2");
        }
        let fixed_len = read_u32(&bytes, layout::AT_FIXED_LEN) as usize;
        let text_offset = read_u32(&bytes, layout::AT_TEXT_OFFSET) as usize;
        if fixed_len < layout::FIXED_LEN_2_0 {
            return refuse("fixed section shorter than 2.0's");
        }
        if text_offset < layout::HEADER_LEN.saturating_add(fixed_len) || text_offset > bytes.len() {
            return refuse("text area outside the buffer");
        }
        if Checkpoint::from_code(bytes[layout::AT_CHECKPOINT]).is_none() {
            return refuse("unknown checkpoint code");
        }
        let mut present = read_u32(&bytes, layout::AT_PRESENT);
        if fixed_len < layout::FIXED_LEN {
            present &= layout::PRESENT_BITS_2_0;
        }
        Ok(Context {
            bytes,
            text_offset,
            present,
        })
    }

    /// The buffer, as the host wrote it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn checkpoint(&self) -> Checkpoint {
        // Checked by `from_bytes`.
        Checkpoint::from_code(self.bytes[layout::AT_CHECKPOINT]).unwrap_or(Checkpoint::OrderCreate)
    }

    pub fn request_id(&self) -> &str {
        self.text(text::REQUEST_ID).unwrap_or("")
    }

    pub fn user_id(&self) -> &str {
        self.text(text::USER_ID).unwrap_or("")
    }

    /// The transaction amount, when the request has one.
    pub fn amount(&self) -> Option<Amount<'_>> {
        self.has(bit::AMOUNT).then(|| Amount {
            value: read_f64(&self.bytes, layout::AT_AMOUNT_VALUE),
            minor_units: read_i64(&self.bytes, layout::AT_AMOUNT_MINOR_UNITS),
            currency: self.text(text::CURRENCY).unwrap_or(""),
        })
    }

    /// The transaction amount in major units of its currency, when the request has one.
    pub fn amount_value(&self) -> Option<f64> {
        self.has(bit::AMOUNT)
            .then(|| read_f64(&self.bytes, layout::AT_AMOUNT_VALUE))
    }

    /// The amount converted into the deployment's reporting currency (major units), when
    /// the request has an amount and the host has a rate for its currency (layout 2.1).
    pub fn amount_reporting(&self) -> Option<f64> {
        self.has(bit::AMOUNT_REPORTING)
            .then(|| read_f64(&self.bytes, layout::AT_AMOUNT_REPORTING))
    }

    /// The model layer's fraud probability (0–1), when a model is active (layout 2.1).
    pub fn model_score(&self) -> Option<f64> {
        self.has(bit::MODEL_SCORE)
            .then(|| read_f64(&self.bytes, layout::AT_MODEL_SCORE))
    }

    /// The currency of the transaction amount, when the request has one.
    pub fn currency(&self) -> Option<&str> {
        self.text(text::CURRENCY)
    }

    pub fn account_age_days(&self) -> Option<u32> {
        self.has(bit::ACCOUNT_AGE_DAYS)
            .then(|| read_u32(&self.bytes, layout::AT_ACCOUNT_AGE_DAYS))
    }

    /// Lower-cased.
    pub fn email(&self) -> Option<&str> {
        self.text(text::EMAIL)
    }

    pub fn email_domain(&self) -> Option<&str> {
        self.text(text::EMAIL_DOMAIN)
    }

    pub fn phone(&self) -> Option<&str> {
        self.text(text::PHONE)
    }

    pub fn device_id(&self) -> Option<&str> {
        self.text(text::DEVICE_ID)
    }

    /// Canonical textual form of the parsed IP.
    pub fn ip(&self) -> Option<&str> {
        self.text(text::IP)
    }

    /// ISO 3166-1 alpha-2, upper-case.
    pub fn ip_country(&self) -> Option<&str> {
        self.text(text::IP_COUNTRY)
    }

    /// Whether the IP is a known proxy, VPN or Tor exit.
    pub fn is_proxy(&self) -> bool {
        self.bytes[layout::AT_FLAGS] & layout::FLAG_PROXY != 0
    }

    pub fn payment_method(&self) -> Option<&str> {
        self.text(text::PAYMENT_METHOD)
    }

    pub fn card_fingerprint(&self) -> Option<&str> {
        self.text(text::CARD_FINGERPRINT)
    }

    pub fn card_bin(&self) -> Option<&str> {
        self.text(text::CARD_BIN)
    }

    /// ISO 3166-1 alpha-2 of the card's issuer.
    pub fn card_country(&self) -> Option<&str> {
        self.text(text::CARD_COUNTRY)
    }

    /// SHA-256 (hex) of the normalised shipping address.
    pub fn shipping_address_hash(&self) -> Option<&str> {
        self.text(text::SHIPPING_ADDRESS_HASH)
    }

    pub fn shipping_country(&self) -> Option<&str> {
        self.text(text::SHIPPING_COUNTRY)
    }

    pub fn order_id(&self) -> Option<&str> {
        self.text(text::ORDER_ID)
    }

    /// Velocity of every entity the request names.
    pub fn velocity(&self) -> Velocity {
        Velocity {
            user: self.window(window::USER),
            device: self.optional_window(window::DEVICE),
            card: self.optional_window(window::CARD),
            ip: self.optional_window(window::IP),
            email: self.optional_window(window::EMAIL),
        }
    }

    /// Link-graph features, when a graph scorer ran.
    pub fn graph(&self) -> Option<GraphFeatures> {
        if !self.has(bit::GRAPH) {
            return None;
        }
        let count = |slot: usize| read_u32(&self.bytes, layout::AT_GRAPH + 4 * slot);
        Some(GraphFeatures {
            group_entities: count(0),
            group_users: count(1),
            users_per_device: count(2),
            users_per_card: count(3),
            users_per_address: count(4),
            users_per_phone: count(5),
            cards_per_device: count(6),
            cards_per_user: count(7),
            hops_to_fraud: self
                .has(bit::HOPS_TO_FRAUD)
                .then(|| self.bytes[layout::AT_HOPS_TO_FRAUD]),
            fraud_share_2hop: read_f32(&self.bytes, layout::AT_GRAPH + 32),
            score: read_f32(&self.bytes, layout::AT_GRAPH + 36),
        })
    }

    /// The free-form request attributes as `(key, value)`, in key order. Non-string JSON
    /// values arrive as their JSON text (`"3"`, `"true"`).
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries(layout::AT_ATTRIBUTES, layout::ATTRIBUTE_LEN)
            .map(|at| (self.text_at(at), self.text_at(at + layout::TEXT_LEN)))
    }

    /// The value of the request attribute `key`, if the request carried it (the first
    /// occurrence when a key is repeated).
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| value)
    }

    /// Watch-list reason codes that matched (`list.watch.<kind>`).
    pub fn watch_hits(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries(layout::AT_WATCH_HITS, layout::WATCH_HIT_LEN)
            .map(|at| self.text_at(at))
    }

    fn has(&self, bit: u32) -> bool {
        self.present & (1 << bit) != 0
    }

    fn text(&self, index: usize) -> Option<&str> {
        self.has(index as u32)
            .then(|| self.text_at(layout::AT_TEXTS + layout::TEXT_LEN * index))
    }

    /// The text whose 8-byte reference is at `at`.
    fn text_at(&self, at: usize) -> &str {
        let start = read_u32(&self.bytes, at) as usize;
        let len = read_u32(&self.bytes, at + 4) as usize;
        let text = self
            .text_offset
            .checked_add(start)
            .and_then(|from| Some(from..from.checked_add(len)?))
            .and_then(|range| self.bytes.get(range))
            .and_then(|bytes| std::str::from_utf8(bytes).ok());
        match text {
            Some(text) => text,
            None => malformed("a text lies outside the buffer or is not UTF-8"),
        }
    }

    /// Offsets of the entries of the list whose reference is at `at`.
    fn entries(&self, at: usize, entry_len: usize) -> impl Iterator<Item = usize> + use<> {
        let first = read_u32(&self.bytes, at) as usize;
        let count = read_u32(&self.bytes, at + 4) as usize;
        let fits = count
            .checked_mul(entry_len)
            .and_then(|len| first.checked_add(len))
            .is_some_and(|end| first >= layout::FIXED_END_2_0 && end <= self.text_offset);
        if !fits {
            malformed("a list lies outside the buffer");
        }
        (0..count).map(move |index| first + index * entry_len)
    }

    fn window(&self, index: usize) -> WindowStats {
        let at = layout::AT_WINDOWS + layout::WINDOW_LEN * index;
        WindowStats {
            count_1h: read_u32(&self.bytes, at),
            count_24h: read_u32(&self.bytes, at + 4),
            sum_1h: read_f64(&self.bytes, at + 8),
            sum_24h: read_f64(&self.bytes, at + 16),
        }
    }

    fn optional_window(&self, index: usize) -> Option<WindowStats> {
        self.has(bit::WINDOWS + index as u32 - 1)
            .then(|| self.window(index))
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("checkpoint", &self.checkpoint())
            .field("request_id", &self.request_id())
            .field("amount", &self.amount())
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// A buffer that passed the header check but is broken inside. Only a host bug can cause
/// it; in a module the panic is a trap, recorded by the host as a fault.
#[cold]
fn malformed(what: &str) -> ! {
    panic!("malformed context buffer: {what}")
}

// Readers of fixed-section fields. Every fixed-section offset of 2.0 lies below
// `FIXED_END_2_0`, which `from_bytes` checked the buffer reaches, and a 2.1 field is read
// only when `fixed-len` (below `text-offset`, inside the buffer) covers it, so these cannot
// fail for a `Context`; list and text references are checked where they are followed.
fn read<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    if let Some(field) = bytes.get(at..at + N) {
        out.copy_from_slice(field);
    }
    out
}

fn read_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(read(bytes, at))
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(read(bytes, at))
}

fn read_i64(bytes: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(read(bytes, at))
}

fn read_f32(bytes: &[u8], at: usize) -> f32 {
    f32::from_le_bytes(read(bytes, at))
}

fn read_f64(bytes: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(read(bytes, at))
}

#[cfg(test)]
mod tests;
