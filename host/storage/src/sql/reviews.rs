//! The review queue and resolutions, written once for both backends.
//!
//! A queue page, a count and a claim narrow the reviews by one [`ReviewFilter`], bound as the
//! placeholders `$1`–`$5` of [`review_filter!`] in every statement that uses it, so the three
//! cannot disagree about which reviews a filter admits.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::feedback::{
    CorrectResult, Label, LatestLabel, OpenReviews, Resolution, ResolveResult, Review,
    ReviewCursor, ReviewFilter, ReviewPageItem, ReviewStatus, ReviewStore, reason_code_pattern,
};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::decision_events::{self, review_resolved};
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::feedback_rows::{ReviewRow, parse_label, parse_label_source};
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;
use crate::stored_decision::{StoredDecision, decision_columns};

macro_rules! review_columns {
    () => {
        "r.review_id, r.decision_id, r.status, r.opened_at, r.resolved_at, r.outcome, r.label, \
         r.reviewer, r.note, r.resolved_by, r.claimed_by, r.claimed_by_name, r.claimed_until, \
         r.escalated_at, r.escalated_by, r.escalation_note"
    };
}

/// Reviews from `$reviews` (aliased `r`) with their decision's body and latest label
/// (`labels_decision` answers each subquery from its index). A page passes its reviews as an
/// already limited subquery, so only the page's rows are joined and their bodies read, however
/// long the queue.
macro_rules! review_item_select {
    ($as_text:literal, $reviews:expr) => {
        concat!(
            "SELECT ",
            review_columns!(),
            ", ",
            decision_columns!($as_text),
            ", \
             (SELECT l.label FROM labels l WHERE l.decision_id = r.decision_id \
              ORDER BY l.created_at DESC, l.label_id DESC LIMIT 1) AS latest_label, \
             (SELECT l.source FROM labels l WHERE l.decision_id = r.decision_id \
              ORDER BY l.created_at DESC, l.label_id DESC LIMIT 1) AS latest_label_source \
             FROM ",
            $reviews,
            " JOIN decisions d ON d.decision_id = r.decision_id"
        )
    };
}

/// The [`ReviewFilter`] as a condition on `reviews r`, over `$1` status, `$2` checkpoint, `$3`
/// reason pattern, `$4` escalated, `$5` resolved-by. `$text` and `$bool` give a bound NULL
/// its type where PostgreSQL cannot infer one.
macro_rules! review_filter {
    ($text:literal, $bool:literal) => {
        concat!(
            "($1",
            $text,
            " IS NULL OR r.status = $1) AND ($2",
            $text,
            " IS NULL OR r.checkpoint = $2) AND ($3",
            $text,
            " IS NULL OR r.reason_codes LIKE $3 ESCAPE '\\') AND ($4",
            $bool,
            " IS NULL OR (r.escalated_at IS NOT NULL) = $4) AND ($5",
            $text,
            " IS NULL OR r.status = 'open' OR r.resolved_by = $5)"
        )
    };
}
pub(crate) use review_filter;

/// Binds a [`ReviewFilter`] as `$1`–`$5` of [`review_filter!`].
macro_rules! bind_filter {
    ($query:expr, $filter:expr) => {
        $query
            .bind($filter.status.map(ReviewStatus::as_str))
            .bind($filter.checkpoint.map(|c| c.as_str()))
            .bind($filter.reason.as_deref().map(reason_code_pattern))
            .bind($filter.escalated)
            .bind($filter.resolved_by.as_deref())
    };
}
pub(crate) use bind_filter;

#[derive(sqlx::FromRow)]
pub(crate) struct ReviewItemRow<T> {
    #[sqlx(flatten)]
    review: ReviewRow<T>,
    #[sqlx(flatten)]
    decision: StoredDecision,
    latest_label: Option<String>,
    latest_label_source: Option<String>,
}

impl<T: StoredTime> ReviewItemRow<T> {
    pub(crate) fn into_item(self) -> Result<ReviewPageItem, StoreError> {
        let latest_label = match (self.latest_label, self.latest_label_source) {
            (Some(kind), Some(source)) => Some(LatestLabel {
                kind: parse_label(&kind)?,
                source: parse_label_source(&source)?,
            }),
            _ => None,
        };
        Ok(ReviewPageItem {
            review: self.review.into_review()?,
            decision: self.decision.into_decision()?,
            latest_label,
        })
    }
}

