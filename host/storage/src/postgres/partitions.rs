//! Decisions in time partitions on PostgreSQL (migration 0026): making them ahead, and
//! expiring one whole partition at a time instead of deleting its rows one by one.
//!
//! `decisions` is partitioned by `part` (the decision's `created_at`; -infinity once kept). A partition `decisions_p<start>` covers `span` on a grid
//! from the epoch; [`PgStore::prepare`] makes the next ones before they are needed, moving in
//! any row that waited for it in `decisions_default`.
//!
//! Expiring a partition that is entirely older than the age takes three kinds of step, each a
//! short transaction (a long one would hold back the horizon the graph and outbox feeds read
//! below, see `postgres.rs`), so the job pauses between them like between delete batches:
//! 1. *walk*: a page of its decisions in id order; the kept ones (those `sql/retention.rs`'s
//!    `unkept!` does not hold for) move to `decisions_held`, the others'
//!    `decision_requests` rows go;
//! 2. *detach*: once walked, the partition leaves the table (a brief exclusive lock on
//!    `decisions`, given up after [`LOCK_TIMEOUT`] and retried next pass) and becomes
//!    `expired_<name>`; a label written while the walk ran keeps its decision: the label's own
//!    statement reads `decisions` (see `sql/labels.rs`), so the detach waits for it, and the
//!    decisions labelled since the walk began are copied into `decisions_held` in the same
//!    transaction;
//! 3. *drop*: the detached table goes, its files unlinked at commit.
//!
//! One replica does this at a time (a transaction-level advisory lock; another replica's job
//! finds nothing to do meanwhile). The walk's position is kept in memory: after a restart
//! the walk starts over, finding its early pages already done.
//!
//! Making them is `make.rs`, expiring them `expire.rs`; what both need is here.

mod expire;
mod make;

use arbiter_engine::store::StoreError;
use chrono::{DateTime, Utc};
use sqlx::Postgres;

use super::PgStore;
use crate::error::store_error;
pub(crate) use expire::Walk;

/// How long a detach or attach waits for the lock on `decisions` before giving up for this
/// pass: while it waits, every new query on the table queues behind it.
const LOCK_TIMEOUT: &str = "500ms";

/// The advisory lock (transaction-level) serialising partition work across replicas.
const PARTITION_LOCK: i64 = 0x6172_6269_7465_7201;

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
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_bound_is_a_utc_literal() {
        assert_eq!(
            literal(Utc.with_ymd_and_hms(2026, 12, 6, 1, 2, 3).unwrap()),
            "'2026-12-06 01:02:03+00'"
        );
    }
}
