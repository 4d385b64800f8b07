//! What the decision log's table does differently on PostgreSQL (`sql/decisions.rs` has the
//! rest): one transaction per batch holding a multi-row
//! `INSERT INTO decision_requests … ON CONFLICT (request_id) DO NOTHING RETURNING request_id`
//! that decides which decisions are new, one multi-row `INSERT … SELECT FROM UNNEST(…)` of
//! those into the time-partitioned `decisions` (migration 0026), their rows in the graph feed
//! (`decision_links`, `graph_feed.rs`) and reviews, and one read-back of the stored decisions
//! for the requests already there.

use std::collections::{HashMap, HashSet};

use arbiter_engine::Decision;
use arbiter_engine::feedback::Review;
use arbiter_engine::store::{DecisionEntities, StoreError};
use arbiter_transactions::change::OutboxMessage;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::error::store_error;
use crate::rows::DecisionInsert;
use crate::stored_decision::{StoredDecision, decision_columns};

impl PgStore {
    /// Inserts the distinct decisions of a batch in one transaction: one multi-row insert, the
    /// reviews the challenged ones open, and one read-back of the requests already there.
    pub(crate) async fn write_decisions(
        &self,
        decisions: &[&Decision],
        rows: Vec<DecisionInsert>,
    ) -> Result<(HashSet<String>, HashMap<String, Decision>), StoreError> {
        let mut tx = self.begin_write().await?;
        // INVARIANT: one decision per request_id. `decision_requests`' primary key arbitrates
        // between concurrent batches (a unique index on the partitioned `decisions` would have
        // to contain the partition key): a conflicting insert waits for the other transaction
        // and then does nothing. Rows go in sorted by request_id (see `first_occurrences`), so
        // two overlapping batches cannot deadlock.
        let inserted: Vec<String> = sqlx::query_scalar(
            "INSERT INTO decision_requests (request_id, decision_id, created_at) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[]) \
             ON CONFLICT (request_id) DO NOTHING \
             RETURNING request_id",
        )
        .bind(
            rows.iter()
                .map(|r| r.request_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.decision_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        let inserted: HashSet<String> = inserted.into_iter().collect();
        let new_rows: Vec<&DecisionInsert> = rows
            .iter()
            .filter(|r| inserted.contains(&r.request_id))
            .collect();
        if !new_rows.is_empty() {
            // `part` = `created_at`: the row's time partition (migration 0026).
            sqlx::query(
                "INSERT INTO decisions (decision_id, request_id, body_hash, event, action, \
                 score, policy_set_version, model_version, created_at, packed, chain, \
                 order_id, amount_minor, currency, shadow_version, shadow_action, \
                 shadow_score, shadow_hits, part) \
                 SELECT *, c FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
                             $5::text[], $6::float8[], $7::int8[], $8::int8[], \
                             $9::timestamptz[], $10::bytea[], $11::bytea[], $12::text[], \
                             $13::int8[], $14::text[], $15::int8[], $16::text[], \
                             $17::float8[], $18::text[]) \
                      AS t(d, r, h, e, a, s, p, m, c, b, ch, o, am, cu, sv, sa, ss, sh)",
            )
            .bind(column(&new_rows, |r| r.decision_id.as_str()))
            .bind(column(&new_rows, |r| r.request_id.as_str()))
            .bind(column(&new_rows, |r| r.body_hash.as_str()))
            .bind(column(&new_rows, |r| r.event))
            .bind(column(&new_rows, |r| r.action))
            .bind(column(&new_rows, |r| r.score))
            .bind(column(&new_rows, |r| r.policy_set_version))
            .bind(column(&new_rows, |r| r.model_version))
            .bind(column(&new_rows, |r| r.created_at))
            .bind(column(&new_rows, |r| r.packed.packed.as_slice()))
            .bind(column(&new_rows, |r| r.packed.chain.as_deref()))
            .bind(column(&new_rows, |r| r.order_id.as_deref()))
            .bind(column(&new_rows, |r| r.amount_minor))
            .bind(column(&new_rows, |r| r.currency.as_deref()))
            .bind(column(&new_rows, |r| r.shadow_version))
            .bind(column(&new_rows, |r| r.shadow_action))
            .bind(column(&new_rows, |r| r.shadow_score))
            .bind(column(&new_rows, |r| r.shadow_hits.as_deref()))
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        let new_decisions: Vec<&Decision> = decisions
            .iter()
            .copied()
            .filter(|d| inserted.contains(&d.request_id))
            .collect();
        self.write_links(&mut tx, &new_decisions).await?;
        let reviews: Vec<&DecisionInsert> = rows
            .iter()
            .filter(|r| r.opens_review() && inserted.contains(&r.request_id))
            .collect();
        if !reviews.is_empty() {
            sqlx::query(
                "INSERT INTO reviews (review_id, decision_id, status, opened_at, checkpoint, \
                 reason_codes) \
                 SELECT r, d, 'open', o, c, rc \
                 FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[]) \
                 AS t(r, d, o, c, rc)",
            )
            .bind(
                reviews
                    .iter()
                    .map(|r| Review::id_for(&r.decision_id))
                    .collect::<Vec<_>>(),
            )
            .bind(
                reviews
                    .iter()
                    .map(|r| r.decision_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(reviews.iter().map(|r| r.created_at).collect::<Vec<_>>())
            .bind(column(&reviews, |r| r.event))
            .bind(column(&reviews, |r| r.reason_codes.as_str()))
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        // The batch's decision events in one statement (`insert_outbox` takes one time for
        // all its rows; here each decision has its own), in order: a decision's
        // `decision.made` before its `review.opened`.
        let events: Vec<(&OutboxMessage, DateTime<Utc>)> = rows
            .iter()
            .filter(|r| inserted.contains(&r.request_id))
            .flat_map(|r| r.events.iter().map(|e| (e, r.created_at)))
            .collect();
        if !events.is_empty() {
            sqlx::query(
                "INSERT INTO outbox (topic, payload, created_at) \
                 SELECT t, p, c FROM UNNEST($1::text[], $2::text[], $3::timestamptz[]) \
                 WITH ORDINALITY AS e(t, p, c, n) ORDER BY n",
            )
            .bind(
                events
                    .iter()
                    .map(|(e, _)| e.topic.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                events
                    .iter()
                    .map(|(e, _)| e.payload.to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(events.iter().map(|(_, at)| *at).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        let conflicted: Vec<&str> = rows
            .iter()
            .map(|r| r.request_id.as_str())
            .filter(|rid| !inserted.contains(*rid))
            .collect();
        let mut existing = HashMap::new();
        if !conflicted.is_empty() {
            // Read committed: this statement's snapshot sees the rows the conflicts waited for.
            let stored: Vec<StoredDecision> = sqlx::query_as(concat!(
                "SELECT ",
                decision_columns!("::text"),
                " FROM decisions d WHERE d.decision_id IN \
                 (SELECT decision_id FROM decision_requests WHERE request_id = ANY($1::text[]))"
            ))
            .bind(conflicted)
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
            for row in stored {
                let stored = row.into_decision()?;
                existing.insert(stored.request_id.clone(), stored);
            }
        }
        tx.commit().await.map_err(store_error)?;
        Ok((inserted, existing))
    }
}

/// One column of a multi-row `UNNEST` insert.
fn column<'a, T>(rows: &[&'a DecisionInsert], f: impl Fn(&'a DecisionInsert) -> T) -> Vec<T> {
    rows.iter().map(|r| f(r)).collect()
}

/// `decision_id, created_at`, then user, device, card, email, phone, address and IP.
type EntitiesRow = (
    String,
    chrono::DateTime<chrono::Utc>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(super) fn entities_from_row(row: EntitiesRow) -> Result<DecisionEntities, StoreError> {
    let (decision_id, created_at, user, device, card, email, phone, address, ip) = row;
    let user_id =
        user.ok_or_else(|| StoreError::Corrupt(format!("decision `{decision_id}` has no user")))?;
    Ok(DecisionEntities {
        decision_id,
        created_at,
        user_id,
        device_id: device,
        card_fingerprint: card,
        email,
        phone,
        shipping_address_hash: address,
        ip,
    })
}
