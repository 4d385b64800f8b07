//! Time as an explicit input, so pure logic (velocity windows, list expiry) is testable.

use chrono::{DateTime, Datelike, Utc};

/// Whether the stores compare `at` correctly: years 1 to 9999 (RFC 3339's range). SQLite
/// keeps fixed-width text, which sorts wrong past 9999; PostgreSQL refuses far years. An
/// instant a caller filters by is checked with this before it reaches a query.
pub fn storable(at: DateTime<Utc>) -> bool {
    (1..=9999).contains(&at.year())
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
