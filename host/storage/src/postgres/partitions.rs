//! Decisions in time partitions on PostgreSQL (migration 0026): making them ahead, and
//! expiring one whole partition at a time instead of deleting its rows one by one.
//!
//! `decisions` and `decision_features` are partitioned alike by `part` (the decision's
//! `created_at`; -infinity once kept). A partition `decisions_p<start>` covers `span` on a grid
//! from the epoch; [`PgStore::prepare`] makes the next ones before they are needed, moving in
//! any row that waited for it in `decisions_default`.
//!
//! Expiring a partition that is entirely older than the age takes three kinds of step, each a
//! short transaction (a long one would hold back the horizon the graph and outbox feeds read
//! below, see `postgres.rs`), so the job pauses between them like between delete batches:
//! 1. *walk*: a page of its decisions in id order; the kept ones (`kept!`) move to
//!    `decisions_held` with their projections, the others' `decision_requests` rows go;
//! 2. *detach*: once walked, the partition leaves the table (a brief exclusive lock on
//!    `decisions`, given up after [`LOCK_TIMEOUT`] and retried next pass) and becomes
//!    `expired_<name>`; a label written while the walk ran keeps its decision: the label's own
//!    statement reads `decisions` (see `sql/labels.rs`), so the detach waits for it, and the
//!    decisions labelled since the walk began are copied into `decisions_held` in the same
//!    transaction;
//! 3. *drop*: the detached tables go, their files unlinked at commit.
//!
//! One replica does this at a time (a transaction-level advisory lock; another replica's job
//! finds nothing to do meanwhile). The walk's position is kept in memory: after a restart
//! the walk starts over, finding its early pages already done.

use std::time::Duration;

use arbiter_engine::retention::PartitionStep;
use arbiter_engine::store::StoreError;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::Postgres;

use super::PgStore;
use crate::error::store_error;

/// How long a detach or attach waits for the lock on `decisions` before giving up for this
/// pass: while it waits, every new query on the table queues behind it.
pub const LOCK_TIMEOUT: &str = "500ms";

/// Decisions looked at per walk step.
const WALK_PAGE: i64 = 1_000;

/// The advisory lock (transaction-level) serialising partition work across replicas.
const PARTITION_LOCK: i64 = 0x6172_6269_7465_7201;

/// Where a walk through an expiring partition has got to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Walk {
    partition: String,
    /// The last decision id looked at.
    after: String,
    /// The oldest transaction running when the walk began: a label written by it or a later
    /// one may name a decision the walk already passed.
    xmin: String,
    /// The walk reached the partition's end.
    done: bool,
}

/// A time partition of `decisions` and its range.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Partition {
    name: String,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
}

/// The attached time partitions of `decisions` (finite ranges: neither `decisions_held` nor
/// the default partition), oldest first.
const TIME_PARTITIONS: &str = "SELECT c.relname::text AS name, b[1]::timestamptz AS lo, \
     b[2]::timestamptz AS hi \
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid, \
     LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), \
                          'FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)') AS b \
     WHERE i.inhparent = 'decisions'::regclass AND b IS NOT NULL ORDER BY 2";

/// Whether decision `d` is still needed: a label, a review, or an order's or a payment's risk
/// record (`arbiter_engine::retention`).
macro_rules! kept {
    () => {
        "(EXISTS (SELECT 1 FROM labels l WHERE l.decision_id = d.decision_id) \
          OR EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.decision_id) \
          OR EXISTS (SELECT 1 FROM orders o WHERE o.risk_decision_id = d.decision_id) \
          OR EXISTS (SELECT 1 FROM payments p WHERE p.risk_decision_id = d.decision_id))"
    };
}

