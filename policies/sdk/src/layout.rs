//! The context layout 2.1 of `arbiter:policy@2`: where every field of the context buffer
//! lives, and the writer that builds a buffer.
//!
//! The layout is specified in `policies/wit/policy.wit` (the world's doc comment); this file
//! is its one implementation in code. It is shared, not copied: the guest SDK compiles it as
//! its `layout` module (the reader in `context.rs` uses its offsets, the test fixtures its
//! writer), and the host runtime compiles the same file with `#[path]` to encode each
//! decision's context. So the two sides cannot disagree on an offset. It depends on nothing
//! but `core`/`alloc` and holds no unsafe code.
//!
//! Must not: change an offset or the meaning of a byte of 2.0. A minor version appends
//! fields after [`FIXED_END`] and raises [`MINOR`]; anything else is a new major.

/// The first four bytes of every context buffer.
pub const MAGIC: [u8; 4] = *b"ARBC";
/// Layout major version: always the ABI's (`arbiter:policy@2`).
pub const MAJOR: u16 = 2;
/// Layout minor version written by this file.
pub const MINOR: u16 = 1;

/// Header fields.
pub const AT_MAGIC: usize = 0;
pub const AT_MAJOR: usize = 4;
pub const AT_MINOR: usize = 6;
pub const AT_FIXED_LEN: usize = 8;
pub const AT_TEXT_OFFSET: usize = 12;
/// Where the fixed section starts.
pub const HEADER_LEN: usize = 16;

/// Fixed-section fields (offsets from the start of the buffer).
pub const AT_PRESENT: usize = 16;
pub const AT_CHECKPOINT: usize = 20;
pub const AT_FLAGS: usize = 21;
pub const AT_HOPS_TO_FRAUD: usize = 22;
pub const AT_ACCOUNT_AGE_DAYS: usize = 24;
pub const AT_AMOUNT_VALUE: usize = 32;
pub const AT_AMOUNT_MINOR_UNITS: usize = 40;
/// Text `i` is the 8 bytes at `AT_TEXTS + 8 * i`.
pub const AT_TEXTS: usize = 48;
/// Window `i` (see [`window`]) is the 24 bytes at `AT_WINDOWS + 24 * i`.
pub const AT_WINDOWS: usize = 176;
pub const AT_GRAPH: usize = 296;
pub const AT_ATTRIBUTES: usize = 336;
pub const AT_WATCH_HITS: usize = 344;
/// End of the 2.0 fixed section.
pub const FIXED_END_2_0: usize = 352;
/// `fixed-len` of 2.0: the least a reader accepts.
pub const FIXED_LEN_2_0: usize = FIXED_END_2_0 - HEADER_LEN;

/// Fields 2.1 appends. Each is present when its `present` bit is set *and* the buffer's
/// `fixed-len` covers it (a 2.0 buffer never has them).
/// The amount converted into the deployment's reporting currency, major units (f64).
pub const AT_AMOUNT_REPORTING: usize = 352;
/// The model layer's fraud probability for this decision, 0–1 (f64).
pub const AT_MODEL_SCORE: usize = 360;
/// End of the fixed section this file writes (2.1).
pub const FIXED_END: usize = 368;
/// `fixed-len` this file writes.
pub const FIXED_LEN: usize = FIXED_END - HEADER_LEN;
/// `present` bits 2.0 defines; a reader clears the others when `fixed-len` is 2.0's.
pub const PRESENT_BITS_2_0: u32 = 0x00FF_FFFF;

/// Sizes of the repeated parts.
pub const TEXT_LEN: usize = 8;
pub const WINDOW_LEN: usize = 24;
pub const ATTRIBUTE_LEN: usize = 2 * TEXT_LEN;
pub const WATCH_HIT_LEN: usize = TEXT_LEN;

/// Bit 0 of the flags byte.
pub const FLAG_PROXY: u8 = 1;

/// Text indices; bit `i` of `present` says text `i` is present.
pub mod text {
    pub const REQUEST_ID: usize = 0;
    pub const USER_ID: usize = 1;
    pub const CURRENCY: usize = 2;
    pub const EMAIL: usize = 3;
    pub const EMAIL_DOMAIN: usize = 4;
    pub const PHONE: usize = 5;
    pub const DEVICE_ID: usize = 6;
    pub const IP: usize = 7;
    pub const IP_COUNTRY: usize = 8;
    pub const PAYMENT_METHOD: usize = 9;
    pub const CARD_FINGERPRINT: usize = 10;
    pub const CARD_BIN: usize = 11;
    pub const CARD_COUNTRY: usize = 12;
    pub const SHIPPING_ADDRESS_HASH: usize = 13;
    pub const SHIPPING_COUNTRY: usize = 14;
    pub const ORDER_ID: usize = 15;
    /// How many texts 2.0 has.
    pub const COUNT: usize = 16;
}

