//! The decision log's table, written once for both backends except for what really differs:
//! how a batch is inserted (`write_decisions`: row by row on SQLite inside the single writer's
//! group commit, one `UNNEST` statement on PostgreSQL) and how the link graph's entities are
//! read (`entities_page`: decoded from the body on SQLite, picked out of the JSONB by the
//! server on PostgreSQL). Both live in `sqlite/decisions.rs` and `postgres/decisions.rs`.

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
use crate::rows::{DecisionInsert, decision_from_body};
use crate::sqlite::SqliteStore;

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
                let bodies: Vec<String> = sqlx::query_scalar(concat!(
                    "SELECT body",
                    $as_text,
                    " FROM decisions WHERE created_at >= $1 AND decision_id > $2 \
                     ORDER BY decision_id LIMIT $3"
                ))
                .bind(<$store>::time(since))
                .bind(after_id.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                bodies.iter().map(|b| decision_from_body(b)).collect()
            }

            async fn decision_entities_page(
                &self,
                since: DateTime<Utc>,
                after_id: Option<&str>,
                limit: u32,
            ) -> Result<Vec<DecisionEntities>, StoreError> {
                self.entities_page(since, after_id, limit).await
            }

            async fn get_decision(
                &self,
                decision_id: &str,
            ) -> Result<Option<Decision>, StoreError> {
                let body: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT body",
                    $as_text,
                    " FROM decisions WHERE decision_id = $1"
                ))
                .bind(decision_id)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                body.as_deref().map(decision_from_body).transpose()
            }

            async fn get_decision_by_request_id(
                &self,
                request_id: &str,
            ) -> Result<Option<Decision>, StoreError> {
                let body: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT body",
                    $as_text,
                    // The request's decision, through the table that holds one per
                    // request id on PostgreSQL (a view of `decisions` on SQLite).
                    " FROM decisions WHERE decision_id IN \
                     (SELECT decision_id FROM decision_requests WHERE request_id = $1)"
                ))
                .bind(request_id)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                body.as_deref().map(decision_from_body).transpose()
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
