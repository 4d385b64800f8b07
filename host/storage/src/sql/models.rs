//! Training jobs, model versions and model slots, written once for both backends. Artifacts
//! are JSON: a `JSONB` column on PostgreSQL (bound as text, cast in and out), text on SQLite.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::feedback::{JobStatus, ModelSlot, ModelStore, ModelVersion, TrainingJob};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::columns::{stored_now, to_json};
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::feedback_rows::{JobRow, ModelVersionRow};
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;

/// `$jsonb`: the cast that makes a bound text a JSON column value; `$as_text`: the cast that
/// reads one back as text.
macro_rules! model_store {
    ($store:ty, jsonb: $jsonb:literal, as_text: $as_text:literal) => {
        #[async_trait]
        impl ModelStore for $store {
            async fn insert_job(&self, job: &TrainingJob, actor: &Actor) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO training_jobs \
                     (job_id, status, created_by, created_at, heartbeat_at) \
                     VALUES ($1, $2, $3, $4, $4)",
                )
                .bind(&job.job_id)
                .bind(job.status.as_str())
                .bind(&job.created_by)
                .bind(<$store>::time(job.created_at))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                <$store>::audit(&mut tx, actor, AuditRecord::training_started(job)).await?;
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
                    .then(|| <$store>::time(stored_now()));
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE training_jobs SET status = $1, finished_at = $2, \
                     model_version = $3, error = $4 WHERE job_id = $5",
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
                let row: Option<JobRow<<$store as Dialect>::Time>> = sqlx::query_as(
                    "SELECT job_id, status, created_by, created_at, finished_at, \
                     model_version, error FROM training_jobs WHERE job_id = $1",
                )
                .bind(job_id)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(JobRow::into_job).transpose()
            }

            async fn heartbeat_job(
                &self,
                job_id: &str,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE training_jobs SET heartbeat_at = $1 \
                     WHERE job_id = $2 AND status IN ('queued', 'running')",
                )
                .bind(<$store>::time(at))
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
                    "UPDATE training_jobs SET status = 'failed', finished_at = $1, error = $2 \
                     WHERE status IN ('queued', 'running') \
                     AND COALESCE(heartbeat_at, created_at) < $3 RETURNING job_id",
                )
                .bind(<$store>::time(stored_now()))
                .bind(error)
                .bind(<$store>::time(stale_before))
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
                actor: &Actor,
            ) -> Result<ModelVersion, StoreError> {
                let at = stored_now();
                let mut tx = self.begin_write().await?;
                let version: i64 = sqlx::query_scalar(concat!(
                    "INSERT INTO model_versions (artifact, job_id, created_by, created_at) \
                         VALUES ($1",
                    $jsonb,
                    ", $2, $3, $4) RETURNING version"
                ))
                .bind(to_json(artifact, "model artifact")?)
                .bind(job_id)
                .bind(&actor.id)
                .bind(<$store>::time(at))
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                let model = ModelVersion {
                    version,
                    artifact: artifact.clone(),
                    job_id: job_id.map(str::to_owned),
                    created_by: actor.id.clone(),
                    created_at: at,
                };
                <$store>::audit(&mut tx, actor, AuditRecord::model_created(&model)).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(model)
            }

            async fn get_model_version(
                &self,
                version: i64,
            ) -> Result<Option<ModelVersion>, StoreError> {
                let row: Option<ModelVersionRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "SELECT version, artifact",
                        $as_text,
                        " AS artifact, job_id, created_by, created_at FROM model_versions \
                         WHERE version = $1"
                    ))
                    .bind(version)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(store_error)?;
                row.map(ModelVersionRow::into_version).transpose()
            }

            async fn list_model_versions(&self) -> Result<Vec<ModelVersion>, StoreError> {
                let rows: Vec<ModelVersionRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "SELECT version, artifact",
                        $as_text,
                        " AS artifact, job_id, created_by, created_at FROM model_versions \
                         ORDER BY version"
                    ))
                    .fetch_all(self.reader())
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
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO model_slots (slot, version, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (slot) DO UPDATE SET version = excluded.version, \
                     updated_at = excluded.updated_at",
                )
                .bind(slot.as_str())
                .bind(version)
                .bind(<$store>::time(stored_now()))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                let record = AuditRecord::model_assigned(slot, version);
                <$store>::audit(&mut tx, actor, record).await?;
                tx.commit().await.map_err(store_error)
            }

            async fn model_slots(&self) -> Result<(Option<i64>, Option<i64>), StoreError> {
                let rows: Vec<(String, Option<i64>)> =
                    sqlx::query_as("SELECT slot, version FROM model_slots")
                        .fetch_all(self.reader())
                        .await
                        .map_err(store_error)?;
                let slot = |name: &str| rows.iter().find(|(s, _)| s == name).and_then(|(_, v)| *v);
                Ok((slot("active"), slot("shadow")))
            }
        }
    };
}

model_store!(SqliteStore, jsonb: "", as_text: "");
model_store!(PgStore, jsonb: "::jsonb", as_text: "::text");
