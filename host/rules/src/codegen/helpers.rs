//! The module's small runtime: allocation and the text and number operations every rule
//! shares, written once per module as functions the rule code calls. Each one follows the
//! interpreter's definition in `interpret::text` step for step (the equivalence property
//! test holds them to it).
//!
//! None of them can trap on a context the host writes: every text is bounds-checked
//! against the buffer before it is read, and memory is grown before it is written (a refused
//! growth is the runtime's memory-limit fault, which the host's request limits keep far
//! away).

use wasm_encoder::{BlockType, Ieee64, InstructionSink, ValType};

use super::emit::{Body, mem};
use crate::interpret::text::MAX_TEXT_BYTES;

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

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;
const F64: ValType = ValType::F64;

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

fn helper(params: &[ValType], results: &[ValType], build: impl FnOnce(&mut Body)) -> Helper {
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

/// `cabi_realloc(old, old_size, align, new_size)`: a fresh block, the old bytes copied.
fn realloc() -> Helper {
    helper(&[I32, I32, I32, I32], &[I32], |b| {
        let new = b.local(I32);
        b.sink()
            .local_get(3)
            .local_get(2)
            .call(func::ALLOC)
            .local_set(new)
            .local_get(0)
            .if_(BlockType::Empty)
            .local_get(new)
            .local_get(0)
            .local_get(1)
            .local_get(3)
            .local_get(1)
            .local_get(3)
            .i32_lt_u()
            .select()
            .memory_copy(0, 0)
            .end()
            .local_get(new);
    })
}

/// `cabi_post_evaluate`: everything allocated for the call is released at once.
fn post_return(heap_base: u32) -> Helper {
    helper(&[I32], &[], |b| {
        b.sink()
            .i32_const(i32::try_from(heap_base).unwrap_or(i32::MAX))
            .global_set(global::HEAP);
    })
}

/// `alloc(size, align) -> ptr`, bump allocation.
fn alloc() -> Helper {
    helper(&[I32, I32], &[I32], |b| {
        let ptr = b.local(I32);
        b.sink()
            .global_get(global::HEAP)
            .local_get(1)
            .i32_add()
            .i32_const(1)
            .i32_sub()
            .i32_const(0)
            .local_get(1)
            .i32_sub()
            .i32_and()
            .local_set(ptr)
            .local_get(ptr)
            .local_get(0)
            .call(func::RESERVE)
            .local_get(ptr)
            .local_get(0)
            .i32_add()
            .global_set(global::HEAP)
            .local_get(ptr);
    })
}

/// `reserve(at, n)`: grows memory so `at + n` bytes exist.
fn reserve() -> Helper {
    helper(&[I32, I32], &[], |b| {
        let (end, have) = (b.local(I32), b.local(I32));
        b.sink()
            .local_get(0)
            .local_get(1)
            .i32_add()
            .local_tee(end)
            .memory_size(0)
            .i32_const(16)
            .i32_shl()
            .local_tee(have)
            .i32_gt_u()
            .if_(BlockType::Empty)
            .local_get(end)
            .local_get(have)
            .i32_sub()
            .i32_const(65_535)
            .i32_add()
            .i32_const(16)
            .i32_shr_u()
            .memory_grow(0)
            .i32_const(-1)
            .i32_eq()
            .if_(BlockType::Empty)
            .unreachable()
            .end()
            .end();
    })
}

/// `text(entry) -> (ptr, len)`: the text whose (start, length) pair is at `entry`, or
/// length -1 when it does not lie inside the text area or is longer than the language reads.
fn text() -> Helper {
    helper(&[I32], &[I32, I32], |b| {
        let (start, len) = (b.local(I32), b.local(I32));
        b.sink()
            .local_get(0)
            .i32_load(mem(0, 0))
            .local_set(start)
            .local_get(0)
            .i32_load(mem(4, 0))
            .local_set(len)
            .local_get(start)
            .i64_extend_i32_u()
            .local_get(len)
            .i64_extend_i32_u()
            .i64_add()
            .global_get(global::TEXT_AVAIL)
            .i64_extend_i32_u()
            .i64_le_u()
            .local_get(len)
            .i32_const(addr(MAX_TEXT_BYTES))
            .i32_le_u()
            .i32_and()
            .if_(BlockType::Empty)
            .global_get(global::TEXT_BASE)
            .local_get(start)
            .i32_add()
            .local_get(len)
            .return_()
            .end()
            .i32_const(0)
            .i32_const(-1);
    })
}

/// `eq(p1, l1, f1, p2, l2, f2) -> bool`: both present, same length, same bytes after
/// folding each side by its flag.
fn eq() -> Helper {
    helper(&[I32, I32, I32, I32, I32, I32], &[I32], |b| {
        let (i, x, y) = (b.local(I32), b.local(I32), b.local(I32));
        let mut s = b.sink();
        s.local_get(1)
            .i32_const(0)
            .i32_lt_s()
            .local_get(4)
            .i32_const(0)
            .i32_lt_s()
            .i32_or()
            .local_get(1)
            .local_get(4)
            .i32_ne()
            .i32_or()
            .if_(BlockType::Empty)
            .i32_const(0)
            .return_()
            .end()
            .loop_(BlockType::Empty)
            .local_get(i)
            .local_get(1)
            .i32_eq()
            .if_(BlockType::Empty)
            .i32_const(1)
            .return_()
            .end()
            .local_get(0)
            .local_get(i)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .local_set(x);
        fold(&mut s, x, 2);
        s.local_get(3)
            .local_get(i)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .local_set(y);
        fold(&mut s, y, 5);
        s.local_get(x)
            .local_get(y)
            .i32_ne()
            .if_(BlockType::Empty)
            .i32_const(0)
            .return_()
            .end()
            .local_get(i)
            .i32_const(1)
            .i32_add()
            .local_set(i)
            .br(0)
            .end()
            .i32_const(0);
    })
}

/// `match_at(p, f, lp, ll) -> bool`: the `ll` bytes at `p` (folded by `f`) equal those at
/// `lp` (a literal, never folded).
fn match_at() -> Helper {
    helper(&[I32, I32, I32, I32], &[I32], |b| {
        let (i, x) = (b.local(I32), b.local(I32));
        let mut s = b.sink();
        s.loop_(BlockType::Empty)
            .local_get(i)
            .local_get(3)
            .i32_eq()
            .if_(BlockType::Empty)
            .i32_const(1)
            .return_()
            .end()
            .local_get(0)
            .local_get(i)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .local_set(x);
        fold(&mut s, x, 1);
        s.local_get(x)
            .local_get(2)
            .local_get(i)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .i32_ne()
            .if_(BlockType::Empty)
            .i32_const(0)
            .return_()
            .end()
            .local_get(i)
            .i32_const(1)
            .i32_add()
            .local_set(i)
            .br(0)
            .end()
            .i32_const(0);
    })
}

/// `starts(p, l, f, lp, ll)` / `ends(…)`: a present text of at least `ll` bytes that
/// begins (ends) with the literal.
fn starts_or_ends(ends: bool) -> Helper {
    helper(&[I32, I32, I32, I32, I32], &[I32], |b| {
        let mut s = b.sink();
        s.local_get(1)
            .local_get(4)
            .i32_lt_s()
            .if_(BlockType::Empty)
            .i32_const(0)
            .return_()
            .end()
            .local_get(0);
        if ends {
            s.local_get(1).i32_add().local_get(4).i32_sub();
        }
        s.local_get(2)
            .local_get(3)
            .local_get(4)
            .call(func::MATCH_AT);
    })
}

/// `contains(p, l, f, lp, ll, fail)`: the literal at some position of a present text,
/// found with Knuth–Morris–Pratt over the literal's failure table at `fail` (one `i32` per
/// literal byte, computed at compile time): at most two steps per text byte, so its cost
/// is linear in the text whatever the literal.
fn contains() -> Helper {
    helper(&[I32, I32, I32, I32, I32, I32], &[I32], |b| {
        let (i, k, c) = (b.local(I32), b.local(I32), b.local(I32));
        let mut s = b.sink();
        s.local_get(1)
            .i32_const(0)
            .i32_lt_s()
            .if_(BlockType::Empty)
            .i32_const(0)
            .return_()
            .end()
            .local_get(4)
            .i32_eqz()
            .if_(BlockType::Empty)
            .i32_const(1)
            .return_()
            .end()
            .loop_(BlockType::Empty)
            .local_get(i)
            .local_get(1)
            .i32_eq()
            .if_(BlockType::Empty)
            .i32_const(0)
            .return_()
            .end()
            .local_get(0)
            .local_get(i)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .local_set(c);
        fold(&mut s, c, 2);
        // Fall back while the next literal byte does not match.
        s.block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(k)
            .i32_eqz()
            .br_if(1)
            .local_get(3)
            .local_get(k)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .local_get(c)
            .i32_eq()
            .br_if(1)
            .local_get(5)
            .local_get(k)
            .i32_const(4)
            .i32_mul()
            .i32_add()
            .i32_const(4)
            .i32_sub()
            .i32_load(mem(0, 0))
            .local_set(k)
            .br(0)
            .end()
            .end()
            .local_get(3)
            .local_get(k)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .local_get(c)
            .i32_eq()
            .local_get(k)
            .i32_add()
            .local_tee(k)
            .local_get(4)
            .i32_eq()
            .if_(BlockType::Empty)
            .i32_const(1)
            .return_()
            .end()
            .local_get(i)
            .i32_const(1)
            .i32_add()
            .local_set(i)
            .br(0)
            .end()
            .i32_const(0);
    })
}

/// The Knuth–Morris–Pratt failure table of `needle`: entry `q` is the length of the
/// longest proper prefix of `needle[..=q]` that is also its suffix.
pub fn failure_table(needle: &[u8]) -> Vec<u32> {
    let mut table = vec![0u32; needle.len()];
    let mut k = 0usize;
    for q in 1..needle.len() {
        while k > 0 && needle[k] != needle[q] {
            k = table[k - 1] as usize;
        }
        if needle[k] == needle[q] {
            k += 1;
        }
        table[q] = u32::try_from(k).unwrap_or(0);
    }
    table
}

/// `length(p, l) -> f64`: characters (bytes that are not UTF-8 continuations); NaN when
/// missing.
fn length() -> Helper {
    helper(&[I32, I32], &[F64], |b| {
        let (i, n) = (b.local(I32), b.local(I32));
        b.sink()
            .local_get(1)
            .i32_const(0)
            .i32_lt_s()
            .if_(BlockType::Empty)
            .f64_const(nan())
            .return_()
            .end()
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(i)
            .local_get(1)
            .i32_eq()
            .br_if(1)
            .local_get(0)
            .local_get(i)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .i32_const(0xC0)
            .i32_and()
            .i32_const(0x80)
            .i32_ne()
            .local_get(n)
            .i32_add()
            .local_set(n)
            .local_get(i)
            .i32_const(1)
            .i32_add()
            .local_set(i)
            .br(0)
            .end()
            .end()
            .local_get(n)
            .f64_convert_i32_u();
    })
}

/// `parse(p, l) -> f64`: `-?D+(.D+)?` with at most 15 digits, as mantissa / 10^fraction;
/// NaN for anything else.
fn parse(powers_of_ten: u32) -> Helper {
    helper(&[I32, I32], &[F64], |b| {
        let (i, neg, count, integer) = (b.local(I32), b.local(I32), b.local(I32), b.local(I32));
        let (fraction, dot, byte) = (b.local(I32), b.local(I32), b.local(I32));
        let mantissa = b.local(I64);
        let value = b.local(F64);
        let nan_return = |s: &mut InstructionSink<'_>| {
            s.if_(BlockType::Empty).f64_const(nan()).return_().end();
        };
        let mut s = b.sink();
        s.local_get(1).i32_const(0).i32_lt_s();
        nan_return(&mut s);
        s.local_get(1)
            .i32_const(0)
            .i32_gt_s()
            .if_(BlockType::Empty)
            .local_get(0)
            .i32_load8_u(mem(0, 0))
            .i32_const(i32::from(b'-'))
            .i32_eq()
            .if_(BlockType::Empty)
            .i32_const(1)
            .local_set(neg)
            .i32_const(1)
            .local_set(i)
            .end()
            .end()
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(i)
            .local_get(1)
            .i32_eq()
            .br_if(1)
            .local_get(0)
            .local_get(i)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .local_set(byte)
            .local_get(byte)
            .i32_const(48)
            .i32_sub()
            .i32_const(10)
            .i32_lt_u()
            .if_(BlockType::Empty)
            .local_get(count)
            .i32_const(1)
            .i32_add()
            .local_tee(count)
            .i32_const(15)
            .i32_gt_u();
        nan_return(&mut s);
        s.local_get(mantissa)
            .i64_const(10)
            .i64_mul()
            .local_get(byte)
            .i32_const(48)
            .i32_sub()
            .i64_extend_i32_u()
            .i64_add()
            .local_set(mantissa)
            .local_get(dot)
            .if_(BlockType::Empty)
            .local_get(fraction)
            .i32_const(1)
            .i32_add()
            .local_set(fraction)
            .else_()
            .local_get(integer)
            .i32_const(1)
            .i32_add()
            .local_set(integer)
            .end()
            .else_()
            .local_get(byte)
            .i32_const(i32::from(b'.'))
            .i32_eq()
            .local_get(dot)
            .i32_eqz()
            .i32_and()
            .if_(BlockType::Empty)
            .i32_const(1)
            .local_set(dot)
            .else_()
            .f64_const(nan())
            .return_()
            .end()
            .end()
            .local_get(i)
            .i32_const(1)
            .i32_add()
            .local_set(i)
            .br(0)
            .end()
            .end()
            .local_get(integer)
            .i32_eqz()
            .local_get(dot)
            .local_get(fraction)
            .i32_eqz()
            .i32_and()
            .i32_or();
        nan_return(&mut s);
        s.local_get(mantissa)
            .f64_convert_i64_u()
            .local_get(fraction)
            .i32_const(8)
            .i32_mul()
            .f64_load(mem(u64::from(powers_of_ten), 0))
            .f64_div()
            .local_tee(value)
            .f64_neg()
            .local_get(value)
            .local_get(neg)
            .select();
    })
}

