//! When each key was last used, without a database write per request: a request stores the
//! second it was served in its key's [`LastUse`] slot (an atomic, no lock), and the key
//! service's sync task takes every slot's time and writes them all in one batch every
//! [`LAST_USE_FLUSH_EVERY`] (and once more at shutdown). So `last_used_at` is to the second
//! and reaches the database at most that late; a crash loses at most that much of it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// How often recorded uses are written to the database.
pub const LAST_USE_FLUSH_EVERY: Duration = Duration::from_secs(5);

/// 0 means "no use since the last flush".
const NONE: i64 = 0;

/// One key's last use not yet written, in Unix seconds.
#[derive(Debug, Default)]
pub struct LastUse(AtomicI64);

impl LastUse {
    /// Records a use at `now`. Only the first use in a second writes the slot; the others
    /// only read it, so a busy key's slot is not a contended cache line.
    pub fn record(&self, now: DateTime<Utc>) {
        let second = now.timestamp();
        if self.0.load(Ordering::Relaxed) < second {
            self.0.fetch_max(second, Ordering::Relaxed);
        }
    }

    /// The pending use, left in place (a listing shows it before it is written).
    pub fn peek(&self) -> Option<DateTime<Utc>> {
        at(self.0.load(Ordering::Relaxed))
    }

    /// The pending use, taken: the slot is empty until the next use.
    pub fn take(&self) -> Option<DateTime<Utc>> {
        at(self.0.swap(NONE, Ordering::Relaxed))
    }

    /// Puts back a use whose write failed, unless a later one was recorded meanwhile.
    pub fn restore(&self, t: DateTime<Utc>) {
        self.0.fetch_max(t.timestamp(), Ordering::Relaxed);
    }
}

fn at(second: i64) -> Option<DateTime<Utc>> {
    (second != NONE)
        .then(|| DateTime::from_timestamp(second, 0))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_is_kept_to_the_second_until_taken() {
        let slot = LastUse::default();
        assert_eq!(slot.take(), None);
        let t = DateTime::from_timestamp(1_700_000_000, 250_000_000).expect("time");
        slot.record(t);
        slot.record(t - chrono::Duration::seconds(3));
        let second = DateTime::from_timestamp(1_700_000_000, 0);
        assert_eq!(slot.peek(), second, "an older use does not move it back");
        assert_eq!(slot.take(), second);
        assert_eq!(slot.take(), None, "taken once");
    }

    #[test]
    fn a_failed_write_is_restored_unless_a_later_use_came() {
        let slot = LastUse::default();
        let t = DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        slot.restore(t);
        assert_eq!(slot.peek(), Some(t));
        slot.record(t + chrono::Duration::seconds(2));
        slot.restore(t);
        assert_eq!(slot.take(), Some(t + chrono::Duration::seconds(2)));
    }
}
