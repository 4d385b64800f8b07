//! A clock the test moves, for reservations, expiries and timestamps that must not depend on
//! how fast the test runs.

use std::sync::{Arc, Mutex};

use arbiter_engine::clock::Clock;
use chrono::{DateTime, Duration, SubsecRound, Utc};

/// A clock the test moves. Starts at now, to the microsecond (what both backends keep).
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn new() -> Arc<TestClock> {
        Arc::new(TestClock(Mutex::new(Utc::now().trunc_subsecs(6))))
    }
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().expect("clock lock");
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}
