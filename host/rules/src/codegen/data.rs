//! The module's constant bytes: every string literal, reason code and detail piece, and the
//! powers of ten the number reader divides by, laid out once in one data segment.

use std::collections::HashMap;

use crate::interpret::text::POWERS_OF_TEN;

/// Where the data segment starts; address 0 stays unused so no literal sits at null.
pub const DATA_START: u32 = 16;

/// Interned constant bytes.
#[derive(Default)]
pub struct DataPool {
    bytes: Vec<u8>,
    interned: HashMap<Vec<u8>, u32>,
}

impl DataPool {
    /// A pool holding the powers of ten first (8-aligned at [`DATA_START`]).
    pub fn new() -> DataPool {
        let mut pool = DataPool::default();
        for power in POWERS_OF_TEN {
            pool.bytes.extend_from_slice(&power.to_le_bytes());
        }
        pool
    }

    /// Address of the `f64` table of powers of ten.
    pub fn powers_of_ten(&self) -> u32 {
        DATA_START
    }

    /// Address and length of `value`, added once.
    pub fn intern(&mut self, value: &[u8]) -> (u32, u32) {
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        if let Some(at) = self.interned.get(value) {
            return (*at, len);
        }
        let at = DATA_START + u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(value);
        self.interned.insert(value.to_vec(), at);
        (at, len)
    }

    /// The segment's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// First address after the data, 8-aligned: where the heap starts.
    pub fn end(&self) -> u32 {
        let end = DATA_START + u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
        (end + 7) & !7
    }
}
