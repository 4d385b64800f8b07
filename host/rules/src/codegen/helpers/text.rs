//! Reading and comparing texts: bounds-checked reads from the context, byte-wise equality
//! with ASCII folding, prefix, suffix and substring (Knuth–Morris–Pratt), length in
//! characters.

use wasm_encoder::BlockType;

use super::super::emit::mem;
use super::{F64, Helper, I32, Idioms, addr, fold, func, global, helper, nan};
use crate::interpret::text::MAX_TEXT_BYTES;

/// `text(entry) -> (ptr, len)`: the text whose (start, length) pair is at `entry`, or
/// length -1 when it does not lie inside the text area or is longer than the language reads.
pub(super) fn text() -> Helper {
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
pub(super) fn eq() -> Helper {
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
            .return_if(0)
            .loop_(BlockType::Empty)
            .local_get(i)
            .local_get(1)
            .i32_eq()
            .return_if(1)
            .load_byte(0, i)
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
            .return_if(0)
            .increment(i)
            .br(0)
            .end()
            .i32_const(0);
    })
}

/// `match_at(p, f, lp, ll) -> bool`: the `ll` bytes at `p` (folded by `f`) equal those at
/// `lp` (a literal, never folded).
pub(super) fn match_at() -> Helper {
    helper(&[I32, I32, I32, I32], &[I32], |b| {
        let (i, x) = (b.local(I32), b.local(I32));
        let mut s = b.sink();
        s.loop_(BlockType::Empty)
            .local_get(i)
            .local_get(3)
            .i32_eq()
            .return_if(1)
            .load_byte(0, i)
            .local_set(x);
        fold(&mut s, x, 1);
        s.local_get(x)
            .load_byte(2, i)
            .i32_ne()
            .return_if(0)
            .increment(i)
            .br(0)
            .end()
            .i32_const(0);
    })
}

/// `starts(p, l, f, lp, ll)` / `ends(…)`: a present text of at least `ll` bytes that
/// begins (ends) with the literal.
pub(super) fn starts_or_ends(ends: bool) -> Helper {
    helper(&[I32, I32, I32, I32, I32], &[I32], |b| {
        let mut s = b.sink();
        s.local_get(1)
            .local_get(4)
            .i32_lt_s()
            .return_if(0)
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
pub(super) fn contains() -> Helper {
    helper(&[I32, I32, I32, I32, I32, I32], &[I32], |b| {
        let (i, k, c) = (b.local(I32), b.local(I32), b.local(I32));
        let mut s = b.sink();
        s.local_get(1)
            .i32_const(0)
            .i32_lt_s()
            .return_if(0)
            .local_get(4)
            .i32_eqz()
            .return_if(1)
            .loop_(BlockType::Empty)
            .local_get(i)
            .local_get(1)
            .i32_eq()
            .return_if(0)
            .load_byte(0, i)
            .local_set(c);
        fold(&mut s, c, 2);
        // Fall back while the next literal byte does not match.
        s.block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(k)
            .i32_eqz()
            .br_if(1)
            .load_byte(3, k)
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
            .load_byte(3, k)
            .local_get(c)
            .i32_eq()
            .local_get(k)
            .i32_add()
            .local_tee(k)
            .local_get(4)
            .i32_eq()
            .return_if(1)
            .increment(i)
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
pub(super) fn length() -> Helper {
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
            .load_byte(0, i)
            .i32_const(0xC0)
            .i32_and()
            .i32_const(0x80)
            .i32_ne()
            .local_get(n)
            .i32_add()
            .local_set(n)
            .increment(i)
            .br(0)
            .end()
            .end()
            .local_get(n)
            .f64_convert_i32_u();
    })
}