/// `$conn`: the backend's connection (what `&mut *tx` is); `$as_text`: the cast that reads a
/// JSON body back as text; `$text`, `$time`, `$bool`: the casts that give a bound NULL its
/// type where PostgreSQL cannot infer one (SQLite needs none).
macro_rules! review_store {
    ($store:ty, $conn:ty, as_text: $as_text:literal, text: $text:literal, time: $time:literal,
     bool: $bool:literal) => {
        impl $store {
            /// Writes the label a resolution or a correction gives (source `review`).
            async fn insert_review_label(
                conn: &mut $conn,
                decision_id: &str,
                resolution: &Resolution,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO labels (label_id, decision_id, label, source, external_id, \
                     note, created_by, created_at) \
                     VALUES ($1, $2, $3, 'review', NULL, $4, $5, $6)",
                )
                .bind(Label::generate_id())
                .bind(decision_id)
                .bind(resolution.label.as_str())
                .bind(&resolution.note)
                .bind(&actor.id)
                .bind(<$store>::time(at))
                .execute(conn)
                .await
                .map_err(store_error)?;
                Ok(())
            }
        }

        #[async_trait]
        impl ReviewStore for $store {
            async fn reviews_page(
                &self,
                filter: &ReviewFilter,
                after: Option<&ReviewCursor>,
                limit: u32,
            ) -> Result<Vec<ReviewPageItem>, StoreError> {
                let query = sqlx::query_as(concat!(
                    review_item_select!(
                        $as_text,
                        concat!(
                            "(SELECT * FROM reviews r WHERE ",
                            review_filter!($text, $bool),
                            " AND ($6",
                            $time,
                            " IS NULL OR (r.opened_at, r.review_id) > ($6, $7",
                            $text,
                            ")) ORDER BY r.opened_at, r.review_id LIMIT $8) r"
                        )
                    ),
                    " ORDER BY r.opened_at, r.review_id"
                ));
                let rows: Vec<ReviewItemRow<<$store as Dialect>::Time>> =
                    bind_filter!(query, filter)
                        .bind(after.map(|c| <$store>::time(c.opened_at)))
                        .bind(after.map(|c| c.review_id.as_str()))
                        .bind(i64::from(limit))
                        .fetch_all(self.reader())
                        .await
                        .map_err(store_error)?;
                rows.into_iter().map(ReviewItemRow::into_item).collect()
            }

            async fn count_reviews(&self, filter: &ReviewFilter) -> Result<u64, StoreError> {
                let query = sqlx::query_scalar(concat!(
                    "SELECT COUNT(*) FROM reviews r WHERE ",
                    review_filter!($text, $bool)
                ));
                let count: i64 = bind_filter!(query, filter)
                    .fetch_one(self.reader())
                    .await
                    .map_err(store_error)?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn get_review(&self, review_id: &str) -> Result<Option<Review>, StoreError> {
                let row: Option<ReviewRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT ",
                    review_columns!(),
                    " FROM reviews r WHERE r.review_id = $1"
                ))
                .bind(review_id)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(ReviewRow::into_review).transpose()
            }

            async fn get_review_item(
                &self,
                review_id: &str,
            ) -> Result<Option<ReviewPageItem>, StoreError> {
                let row: Option<ReviewItemRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        review_item_select!($as_text, "reviews r"),
                        " WHERE r.review_id = $1"
                    ))
                    .bind(review_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(store_error)?;
                row.map(ReviewItemRow::into_item).transpose()
            }

            async fn open_reviews(&self) -> Result<OpenReviews, StoreError> {
                // The queue index (`status, opened_at`) answers both from its open range.
                let (count, oldest): (i64, Option<<$store as Dialect>::Time>) = sqlx::query_as(
                    "SELECT COUNT(*), MIN(opened_at) FROM reviews WHERE status = 'open'",
                )
                .fetch_one(self.reader())
                .await
                .map_err(store_error)?;
                Ok(OpenReviews {
                    count: u64::try_from(count).unwrap_or(0),
                    oldest_opened_at: oldest.map(StoredTime::into_utc).transpose()?,
                })
            }

            async fn resolve_review(
                &self,
                review_id: &str,
                resolution: &Resolution,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<ResolveResult, StoreError> {
                // INVARIANT: a review is resolved once, and never while another key's claim
                // runs. Concurrent resolves serialise on the conditional UPDATE (SQLite's
                // single writer; PostgreSQL's row lock, after which the loser re-checks the
                // condition and updates nothing). The label is written in the same
                // transaction or not at all.
                let mut tx = self.begin_write().await?;
                let decision_id: Option<String> = sqlx::query_scalar(
                    "UPDATE reviews SET status = 'resolved', resolved_at = $1, outcome = $2, \
                     label = $3, reviewer = $4, note = $5, resolved_by = $6, \
                     claimed_until = NULL \
                     WHERE review_id = $7 AND status = 'open' \
                     AND (claimed_until IS NULL OR claimed_until <= $1 OR claimed_by = $6) \
                     RETURNING decision_id",
                )
                .bind(<$store>::time(at))
                .bind(resolution.outcome.as_str())
                .bind(resolution.label.as_str())
                .bind(&resolution.reviewer)
                .bind(&resolution.note)
                .bind(&actor.id)
                .bind(review_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
                let resolved_now = decision_id.is_some();
                if let Some(decision_id) = decision_id {
                    let record = AuditRecord::review_resolved(review_id, &decision_id, resolution);
                    <$store>::audit(&mut tx, actor, record).await?;
                    Self::insert_review_label(&mut tx, &decision_id, resolution, actor, at).await?;
                    if self.decision_events.on() {
                        let event = review_resolved(review_id, &decision_id, resolution);
                        <$store>::insert_outbox(&mut tx, &[event], at)
                            .await
                            .map_err(decision_events::store_error)?;
                    }
                }
                tx.commit().await.map_err(store_error)?;
                Ok(match self.get_review(review_id).await? {
                    None => ResolveResult::NotFound,
                    Some(r) if resolved_now => ResolveResult::Resolved(r),
                    Some(r) if r.status == ReviewStatus::Open => ResolveResult::ClaimedByOther(r),
                    Some(r) => ResolveResult::AlreadyResolved(r),
                })
            }

            async fn correct_review(
                &self,
                review_id: &str,
                resolution: &Resolution,
                resolved_by: Option<&str>,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<CorrectResult, StoreError> {
                let Some(before) = self.get_review(review_id).await? else {
                    return Ok(CorrectResult::NotFound);
                };
                // INVARIANT: a correction replaces the resolution it was asked against. The
                // conditional UPDATE compares the stored outcome and label with the ones read
                // above, so of two concurrent corrections the second changes nothing.
                let mut tx = self.begin_write().await?;
                let previous = before.resolution.as_ref();
                let decision_id: Option<String> = sqlx::query_scalar(concat!(
                    "UPDATE reviews SET outcome = $1, label = $2, reviewer = $3, note = $4 \
                     WHERE review_id = $5 AND status = 'resolved' \
                     AND outcome = $6 AND label = $7 AND ($8",
                    $text,
                    " IS NULL OR resolved_by = $8) RETURNING decision_id"
                ))
                .bind(resolution.outcome.as_str())
                .bind(resolution.label.as_str())
                .bind(&resolution.reviewer)
                .bind(&resolution.note)
                .bind(review_id)
                .bind(previous.map(|r| r.outcome.as_str()))
                .bind(previous.map(|r| r.label.as_str()))
                .bind(resolved_by)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
                let Some(decision_id) = decision_id else {
                    tx.commit().await.map_err(store_error)?;
                    return Ok(CorrectResult::NotCorrectable(before));
                };
                let record =
                    AuditRecord::review_corrected(review_id, &decision_id, previous, resolution);
                <$store>::audit(&mut tx, actor, record).await?;
                Self::insert_review_label(&mut tx, &decision_id, resolution, actor, at).await?;
                tx.commit().await.map_err(store_error)?;
                match self.get_review(review_id).await? {
                    Some(r) => Ok(CorrectResult::Corrected(r)),
                    None => Ok(CorrectResult::NotFound),
                }
            }
        }
    };
}

review_store!(SqliteStore, sqlx::SqliteConnection, as_text: "", text: "", time: "", bool: "");
review_store!(
    PgStore,
    sqlx::PgConnection,
    as_text: "::text",
    text: "::text",
    time: "::timestamptz",
    bool: "::boolean"
);
