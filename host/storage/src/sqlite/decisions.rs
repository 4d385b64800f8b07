//! What the decision log's table does differently on SQLite (`sql/decisions.rs` has the
//! rest): one group-committed write per batch (`group_commit`), one
//! `INSERT … ON CONFLICT (request_id) DO NOTHING` per distinct request, and a read-back of the
//! stored decision for each request that was already there. A new decision's backtest
//! projection (`decision_features`) and, when it is challenged, its review are written in the
//! same transaction.

use std::collections::{HashMap, HashSet};

use arbiter_engine::Decision;
use arbiter_engine::feedback::Review;
use arbiter_engine::graph_feed::GraphFeed;
use arbiter_engine::store::{DecisionEntities, StoreError};
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::columns::parse_timestamp;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::rows::{DecisionInsert, decision_from_body};

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

    /// A page of the link graph's entities of decisions since `since`, in id order.
    pub(crate) async fn entities_page(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DecisionEntities>, StoreError> {
        // The body is read and only its seven context fields are decoded; serde skips the
        // rest without building it. SQLite's own `json_extract` was slower than decoding whole
        // decisions: it parses each 2–3 kB body into its internal form first (BENCHMARKS.md).
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT decision_id, created_at, body \
             FROM decisions WHERE created_at >= $1 AND decision_id > $2 \
             ORDER BY decision_id LIMIT $3",
        )
        .bind(SqliteStore::time(since))
        .bind(after_id.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(store_error)?;
        rows.into_iter().map(entities_from_row).collect()
    }
}

/// The part of a stored decision body the link graph reads.
#[derive(serde::Deserialize)]
struct EntitiesBody {
    context: ContextEntities,
}

#[derive(serde::Deserialize)]
struct ContextEntities {
    user_id: String,
    device_id: Option<String>,
    card_fingerprint: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    shipping_address_hash: Option<String>,
    ip: Option<String>,
}

/// `decision_id`, `created_at` and the body.
fn entities_from_row(row: (String, String, String)) -> Result<DecisionEntities, StoreError> {
    let (decision_id, created_at, body) = row;
    let EntitiesBody { context: c } = serde_json::from_str(&body)
        .map_err(|e| StoreError::Corrupt(format!("entities of decision `{decision_id}`: {e}")))?;
    Ok(DecisionEntities {
        created_at: parse_timestamp(&created_at)?,
        decision_id,
        user_id: c.user_id,
        device_id: c.device_id,
        card_fingerprint: c.card_fingerprint,
        email: c.email,
        phone: c.phone,
        shipping_address_hash: c.shipping_address_hash,
        ip: c.ip,
    })
}

/// The distinct decisions of a batch, inserted inside the caller's write transaction: the
/// request ids it wrote, and the stored decision of each that was there already.
async fn write_rows(
    conn: &mut SqliteConnection,
    rows: Vec<DecisionInsert>,
) -> Result<(HashSet<String>, HashMap<String, Decision>), StoreError> {
    // INVARIANT: one decision per request_id. The unique index decides; the single writer
    // connection and `BEGIN IMMEDIATE` mean no other transaction writes between our insert
    // and our read-back.
    let mut inserted = HashSet::new();
    let mut existing = HashMap::new();
    for row in rows {
        let written = sqlx::query(
            "INSERT INTO decisions (decision_id, request_id, body_hash, event, action, score, \
             policy_set_version, model_version, created_at, body, order_id, amount_minor, \
             currency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (request_id) DO NOTHING",
        )
        .bind(&row.decision_id)
        .bind(&row.request_id)
        .bind(&row.body_hash)
        .bind(row.event)
        .bind(row.action)
        .bind(row.score)
        .bind(row.policy_set_version)
        .bind(row.model_version)
        .bind(SqliteStore::time(row.created_at))
        .bind(&row.body)
        .bind(&row.order_id)
        .bind(row.amount_minor)
        .bind(&row.currency)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?
        .rows_affected();
        if written == 1 {
            sqlx::query(
                "INSERT INTO decision_features (decision_id, created_at, checkpoint, \
                 policy_set_version, model_version, action, score, amount_minor, currency, \
                 replay, shadow_version, shadow_action, shadow_score, shadow_hits) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&row.decision_id)
            .bind(SqliteStore::time(row.created_at))
            .bind(row.event)
            .bind(row.policy_set_version)
            .bind(row.model_version)
            .bind(row.action)
            .bind(row.score)
            .bind(row.amount_minor)
            .bind(&row.currency)
            .bind(&row.replay)
            .bind(row.shadow_version)
            .bind(row.shadow_action)
            .bind(row.shadow_score)
            .bind(&row.shadow_hits)
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
            if row.opens_review() {
                sqlx::query(
                    "INSERT INTO reviews (review_id, decision_id, status, opened_at, checkpoint, \
                     reason_codes) VALUES ($1, $2, 'open', $3, $4, $5)",
                )
                .bind(Review::id_for(&row.decision_id))
                .bind(&row.decision_id)
                .bind(SqliteStore::time(row.created_at))
                .bind(row.event)
                .bind(&row.reason_codes)
                .execute(&mut *conn)
                .await
                .map_err(store_error)?;
            }
            SqliteStore::insert_outbox(conn, &row.events, row.created_at)
                .await
                .map_err(crate::decision_events::store_error)?;
            inserted.insert(row.request_id);
        } else {
            let body: String =
                sqlx::query_scalar("SELECT body FROM decisions WHERE request_id = $1")
                    .bind(&row.request_id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(store_error)?;
            existing.insert(row.request_id, decision_from_body(&body)?);
        }
    }
    Ok((inserted, existing))
}