/// One walk step over `[$1, $2)` after id `$3`, `$4` decisions: moves the kept ones (and their
/// projections) to `decisions_held`, forgets the others' request ids. Returns the last id
/// looked at, how many were looked at and how many moved.
const WALK_STEP: &str = concat!(
    "WITH page AS (SELECT d.decision_id, d.request_id, ",
    kept!(),
    " AS kept FROM decisions d WHERE d.part >= $1 AND d.part < $2 AND d.decision_id > $3 \
     ORDER BY d.decision_id LIMIT $4), \
     moved AS (UPDATE decisions SET part = '-infinity' WHERE part >= $1 AND part < $2 \
               AND decision_id IN (SELECT decision_id FROM page WHERE kept) \
               RETURNING decision_id), \
     moved_features AS (UPDATE decision_features SET part = '-infinity' \
               WHERE part >= $1 AND part < $2 \
               AND decision_id IN (SELECT decision_id FROM page WHERE kept)), \
     forgotten AS (DELETE FROM decision_requests \
               WHERE request_id IN (SELECT request_id FROM page WHERE NOT kept)) \
     SELECT (SELECT max(decision_id) FROM page), (SELECT count(*) FROM page), \
            (SELECT count(*) FROM moved)"
);

const DECISION_COLUMNS: &str = "decision_id, request_id, body_hash, event, action, score, \
     policy_set_version, model_version, created_at, body, order_id, amount_minor, currency";
const FEATURE_COLUMNS: &str = "decision_id, created_at, checkpoint, policy_set_version, \
     model_version, action, score, amount_minor, currency, replay, shadow_version, \
     shadow_action, shadow_score, shadow_hits";

/// The name of the `decision_features` partition beside decisions partition `name`.
fn features_of(name: &str) -> String {
    format!(
        "decision_features_{}",
        name.strip_prefix("decisions_").unwrap_or(name)
    )
}

/// The grid slot of `at`: the start of the `span`-long range from the epoch holding it.
fn slot_start(at: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    let span = i64::try_from(span.as_secs().max(1)).unwrap_or(i64::MAX);
    let secs = at.timestamp().div_euclid(span) * span;
    Utc.timestamp_opt(secs, 0).single().unwrap_or(at)
}

/// A timestamp as a SQL literal (our own instants: DDL takes no bound parameters).
fn literal(at: DateTime<Utc>) -> String {
    format!("'{}'", at.format("%Y-%m-%d %H:%M:%S+00"))
}

impl PgStore {
    async fn time_partitions(&self) -> Result<Vec<Partition>, StoreError> {
        sqlx::query_as(TIME_PARTITIONS)
            .fetch_all(self.reader())
            .await
            .map_err(store_error)
    }

    /// Makes the time partitions covering `[from, through]` that do not exist yet, after the
    /// newest one; how many were made. Stops when another replica is making them (the next
    /// pass starts again after the newest), so no slot is ever skipped.
    pub(crate) async fn prepare(
        &self,
        from: DateTime<Utc>,
        through: DateTime<Utc>,
        span: Duration,
    ) -> Result<u32, StoreError> {
        let chrono_span = chrono::Duration::from_std(span.max(Duration::from_secs(1)))
            .map_err(|e| StoreError::Backend(format!("partition span: {e}")))?;
        let newest = self
            .time_partitions()
            .await?
            .into_iter()
            .map(|p| p.hi)
            .max();
        let mut start = slot_start(from, span);
        if let Some(newest) = newest {
            start = start.max(newest);
        }
        let mut made = 0;
        while start <= through {
            let end = start + chrono_span;
            if !self.attach(start, end).await? {
                break;
            }
            made += 1;
            start = end;
        }
        Ok(made)
    }

