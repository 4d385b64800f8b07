//! The one `wasmtime::Engine` every module is compiled, loaded and run with, and the
//! state shared by everything the runtime hands out.
//!
//! The configuration is part of each compiled artifact's identity: wasmtime refuses to load
//! an artifact compiled with different code-generation settings, so the settings here are
//! fixed (not read from [`RuntimeConfig`]) and changing one means recompiling the stored
//! modules. Nothing here links WASI or any host function: the linker the runtime uses is
//! empty, so a module can reach nothing outside its own memory.

use std::sync::Arc;

use wasmtime::{Config, Engine};

use crate::config::RuntimeConfig;
use crate::epoch::{Ticker, deadline_ticks};

/// What every [`crate::LoadedModule`] and the [`crate::PolicyRuntime`] share. A loaded
/// module keeps it alive, so the epoch keeps ticking for as long as anything can run a
/// module, even after the `PolicyRuntime` handle itself is dropped.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Cheap to clone (reference counted inside wasmtime); every store and component of
    /// this runtime belongs to it.
    pub(crate) engine: Engine,
    /// Immutable after start: limits are the same for every call of every module.
    pub(crate) config: RuntimeConfig,
    /// `config.deadline` in epoch ticks, computed once.
    pub(crate) deadline_ticks: u64,
    /// Advances the engine's epoch; stops when this struct is dropped.
    _ticker: Ticker,
}

impl Shared {
    pub(crate) fn new(config: RuntimeConfig) -> Result<Arc<Shared>, wasmtime::Error> {
        let engine = Engine::new(&engine_config())?;
        let ticker = Ticker::start(engine.clone())?;
        Ok(Arc::new(Shared {
            deadline_ticks: deadline_ticks(config.deadline),
            engine,
            config,
            _ticker: ticker,
        }))
    }
}

/// The code-generation and sandbox settings.
fn engine_config() -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        // Deterministic instruction budget: replays and backtests fault where live traffic did.
        .consume_fuel(true)
        // Wall-clock backstop, checked at function entries and loop headers.
        .epoch_interruption(true)
        // Linear memories get the default 4 GiB virtual reservation (plus guard): address
        // space is plentiful on 64-bit hosts, it lets compiled code skip bounds checks on
        // every load and store of the hot path, and only touched pages cost memory. The
        // reservation is made once per instance, and instances are long-lived, so its
        // mmap cost is paid at prewarm, not per call. With the whole 32-bit space reserved a
        // memory never moves, so compiled code may keep its base pointer in a register.
        .memory_reservation(4 << 30)
        .memory_may_move(false)
        // Initial memory images are mapped copy-on-write, which keeps instantiation (prewarm,
        // recycling, the fresh store after a trap) in the tens of microseconds.
        .memory_init_cow(true);
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_builds_and_the_ticker_stops_on_drop() {
        let shared = Shared::new(RuntimeConfig::default()).expect("engine");
        assert_eq!(shared.deadline_ticks, 21);
        drop(shared);
    }
}