/// Velocity window indices, in layout order. `present` bit of window `i` (i ≥ 1) is
/// `bit::WINDOWS + i - 1`; the user's window is always present.
pub mod window {
    pub const USER: usize = 0;
    pub const DEVICE: usize = 1;
    pub const CARD: usize = 2;
    pub const IP: usize = 3;
    pub const EMAIL: usize = 4;
}

/// `present` bits of the non-text optional fields.
pub mod bit {
    pub const AMOUNT: u32 = 16;
    pub const ACCOUNT_AGE_DAYS: u32 = 17;
    /// Device window; card, ip and email follow.
    pub const WINDOWS: u32 = 18;
    pub const GRAPH: u32 = 22;
    pub const HOPS_TO_FRAUD: u32 = 23;
    /// 2.1: [`AT_AMOUNT_REPORTING`](super::AT_AMOUNT_REPORTING).
    pub const AMOUNT_REPORTING: u32 = 24;
    /// 2.1: [`AT_MODEL_SCORE`](super::AT_MODEL_SCORE).
    pub const MODEL_SCORE: u32 = 25;
}

/// Checkpoint codes.
pub mod checkpoint {
    pub const ORDER_CREATE: u8 = 0;
    pub const PAYMENT_AUTHORIZE: u8 = 1;
    pub const REFUND_REQUEST: u8 = 2;
    pub const ACCOUNT_LOGIN: u8 = 3;
    pub const PROMO_REDEEM: u8 = 4;
}

/// One velocity window, as written.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RawWindow {
    pub count_1h: u32,
    pub count_24h: u32,
    pub sum_1h: f64,
    pub sum_24h: f64,
}

/// The link-graph features, as written.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RawGraph {
    /// group-entities, group-users, users-per-device, users-per-card, users-per-address,
    /// users-per-phone, cards-per-device, cards-per-user, in that order.
    pub counts: [u32; 8],
    pub hops_to_fraud: Option<u8>,
    pub fraud_share_2hop: f32,
    pub score: f32,
}

/// Builds one context buffer. Every field starts absent (zero); set what the context has,
/// then [`finish`](Writer::finish).
///
/// The fixed section and the attribute and watch-hit entries are sized up front (hence the
/// counts in [`new`](Writer::new)), texts are appended behind them, so a buffer is built in
/// one allocation when `text_capacity` is right.
#[derive(Debug)]
pub struct Writer {
    buf: Vec<u8>,
    present: u32,
    text_offset: usize,
    attributes: usize,
    attributes_cap: usize,
    watch_hits: usize,
    watch_hits_cap: usize,
}

impl Writer {
    /// A buffer at `checkpoint` (a [`checkpoint`] code) with room for `attributes`
    /// attribute entries, `watch_hits` watch-hit entries and `text_capacity` bytes of text.
    pub fn new(
        checkpoint: u8,
        attributes: usize,
        watch_hits: usize,
        text_capacity: usize,
    ) -> Writer {
        let text_offset = FIXED_END + attributes * ATTRIBUTE_LEN + watch_hits * WATCH_HIT_LEN;
        let mut buf = Vec::with_capacity(text_offset + text_capacity);
        buf.resize(text_offset, 0);
        buf[AT_MAGIC..AT_MAGIC + 4].copy_from_slice(&MAGIC);
        let mut writer = Writer {
            buf,
            present: 0,
            text_offset,
            attributes: 0,
            attributes_cap: attributes,
            watch_hits: 0,
            watch_hits_cap: watch_hits,
        };
        writer.put_u16(AT_MAJOR, MAJOR);
        writer.put_u16(AT_MINOR, MINOR);
        writer.put_u32(AT_FIXED_LEN, len32(FIXED_LEN));
        writer.put_u32(AT_TEXT_OFFSET, len32(text_offset));
        writer.buf[AT_CHECKPOINT] = checkpoint;
        writer.put_u32(AT_ATTRIBUTES, len32(FIXED_END));
        writer.put_u32(AT_WATCH_HITS, len32(FIXED_END + attributes * ATTRIBUTE_LEN));
        writer
    }

    /// Sets text `index` (a [`text`] index).
    pub fn text(&mut self, index: usize, value: &str) {
        if index < text::COUNT {
            self.present |= 1 << index;
            self.put_text(AT_TEXTS + TEXT_LEN * index, value);
        }
    }

    /// Sets text `index` when `value` is `Some`.
    pub fn optional_text(&mut self, index: usize, value: Option<&str>) {
        if let Some(value) = value {
            self.text(index, value);
        }
    }