    /// Makes the partition `[lo, hi)` of both tables, with any rows of that range the default
    /// partitions hold; false when another replica holds the partition lock or made it first.
    async fn attach(&self, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Result<bool, StoreError> {
        let name = format!("decisions_p{}", lo.format("%Y%m%d_%H%M%S"));
        let mut tx = self.begin_write().await?;
        if !try_lock(&mut tx).await? {
            return Ok(false);
        }
        let made_elsewhere: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(&name)
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
        if made_elsewhere {
            return Ok(false);
        }
        exec(
            &mut tx,
            &format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"),
        )
        .await?;
        for (parent, table) in [
            ("decisions", name.clone()),
            ("decision_features", features_of(&name)),
        ] {
            // Made apart and attached, so that rows of its range already in the default
            // partition (made before it, or dated oddly) move in first.
            exec(
                &mut tx,
                &format!("CREATE TABLE {table} (LIKE {parent} INCLUDING DEFAULTS)"),
            )
            .await?;
            exec(
                &mut tx,
                &format!(
                    "WITH strays AS (DELETE FROM {parent}_default WHERE part >= {lo} \
                     AND part < {hi} RETURNING *) INSERT INTO {table} SELECT * FROM strays",
                    lo = literal(lo),
                    hi = literal(hi)
                ),
            )
            .await?;
            exec(
                &mut tx,
                &format!(
                    "ALTER TABLE {parent} ATTACH PARTITION {table} FOR VALUES FROM ({}) TO ({})",
                    literal(lo),
                    literal(hi)
                ),
            )
            .await?;
        }
        tx.commit().await.map_err(store_error)?;
        tracing::info!(partition = %name, "retention: decisions partition made");
        Ok(true)
    }

    /// One step of expiring the oldest partition entirely before `before` (module doc).
    pub(crate) async fn expire_partition_step(
        &self,
        before: DateTime<Utc>,
    ) -> Result<PartitionStep, StoreError> {
        if let Some(name) = self.detached().await? {
            return self.drop_detached(&name).await;
        }
        let Some(partition) = self
            .time_partitions()
            .await?
            .into_iter()
            .find(|p| p.hi <= before)
        else {
            return Ok(PartitionStep::Nothing);
        };
        let mut walk = self.walk.lock().await;
        if walk.as_ref().is_none_or(|w| w.partition != partition.name) {
            let xmin: String =
                sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                    .fetch_one(self.reader())
                    .await
                    .map_err(store_error)?;
            *walk = Some(Walk {
                partition: partition.name.clone(),
                xmin,
                ..Walk::default()
            });
        }
        let Some(state) = walk.as_mut() else {
            return Ok(PartitionStep::Nothing);
        };
        if state.done {
            let step = self.detach(&partition, &state.xmin).await?;
            if step != PartitionStep::Nothing {
                *walk = None;
            }
            return Ok(step);
        }
        let mut tx = self.begin_write().await?;
        if !try_lock(&mut tx).await? {
            return Ok(PartitionStep::Nothing);
        }
        let (last, seen, moved): (Option<String>, i64, i64) = sqlx::query_as(WALK_STEP)
            .bind(partition.lo)
            .bind(partition.hi)
            .bind(&state.after)
            .bind(WALK_PAGE)
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        if let Some(last) = last {
            state.after = last;
        }
        state.done = seen < WALK_PAGE;
        Ok(PartitionStep::Walked {
            partition: partition.name,
            kept: u64::try_from(moved).unwrap_or(0),
        })
    }

    /// Takes a walked partition out of both tables (module doc, step 2).
    async fn detach(&self, p: &Partition, xmin: &str) -> Result<PartitionStep, StoreError> {
        let features = features_of(&p.name);
        let mut tx = self.begin_write().await?;
        if !try_lock(&mut tx).await? {
            return Ok(PartitionStep::Nothing);
        }
        exec(
            &mut tx,
            &format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"),
        )
        .await?;
        exec(
            &mut tx,
            &format!("ALTER TABLE decisions DETACH PARTITION {}", p.name),
        )
        .await?;
        exec(
            &mut tx,
            &format!("ALTER TABLE decision_features DETACH PARTITION {features}"),
        )
        .await?;
        // Labelled since the walk began: kept after all (the partition is out of the table
        // now, so these inserts land in `decisions_held`).
        let late: Vec<String> = sqlx::query_scalar(&format!(
            "WITH late AS (INSERT INTO decisions ({DECISION_COLUMNS}, part) \
             SELECT {DECISION_COLUMNS}, '-infinity' FROM {name} d WHERE d.decision_id IN \
             (SELECT decision_id FROM labels WHERE txid >= $1::xid8) RETURNING decision_id), \
             late_features AS (INSERT INTO decision_features ({FEATURE_COLUMNS}, part) \
             SELECT {FEATURE_COLUMNS}, '-infinity' FROM {features} f \
             WHERE f.decision_id IN (SELECT decision_id FROM late)) \
             SELECT decision_id FROM late",
            name = p.name
        ))
        .bind(xmin)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        if !late.is_empty() {
            // Out of what the drop counts as deleted.
            sqlx::query(&format!(
                "DELETE FROM {} WHERE decision_id = ANY($1::text[])",
                p.name
            ))
            .bind(&late)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        for table in [p.name.clone(), features] {
            exec(
                &mut tx,
                &format!("ALTER TABLE {table} RENAME TO expired_{table}"),
            )
            .await?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(PartitionStep::Detached {
            partition: p.name.clone(),
            kept: late.len() as u64,
        })
    }

    /// A decisions partition detached and not dropped yet, if any.
    async fn detached(&self) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT substr(relname::text, 9) FROM pg_class \
             WHERE relkind = 'r' AND relname::text LIKE 'expired\\_decisions\\_%' \
             AND relnamespace = current_schema()::regnamespace ORDER BY 1 LIMIT 1",
        )
        .fetch_optional(self.reader())
        .await
        .map_err(store_error)
    }

    /// Drops a detached partition and its projections (module doc, step 3).
    async fn drop_detached(&self, name: &str) -> Result<PartitionStep, StoreError> {
        let mut tx = self.begin_write().await?;
        if !try_lock(&mut tx).await? {
            return Ok(PartitionStep::Nothing);
        }
        let deleted: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM expired_{name}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
        exec(
            &mut tx,
            &format!("DROP TABLE expired_{name}, expired_{}", features_of(name)),
        )
        .await?;
        tx.commit().await.map_err(store_error)?;
        tracing::info!(partition = %name, deleted, "retention: decisions partition dropped");
        Ok(PartitionStep::Dropped {
            partition: name.to_owned(),
            deleted: u64::try_from(deleted).unwrap_or(0),
        })
    }
}

/// The partition lock for this transaction, if no other replica holds it.
async fn try_lock(tx: &mut sqlx::Transaction<'static, Postgres>) -> Result<bool, StoreError> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(PARTITION_LOCK)
        .fetch_one(&mut **tx)
        .await
        .map_err(store_error)
}

async fn exec(tx: &mut sqlx::Transaction<'static, Postgres>, sql: &str) -> Result<(), StoreError> {
    sqlx::query(sql)
        .execute(&mut **tx)
        .await
        .map(drop)
        .map_err(store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_lie_on_a_grid_from_the_epoch() {
        let day = Duration::from_secs(86_400);
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 23, 59, 59).unwrap();
        assert_eq!(
            slot_start(at, day),
            Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap()
        );
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
        assert_eq!(slot_start(at, day), at);
        assert_eq!(
            slot_start(at + chrono::Duration::seconds(5), Duration::from_secs(2)),
            at + chrono::Duration::seconds(4)
        );
    }

    #[test]
    fn each_decisions_partition_has_its_features_twin() {
        assert_eq!(
            features_of("decisions_p20261206_000000"),
            "decision_features_p20261206_000000"
        );
        assert_eq!(features_of("decisions_legacy"), "decision_features_legacy");
        assert_eq!(
            literal(Utc.with_ymd_and_hms(2026, 12, 6, 1, 2, 3).unwrap()),
            "'2026-12-06 01:02:03+00'"
        );
    }
}
