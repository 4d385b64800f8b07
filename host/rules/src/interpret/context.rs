//! Reading a context buffer (layout 2.x) the way the compiled code reads it: the same
//! header checks, the same bounds checks, the same "absent unless its `present` bit is
//! set" rule. The compiled module and this reader must agree byte for byte; the
//! equivalence property test holds them to it.

use super::text::MAX_TEXT_BYTES;
use crate::check::ir::{NumField, WindowField};
use crate::layout::{self, bit};

/// A context buffer, checked once. An invalid buffer reads as a context where no rule runs.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    buf: &'a [u8],
    valid: bool,
    /// The `present` bits, without 2.1's when `fixed-len` or the buffer does not cover them.
    present: u32,
    text_base: usize,
    attributes: (usize, usize),
    watch_hits: (usize, usize),
}

impl<'a> Context<'a> {
    /// A context with nothing in it: evaluating a constant expression needs no more.
    pub fn empty() -> Context<'static> {
        Context {
            buf: &[],
            valid: false,
            present: 0,
            text_base: 0,
            attributes: (0, 0),
            watch_hits: (0, 0),
        }
    }

    pub fn new(buf: &'a [u8]) -> Context<'a> {
        let mut ctx = Context {
            buf,
            valid: false,
            present: 0,
            text_base: 0,
            attributes: (0, 0),
            watch_hits: (0, 0),
        };
        let fixed_len = ctx.u32(layout::AT_FIXED_LEN) as usize;
        if buf.len() < layout::FIXED_END_2_0
            || buf[..4] != layout::MAGIC
            || ctx.u16(layout::AT_MAJOR) != layout::MAJOR
            || fixed_len < layout::FIXED_LEN_2_0
        {
            return ctx;
        }
        let text_offset = ctx.u32(layout::AT_TEXT_OFFSET) as usize;
        if text_offset < layout::FIXED_END_2_0 || text_offset > buf.len() {
            return ctx;
        }
        ctx.valid = true;
        ctx.present = ctx.u32(layout::AT_PRESENT);
        if fixed_len < layout::FIXED_LEN || buf.len() < layout::FIXED_END {
            ctx.present &= layout::PRESENT_BITS_2_0;
        }
        ctx.text_base = text_offset;
        ctx.attributes = ctx.list(layout::AT_ATTRIBUTES, layout::ATTRIBUTE_LEN);
        ctx.watch_hits = ctx.list(layout::AT_WATCH_HITS, layout::WATCH_HIT_LEN);
        ctx
    }

    /// Whether the header was sound; rules run only on a valid context.
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// The checkpoint code.
    pub fn checkpoint(&self) -> u8 {
        self.buf
            .get(layout::AT_CHECKPOINT)
            .copied()
            .unwrap_or(u8::MAX)
    }

    pub fn proxy(&self) -> bool {
        self.valid && self.buf[layout::AT_FLAGS] & layout::FLAG_PROXY != 0
    }

    fn present(&self, bit: u32) -> bool {
        self.valid && self.present & (1 << bit) != 0
    }

    /// Text `index` of the fixed section.
    pub fn text(&self, index: usize) -> Option<&'a [u8]> {
        #[expect(clippy::cast_possible_truncation, reason = "text indices are below 16")]
        let bit = index as u32;
        if !self.present(bit) {
            return None;
        }
        self.text_at(layout::AT_TEXTS + layout::TEXT_LEN * index)
    }

    /// The text whose (start, length) entry is at `at`, if it lies inside the text area
    /// and is at most [`MAX_TEXT_BYTES`] long.
    fn text_at(&self, at: usize) -> Option<&'a [u8]> {
        let start = u64::from(self.u32(at));
        let len = u64::from(self.u32(at + 4));
        let available = (self.buf.len() - self.text_base) as u64;
        if start + len > available || len > u64::from(MAX_TEXT_BYTES) {
            return None;
        }
        let from = self.text_base + start as usize;
        Some(&self.buf[from..from + len as usize])
    }

    /// The value of the first attribute whose key is `key`.
    pub fn attribute(&self, key: &[u8]) -> Option<&'a [u8]> {
        let (offset, count) = self.attributes;
        (0..count)
            .map(|i| offset + layout::ATTRIBUTE_LEN * i)
            .find(|at| self.text_at(*at) == Some(key))
            .and_then(|at| self.text_at(at + layout::TEXT_LEN))
    }

    /// The watch-hit reason codes that lie inside the text area.
    pub fn watch_hits(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let (offset, count) = self.watch_hits;
        (0..count).filter_map(move |i| self.text_at(offset + layout::WATCH_HIT_LEN * i))
    }

    /// How many watch hits the header lists.
    pub fn watch_hit_count(&self) -> usize {
        self.watch_hits.1
    }

    /// A number of the fixed section, `None` when absent or not finite.
    pub fn number(&self, field: NumField) -> Option<f64> {
        let value = match field {
            NumField::AmountValue => self
                .present(bit::AMOUNT)
                .then(|| self.f64(layout::AT_AMOUNT_VALUE)),
            #[expect(clippy::cast_precision_loss, reason = "the layout defines it as f64")]
            NumField::AmountMinorUnits => self
                .present(bit::AMOUNT)
                .then(|| self.i64(layout::AT_AMOUNT_MINOR_UNITS) as f64),
            NumField::AccountAgeDays => self
                .present(bit::ACCOUNT_AGE_DAYS)
                .then(|| f64::from(self.u32(layout::AT_ACCOUNT_AGE_DAYS))),
            NumField::Window { index, field } => {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "window indices are below 5"
                )]
                let present =
                    self.valid && (index == 0 || self.present(bit::WINDOWS + index as u32 - 1));
                let at = layout::AT_WINDOWS + layout::WINDOW_LEN * index;
                present.then(|| match field {
                    WindowField::Count1h => f64::from(self.u32(at)),
                    WindowField::Count24h => f64::from(self.u32(at + 4)),
                    WindowField::Sum1h => self.f64(at + 8),
                    WindowField::Sum24h => self.f64(at + 16),
                })
            }
            NumField::GraphCount(k) => self
                .present(bit::GRAPH)
                .then(|| f64::from(self.u32(layout::AT_GRAPH + 4 * k))),
            NumField::FraudShare2Hop => self
                .present(bit::GRAPH)
                .then(|| f64::from(self.f32(layout::AT_GRAPH + 32))),
            NumField::GraphScore => self
                .present(bit::GRAPH)
                .then(|| f64::from(self.f32(layout::AT_GRAPH + 36))),
            NumField::HopsToFraud => self
                .present(bit::HOPS_TO_FRAUD)
                .then(|| f64::from(self.buf[layout::AT_HOPS_TO_FRAUD])),
            NumField::AmountReporting => self
                .present(bit::AMOUNT_REPORTING)
                .then(|| self.f64(layout::AT_AMOUNT_REPORTING)),
            NumField::ModelScore => self
                .present(bit::MODEL_SCORE)
                .then(|| self.f64(layout::AT_MODEL_SCORE)),
        };
        value.filter(|v| v.is_finite())
    }

    /// (offset, count) of a list whose entries all lie inside the buffer; else empty.
    fn list(&self, at: usize, entry_len: usize) -> (usize, usize) {
        let offset = u64::from(self.u32(at));
        let count = u64::from(self.u32(at + 4));
        if offset + entry_len as u64 * count <= self.buf.len() as u64 {
            (offset as usize, count as usize)
        } else {
            (0, 0)
        }
    }

    fn bytes<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0; N];
        out.copy_from_slice(&self.buf[at..at + N]);
        out
    }

    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes(self.bytes(at))
    }

    fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.bytes(at))
    }

    fn i64(&self, at: usize) -> i64 {
        i64::from_le_bytes(self.bytes(at))
    }

    fn f32(&self, at: usize) -> f32 {
        f32::from_le_bytes(self.bytes(at))
    }

    fn f64(&self, at: usize) -> f64 {
        f64::from_le_bytes(self.bytes(at))
    }
}
