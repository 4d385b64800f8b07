//! The resource limiter of every store: wasmtime's `StoreLimits` (memory cap, trap on a
//! refused growth) plus a record that it refused, so a fault can be classified as
//! `memory_limit` from a fact rather than from the text of an error message.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// Table elements one instance may have. Rust policies use a few dozen (function pointers
/// for trait objects); the cap only stops `table.grow` from being a second memory bomb.
const MAX_TABLE_ELEMENTS: usize = 1 << 16;
/// Core instances, memories and tables per store. A policy component built by the SDK has
/// one of each; the caps leave room for multi-module components without letting one
/// allocate thousands.
const MAX_INSTANCES: usize = 64;
const MAX_MEMORIES: usize = 4;
const MAX_TABLES: usize = 16;

/// The data of each policy store: only its limits (policies get no host state).
#[derive(Debug)]
pub(crate) struct Limits {
    /// wasmtime's own limiter does the limiting; this type only observes it.
    inner: StoreLimits,
    /// Set when the limiter refused a memory growth, for the fault that follows.
    memory_refused: bool,
}

impl Limits {
    pub(crate) fn new(memory_limit_bytes: usize) -> Limits {
        Limits {
            inner: StoreLimitsBuilder::new()
                .memory_size(memory_limit_bytes)
                .table_elements(MAX_TABLE_ELEMENTS)
                .instances(MAX_INSTANCES)
                .memories(MAX_MEMORIES)
                .tables(MAX_TABLES)
                // A refused `memory.grow` traps instead of returning -1: a guest cannot
                // carry on with less memory than it asked for and fail in a confusing way.
                .trap_on_grow_failure(true)
                .build(),
            memory_refused: false,
        }
    }

    /// Whether a memory growth was refused since the last call to this method.
    pub(crate) fn take_memory_refused(&mut self) -> bool {
        std::mem::take(&mut self.memory_refused)
    }
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growing = self.inner.memory_growing(current, desired, maximum);
        if !matches!(growing, Ok(true)) {
            self.memory_refused = true;
        }
        growing
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_refused = true;
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}
