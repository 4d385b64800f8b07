//! Finding entries in the context's lists: a custom attribute by key, a watch hit by code.

use wasm_encoder::BlockType;

use super::{Helper, I32, Idioms, func, global, helper};

/// `attr(kp, kl) -> (ptr, len)`: the value of the first attribute whose key equals the
/// literal; length -1 when there is none.
pub(super) fn attr() -> Helper {
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
            .increment(i)
            .br(0)
            .end()
            .end()
            .i32_const(0)
            .i32_const(-1);
    })
}

/// `watch(kp, kl) -> bool`: a watch hit with exactly this code.
pub(super) fn watch() -> Helper {
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
            .return_if(1)
            .increment(i)
            .br(0)
            .end()
            .end()
            .i32_const(0);
    })
}