    pub fn amount(&mut self, value: f64, minor_units: i64, currency: &str) {
        self.present |= 1 << bit::AMOUNT;
        self.put_f64(AT_AMOUNT_VALUE, value);
        self.put_i64(AT_AMOUNT_MINOR_UNITS, minor_units);
        self.text(text::CURRENCY, currency);
    }

    /// The amount in the reporting currency (2.1).
    pub fn amount_reporting(&mut self, value: f64) {
        self.present |= 1 << bit::AMOUNT_REPORTING;
        self.put_f64(AT_AMOUNT_REPORTING, value);
    }

    /// The model layer's score (2.1).
    pub fn model_score(&mut self, score: f64) {
        self.present |= 1 << bit::MODEL_SCORE;
        self.put_f64(AT_MODEL_SCORE, score);
    }

    pub fn account_age_days(&mut self, days: u32) {
        self.present |= 1 << bit::ACCOUNT_AGE_DAYS;
        self.put_u32(AT_ACCOUNT_AGE_DAYS, days);
    }

    pub fn proxy(&mut self, is_proxy: bool) {
        let flags = &mut self.buf[AT_FLAGS];
        if is_proxy {
            *flags |= FLAG_PROXY;
        } else {
            *flags &= !FLAG_PROXY;
        }
    }

    /// Sets velocity window `index` (a [`window`] index).
    pub fn window(&mut self, index: usize, stats: RawWindow) {
        if index > window::EMAIL {
            return;
        }
        if index > window::USER {
            self.present |= 1 << (bit::WINDOWS as usize + index - 1);
        }
        let at = AT_WINDOWS + WINDOW_LEN * index;
        self.put_u32(at, stats.count_1h);
        self.put_u32(at + 4, stats.count_24h);
        self.put_f64(at + 8, stats.sum_1h);
        self.put_f64(at + 16, stats.sum_24h);
    }

    pub fn graph(&mut self, graph: RawGraph) {
        self.present |= 1 << bit::GRAPH;
        for (slot, count) in graph.counts.iter().enumerate() {
            self.put_u32(AT_GRAPH + 4 * slot, *count);
        }
        self.put_f32(AT_GRAPH + 32, graph.fraud_share_2hop);
        self.put_f32(AT_GRAPH + 36, graph.score);
        if let Some(hops) = graph.hops_to_fraud {
            self.present |= 1 << bit::HOPS_TO_FRAUD;
            self.buf[AT_HOPS_TO_FRAUD] = hops;
        }
    }

    /// Appends an attribute; beyond the count given to [`new`](Writer::new) it is dropped.
    pub fn attribute(&mut self, key: &str, value: &str) {
        debug_assert!(self.attributes < self.attributes_cap, "attribute count");
        if self.attributes < self.attributes_cap {
            let at = FIXED_END + self.attributes * ATTRIBUTE_LEN;
            self.put_text(at, key);
            self.put_text(at + TEXT_LEN, value);
            self.attributes += 1;
        }
    }

    /// Appends a watch hit; beyond the count given to [`new`](Writer::new) it is dropped.
    pub fn watch_hit(&mut self, code: &str) {
        debug_assert!(self.watch_hits < self.watch_hits_cap, "watch-hit count");
        if self.watch_hits < self.watch_hits_cap {
            let at = FIXED_END + self.attributes_cap * ATTRIBUTE_LEN + self.watch_hits * TEXT_LEN;
            self.put_text(at, code);
            self.watch_hits += 1;
        }
    }

    /// The finished buffer.
    pub fn finish(mut self) -> Vec<u8> {
        self.put_u32(AT_PRESENT, self.present);
        self.put_u32(AT_ATTRIBUTES + 4, len32(self.attributes));
        self.put_u32(AT_WATCH_HITS + 4, len32(self.watch_hits));
        self.buf
    }

    fn put_text(&mut self, at: usize, value: &str) {
        let start = self.buf.len() - self.text_offset;
        self.buf.extend_from_slice(value.as_bytes());
        self.put_u32(at, len32(start));
        self.put_u32(at + 4, len32(value.len()));
    }

    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.buf[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn put_u16(&mut self, at: usize, value: u16) {
        self.put(at, &value.to_le_bytes());
    }

    fn put_u32(&mut self, at: usize, value: u32) {
        self.put(at, &value.to_le_bytes());
    }

    fn put_f32(&mut self, at: usize, value: f32) {
        self.put(at, &value.to_le_bytes());
    }

    fn put_i64(&mut self, at: usize, value: i64) {
        self.put(at, &value.to_le_bytes());
    }

    fn put_f64(&mut self, at: usize, value: f64) {
        self.put(at, &value.to_le_bytes());
    }
}

/// A length or offset as the layout's `u32`. A context is a few hundred bytes (the host's
/// request body limit keeps it far below 4 GiB), so this saturating cast never saturates.
fn len32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
