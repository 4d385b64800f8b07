//! Backtest runs and the history they read, written once for both backends. The history is
//! the stored decisions, paged in `(created_at, decision_id)` order with each decision's
//! latest label: their columns, and the stored decision a replay's input is decoded from
//! (by a backtest worker, `stored_decision::undecoded_input`). A rollout's shadow summary
//! reads the shadow candidate's columns written with each decision.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::backtest::shadow::ShadowRow;
use arbiter_engine::backtest::{
    Backtest, BacktestResult, BacktestStatus, BacktestStore, Cursor, Progress, RecordedRow,
    Watermark, Window,
};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::backtest_rows::{
    BACKTEST_COLUMNS, BacktestRow, FeaturesRow, ShadowFeaturesRow, stored_count,
};
use crate::columns::{stored_now, to_json};
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;

/// The latest label of `f`'s decision given up to `$as_of` (a placeholder such as `$4`).
macro_rules! latest_label {
    ($as_of:literal) => {
        concat!(
            "(SELECT l.label FROM labels l \
             WHERE l.decision_id = f.decision_id AND l.created_at <= ",
            $as_of,
            " ORDER BY l.created_at DESC, l.label_id DESC LIMIT 1) AS label"
        )
    };
}

/// The window filter on `decisions f`: `$1` from, `$2` to, `$3` checkpoint or `''`.
macro_rules! in_window {
    () => {
        "f.created_at >= $1 AND f.created_at < $2 AND ($3 = '' OR f.event = $3)"
    };
}

fn checkpoint(window: &Window) -> &'static str {
    window.checkpoint.map_or("", |c| c.as_str())
}

