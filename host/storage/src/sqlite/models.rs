//! Training jobs, model versions, model slots and the outcome report's aggregates on SQLite.

use arbiter_engine::feedback::{
    JobStatus, LabelledOutcome, ModelSlot, ModelStore, ModelVersion, OutcomeCounts, ReportStore,
    ReportWindow, TrainingJob,
};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::SqliteStore;
use super::feedback::LATEST_LABELS;
use crate::columns::{stored_now, timestamp_text, to_json};
use crate::error::store_error;
use crate::feedback_rows::{JobRow, LabelledOutcomeRow, ModelVersionRow, parse_action, turnaround};

#[async_trait]
impl ModelStore for SqliteStore {
    async fn insert_job(&self, job: &TrainingJob) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO training_jobs (job_id, status, created_by, created_at, heartbeat_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&job.job_id)
        .bind(job.status.as_str())
        .bind(&job.created_by)
        .bind(timestamp_text(job.created_at))
        .bind(timestamp_text(job.created_at))
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn finish_job(
        &self,
        job_id: &str,
        status: JobStatus,
        model_version: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let finished = matches!(status, JobStatus::Succeeded | JobStatus::Failed)
            .then(|| timestamp_text(stored_now()));
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE training_jobs SET status = ?, finished_at = ?, model_version = ?, error = ? \
             WHERE job_id = ?",
        )
        .bind(status.as_str())
        .bind(finished)
        .bind(model_version)
        .bind(error)
        .bind(job_id)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn get_job(&self, job_id: &str) -> Result<Option<TrainingJob>, StoreError> {
        let row: Option<JobRow<String>> = sqlx::query_as(
            "SELECT job_id, status, created_by, created_at, finished_at, model_version, error \
             FROM training_jobs WHERE job_id = ?",
        )
        .bind(job_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(store_error)?;
        row.map(JobRow::into_job).transpose()
    }

    async fn heartbeat_job(&self, job_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE training_jobs SET heartbeat_at = ? \
             WHERE job_id = ? AND status IN ('queued', 'running')",
        )
        .bind(timestamp_text(at))
        .bind(job_id)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn fail_abandoned_jobs(
        &self,
        stale_before: DateTime<Utc>,
        error: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE training_jobs SET status = 'failed', finished_at = ?, error = ? \
             WHERE status IN ('queued', 'running') \
             AND COALESCE(heartbeat_at, created_at) < ? RETURNING job_id",
        )
        .bind(timestamp_text(stored_now()))
        .bind(error)
        .bind(timestamp_text(stale_before))
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(ids)
    }

    async fn insert_model_version(
        &self,
        artifact: &serde_json::Value,
        job_id: Option<&str>,
        created_by: &str,
    ) -> Result<ModelVersion, StoreError> {
        let at = stored_now();
        let mut tx = self.begin_write().await?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO model_versions (artifact, job_id, created_by, created_at) \
             VALUES (?, ?, ?, ?) RETURNING version",
        )
        .bind(to_json(artifact, "model artifact")?)
        .bind(job_id)
        .bind(created_by)
        .bind(timestamp_text(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(ModelVersion {
            version,
            artifact: artifact.clone(),
            job_id: job_id.map(str::to_owned),
            created_by: created_by.to_owned(),
            created_at: at,
        })
    }

    async fn get_model_version(&self, version: i64) -> Result<Option<ModelVersion>, StoreError> {
        let row: Option<ModelVersionRow<String>> = sqlx::query_as(
            "SELECT version, artifact, job_id, created_by, created_at FROM model_versions \
             WHERE version = ?",
        )
        .bind(version)
        .fetch_optional(&self.reader)
        .await
        .map_err(store_error)?;
        row.map(ModelVersionRow::into_version).transpose()
    }

    async fn list_model_versions(&self) -> Result<Vec<ModelVersion>, StoreError> {
        let rows: Vec<ModelVersionRow<String>> = sqlx::query_as(
            "SELECT version, artifact, job_id, created_by, created_at FROM model_versions \
             ORDER BY version",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(ModelVersionRow::into_version)
            .collect()
    }

    async fn set_model_slot(
        &self,
        slot: ModelSlot,
        version: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO model_slots (slot, version, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (slot) DO UPDATE SET version = excluded.version, \
             updated_at = excluded.updated_at",
        )
        .bind(slot.as_str())
        .bind(version)
        .bind(timestamp_text(stored_now()))
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn model_slots(&self) -> Result<(Option<i64>, Option<i64>), StoreError> {
        let rows: Vec<(String, Option<i64>)> =
            sqlx::query_as("SELECT slot, version FROM model_slots")
                .fetch_all(&self.reader)
                .await
                .map_err(store_error)?;
        let slot = |name: &str| rows.iter().find(|(s, _)| s == name).and_then(|(_, v)| *v);
        Ok((slot("active"), slot("shadow")))
    }
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn outcome_counts(&self, window: &ReportWindow) -> Result<OutcomeCounts, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT action, COUNT(*) FROM decisions \
             WHERE created_at >= ?1 AND created_at < ?2 \
               AND (?3 IS NULL OR policy_set_version = ?3) GROUP BY action",
        )
        .bind(timestamp_text(window.from))
        .bind(timestamp_text(window.to))
        .bind(window.policy_set_version)
        .fetch_all(&self.reader)
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
             WHERE x.rn = 1 AND d.created_at >= ?1 AND d.created_at < ?2 \
               AND (?3 IS NULL OR d.policy_set_version = ?3)"
        ))
        .bind(timestamp_text(window.from))
        .bind(timestamp_text(window.to))
        .bind(window.policy_set_version)
        .fetch_all(&self.reader)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(LabelledOutcomeRow::into_outcome)
            .collect()
    }

    async fn review_turnarounds(&self, window: &ReportWindow) -> Result<Vec<f64>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT r.opened_at, r.resolved_at FROM reviews r \
             JOIN decisions d ON d.decision_id = r.decision_id \
             WHERE r.status = 'resolved' AND r.opened_at >= ?1 AND r.opened_at < ?2 \
               AND (?3 IS NULL OR d.policy_set_version = ?3)",
        )
        .bind(timestamp_text(window.from))
        .bind(timestamp_text(window.to))
        .bind(window.policy_set_version)
        .fetch_all(&self.reader)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(|(o, r)| turnaround(o, r)).collect()
    }
}
