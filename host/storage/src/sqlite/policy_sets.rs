//! Policy set versions and the active-version pointer on SQLite.

use arbiter_engine::policy_set::{ModuleRef, PolicySet, Thresholds, Weights};
use arbiter_engine::store::{PolicySetStore, StoreError};
use async_trait::async_trait;
use chrono::Utc;

use super::SqliteStore;
use crate::columns::{timestamp_text, to_json};
use crate::error::{missing_policy_set, store_error};
use crate::rows::PolicySetRow;

#[async_trait]
impl PolicySetStore for SqliteStore {
    async fn insert_policy_set(
        &self,
        thresholds: Thresholds,
        weights: Weights,
        policies: &[ModuleRef],
    ) -> Result<PolicySet, StoreError> {
        // INVARIANT: versions are 1, 2, 3, … with no gap and no reuse. `max + 1` is read and
        // written by one statement inside a `BEGIN IMMEDIATE` transaction on the single writer
        // connection, so no other writer (in this process or another) runs in between.
        let mut tx = self.begin_write().await?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO policy_sets (version, thresholds, weights, policies, created_at) \
             SELECT COALESCE(MAX(version), 0) + 1, ?, ?, ?, ? FROM policy_sets \
             RETURNING version",
        )
        .bind(to_json(&thresholds, "thresholds")?)
        .bind(to_json(&weights, "weights")?)
        .bind(to_json(&policies, "policy modules")?)
        .bind(timestamp_text(Utc::now()))
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(PolicySet {
            version,
            thresholds,
            weights,
            policies: policies.to_vec(),
        })
    }

    async fn get_policy_set(&self, version: i64) -> Result<Option<PolicySet>, StoreError> {
        let row: Option<PolicySetRow> = sqlx::query_as(
            "SELECT version, thresholds, weights, policies FROM policy_sets WHERE version = ?",
        )
        .bind(version)
        .fetch_optional(&self.reader)
        .await
        .map_err(store_error)?;
        row.map(PolicySetRow::into_policy_set).transpose()
    }

    async fn active_policy_set(&self) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT active_version FROM policy_state WHERE id = 1")
            .fetch_optional(&self.reader)
            .await
            .map_err(store_error)
    }

    async fn set_active_policy_set(&self, version: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO policy_state (id, active_version) VALUES (1, ?) \
             ON CONFLICT (id) DO UPDATE SET active_version = excluded.active_version",
        )
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(|e| missing_policy_set(e, version))?;
        tx.commit().await.map_err(store_error)
    }
}
