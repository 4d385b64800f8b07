//! Channel callbacks refused for their signature (missing, malformed, stale, forged). They are
//! not stored — anyone can post one, and the callback log keeps raw bodies only of verified
//! callbacks — so this is where they leave a trace: a Prometheus counter per channel and
//! reason (`arbiter_webhook_refusals_total`), and a warning at most once per interval carrying
//! how many went unlogged since, never a body or a header. A flood therefore costs a counter
//! increment each, not a log line or a row each. Any channel's webhook reports here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::metrics::names;

/// The least time between two warnings.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// Counts and (rate-limited) logs refused callbacks. One per process is enough; it is lock-free.
pub struct RefusedCallbacks {
    /// The instant offsets below are measured from.
    start: Instant,
    /// Milliseconds after `start` before which no warning is written (`0`: any time).
    next_log_ms: AtomicU64,
    /// Refusals since the last warning (not counting the one that wrote it).
    unlogged: AtomicU64,
    every: Duration,
}

impl Default for RefusedCallbacks {
    fn default() -> Self {
        RefusedCallbacks::new(LOG_EVERY)
    }
}

impl RefusedCallbacks {
    pub fn new(every: Duration) -> RefusedCallbacks {
        RefusedCallbacks {
            start: Instant::now(),
            next_log_ms: AtomicU64::new(0),
            unlogged: AtomicU64::new(0),
            every,
        }
    }

    /// Counts one refused callback of `channel` for `reason`, and logs it unless another was
    /// logged within the interval. `body_len` is the only thing said about the body.
    pub fn record(&self, channel: &'static str, reason: &'static str, body_len: usize) {
        metrics::counter!(names::WEBHOOK_REFUSALS_TOTAL, "channel" => channel, "reason" => reason)
            .increment(1);
        if let Some(unlogged) = self.may_log() {
            tracing::warn!(
                channel,
                reason,
                body_len,
                unlogged_since_last = unlogged,
                "refused a webhook whose signature did not verify; not stored"
            );
        }
    }

    /// `Some(refusals not logged since the last warning)` when this one may be logged.
    fn may_log(&self) -> Option<u64> {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = self.next_log_ms.load(Ordering::Relaxed);
        let every = u64::try_from(self.every.as_millis()).unwrap_or(u64::MAX);
        let claimed = now >= next
            && self
                .next_log_ms
                .compare_exchange(
                    next,
                    now.saturating_add(every),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok();
        if claimed {
            Some(self.unlogged.swap(0, Ordering::Relaxed))
        } else {
            self.unlogged.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warning_per_interval_carries_the_count_it_stood_for() {
        let limiter = RefusedCallbacks::new(Duration::from_secs(3600));
        assert_eq!(limiter.may_log(), Some(0), "the first is logged");
        for _ in 0..999 {
            assert_eq!(limiter.may_log(), None);
        }
        assert_eq!(limiter.unlogged.load(Ordering::Relaxed), 999);
        // Once the interval has passed, the next one is logged with what it stood for.
        limiter.next_log_ms.store(0, Ordering::Relaxed);
        assert_eq!(limiter.may_log(), Some(999));
        assert_eq!(limiter.may_log(), None);
    }

    #[test]
    fn a_zero_interval_logs_every_one() {
        let limiter = RefusedCallbacks::new(Duration::ZERO);
        for _ in 0..3 {
            assert_eq!(limiter.may_log(), Some(0));
        }
    }
}