/// `attr(kp, kl) -> (ptr, len)`: the value of the first attribute whose key equals the
/// literal; length -1 when there is none.
fn attr() -> Helper {
    helper(&[I32, I32], &[I32, I32], |b| {
        let (i, entry, p, l) = (b.local(I32), b.local(I32), b.local(I32), b.local(I32));
        b.sink()
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(i)
            .global_get(global::ATTR_COUNT)
            .i32_ge_u()
            .br_if(1)
            .global_get(global::ATTR_PTR)
            .local_get(i)
            .i32_const(16)
            .i32_mul()
            .i32_add()
            .local_tee(entry)
            .call(func::TEXT)
            .local_set(l)
            .local_set(p)
            .local_get(p)
            .local_get(l)
            .i32_const(0)
            .local_get(0)
            .local_get(1)
            .i32_const(0)
            .call(func::EQ)
            .if_(BlockType::Empty)
            .local_get(entry)
            .i32_const(8)
            .i32_add()
            .call(func::TEXT)
            .return_()
            .end()
            .local_get(i)
            .i32_const(1)
            .i32_add()
            .local_set(i)
            .br(0)
            .end()
            .end()
            .i32_const(0)
            .i32_const(-1);
    })
}

/// `watch(kp, kl) -> bool`: a watch hit with exactly this code.
fn watch() -> Helper {
    helper(&[I32, I32], &[I32], |b| {
        let (i, p, l) = (b.local(I32), b.local(I32), b.local(I32));
        b.sink()
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(i)
            .global_get(global::WATCH_COUNT)
            .i32_ge_u()
            .br_if(1)
            .global_get(global::WATCH_PTR)
            .local_get(i)
            .i32_const(8)
            .i32_mul()
            .i32_add()
            .call(func::TEXT)
            .local_set(l)
            .local_set(p)
            .local_get(p)
            .local_get(l)
            .i32_const(0)
            .local_get(0)
            .local_get(1)
            .i32_const(0)
            .call(func::EQ)
            .if_(BlockType::Empty)
            .i32_const(1)
            .return_()
            .end()
            .local_get(i)
            .i32_const(1)
            .i32_add()
            .local_set(i)
            .br(0)
            .end()
            .end()
            .i32_const(0);
    })
}

