//! Expiring a due time partition a step at a time: walk, detach, drop (module doc of
//! `partitions.rs`).

use arbiter_engine::retention::PartitionStep;
use arbiter_engine::store::StoreError;
use chrono::{DateTime, Utc};

use super::{LOCK_TIMEOUT, Partition, exec, try_lock};
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::sql::retention::unkept;

/// Decisions looked at per walk step.
const WALK_PAGE: i64 = 1_000;

/// Where a walk through an expiring partition has got to.
#[derive(Debug, Default)]
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

/// One walk step over `[$1, $2)` after id `$3`, `$4` decisions: moves the kept ones to
/// `decisions_held`, forgets the others' request ids. Returns the last id
/// looked at, how many were looked at and how many moved.
const WALK_STEP: &str = concat!(
    "WITH page AS (SELECT d.decision_id, d.request_id, NOT ",
    unkept!(),
    " AS kept FROM decisions d WHERE d.part >= $1 AND d.part < $2 AND d.decision_id > $3 \
     ORDER BY d.decision_id LIMIT $4), \
     moved AS (UPDATE decisions SET part = '-infinity' WHERE part >= $1 AND part < $2 \
               AND decision_id IN (SELECT decision_id FROM page WHERE kept) \
               RETURNING decision_id), \
     forgotten AS (DELETE FROM decision_requests \
               WHERE request_id IN (SELECT request_id FROM page WHERE NOT kept)) \
     SELECT (SELECT max(decision_id) FROM page), (SELECT count(*) FROM page), \
            (SELECT count(*) FROM moved)"
);

const DECISION_COLUMNS: &str = "decision_id, request_id, body_hash, event, action, score, \
     policy_set_version, model_version, created_at, body, packed, chain, order_id, \
     amount_minor, currency, shadow_version, shadow_action, shadow_score, shadow_hits";

impl PgStore {
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
        let state = match walk.take() {
            Some(w) if w.partition == partition.name => walk.insert(w),
            _ => {
                let xmin: String =
                    sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                        .fetch_one(self.reader())
                        .await
                        .map_err(store_error)?;
                walk.insert(Walk {
                    partition: partition.name.clone(),
                    xmin,
                    ..Walk::default()
                })
            }
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

    /// Takes a walked partition out of the table (module doc, step 2).
    async fn detach(&self, p: &Partition, xmin: &str) -> Result<PartitionStep, StoreError> {
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
        // Labelled since the walk began: kept after all (the partition is out of the table
        // now, so these inserts land in `decisions_held`).
        let late: Vec<String> = sqlx::query_scalar(&format!(
            "WITH late AS (INSERT INTO decisions ({DECISION_COLUMNS}, part) \
             SELECT {DECISION_COLUMNS}, '-infinity' FROM {name} d WHERE d.decision_id IN \
             (SELECT decision_id FROM labels WHERE txid >= $1::xid8) RETURNING decision_id) \
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
        exec(
            &mut tx,
            &format!("ALTER TABLE {name} RENAME TO expired_{name}", name = p.name),
        )
        .await?;
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

    /// Drops a detached partition (module doc, step 3).
    async fn drop_detached(&self, name: &str) -> Result<PartitionStep, StoreError> {
        let mut tx = self.begin_write().await?;
        if !try_lock(&mut tx).await? {
            return Ok(PartitionStep::Nothing);
        }
        let deleted: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM expired_{name}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
        exec(&mut tx, &format!("DROP TABLE expired_{name}")).await?;
        tx.commit().await.map_err(store_error)?;
        tracing::info!(partition = %name, deleted, "retention: decisions partition dropped");
        Ok(PartitionStep::Dropped {
            partition: name.to_owned(),
            deleted: u64::try_from(deleted).unwrap_or(0),
        })
    }
}
