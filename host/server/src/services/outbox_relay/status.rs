//! How the relay stands, for `/readyz`, the gauges and the tests: whether this replica holds
//! it, whether NATS answers, and how far behind the feed it is.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};

/// Behind for longer than this, the relay reports itself degraded.
const DEGRADED_LAG_SECONDS: f64 = 5.0;

#[derive(Debug, Default)]
pub struct RelayStatus {
    /// This replica holds the relay's lease.
    active: AtomicBool,
    /// The last attempt (NATS or the database) failed.
    failing: AtomicBool,
    /// The creation time of the oldest event not yet on the stream, while there is one.
    oldest_waiting: Mutex<Option<DateTime<Utc>>>,
    /// Why the last attempt failed.
    last_error: Mutex<Option<String>>,
}

/// What `/readyz` says about the relay.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayReport {
    pub active: bool,
    pub failing: bool,
    /// Seconds the oldest event not yet on the stream has waited (0: caught up).
    pub lag_seconds: f64,
    pub last_error: Option<String>,
}

impl RelayReport {
    /// Only the replica that relays can be behind; a standby is never degraded by it.
    pub fn degraded(&self) -> bool {
        self.active && (self.failing || self.lag_seconds > DEGRADED_LAG_SECONDS)
    }
}

impl RelayStatus {
    pub(super) fn set_active(&self, active: bool) {
        self.active.store(active, Ordering::Relaxed);
        if !active {
            self.set_waiting(None);
        }
    }

    /// The oldest event of the feed not yet relayed (`None`: caught up).
    pub(super) fn set_waiting(&self, oldest: Option<DateTime<Utc>>) {
        if let Ok(mut w) = self.oldest_waiting.lock() {
            *w = oldest;
        }
    }

    pub(super) fn failed(&self, why: String) {
        self.failing.store(true, Ordering::Relaxed);
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(why);
        }
    }

    pub(super) fn succeeded(&self) {
        self.failing.store(false, Ordering::Relaxed);
    }

    pub fn report(&self) -> RelayReport {
        let lag_seconds = self
            .oldest_waiting
            .lock()
            .ok()
            .and_then(|w| *w)
            .map_or(0.0, |t| {
                (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0
            });
        let failing = self.failing.load(Ordering::Relaxed);
        RelayReport {
            active: self.active.load(Ordering::Relaxed),
            failing,
            lag_seconds,
            last_error: if failing {
                self.last_error.lock().ok().and_then(|e| e.clone())
            } else {
                None
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_active_relay_is_degraded_while_failing_or_behind_and_a_standby_never() {
        let status = RelayStatus::default();
        assert!(!status.report().degraded(), "a standby");
        status.failed("NATS is away".into());
        assert!(!status.report().degraded(), "a failing standby serves");
        status.set_active(true);
        let report = status.report();
        assert!(report.degraded());
        assert_eq!(report.last_error.as_deref(), Some("NATS is away"));
        status.succeeded();
        assert!(!status.report().degraded());
        status.set_waiting(Some(Utc::now() - chrono::Duration::seconds(30)));
        let report = status.report();
        assert!(
            report.degraded() && report.lag_seconds >= 30.0,
            "{report:?}"
        );
        status.set_waiting(None);
        assert_eq!(status.report().lag_seconds, 0.0);
    }
}