/// Where a page starts: after the cursor, or from `start` on (an empty id sorts first).
///
/// A page's query takes the cursor's instant as its only `created_at >=` bound, and
/// `created_at > at OR decision_id > id` for the tie: SQLite starts its index range at a
/// plain bound but not at a row value `(created_at, decision_id) > (…)`, and with the
/// window's start as the bound every page rescanned the window from there (30 s instead of
/// 1.5 s for a million rows).
fn start_after(after: Option<&Cursor>, start: DateTime<Utc>) -> (DateTime<Utc>, &str) {
    match after {
        Some((at, id)) => ((*at).max(start), id.as_str()),
        None => (start, ""),
    }
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `$as_text`: the cast that reads a JSON body as text.
macro_rules! backtest_store {
    ($store:ty, as_text: $as_text:literal) => {
        #[async_trait]
        impl BacktestStore for $store {
            async fn insert_backtest(&self, b: &Backtest, actor: &Actor) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO backtests (backtest_id, status, spec, read_count, total_count, \
                     created_by, created_at, heartbeat_at, candidate) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
                )
                .bind(&b.backtest_id)
                .bind(b.status.as_str())
                .bind(to_json(&b.spec, "backtest spec")?)
                .bind(as_i64(b.progress.read))
                .bind(as_i64(b.progress.total))
                .bind(&b.created_by)
                .bind(<$store>::time(b.created_at))
                .bind(b.spec.candidate)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                <$store>::audit(&mut tx, actor, AuditRecord::backtest_started(b)).await?;
                tx.commit().await.map_err(store_error)
            }

            async fn get_backtest(&self, id: &str) -> Result<Option<Backtest>, StoreError> {
                let row: Option<BacktestRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "SELECT {BACKTEST_COLUMNS} FROM backtests WHERE backtest_id = $1"
                ))
                .bind(id)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(BacktestRow::into_backtest).transpose()
            }

            async fn list_backtests(
                &self,
                before: Option<&str>,
                limit: u32,
            ) -> Result<Vec<Backtest>, StoreError> {
                let rows: Vec<BacktestRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "SELECT {BACKTEST_COLUMNS} FROM backtests \
                     WHERE ($1 = '' OR backtest_id < $1) ORDER BY backtest_id DESC LIMIT $2"
                ))
                .bind(before.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(BacktestRow::into_backtest).collect()
            }

            async fn latest_succeeded_backtest(
                &self,
                candidate: i64,
            ) -> Result<Option<Backtest>, StoreError> {
                let row: Option<BacktestRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "SELECT {BACKTEST_COLUMNS} FROM backtests \
                     WHERE candidate = $1 AND status = 'succeeded' \
                     ORDER BY finished_at DESC LIMIT 1"
                ))
                .bind(candidate)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(BacktestRow::into_backtest).transpose()
            }

            async fn backtest_progress(
                &self,
                id: &str,
                progress: Progress,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                let moved = sqlx::query(
                    "UPDATE backtests SET read_count = $1, total_count = $2, heartbeat_at = $3 \
                     WHERE backtest_id = $4 AND status = 'running'",
                )
                .bind(as_i64(progress.read))
                .bind(as_i64(progress.total))
                .bind(<$store>::time(at))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected();
                tx.commit().await.map_err(store_error)?;
                Ok(moved == 1)
            }

            async fn finish_backtest(
                &self,
                id: &str,
                status: BacktestStatus,
                result: Option<&BacktestResult>,
                error: Option<&str>,
            ) -> Result<bool, StoreError> {
                if !BacktestStatus::Running.can_become(status) {
                    return Err(StoreError::Backend(format!(
                        "a backtest cannot end as `{}`",
                        status.as_str()
                    )));
                }
                let result = result.map(|r| to_json(r, "backtest result")).transpose()?;
                let mut tx = self.begin_write().await?;
                let moved = sqlx::query(
                    "UPDATE backtests SET status = $1, result = $2, error = $3, finished_at = $4 \
                     WHERE backtest_id = $5 AND status = 'running'",
                )
                .bind(status.as_str())
                .bind(result)
                .bind(error)
                .bind(<$store>::time(stored_now()))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected();
                tx.commit().await.map_err(store_error)?;
                Ok(moved == 1)
            }

            async fn cancel_backtest(
                &self,
                id: &str,
                actor: &Actor,
            ) -> Result<Option<Backtest>, StoreError> {
                let mut tx = self.begin_write().await?;
                let moved = sqlx::query(
                    "UPDATE backtests SET status = 'cancelled', finished_at = $1 \
                     WHERE backtest_id = $2 AND status = 'running'",
                )
                .bind(<$store>::time(stored_now()))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected();
                if moved == 1 {
                    <$store>::audit(&mut tx, actor, AuditRecord::backtest_cancelled(id)).await?;
                }
                let row: Option<BacktestRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "SELECT {BACKTEST_COLUMNS} FROM backtests WHERE backtest_id = $1"
                ))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                row.map(BacktestRow::into_backtest).transpose()
            }

            async fn fail_abandoned_backtests(
                &self,
                stale_before: DateTime<Utc>,
                error: &str,
            ) -> Result<Vec<String>, StoreError> {
                let mut tx = self.begin_write().await?;
                let ids: Vec<String> = sqlx::query_scalar(
                    "UPDATE backtests SET status = 'failed', finished_at = $1, error = $2 \
                     WHERE status = 'running' AND heartbeat_at < $3 RETURNING backtest_id",
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

            async fn running_backtests(&self) -> Result<u64, StoreError> {
                let n: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM backtests WHERE status = 'running'")
                        .fetch_one(self.reader())
                        .await
                        .map_err(store_error)?;
                stored_count(n)
            }

            async fn window_watermark(
                &self,
                window: Window,
                as_of: DateTime<Utc>,
            ) -> Result<Watermark, StoreError> {
                let (decisions, last_decision_id): (i64, Option<String>) = sqlx::query_as(concat!(
                    "SELECT COUNT(*), MAX(f.decision_id) FROM decisions f WHERE ",
                    in_window!()
                ))
                .bind(<$store>::time(window.from))
                .bind(<$store>::time(window.to))
                .bind(checkpoint(&window))
                .fetch_one(self.reader())
                .await
                .map_err(store_error)?;
                let (labels, last_label_at): (i64, Option<<$store as Dialect>::Time>) =
                    sqlx::query_as(concat!(
                        "SELECT COUNT(*), MAX(l.created_at) FROM labels l \
                         JOIN decisions f ON f.decision_id = l.decision_id WHERE ",
                        in_window!(),
                        " AND l.created_at <= $4"
                    ))
                    .bind(<$store>::time(window.from))
                    .bind(<$store>::time(window.to))
                    .bind(checkpoint(&window))
                    .bind(<$store>::time(as_of))
                    .fetch_one(self.reader())
                    .await
                    .map_err(store_error)?;
                Ok(Watermark {
                    decisions: stored_count(decisions)?,
                    last_decision_id,
                    labels: stored_count(labels)?,
                    last_label_at: last_label_at
                        .map(crate::rows::StoredTime::into_utc)
                        .transpose()?,
                })
            }

            async fn recorded_page(
                &self,
                window: Window,
                as_of: DateTime<Utc>,
                after: Option<&Cursor>,
                limit: u32,
            ) -> Result<Vec<RecordedRow>, StoreError> {
                let (after_at, after_id) = start_after(after, window.from);
                let rows: Vec<FeaturesRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT f.decision_id, f.created_at, f.policy_set_version, f.model_version, \
                     f.action, f.score, f.body",
                    $as_text,
                    " AS body, f.packed, ",
                    latest_label!("$4"),
                    " FROM decisions f WHERE ",
                    in_window!(),
                    " AND (f.created_at > $5 OR f.decision_id > $6) \
                     ORDER BY f.created_at, f.decision_id LIMIT $7"
                ))
                // The page's lower bound is the cursor's instant (never before the window's
                // start): the one `created_at >=` the index range starts from.
                .bind(<$store>::time(after_at))
                .bind(<$store>::time(window.to))
                .bind(checkpoint(&window))
                .bind(<$store>::time(as_of))
                .bind(<$store>::time(after_at))
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(FeaturesRow::into_recorded).collect()
            }

            async fn shadow_page(
                &self,
                version: i64,
                since: DateTime<Utc>,
                as_of: DateTime<Utc>,
                after: Option<&Cursor>,
                limit: u32,
            ) -> Result<Vec<ShadowRow>, StoreError> {
                let (after_at, after_id) = start_after(after, since);
                let rows: Vec<ShadowFeaturesRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "SELECT f.decision_id, f.created_at, f.action, f.shadow_action, \
                         f.shadow_score, f.amount_minor, f.currency, f.shadow_hits, ",
                        latest_label!("$3"),
                        " FROM decisions f \
                         WHERE f.created_at >= $2 AND f.shadow_version = $1 \
                         AND f.shadow_action IS NOT NULL AND f.shadow_score IS NOT NULL \
                         AND (f.created_at > $4 OR f.decision_id > $5) \
                         ORDER BY f.created_at, f.decision_id LIMIT $6"
                    ))
                    .bind(version)
                    .bind(<$store>::time(after_at))
                    .bind(<$store>::time(as_of))
                    .bind(<$store>::time(after_at))
                    .bind(after_id)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await
                    .map_err(store_error)?;
                rows.into_iter().map(ShadowFeaturesRow::into_row).collect()
            }

            async fn served_decisions(
                &self,
                version: i64,
                since: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM decisions f WHERE f.created_at >= $1 \
                     AND (f.policy_set_version = $2 OR f.shadow_version = $2)",
                )
                .bind(<$store>::time(since))
                .bind(version)
                .fetch_one(self.reader())
                .await
                .map_err(store_error)?;
                stored_count(n)
            }
        }
    };
}

backtest_store!(SqliteStore, as_text: "");
backtest_store!(PgStore, as_text: "::text");
