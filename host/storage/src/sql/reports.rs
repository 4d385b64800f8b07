//! The outcome report's aggregates, written once for both backends. The nullable policy-set
//! filter is `CAST($3 AS BIGINT)`, standard SQL that gives PostgreSQL the NULL's type and is a
//! no-op on SQLite.

use arbiter_engine::feedback::{LabelledOutcome, OutcomeCounts, ReportStore, ReportWindow};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;

use super::labels::latest_labels;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::feedback_rows::{LabelledOutcomeRow, parse_action, turnaround};
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;

macro_rules! report_store {
    ($store:ty) => {
        #[async_trait]
        impl ReportStore for $store {
            async fn outcome_counts(
                &self,
                window: &ReportWindow,
            ) -> Result<OutcomeCounts, StoreError> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT action, COUNT(*) FROM decisions \
                     WHERE created_at >= $1 AND created_at < $2 \
                       AND (CAST($3 AS BIGINT) IS NULL \
                            OR policy_set_version = CAST($3 AS BIGINT)) \
                     GROUP BY action",
                )
                .bind(<$store>::time(window.from))
                .bind(<$store>::time(window.to))
                .bind(window.policy_set_version)
                .fetch_all(self.reader())
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
                let rows: Vec<LabelledOutcomeRow> = sqlx::query_as(concat!(
                    "SELECT d.action, x.label, d.amount_minor, d.currency FROM ",
                    latest_labels!(),
                    " JOIN decisions d ON d.decision_id = x.decision_id \
                     WHERE x.rn = 1 AND d.created_at >= $1 AND d.created_at < $2 \
                       AND (CAST($3 AS BIGINT) IS NULL \
                            OR d.policy_set_version = CAST($3 AS BIGINT))"
                ))
                .bind(<$store>::time(window.from))
                .bind(<$store>::time(window.to))
                .bind(window.policy_set_version)
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter()
                    .map(LabelledOutcomeRow::into_outcome)
                    .collect()
            }

            async fn review_turnarounds(
                &self,
                window: &ReportWindow,
            ) -> Result<Vec<f64>, StoreError> {
                let rows: Vec<(<$store as Dialect>::Time, <$store as Dialect>::Time)> =
                    sqlx::query_as(
                        "SELECT r.opened_at, r.resolved_at FROM reviews r \
                         JOIN decisions d ON d.decision_id = r.decision_id \
                         WHERE r.status = 'resolved' AND r.opened_at >= $1 AND r.opened_at < $2 \
                           AND (CAST($3 AS BIGINT) IS NULL \
                                OR d.policy_set_version = CAST($3 AS BIGINT))",
                    )
                    .bind(<$store>::time(window.from))
                    .bind(<$store>::time(window.to))
                    .bind(window.policy_set_version)
                    .fetch_all(self.reader())
                    .await
                    .map_err(store_error)?;
                rows.into_iter().map(|(o, r)| turnaround(o, r)).collect()
            }
        }
    };
}

report_store!(SqliteStore);
report_store!(PgStore);
