//! The decision log's table, written once for both backends except for what really differs:
//! how a batch is inserted (`write_decisions`: multi-row statements inside the single writer's
//! group commit on SQLite, one `UNNEST` statement on PostgreSQL; `sqlite/decisions.rs` and
//! `postgres/decisions.rs`). A decision is read whole through `stored_decision`, which holds
//! its stored form.

use arbiter_engine::Decision;
use arbiter_engine::graph_feed::GraphFeed;
use arbiter_engine::store::{AppendOutcome, DecisionEntities, DecisionStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use arbiter_engine::feedback::Review;

use crate::batch::{first_occurrences, outcomes};
use crate::decision_events;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::DecisionInsert;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;
use crate::stored_decision::{self, StoredDecision, decision_columns};

/// `decision_id, created_at, body, packed`: what the link graph's page reads.
type EntitiesRow<T> = (String, T, Option<String>, Option<Vec<u8>>);

/// `$as_text`: the cast that reads the JSON body back as text.
macro_rules! decision_store {
    ($store:ty, as_text: $as_text:literal) => {
        #[async_trait]
        impl DecisionStore for $store {
            async fn insert_decisions(
                &self,
                batch: &[Decision],
            ) -> Result<Vec<AppendOutcome>, StoreError> {
                if batch.is_empty() {
                    return Ok(Vec::new());
                }
                let firsts = first_occurrences(batch);
                let events = self.decision_events.on();
                let rows = firsts
                    .iter()
                    .map(|d| {
                        let mut row = DecisionInsert::new(d)?;
                        if events {
                            let review =
                                row.opens_review().then(|| Review::id_for(&row.decision_id));
                            row.events = decision_events::of_decision(d, review.as_deref());
                        }
                        Ok(row)
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                let (inserted, existing) = self.write_decisions(&firsts, rows).await?;
                outcomes(batch, &inserted, &existing)
            }

            async fn decisions_page(
                &self,
                since: DateTime<Utc>,
                after_id: Option<&str>,
                limit: u32,
            ) -> Result<Vec<Decision>, StoreError> {
                let rows: Vec<StoredDecision> = sqlx::query_as(concat!(
                    "SELECT ",
                    decision_columns!($as_text),
                    " FROM decisions d WHERE d.created_at >= $1 AND d.decision_id > $2 \
                     ORDER BY d.decision_id LIMIT $3"
                ))
                .bind(<$store>::time(since))
                .bind(after_id.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter()
                    .map(StoredDecision::into_decision)
                    .collect()
            }

            async fn decision_entities_page(
                &self,
                since: DateTime<Utc>,
                after_id: Option<&str>,
                limit: u32,
            ) -> Result<Vec<DecisionEntities>, StoreError> {
                // A packed decision is opaque to SQL: its context is unpacked and decoded
                // here, only the seven entity fields built.
                let rows: Vec<EntitiesRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT decision_id, created_at, body",
                    $as_text,
                    ", packed FROM decisions WHERE created_at >= $1 AND decision_id > $2 \
                     ORDER BY decision_id LIMIT $3"
                ))
                .bind(<$store>::time(since))
                .bind(after_id.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter()
                    .map(|(decision_id, created_at, body, packed)| {
                        let json = stored_decision::json_of(body, packed)?;
                        stored_decision::entities_of(decision_id, created_at.into_utc()?, &json)
                    })
                    .collect()
            }

            async fn get_decision(
                &self,
                decision_id: &str,
            ) -> Result<Option<Decision>, StoreError> {
                let row: Option<StoredDecision> = sqlx::query_as(concat!(
                    "SELECT ",
                    decision_columns!($as_text),
                    " FROM decisions d WHERE d.decision_id = $1"
                ))
                .bind(decision_id)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(StoredDecision::into_decision).transpose()
            }

            async fn get_decision_by_request_id(
                &self,
                request_id: &str,
            ) -> Result<Option<Decision>, StoreError> {
                let row: Option<StoredDecision> = sqlx::query_as(concat!(
                    "SELECT ",
                    decision_columns!($as_text),
                    // The request's decision, through the table that holds one per
                    // request id on PostgreSQL (a view of `decisions` on SQLite).
                    " FROM decisions d WHERE d.decision_id IN \
                     (SELECT decision_id FROM decision_requests WHERE request_id = $1)"
                ))
                .bind(request_id)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(StoredDecision::into_decision).transpose()
            }

            fn graph_feed(&self) -> Option<&dyn GraphFeed> {
                self.feed()
            }

            async fn count_decisions(&self) -> Result<u64, StoreError> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM decisions")
                    .fetch_one(self.reader())
                    .await
                    .map_err(store_error)?;
                u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count `{n}`")))
            }
        }
    };
}

decision_store!(SqliteStore, as_text: "");
decision_store!(PgStore, as_text: "::text");
