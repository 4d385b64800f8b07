//! Rollouts on PostgreSQL: at most one active, and ending one (with promotion switching the
//! active policy set) is one transaction that only an active rollout passes, however many
//! replicas try at once.

use arbiter_engine::registry::{Guard, Rollout, RolloutMode, RolloutStatus};
use arbiter_engine::store::{RolloutStart, RolloutStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::columns::{stored_now, to_json};
use crate::error::{require_ending, require_percent, require_policy_sets, store_error};
use crate::rows::RolloutRow;

/// The columns of a [`RolloutRow`], the guard read back as JSON text.
macro_rules! rollout_columns {
    () => {
        "id, stable, candidate, percent, mode, guard::text AS guard, status, reason, \
         started_at, ended_at, created_by"
    };
}

const SELECT_ACTIVE: &str = concat!(
    "SELECT ",
    rollout_columns!(),
    " FROM rollouts WHERE status = 'active'"
);

type Row = RolloutRow<DateTime<Utc>>;

#[async_trait]
impl RolloutStore for PgStore {
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
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // INVARIANT: at most one active rollout, and a refused start names the one that is.
        // SHARE ROW EXCLUSIVE conflicts with itself and with the row-exclusive lock of
        // `end_rollout`'s UPDATE, so the check and the insert run with no other start or end in
        // between; plain reads are not blocked. Held until commit. The partial unique index
        // `rollouts_one_active` is the backstop.
        sqlx::query("LOCK TABLE rollouts IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let active: Option<Row> = sqlx::query_as(SELECT_ACTIVE)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        if let Some(row) = active {
            tx.rollback().await.map_err(store_error)?;
            return row.into_rollout().map(RolloutStart::AlreadyActive);
        }
        let found: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM policy_sets WHERE version IN ($1, $2)")
                .bind(stable)
                .bind(candidate)
                .fetch_all(&mut *tx)
                .await
                .map_err(store_error)?;
        require_policy_sets(&found, &[stable, candidate])?;
        let row: Row = sqlx::query_as(concat!(
            "INSERT INTO rollouts (stable, candidate, percent, mode, guard, status, started_at, \
             created_by) VALUES ($1, $2, $3, $4, $5::jsonb, 'active', $6, $7) RETURNING ",
            rollout_columns!()
        ))
        .bind(stable)
        .bind(candidate)
        .bind(i32::from(percent))
        .bind(mode.as_str())
        .bind(guard)
        .bind(stored_now())
        .bind(created_by)
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        row.into_rollout().map(RolloutStart::Started)
    }

    async fn current_rollout(&self) -> Result<Option<Rollout>, StoreError> {
        let row: Option<Row> = sqlx::query_as(SELECT_ACTIVE)
            .fetch_optional(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // INVARIANT: a rollout ends once, and a promotion switches the active policy set in
        // the same transaction. The UPDATE locks the row; a second ender waits for the first
        // to commit, then re-checks `status = 'active'` against the committed row (READ
        // COMMITTED re-evaluation), matches nothing and gets `None`.
        let ended: Option<Row> = sqlx::query_as(concat!(
            "UPDATE rollouts SET status = $1, reason = $2, ended_at = $3 \
             WHERE id = $4 AND status = 'active' RETURNING ",
            rollout_columns!()
        ))
        .bind(status.as_str())
        .bind(reason)
        .bind(stored_now())
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
                "INSERT INTO policy_state (id, active_version) VALUES (1, $1) \
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
        let row: Option<Row> = sqlx::query_as(concat!(
            "UPDATE rollouts SET percent = $1 WHERE id = $2 AND status = 'active' RETURNING ",
            rollout_columns!()
        ))
        .bind(i32::from(percent))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(RolloutRow::into_rollout).transpose()
    }
}
