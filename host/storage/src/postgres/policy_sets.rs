//! Policy set versions and the active-version pointer on PostgreSQL.

use arbiter_engine::policy_set::{ModuleRef, PolicySet, Thresholds, Weights};
use arbiter_engine::store::{PolicySetStore, StoreError};
use async_trait::async_trait;
use chrono::Utc;

use super::PgStore;
use crate::columns::to_json;
use crate::error::{missing_policy_set, store_error};
use crate::rows::PolicySetRow;

#[async_trait]
impl PolicySetStore for PgStore {
    async fn insert_policy_set(
        &self,
        thresholds: Thresholds,
        weights: Weights,
        policies: &[ModuleRef],
    ) -> Result<PolicySet, StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // INVARIANT: versions are 1, 2, 3, … with no gap and no reuse, whatever the number of
        // replicas inserting at once. SHARE ROW EXCLUSIVE conflicts with itself and with
        // inserts, so `max + 1` is read and written by one inserter at a time; plain reads and
        // the foreign-key checks of `set_active_policy_set` are not blocked. Held until commit.
        sqlx::query("LOCK TABLE policy_sets IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO policy_sets (version, thresholds, weights, policies, created_at) \
             SELECT COALESCE(MAX(version), 0) + 1, $1::jsonb, $2::jsonb, $3::jsonb, $4 \
             FROM policy_sets \
             RETURNING version",
        )
        .bind(to_json(&thresholds, "thresholds")?)
        .bind(to_json(&weights, "weights")?)
        .bind(to_json(&policies, "policy modules")?)
        .bind(Utc::now())
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
            "SELECT version, thresholds::text AS thresholds, weights::text AS weights, \
             policies::text AS policies FROM policy_sets WHERE version = $1",
        )
        .bind(version)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(PolicySetRow::into_policy_set).transpose()
    }

    async fn active_policy_set(&self) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT active_version FROM policy_state WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)
    }

    async fn set_active_policy_set(&self, version: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO policy_state (id, active_version) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET active_version = excluded.active_version",
        )
        .bind(version)
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(|e| missing_policy_set(e, version))
    }
}
