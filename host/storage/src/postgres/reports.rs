//! The outcome report's aggregates on PostgreSQL (windowed counts with `::int8` casts for a
//! nullable filter; SQLite's numbered `?N` parameters need none).

use arbiter_engine::feedback::{LabelledOutcome, OutcomeCounts, ReportStore, ReportWindow};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;

use super::PgStore;
use super::feedback::LATEST_LABELS;
use chrono::{DateTime, Utc};

use crate::error::store_error;
use crate::feedback_rows::{LabelledOutcomeRow, parse_action, turnaround};

#[async_trait]
impl ReportStore for PgStore {
    async fn outcome_counts(&self, window: &ReportWindow) -> Result<OutcomeCounts, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT action, COUNT(*) FROM decisions \
             WHERE created_at >= $1 AND created_at < $2 \
               AND ($3::int8 IS NULL OR policy_set_version = $3::int8) GROUP BY action",
        )
        .bind(window.from)
        .bind(window.to)
        .bind(window.policy_set_version)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let mut counts = OutcomeCounts::default();
        for (action, n) in rows {
            counts.add(parse_action(&action)?, u64::try_from(n).unwrap_or(0));
        }
        Ok(counts)
    }

    async fn labelled_outcomes(
        &self,
        window: &ReportWindow,
    ) -> Result<Vec<LabelledOutcome>, StoreError> {
        let rows: Vec<LabelledOutcomeRow> = sqlx::query_as(&format!(
            "SELECT d.action, x.label, d.amount_minor, d.currency FROM {LATEST_LABELS} \
             JOIN decisions d ON d.decision_id = x.decision_id \
             WHERE x.rn = 1 AND d.created_at >= $1 AND d.created_at < $2 \
               AND ($3::int8 IS NULL OR d.policy_set_version = $3::int8)"
        ))
        .bind(window.from)
        .bind(window.to)
        .bind(window.policy_set_version)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(LabelledOutcomeRow::into_outcome)
            .collect()
    }

    async fn review_turnarounds(&self, window: &ReportWindow) -> Result<Vec<f64>, StoreError> {
        let rows: Vec<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT r.opened_at, r.resolved_at FROM reviews r \
             JOIN decisions d ON d.decision_id = r.decision_id \
             WHERE r.status = 'resolved' AND r.opened_at >= $1 AND r.opened_at < $2 \
               AND ($3::int8 IS NULL OR d.policy_set_version = $3::int8)",
        )
        .bind(window.from)
        .bind(window.to)
        .bind(window.policy_set_version)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(|(o, r)| turnaround(o, r)).collect()
    }
}
