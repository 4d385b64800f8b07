//! Whether Redis is up for [`super::RedisVelocity`], when the next reconnect probe may start,
//! and the events waiting to be replayed. Owns no I/O: the store does the calls and reports
//! here.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arbiter_engine::velocity::VelocityEvent;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;

/// Not yet connected (the service is starting).
const STARTING: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// What a change of state means for the log: a connection at start is not a recovery, and
/// the first failure at start is an outage like any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transition {
    /// Nothing changed.
    Same,
    /// Up for the first time since start.
    Connected,
    /// Up again after an outage.
    Recovered,
    /// Down (first failure at start, or up before).
    Lost,
}

pub(super) struct Health {
    /// [`STARTING`], [`UP`] or [`DOWN`]. Read on every call, so an atomic rather than the
    /// mutex below.
    state: AtomicU8,
    /// The manager, kept while down too so a probe reuses it (it reconnects internally). A
    /// `std` mutex: it is held only to clone an `Arc`-backed handle, never across an await.
    conn: Mutex<Option<ConnectionManager>>,
    /// Milliseconds after `started` before which no new probe starts; a CAS on it lets exactly
    /// one caller start each probe.
    next_probe_ms: AtomicU64,
    started: Instant,
    /// Events recorded while down, oldest first, replayed on reconnect.
    backlog: Mutex<VecDeque<(VelocityEvent, DateTime<Utc>)>>,
    limit: usize,
    /// Events dropped from a full backlog (they stay in the in-process counters only).
    dropped: AtomicU64,
}

impl Health {
    pub(super) fn new(limit: usize) -> Health {
        Health {
            state: AtomicU8::new(STARTING),
            conn: Mutex::new(None),
            next_probe_ms: AtomicU64::new(0),
            started: Instant::now(),
            backlog: Mutex::new(VecDeque::new()),
            limit,
            dropped: AtomicU64::new(0),
        }
    }

    pub(super) fn is_up(&self) -> bool {
        self.state.load(Ordering::Acquire) == UP
    }

    /// The connection while up, else `None`.
    pub(super) fn connection(&self) -> Option<ConnectionManager> {
        if !self.is_up() {
            return None;
        }
        self.any_connection()
    }

    /// The kept connection whether or not Redis is up (for probes).
    pub(super) fn any_connection(&self) -> Option<ConnectionManager> {
        match self.conn.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Marks Redis up with `conn`.
    pub(super) fn mark_up(&self, conn: ConnectionManager) -> Transition {
        match self.conn.lock() {
            Ok(mut guard) => *guard = Some(conn),
            Err(poisoned) => *poisoned.into_inner() = Some(conn),
        }
        match self.state.swap(UP, Ordering::AcqRel) {
            STARTING => Transition::Connected,
            DOWN => Transition::Recovered,
            _ => Transition::Same,
        }
    }

    /// Marks Redis down; [`Transition::Lost`] once per outage, so the caller logs it once.
    pub(super) fn mark_down(&self) -> Transition {
        match self.state.swap(DOWN, Ordering::AcqRel) {
            DOWN => Transition::Same,
            _ => Transition::Lost,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// True for exactly one caller per `interval` while down: that caller starts a probe.
    pub(super) fn probe_due(&self, interval: Duration) -> bool {
        let now = self.now_ms();
        let due = self.next_probe_ms.load(Ordering::Acquire);
        if now < due {
            return false;
        }
        let next = now.saturating_add(u64::try_from(interval.as_millis()).unwrap_or(u64::MAX));
        self.next_probe_ms
            .compare_exchange(due, next, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn with_backlog<T>(
        &self,
        f: impl FnOnce(&mut VecDeque<(VelocityEvent, DateTime<Utc>)>) -> T,
    ) -> T {
        match self.backlog.lock() {
            Ok(mut guard) => f(&mut guard),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    pub(super) fn push_backlog(&self, event: VelocityEvent, at: DateTime<Utc>) {
        if self.limit == 0 {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let overflow = self.with_backlog(|q| {
            let overflow = q.len() >= self.limit;
            if overflow {
                q.pop_front();
            }
            q.push_back((event, at));
            overflow
        });
        if overflow {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn pop_backlog(&self) -> Option<(VelocityEvent, DateTime<Utc>)> {
        self.with_backlog(VecDeque::pop_front)
    }

    pub(super) fn push_front_backlog(&self, event: VelocityEvent, at: DateTime<Utc>) {
        self.with_backlog(|q| q.push_front((event, at)));
    }

    pub(super) fn backlog_stats(&self) -> (usize, u64) {
        (
            self.with_backlog(|q| q.len()),
            self.dropped.load(Ordering::Relaxed),
        )
    }
}