/// `norm(x) -> f64`: `x` when finite, NaN (missing) otherwise.
fn norm() -> Helper {
    helper(&[F64], &[F64], |b| {
        b.sink()
            .local_get(0)
            .local_get(0)
            .f64_sub()
            .f64_const(Ieee64::from(0.0))
            .f64_eq()
            .if_(BlockType::Result(F64))
            .local_get(0)
            .else_()
            .f64_const(nan())
            .end();
    })
}

/// `write_bytes(d, p, l) -> d + l`: copies bytes, growing memory first.
fn write_bytes() -> Helper {
    helper(&[I32, I32, I32], &[I32], |b| {
        b.sink()
            .local_get(0)
            .local_get(2)
            .call(func::RESERVE)
            .local_get(0)
            .local_get(1)
            .local_get(2)
            .memory_copy(0, 0)
            .local_get(0)
            .local_get(2)
            .i32_add();
    })
}

/// `write_text(d, p, l, f) -> d'`: a text as a detail prints it (folded when `f`,
/// `missing` when missing).
fn write_text(missing: (u32, u32)) -> Helper {
    helper(&[I32, I32, I32, I32], &[I32], |b| {
        let (i, x) = (b.local(I32), b.local(I32));
        let mut s = b.sink();
        s.local_get(2)
            .i32_const(0)
            .i32_lt_s()
            .if_(BlockType::Empty)
            .local_get(0)
            .i32_const(addr(missing.0))
            .i32_const(addr(missing.1))
            .call(func::WRITE_BYTES)
            .return_()
            .end()
            .local_get(3)
            .i32_eqz()
            .if_(BlockType::Empty)
            .local_get(0)
            .local_get(1)
            .local_get(2)
            .call(func::WRITE_BYTES)
            .return_()
            .end()
            .local_get(0)
            .local_get(2)
            .call(func::RESERVE)
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(i)
            .local_get(2)
            .i32_eq()
            .br_if(1)
            .local_get(1)
            .local_get(i)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .local_set(x);
        fold(&mut s, x, 3);
        s.local_get(0)
            .local_get(i)
            .i32_add()
            .local_get(x)
            .i32_store8(mem(0, 0))
            .local_get(i)
            .i32_const(1)
            .i32_add()
            .local_set(i)
            .br(0)
            .end()
            .end()
            .local_get(0)
            .local_get(2)
            .i32_add();
    })
}

