//! Making time partitions ahead (module doc of `partitions.rs`): on a grid of `span` from the
//! epoch, after the newest one, each made apart and attached so that rows of its range that
//! waited in the default partition move in first.

use std::time::Duration;

use arbiter_engine::store::StoreError;
use chrono::{DateTime, TimeZone, Utc};

use super::{LOCK_TIMEOUT, exec, literal, try_lock};
use crate::error::store_error;
use crate::postgres::PgStore;

/// The grid slot of `at`: the start of the `span`-long range from the epoch holding it.
fn slot_start(at: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    let span = i64::try_from(span.as_secs().max(1)).unwrap_or(i64::MAX);
    let secs = at.timestamp().div_euclid(span) * span;
    Utc.timestamp_opt(secs, 0).single().unwrap_or(at)
}

impl PgStore {
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

    /// Makes the partition `[lo, hi)`, with any rows of that range the default partition
    /// holds; false when another replica holds the partition lock or made it first.
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
        // Made apart and attached, so that rows of its range already in the default partition
        // (made before it, or dated oddly) move in first; with the parent's checks, which a
        // partition must have to be attached (0029's one stored form).
        exec(
            &mut tx,
            &format!(
                "CREATE TABLE {name} (LIKE decisions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            ),
        )
        .await?;
        exec(
            &mut tx,
            &format!(
                "WITH strays AS (DELETE FROM decisions_default WHERE part >= {lo} \
                 AND part < {hi} RETURNING *) INSERT INTO {name} SELECT * FROM strays",
                lo = literal(lo),
                hi = literal(hi)
            ),
        )
        .await?;
        exec(
            &mut tx,
            &format!(
                "ALTER TABLE decisions ATTACH PARTITION {name} FOR VALUES FROM ({}) TO ({})",
                literal(lo),
                literal(hi)
            ),
        )
        .await?;
        tx.commit().await.map_err(store_error)?;
        tracing::info!(partition = %name, "retention: decisions partition made");
        Ok(true)
    }
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
}
