//! Rollouts, written once for both backends: at most one active, and ending one (with
//! promotion switching the active policy set) is one transaction that only an active rollout
//! passes, however many replicas try at once. The guard is JSON: `JSONB` on PostgreSQL, text
//! on SQLite.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::registry::{Guard, Rollout, RolloutMode, RolloutStatus};
use arbiter_engine::store::{RolloutStart, RolloutStore, StoreError};
use async_trait::async_trait;

use crate::columns::{stored_now, to_json};
use crate::dialect::{Dialect, Serialized};
use crate::error::{require_ending, require_percent, require_policy_sets, store_error};
use crate::postgres::PgStore;
use crate::rows::RolloutRow;
use crate::sqlite::SqliteStore;

/// The columns of a [`RolloutRow`], the guard read back as text with `$as_text`.
macro_rules! rollout_columns {
    ($as_text:literal) => {
        concat!(
            "id, stable, candidate, percent, mode, guard",
            $as_text,
            " AS guard, status, reason, started_at, ended_at, created_by"
        )
    };
}

/// `$jsonb`: the cast that makes a bound text a JSON column value; `$as_text`: the cast that
/// reads one back as text.
macro_rules! rollout_store {
    ($store:ty, jsonb: $jsonb:literal, as_text: $as_text:literal) => {
        #[async_trait]
        impl RolloutStore for $store {
            async fn start_rollout(
                &self,
                stable: i64,
                candidate: i64,
                percent: u8,
                mode: RolloutMode,
                guard: Option<Guard>,
                actor: &Actor,
            ) -> Result<RolloutStart, StoreError> {
                require_percent(percent)?;
                let guard = guard.map(|g| to_json(&g, "rollout guard")).transpose()?;
                // INVARIANT: at most one active rollout, and a refused start names the one
                // that is. The check and the insert run in a transaction no other start or
                // end enters (`begin_serialized`: `end_rollout`'s UPDATE is a write to the
                // table); the partial unique index `rollouts_one_active` is the backstop.
                let mut tx = self.begin_serialized(Serialized::Rollouts).await?;
                let active: Option<RolloutRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "SELECT ",
                        rollout_columns!($as_text),
                        " FROM rollouts WHERE status = 'active'"
                    ))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
                if let Some(row) = active {
                    tx.rollback().await.map_err(store_error)?;
                    return row.into_rollout().map(RolloutStart::AlreadyActive);
                }
                let found: Vec<i64> = sqlx::query_scalar(
                    "SELECT version FROM policy_sets WHERE version IN ($1, $2)",
                )
                .bind(stable)
                .bind(candidate)
                .fetch_all(&mut *tx)
                .await
                .map_err(store_error)?;
                require_policy_sets(&found, &[stable, candidate])?;
                let row: RolloutRow<<$store as Dialect>::Time> = sqlx::query_as(concat!(
                    "INSERT INTO rollouts (stable, candidate, percent, mode, guard, status, \
                     started_at, created_by) VALUES ($1, $2, $3, $4, $5",
                    $jsonb,
                    ", 'active', $6, $7) RETURNING ",
                    rollout_columns!($as_text)
                ))
                .bind(stable)
                .bind(candidate)
                .bind(i32::from(percent))
                .bind(mode.as_str())
                .bind(guard)
                .bind(<$store>::time(stored_now()))
                .bind(&actor.id)
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                let rollout = row.into_rollout()?;
                <$store>::audit(&mut tx, actor, AuditRecord::rollout_started(&rollout)).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(RolloutStart::Started(rollout))
            }

            async fn current_rollout(&self) -> Result<Option<Rollout>, StoreError> {
                let row: Option<RolloutRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "SELECT ",
                        rollout_columns!($as_text),
                        " FROM rollouts WHERE status = 'active'"
                    ))
                    .fetch_optional(self.reader())
                    .await
                    .map_err(store_error)?;
                row.map(RolloutRow::into_rollout).transpose()
            }

            async fn go_live(
                &self,
                id: i64,
                percent: u8,
                actor: &Actor,
            ) -> Result<Option<Rollout>, StoreError> {
                require_percent(percent)?;
                // INVARIANT: a shadow rollout turns live once. The UPDATE's condition is the
                // state it leaves; a second caller waits for the first to commit and matches
                // nothing (as in `end_rollout`).
                let mut tx = self.begin_write().await?;
                let live: Option<RolloutRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "UPDATE rollouts SET mode = 'live', percent = $1 \
                         WHERE id = $2 AND status = 'active' AND mode = 'shadow' RETURNING ",
                        rollout_columns!($as_text)
                    ))
                    .bind(i32::from(percent))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
                let Some(row) = live else {
                    tx.rollback().await.map_err(store_error)?;
                    return Ok(None);
                };
                let rollout = row.into_rollout()?;
                <$store>::audit(&mut tx, actor, AuditRecord::rollout_went_live(&rollout)).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(Some(rollout))
            }

            async fn end_rollout(
                &self,
                id: i64,
                status: RolloutStatus,
                reason: Option<&str>,
                actor: &Actor,
            ) -> Result<Option<Rollout>, StoreError> {
                require_ending(status)?;
                // INVARIANT: a rollout ends once, and a promotion switches the active policy
                // set in the same transaction. The UPDATE locks the row (on SQLite the
                // writer's lock holds the whole file); a second ender waits for the first to
                // commit, then finds `status = 'active'` false (PostgreSQL's READ COMMITTED
                // re-evaluates it against the committed row), matches nothing and gets `None`.
                let mut tx = self.begin_write().await?;
                let ended: Option<RolloutRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "UPDATE rollouts SET status = $1, reason = $2, ended_at = $3 \
                         WHERE id = $4 AND status = 'active' RETURNING ",
                        rollout_columns!($as_text)
                    ))
                    .bind(status.as_str())
                    .bind(reason)
                    .bind(<$store>::time(stored_now()))
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
                let record = AuditRecord::rollout_ended(&rollout, actor);
                <$store>::audit(&mut tx, actor, record).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(Some(rollout))
            }
        }
    };
}

rollout_store!(SqliteStore, jsonb: "", as_text: "");
rollout_store!(PgStore, jsonb: "::jsonb", as_text: "::text");
