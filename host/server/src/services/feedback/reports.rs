//! The outcome report over a window: the store aggregates, `arbiter_engine::feedback::report`
//! does the arithmetic.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use arbiter_engine::feedback::report::build;
use arbiter_engine::feedback::{OutcomeReport, ReportWindow};
use arbiter_engine::store::Store;

use super::error::{FeedbackError, invalid};

pub struct ReportService {
    store: Arc<dyn Store>,
}

impl ReportService {
    pub fn new(store: Arc<dyn Store>) -> Self {
        ReportService { store }
    }

    /// `to` defaults to now and `from` to 30 days before `to`.
    pub async fn outcomes(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        policy_set_version: Option<i64>,
    ) -> Result<OutcomeReport, FeedbackError> {
        let to = to.unwrap_or_else(Utc::now);
        let from = from.unwrap_or(to - Duration::days(30));
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