/// `write_num(d, v) -> d'`: a number as a detail prints it: two decimals at most (ties to
/// even), trailing zeros dropped, `missing` for NaN.
fn write_num(missing: (u32, u32)) -> Helper {
    helper(&[I32, F64], &[I32], |b| {
        let (n, int, t) = (b.local(I64), b.local(I64), b.local(I64));
        let (digits, i, frac) = (b.local(I32), b.local(I32), b.local(I32));
        b.sink()
            .local_get(1)
            .local_get(1)
            .f64_ne()
            .if_(BlockType::Empty)
            .local_get(0)
            .i32_const(addr(missing.0))
            .i32_const(addr(missing.1))
            .call(func::WRITE_BYTES)
            .return_()
            .end()
            .local_get(0)
            .i32_const(24)
            .call(func::RESERVE)
            .local_get(1)
            .f64_abs()
            .f64_const(Ieee64::from(100.0))
            .f64_mul()
            .f64_nearest()
            .i64_trunc_sat_f64_s()
            .local_set(n)
            // '-' only when the rounded value is not zero.
            .local_get(1)
            .f64_const(Ieee64::from(0.0))
            .f64_lt()
            .local_get(n)
            .i64_const(0)
            .i64_ne()
            .i32_and()
            .if_(BlockType::Empty)
            .local_get(0)
            .i32_const(i32::from(b'-'))
            .i32_store8(mem(0, 0))
            .local_get(0)
            .i32_const(1)
            .i32_add()
            .local_set(0)
            .end()
            .local_get(n)
            .i64_const(100)
            .i64_div_u()
            .local_tee(int)
            .local_set(t)
            .local_get(n)
            .i64_const(100)
            .i64_rem_u()
            .i32_wrap_i64()
            .local_set(frac)
            // Count the integer part's digits.
            .i32_const(1)
            .local_set(digits)
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(t)
            .i64_const(10)
            .i64_lt_u()
            .br_if(1)
            .local_get(t)
            .i64_const(10)
            .i64_div_u()
            .local_set(t)
            .local_get(digits)
            .i32_const(1)
            .i32_add()
            .local_set(digits)
            .br(0)
            .end()
            .end()
            // Write them from the last.
            .local_get(int)
            .local_set(t)
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(i)
            .local_get(digits)
            .i32_eq()
            .br_if(1)
            .local_get(0)
            .local_get(digits)
            .i32_add()
            .i32_const(1)
            .i32_sub()
            .local_get(i)
            .i32_sub()
            .local_get(t)
            .i64_const(10)
            .i64_rem_u()
            .i32_wrap_i64()
            .i32_const(48)
            .i32_add()
            .i32_store8(mem(0, 0))
            .local_get(t)
            .i64_const(10)
            .i64_div_u()
            .local_set(t)
            .local_get(i)
            .i32_const(1)
            .i32_add()
            .local_set(i)
            .br(0)
            .end()
            .end()
            .local_get(0)
            .local_get(digits)
            .i32_add()
            .local_set(0)
            .local_get(frac)
            .if_(BlockType::Empty)
            .local_get(0)
            .i32_const(i32::from(b'.'))
            .i32_store8(mem(0, 0))
            .local_get(0)
            .local_get(frac)
            .i32_const(10)
            .i32_div_u()
            .i32_const(48)
            .i32_add()
            .i32_store8(mem(1, 0))
            .local_get(0)
            .i32_const(2)
            .i32_add()
            .local_set(0)
            .local_get(frac)
            .i32_const(10)
            .i32_rem_u()
            .if_(BlockType::Empty)
            .local_get(0)
            .local_get(frac)
            .i32_const(10)
            .i32_rem_u()
            .i32_const(48)
            .i32_add()
            .i32_store8(mem(0, 0))
            .local_get(0)
            .i32_const(1)
            .i32_add()
            .local_set(0)
            .end()
            .end()
            .local_get(0);
    })
}

/// A data address or length as the `i32` an instruction takes (data lives far below 2 GiB).
pub fn addr(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
