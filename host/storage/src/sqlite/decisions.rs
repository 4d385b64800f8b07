//! The decision log's table on SQLite: one group-committed write per batch (`group_commit`), one
//! `INSERT … ON CONFLICT (request_id) DO NOTHING` per distinct request, and a read-back of the
//! stored decision for each request that was already there. A challenged decision opens its
//! review in the same transaction.

use std::collections::{HashMap, HashSet};

use arbiter_engine::Decision;
use arbiter_engine::feedback::Review;
use arbiter_engine::store::{AppendOutcome, DecisionEntities, DecisionStore, StoreError};
use arbiter_transactions::TxError;
use async_trait::async_trait;
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::batch::{first_occurrences, outcomes};
use crate::columns::{parse_timestamp, timestamp_text};
use crate::error::store_error;
use crate::rows::{DecisionInsert, decision_from_body};

#[async_trait]
impl DecisionStore for SqliteStore {
    async fn insert_decisions(&self, batch: &[Decision]) -> Result<Vec<AppendOutcome>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let rows = first_occurrences(batch)
            .into_iter()
            .map(DecisionInsert::new)
            .collect::<Result<Vec<_>, _>>()?;
        // Through the transaction core's group commit: decisions and order writes share one
        // fsync per batch instead of taking turns on the single writer.
        let (inserted, existing) = self
            .group
            .run(move |conn| Box::pin(async move { Ok(write_rows(conn, rows).await?) }))
            .await
            .map_err(|e| match e {
                TxError::Store(e) => e,
                other => StoreError::Backend(other.to_string()),
            })?;
        outcomes(batch, &inserted, &existing)
    }

    async fn decisions_page(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Decision>, StoreError> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM decisions WHERE created_at >= ? AND decision_id > ? \
             ORDER BY decision_id LIMIT ?",
        )
        .bind(timestamp_text(since))
        .bind(after_id.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(store_error)?;
        bodies.iter().map(|b| decision_from_body(b)).collect()
    }

    async fn decision_entities_page(
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
             FROM decisions WHERE created_at >= ? AND decision_id > ? \
             ORDER BY decision_id LIMIT ?",
        )
        .bind(timestamp_text(since))
        .bind(after_id.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(entities_from_row).collect()
    }

    async fn get_decision(&self, decision_id: &str) -> Result<Option<Decision>, StoreError> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM decisions WHERE decision_id = ?")
                .bind(decision_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(store_error)?;
        body.as_deref().map(decision_from_body).transpose()
    }

    async fn get_decision_by_request_id(
        &self,
        request_id: &str,
    ) -> Result<Option<Decision>, StoreError> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM decisions WHERE request_id = ?")
                .bind(request_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(store_error)?;
        body.as_deref().map(decision_from_body).transpose()
    }

    async fn count_decisions(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM decisions")
            .fetch_one(&self.reader)
            .await
            .map_err(store_error)?;
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count `{n}`")))
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
             currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
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
        .bind(timestamp_text(row.created_at))
        .bind(&row.body)
        .bind(&row.order_id)
        .bind(row.amount_minor)
        .bind(&row.currency)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?
        .rows_affected();
        if written == 1 {
            if row.opens_review() {
                sqlx::query(
                    "INSERT INTO reviews (review_id, decision_id, status, opened_at) \
                     VALUES (?, ?, 'open', ?)",
                )
                .bind(Review::id_for(&row.decision_id))
                .bind(&row.decision_id)
                .bind(timestamp_text(row.created_at))
                .execute(&mut *conn)
                .await
                .map_err(store_error)?;
            }
            inserted.insert(row.request_id);
        } else {
            let body: String =
                sqlx::query_scalar("SELECT body FROM decisions WHERE request_id = ?")
                    .bind(&row.request_id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(store_error)?;
            existing.insert(row.request_id, decision_from_body(&body)?);
        }
    }
    Ok((inserted, existing))
}
