//! The module's small runtime: allocation and the text and number operations every rule
//! shares, written once per module as functions the rule code calls. Each one follows the
//! interpreter's definition in `interpret::text` step for step (the equivalence property
//! test holds them to it).
//!
//! None of them can trap on a context the host writes: every text is bounds-checked
//! against the buffer before it is read, and memory is grown before it is written (a refused
//! growth is the runtime's memory-limit fault, which the host's request limits keep far
//! away).

mod lookup;
mod memory;
mod number;
mod text;
mod write;

use wasm_encoder::{BlockType, Ieee64, InstructionSink, ValType};

use super::emit::Body;

use lookup::{attr, watch};
use memory::{alloc, post_return, realloc, reserve};
use number::{norm, parse};
pub use text::failure_table;
use text::{contains, eq, length, match_at, starts_or_ends, text};
use write::{write_bytes, write_num, write_text};

/// Function indices: the three the ABI needs, then the helpers.
pub mod func {
    pub const REALLOC: u32 = 0;
    pub const EVALUATE: u32 = 1;
    pub const POST_RETURN: u32 = 2;
    pub const ALLOC: u32 = 3;
    pub const RESERVE: u32 = 4;
    pub const TEXT: u32 = 5;
    pub const EQ: u32 = 6;
    pub const MATCH_AT: u32 = 7;
    pub const STARTS: u32 = 8;
    pub const ENDS: u32 = 9;
    pub const CONTAINS: u32 = 10;
    pub const LENGTH: u32 = 11;
    pub const PARSE: u32 = 12;
    pub const ATTR: u32 = 13;
    pub const WATCH: u32 = 14;
    pub const NORM: u32 = 15;
    pub const WRITE_BYTES: u32 = 16;
    pub const WRITE_TEXT: u32 = 17;
    pub const WRITE_NUM: u32 = 18;
}

/// Global indices (all mutable `i32`), set at the start of every `evaluate`.
pub mod global {
    /// The bump allocator's next free byte; reset by `cabi_post_evaluate`.
    pub const HEAP: u32 = 0;
    /// Address of the context's text area and how many bytes it has.
    pub const TEXT_BASE: u32 = 1;
    pub const TEXT_AVAIL: u32 = 2;
    /// Address and count of the attribute entries (count 0 when they overrun the buffer).
    pub const ATTR_PTR: u32 = 3;
    pub const ATTR_COUNT: u32 = 4;
    pub const WATCH_PTR: u32 = 5;
    pub const WATCH_COUNT: u32 = 6;
    /// Address of the context buffer.
    pub const BUF: u32 = 7;
    pub const COUNT: u32 = 8;
}

pub(super) const I32: ValType = ValType::I32;
pub(super) const I64: ValType = ValType::I64;
pub(super) const F64: ValType = ValType::F64;

/// A helper: its signature and body.
pub struct Helper {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    pub body: Vec<u8>,
}

/// Addresses the helpers need from the data segment.
pub struct HelperData {
    pub heap_base: u32,
    pub powers_of_ten: u32,
    pub missing: (u32, u32),
}

/// Every function from [`func::REALLOC`] on, in index order, except `evaluate`, which the
/// rule code provides (returned as `None` in its slot).
pub fn helpers(data: &HelperData) -> Vec<Option<Helper>> {
    vec![
        Some(realloc()),
        None,
        Some(post_return(data.heap_base)),
        Some(alloc()),
        Some(reserve()),
        Some(text()),
        Some(eq()),
        Some(match_at()),
        Some(starts_or_ends(false)),
        Some(starts_or_ends(true)),
        Some(contains()),
        Some(length()),
        Some(parse(data.powers_of_ten)),
        Some(attr()),
        Some(watch()),
        Some(norm()),
        Some(write_bytes()),
        Some(write_text(data.missing)),
        Some(write_num(data.missing)),
    ]
}

pub(super) fn helper(
    params: &[ValType],
    results: &[ValType],
    build: impl FnOnce(&mut Body),
) -> Helper {
    let mut body = Body::new(u32::try_from(params.len()).unwrap_or(0));
    build(&mut body);
    Helper {
        params: params.to_vec(),
        results: results.to_vec(),
        body: body.finish(),
    }
}

pub fn nan() -> Ieee64 {
    Ieee64::from(f64::NAN)
}

/// Folds local `x` to lower case when local `flag` is set and `x` is an ASCII capital.
pub fn fold(s: &mut InstructionSink<'_>, x: u32, flag: u32) {
    s.local_get(flag)
        .local_get(x)
        .i32_const(65)
        .i32_sub()
        .i32_const(26)
        .i32_lt_u()
        .i32_and()
        .if_(BlockType::Empty)
        .local_get(x)
        .i32_const(32)
        .i32_or()
        .local_set(x)
        .end();
}

/// The instruction sequences every helper repeats, named.
pub(super) trait Idioms {
    /// `local += 1`.
    fn increment(&mut self, local: u32) -> &mut Self;
    /// Returns the `i32` constant `value` when the condition on the stack holds.
    fn return_if(&mut self, value: i32) -> &mut Self;
    /// Pushes the byte at address `base + index` (two locals).
    fn load_byte(&mut self, base: u32, index: u32) -> &mut Self;
}

impl Idioms for InstructionSink<'_> {
    fn increment(&mut self, local: u32) -> &mut Self {
        self.local_get(local)
            .i32_const(1)
            .i32_add()
            .local_set(local)
    }

    fn return_if(&mut self, value: i32) -> &mut Self {
        self.if_(BlockType::Empty).i32_const(value).return_().end()
    }

    fn load_byte(&mut self, base: u32, index: u32) -> &mut Self {
        self.local_get(base)
            .local_get(index)
            .i32_add()
            .i32_load8_u(super::emit::mem(0, 0))
    }
}

/// A data address or length as the `i32` an instruction takes (data lives far below 2 GiB).
pub fn addr(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
