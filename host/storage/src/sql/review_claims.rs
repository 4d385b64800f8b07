//! Who works which open review, written once for both backends: claims with a lease and
//! escalation. A claim is three columns on the review (`claimed_by`, its name,
//! `claimed_until`); a lapsed lease is a time in the past, so nothing has to clear it.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::feedback::{
    ClaimResult, ClaimTarget, Review, ReviewClaimStore, ReviewFilter, ReviewStatus, ReviewStore,
    reason_code_pattern,
};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::reviews::{bind_filter, review_filter};
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;

/// How often a claim of the next review retries after another claimer took the one it chose.
/// Each retry means another reviewer got a case, so the queue moved; this bounds the loop
/// under a storm of claimers without ever handing one case to two of them.
const CLAIM_ATTEMPTS: usize = 16;

/// `$text`, `$time`, `$bool`: the casts that give a bound NULL its type where PostgreSQL cannot
/// infer one (SQLite needs none).
macro_rules! review_claim_store {
    ($store:ty, text: $text:literal, time: $time:literal, bool: $bool:literal) => {
        impl $store {
            /// Claims `review_id` for `claimer` unless another key's lease runs at `now`;
            /// whether it did.
            async fn take_claim(
                &self,
                review_id: &str,
                claimer: &Actor,
                now: DateTime<Utc>,
                until: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                // INVARIANT: two keys never hold one review at once. The condition is
                // re-checked by the UPDATE itself (SQLite's single writer; on PostgreSQL the
                // second of two concurrent claims waits for the first's row lock, re-reads
                // the row and no longer matches), so a check-then-act race cannot pass.
                let claimed = sqlx::query(
                    "UPDATE reviews SET claimed_by = $1, claimed_by_name = $2, \
                     claimed_until = $3 \
                     WHERE review_id = $4 AND status = 'open' \
                     AND (claimed_until IS NULL OR claimed_until <= $5 OR claimed_by = $1)",
                )
                .bind(&claimer.id)
                .bind(&claimer.name)
                .bind(<$store>::time(until))
                .bind(review_id)
                .bind(<$store>::time(now))
                .execute(self.writer())
                .await
                .map_err(store_error)?
                .rows_affected();
                Ok(claimed == 1)
            }

            /// The oldest open review `filter` admits that no other key holds at `now`.
            async fn next_claimable(
                &self,
                filter: &ReviewFilter,
                claimer: &Actor,
                now: DateTime<Utc>,
            ) -> Result<Option<String>, StoreError> {
                let open = ReviewFilter {
                    status: Some(ReviewStatus::Open),
                    ..filter.clone()
                };
                let query = sqlx::query_scalar(concat!(
                    "SELECT r.review_id FROM reviews r WHERE ",
                    review_filter!($text, $bool),
                    " AND (r.claimed_until IS NULL OR r.claimed_until <= $6 OR r.claimed_by = $7) \
                     ORDER BY r.opened_at, r.review_id LIMIT 1"
                ));
                bind_filter!(query, open)
                    .bind(<$store>::time(now))
                    .bind(&claimer.id)
                    .fetch_optional(self.writer())
                    .await
                    .map_err(store_error)
            }
        }

        #[async_trait]
        impl ReviewClaimStore for $store {
            async fn claim_review(
                &self,
                target: ClaimTarget<'_>,
                claimer: &Actor,
                now: DateTime<Utc>,
                until: DateTime<Utc>,
            ) -> Result<ClaimResult, StoreError> {
                let claimed = match target {
                    ClaimTarget::Review(id) => {
                        if !self.take_claim(id, claimer, now, until).await? {
                            return Ok(match self.get_review(id).await? {
                                Some(review) => ClaimResult::Unavailable(Box::new(review)),
                                None => ClaimResult::Nothing,
                            });
                        }
                        id.to_owned()
                    }
                    ClaimTarget::Next(filter) => {
                        let mut claimed = None;
                        for _ in 0..CLAIM_ATTEMPTS {
                            let Some(id) = self.next_claimable(filter, claimer, now).await? else {
                                return Ok(ClaimResult::Nothing);
                            };
                            if self.take_claim(&id, claimer, now, until).await? {
                                claimed = Some(id);
                                break;
                            }
                        }
                        match claimed {
                            Some(id) => id,
                            None => return Ok(ClaimResult::Nothing),
                        }
                    }
                };
                Ok(match self.get_review_item(&claimed).await? {
                    Some(item) => ClaimResult::Claimed(Box::new(item)),
                    None => ClaimResult::Nothing,
                })
            }

            async fn release_review(
                &self,
                review_id: &str,
                key_id: &str,
            ) -> Result<bool, StoreError> {
                let released = sqlx::query(
                    "UPDATE reviews SET claimed_until = NULL \
                     WHERE review_id = $1 AND claimed_by = $2 AND status = 'open' \
                     AND claimed_until IS NOT NULL",
                )
                .bind(review_id)
                .bind(key_id)
                .execute(self.writer())
                .await
                .map_err(store_error)?
                .rows_affected();
                Ok(released == 1)
            }

            async fn escalate_review(
                &self,
                review_id: &str,
                note: Option<&str>,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<Option<Review>, StoreError> {
                let mut tx = self.begin_write().await?;
                let decision_id: Option<String> = sqlx::query_scalar(
                    "UPDATE reviews SET escalated_at = $1, escalated_by = $2, \
                     escalation_note = $3, claimed_until = NULL \
                     WHERE review_id = $4 AND status = 'open' \
                     AND (claimed_until IS NULL OR claimed_until <= $1 OR claimed_by = $5) \
                     RETURNING decision_id",
                )
                .bind(<$store>::time(at))
                .bind(&actor.name)
                .bind(note)
                .bind(review_id)
                .bind(&actor.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
                let Some(decision_id) = decision_id else {
                    tx.commit().await.map_err(store_error)?;
                    return Ok(None);
                };
                let record = AuditRecord::review_escalated(review_id, &decision_id, note);
                <$store>::audit(&mut tx, actor, record).await?;
                tx.commit().await.map_err(store_error)?;
                self.get_review(review_id).await
            }
        }
    };
}

review_claim_store!(SqliteStore, text: "", time: "", bool: "");
review_claim_store!(PgStore, text: "::text", time: "::timestamptz", bool: "::boolean");
