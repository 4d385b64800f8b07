//! Memory: the canonical ABI's allocator and post-return, a bump allocator released after
//! every call, and growing memory before anything is written.

use wasm_encoder::BlockType;

use super::{Helper, I32, func, global, helper};

/// `cabi_realloc(old, old_size, align, new_size)`: a fresh block, the old bytes copied.
pub(super) fn realloc() -> Helper {
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
pub(super) fn post_return(heap_base: u32) -> Helper {
    helper(&[I32], &[], |b| {
        b.sink()
            .i32_const(i32::try_from(heap_base).unwrap_or(i32::MAX))
            .global_set(global::HEAP);
    })
}

/// `alloc(size, align) -> ptr`, bump allocation.
pub(super) fn alloc() -> Helper {
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
pub(super) fn reserve() -> Helper {
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
