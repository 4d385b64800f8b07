//! What the decision log's table does differently on SQLite (`sql/decisions.rs` has the
//! rest): one group-committed write per batch (`group_commit`), multi-row
//! `INSERT … ON CONFLICT (request_id) DO NOTHING RETURNING request_id` statements for the
//! batch's distinct requests, and a read-back of the stored decision for each request that was
//! already there. A challenged decision's review is written in the same transaction, as a
//! multi-row statement too.

use std::collections::{HashMap, HashSet};

use arbiter_engine::Decision;
use arbiter_engine::feedback::Review;
use arbiter_engine::graph_feed::GraphFeed;
use arbiter_engine::store::StoreError;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::SqliteStore;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::rows::DecisionInsert;
use crate::stored_decision::{StoredDecision, decision_columns};

impl SqliteStore {
    /// No feed: an embedded database has one process, which links its own decisions.
    pub(crate) fn feed(&self) -> Option<&dyn GraphFeed> {
        None
    }

    /// Inserts the distinct decisions of a batch through the transaction core's group commit:
    /// decisions and order writes share one fsync per batch instead of taking turns on the
    /// single writer. The decisions themselves are not needed here: SQLite keeps no feed for
    /// other replicas (one process owns the file; see `PgStore`'s `graph_feed`).
    pub(crate) async fn write_decisions(
        &self,
        _decisions: &[&Decision],
        rows: Vec<DecisionInsert>,
    ) -> Result<(HashSet<String>, HashMap<String, Decision>), StoreError> {
        self.order_writer()
            .run(move |conn| Box::pin(async move { write_rows(conn, rows).await }))
            .await
    }
}

/// Most rows in one multi-row statement, and the smaller shapes a batch's rest is cut into:
/// a batch costs a few statements per table (each statement is one hop to sqlx's SQLite
/// worker thread) while the statement cache holds at most seven shapes of each (sqlx keeps
/// 100 by default). Measured alone it made no difference beyond the noise (BENCHMARKS.md,
/// "First cuts"): the worker's time goes to the bytes each decision writes.
const CHUNKS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// `rows` cut greedily into slices of the [`CHUNKS`] sizes.
fn chunked<T>(mut rows: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        let size = CHUNKS.into_iter().find(|&c| c <= rows.len())?;
        let (chunk, rest) = rows.split_at(size);
        rows = rest;
        Some(chunk)
    })
}

/// The distinct decisions of a batch, inserted inside the caller's write transaction: the
/// request ids it wrote, and the stored decision of each that was there already.
async fn write_rows(
    conn: &mut SqliteConnection,
    rows: Vec<DecisionInsert>,
) -> Result<(HashSet<String>, HashMap<String, Decision>), StoreError> {
    // INVARIANT: one decision per request_id. The unique index decides (`RETURNING` names only
    // the rows it let in); the single writer connection and `BEGIN IMMEDIATE` mean no other
    // transaction writes between our insert and our read-back.
    let mut inserted = HashSet::with_capacity(rows.len());
    for chunk in chunked(&rows) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO decisions (decision_id, request_id, body_hash, event, action, score, \
             policy_set_version, model_version, created_at, body, packed, chain, order_id, \
             amount_minor, currency, shadow_version, shadow_action, shadow_score, shadow_hits) ",
        );
        insert.push_values(chunk, |mut values, row| {
            values
                .push_bind(&row.decision_id)
                .push_bind(&row.request_id)
                .push_bind(&row.body_hash)
                .push_bind(row.event)
                .push_bind(row.action)
                .push_bind(row.score)
                .push_bind(row.policy_set_version)
                .push_bind(row.model_version)
                .push_bind(SqliteStore::time(row.created_at))
                // A packed decision's JSON body is empty (not null: STRICT `NOT NULL` of
                // migration 0001).
                .push_bind("")
                .push_bind(&row.packed.packed)
                .push_bind(&row.packed.chain)
                .push_bind(&row.order_id)
                .push_bind(row.amount_minor)
                .push_bind(&row.currency)
                .push_bind(row.shadow_version)
                .push_bind(row.shadow_action)
                .push_bind(row.shadow_score)
                .push_bind(&row.shadow_hits);
        });
        insert.push(" ON CONFLICT (request_id) DO NOTHING RETURNING request_id");
        let written: Vec<String> = insert
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(store_error)?;
        inserted.extend(written);
    }
    let (new, old): (Vec<&DecisionInsert>, Vec<&DecisionInsert>) = rows
        .iter()
        .partition(|row| inserted.contains(&row.request_id));
    write_projections(conn, &new).await?;
    let mut existing = HashMap::new();
    for row in old {
        let stored: StoredDecision = sqlx::query_as(concat!(
            "SELECT ",
            decision_columns!(""),
            " FROM decisions d WHERE d.request_id = $1"
        ))
        .bind(&row.request_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
        existing.insert(row.request_id.clone(), stored.into_decision()?);
    }
    Ok((inserted, existing))
}

/// What a new decision writes beside its row: the review a challenge opens, its outbox events.
async fn write_projections(
    conn: &mut SqliteConnection,
    new: &[&DecisionInsert],
) -> Result<(), StoreError> {
    let reviews: Vec<&DecisionInsert> = new.iter().copied().filter(|r| r.opens_review()).collect();
    for chunk in chunked(&reviews) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO reviews (review_id, decision_id, status, opened_at, checkpoint, \
             reason_codes) ",
        );
        insert.push_values(chunk, |mut values, row| {
            values
                .push_bind(Review::id_for(&row.decision_id))
                .push_bind(&row.decision_id)
                .push_bind("open")
                .push_bind(SqliteStore::time(row.created_at))
                .push_bind(row.event)
                .push_bind(&row.reason_codes);
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    for row in new.iter().filter(|r| !r.events.is_empty()) {
        SqliteStore::insert_outbox(conn, &row.events, row.created_at)
            .await
            .map_err(crate::decision_events::store_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::chunked;

    #[test]
    fn a_batch_is_cut_into_the_few_shapes_the_statement_cache_keeps() {
        let sizes = |n: usize| {
            let rows: Vec<usize> = (0..n).collect();
            let chunks: Vec<&[usize]> = chunked(&rows).collect();
            assert_eq!(chunks.concat(), rows, "every row once, in order");
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
        };
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(7), [4, 2, 1]);
        assert_eq!(sizes(37), [32, 4, 1]);
        assert_eq!(sizes(63), [32, 16, 8, 4, 2, 1]);
        assert_eq!(sizes(256), [64, 64, 64, 64]);
        assert_eq!(sizes(83), [64, 16, 2, 1]);
    }
}
