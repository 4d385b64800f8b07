//! The outcome report over a window: the store aggregates, `arbiter_engine::feedback::report`
//! does the arithmetic.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use arbiter_engine::feedback::report::build;
use arbiter_engine::feedback::{OutcomeCounts, OutcomeReport, ReportWindow};
use arbiter_engine::store::Store;

use super::error::{FeedbackError, invalid};

pub struct ReportService {
    store: Arc<dyn Store>,
}

impl ReportService {
    pub fn new(store: Arc<dyn Store>) -> Self {
        ReportService { store }
    }

    /// `to` defaults to now and `from` to 30 days before `to`. Both must lie in years 1 to
    /// 9999 (RFC 3339's range): both stores compare timestamps correctly only there, and a
    /// default `from` is then always representable.
    pub async fn outcomes(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        policy_set_version: Option<i64>,
    ) -> Result<OutcomeReport, FeedbackError> {
        let to = in_range("to", to.unwrap_or_else(Utc::now))?;
        let from = match from {
            Some(from) => in_range("from", from)?,
            None => in_range("to", to - Duration::days(30))?,
        };
        if from >= to {
            return Err(invalid("from", "must be before `to`"));
        }
        let window = ReportWindow {
            from,
            to,
            policy_set_version,
        };
        let counts = self.store.outcome_counts(&window).await?;
        let labelled = self.store.labelled_outcomes(&window).await?;
        let turnarounds = self.store.review_turnarounds(&window).await?;
        Ok(build(window, counts, &labelled, turnarounds))
    }
}

impl ReportService {
    /// Decisions by action for each of the `days` UTC days up to and including `now`'s,
    /// oldest first: one indexed count per day.
    pub async fn daily(
        &self,
        now: DateTime<Utc>,
        days: i64,
    ) -> Result<Vec<(DateTime<Utc>, OutcomeCounts)>, FeedbackError> {
        let today = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(now, |t| t.and_utc());
        let mut out = Vec::new();
        for back in (0..days).rev() {
            let from = today - Duration::days(back);
            let window = ReportWindow {
                from,
                to: from + Duration::days(1),
                policy_set_version: None,
            };
            out.push((from, self.store.outcome_counts(&window).await?));
        }
        Ok(out)
    }
}

/// `at` when it lies in years 1 to 9999.
fn in_range(field: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>, FeedbackError> {
    if arbiter_engine::clock::storable(at) {
        Ok(at)
    } else {
        Err(invalid(field, format!("`{at}` is outside years 1 to 9999")))
    }
}
