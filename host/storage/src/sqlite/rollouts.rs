//! Rollouts on SQLite: at most one active, and ending one (with promotion switching the active
//! policy set) is one transaction that only an active rollout passes.

use arbiter_engine::registry::{Guard, Rollout, RolloutMode, RolloutStatus};
use arbiter_engine::store::{RolloutStart, RolloutStore, StoreError};
use async_trait::async_trait;

use super::SqliteStore;
use crate::columns::{stored_now, timestamp_text, to_json};
use crate::error::{require_ending, require_percent, require_policy_sets, store_error};
use crate::rows::RolloutRow;

/// The columns of a [`RolloutRow`].
macro_rules! rollout_columns {
    () => {
        "id, stable, candidate, percent, mode, guard, status, reason, started_at, ended_at, \
         created_by"
    };
}

const SELECT_ACTIVE: &str = concat!(
    "SELECT ",
    rollout_columns!(),
    " FROM rollouts WHERE status = 'active'"
);

#[async_trait]
impl RolloutStore for SqliteStore {
    async fn start_rollout(
        &self,
        stable: i64,
        candidate: i64,
        percent: u8,
        mode: RolloutMode,
        guard: Option<Guard>,
        created_by: &str,
    ) -> Result<RolloutStart, StoreError> {
        require_percent(percent)?;
        let guard = guard.map(|g| to_json(&g, "rollout guard")).transpose()?;
        // INVARIANT: at most one active rollout. The check and the insert run in one
        // `BEGIN IMMEDIATE` transaction on the single writer connection, so no other writer
        // starts one in between; the partial unique index `rollouts_one_active` is the backstop.
        let mut tx = self.begin_write().await?;
        let active: Option<RolloutRow<String>> = sqlx::query_as(SELECT_ACTIVE)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        if let Some(row) = active {
            tx.rollback().await.map_err(store_error)?;
            return row.into_rollout().map(RolloutStart::AlreadyActive);
        }
        let found: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM policy_sets WHERE version IN (?, ?)")
                .bind(stable)
                .bind(candidate)
                .fetch_all(&mut *tx)
                .await
                .map_err(store_error)?;
        require_policy_sets(&found, &[stable, candidate])?;
        let row: RolloutRow<String> = sqlx::query_as(concat!(
            "INSERT INTO rollouts (stable, candidate, percent, mode, guard, status, started_at, \
             created_by) VALUES (?, ?, ?, ?, ?, 'active', ?, ?) RETURNING ",
            rollout_columns!()
        ))
        .bind(stable)
        .bind(candidate)
        .bind(i32::from(percent))
        .bind(mode.as_str())
        .bind(guard)
        .bind(timestamp_text(stored_now()))
        .bind(created_by)
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        row.into_rollout().map(RolloutStart::Started)
    }

    async fn current_rollout(&self) -> Result<Option<Rollout>, StoreError> {
        let row: Option<RolloutRow<String>> = sqlx::query_as(SELECT_ACTIVE)
            .fetch_optional(&self.reader)
            .await
            .map_err(store_error)?;
        row.map(RolloutRow::into_rollout).transpose()
    }

    async fn end_rollout(
        &self,
        id: i64,
        status: RolloutStatus,
        reason: Option<&str>,
    ) -> Result<Option<Rollout>, StoreError> {
        require_ending(status)?;
        // INVARIANT: a rollout ends once, and a promotion switches the active policy set in
        // the same transaction. `BEGIN IMMEDIATE` on the single writer serialises enders; the
        // `status = 'active'` condition lets only the first one through.
        let mut tx = self.begin_write().await?;
        let ended: Option<RolloutRow<String>> = sqlx::query_as(concat!(
            "UPDATE rollouts SET status = ?, reason = ?, ended_at = ? \
             WHERE id = ? AND status = 'active' RETURNING ",
            rollout_columns!()
        ))
        .bind(status.as_str())
        .bind(reason)
        .bind(timestamp_text(stored_now()))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        let Some(row) = ended else {
            tx.rollback().await.map_err(store_error)?;
            return Ok(None);
        };
        let rollout = row.into_rollout()?;
        if status == RolloutStatus::Promoted {
            sqlx::query(
                "INSERT INTO policy_state (id, active_version) VALUES (1, ?) \
                 ON CONFLICT (id) DO UPDATE SET active_version = excluded.active_version",
            )
            .bind(rollout.candidate)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(Some(rollout))
    }

    async fn set_rollout_percent(
        &self,
        id: i64,
        percent: u8,
    ) -> Result<Option<Rollout>, StoreError> {
        require_percent(percent)?;
        let mut tx = self.begin_write().await?;
        let row: Option<RolloutRow<String>> = sqlx::query_as(concat!(
            "UPDATE rollouts SET percent = ? WHERE id = ? AND status = 'active' RETURNING ",
            rollout_columns!()
        ))
        .bind(i32::from(percent))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        row.map(RolloutRow::into_rollout).transpose()
    }
}
