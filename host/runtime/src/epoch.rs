//! The epoch ticker: a background thread that advances the engine's epoch every
//! [`EPOCH_TICK`], so a call's wall-clock deadline (a number of ticks) can interrupt it.
//!
//! Why a thread of our own and not a tokio task: the runtime is a plain library usable
//! without an async runtime, and a timer task on a busy executor would tick late exactly
//! when the deadline matters most. The thread sleeps between ticks, so it costs nothing.
//! It stops when the last owner of the engine's shared state is dropped (the [`Ticker`]
//! lives there), and never outlives it.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances. The deadline's resolution: a call is interrupted between
/// `deadline` and `deadline + EPOCH_TICK` after it started.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The number of ticks to allow for `deadline`: rounded up, plus one because the first tick
/// may come at any moment after the call starts.
pub(crate) fn deadline_ticks(deadline: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos().max(1);
    let ticks = deadline.as_nanos().div_ceil(tick);
    u64::try_from(ticks)
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1)
}

/// Owns the ticker thread; dropping it stops and joins the thread.
#[derive(Debug)]
pub(crate) struct Ticker {
    /// Dropping the sender wakes the thread at once (its `recv_timeout` disconnects), so
    /// shutdown never waits for a tick.
    stop: Option<Sender<()>>,
    /// Joined on drop, so no ticker outlives its engine's last owner. `Option` only so
    /// `drop` can take it.
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts ticking `engine`'s epoch. Fails only if the OS refuses a thread.
    pub(crate) fn start(engine: Engine) -> std::io::Result<Ticker> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("arbiter-epoch".into())
            .spawn(move || {
                loop {
                    match stopped.recv_timeout(EPOCH_TICK) {
                        Err(RecvTimeoutError::Timeout) => engine.increment_epoch(),
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })?;
        Ok(Ticker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps and increments a counter; it cannot panic in a way
            // worth reporting during drop.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_rounded_up_with_one_tick_of_slack() {
        assert_eq!(deadline_ticks(Duration::from_millis(200)), 21);
        assert_eq!(deadline_ticks(Duration::from_millis(201)), 22);
        assert_eq!(deadline_ticks(Duration::ZERO), 1);
        assert_eq!(deadline_ticks(Duration::MAX), u64::MAX);
    }
}
