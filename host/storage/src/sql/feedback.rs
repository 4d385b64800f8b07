//! Reviews and labels, written once for both backends.
//!
//! "Latest label" is the newest label of a decision by `(created_at, label_id)`; both are
//! time-ordered, so ties on the clock are broken by the v7 id.

use arbiter_engine::Decision;
use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::feedback::{
    Label, LabelInsert, LabelKind, LabelStore, NewLabel, OpenReviews, Resolution, ResolveResult,
    Review, ReviewCursor, ReviewPageItem, ReviewStatus, ReviewStore,
};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::columns::stored_now;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::feedback_rows::{LabelRow, ReviewRow, parse_label};
use crate::postgres::PgStore;
use crate::rows::{StoredTime, decision_from_body};
use crate::sqlite::SqliteStore;

macro_rules! review_columns {
    () => {
        "r.review_id, r.decision_id, r.status, r.opened_at, r.resolved_at, r.outcome, r.label, \
         r.reviewer, r.note, r.resolved_by"
    };
}

macro_rules! label_columns {
    () => {
        "label_id, decision_id, label, source, external_id, note, created_by, created_at"
    };
}

/// The latest label of every labelled decision, as the subquery `x` (`rn = 1` is the latest).
macro_rules! latest_labels {
    () => {
        "(SELECT decision_id, label, ROW_NUMBER() OVER \
         (PARTITION BY decision_id ORDER BY created_at DESC, label_id DESC) AS rn FROM labels) x"
    };
}
pub(crate) use latest_labels;

#[derive(sqlx::FromRow)]
struct ReviewWithBody<T> {
    #[sqlx(flatten)]
    review: ReviewRow<T>,
    body: String,
}

/// `$as_text`: the cast that reads a JSON body back as text; `$text`, `$time`: the casts that
/// give a bound NULL its type where PostgreSQL cannot infer one (SQLite needs none).
macro_rules! feedback_stores {
    ($store:ty, as_text: $as_text:literal, text: $text:literal, time: $time:literal) => {
        #[async_trait]
        impl ReviewStore for $store {
            async fn reviews_page(
                &self,
                status: Option<ReviewStatus>,
                after: Option<&ReviewCursor>,
                limit: u32,
            ) -> Result<Vec<ReviewPageItem>, StoreError> {
                let rows: Vec<ReviewWithBody<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "SELECT ",
                        review_columns!(),
                        ", d.body",
                        $as_text,
                        " AS body FROM reviews r \
                         JOIN decisions d ON d.decision_id = r.decision_id \
                         WHERE ($1",
                        $text,
                        " IS NULL OR r.status = $1) AND ($2",
                        $time,
                        " IS NULL OR (r.opened_at, r.review_id) > ($2, $3",
                        $text,
                        ")) ORDER BY r.opened_at, r.review_id LIMIT $4"
                    ))
                    .bind(status.map(ReviewStatus::as_str))
                    .bind(after.map(|c| <$store>::time(c.opened_at)))
                    .bind(after.map(|c| c.review_id.as_str()))
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await
                    .map_err(store_error)?;
                rows.into_iter()
                    .map(|r| {
                        Ok(ReviewPageItem {
                            review: r.review.into_review()?,
                            decision: decision_from_body(&r.body)?,
                        })
                    })
                    .collect()
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
                // INVARIANT: a review is resolved once. Concurrent resolves serialise on the
                // conditional UPDATE (SQLite's single writer; PostgreSQL's row lock, after
                // which the loser re-checks `status = 'open'` and updates nothing). The label
                // is written in the same transaction or not at all.
                let mut tx = self.begin_write().await?;
                let decision_id: Option<String> = sqlx::query_scalar(
                    "UPDATE reviews SET status = 'resolved', resolved_at = $1, outcome = $2, \
                     label = $3, reviewer = $4, note = $5, resolved_by = $6 \
                     WHERE review_id = $7 AND status = 'open' RETURNING decision_id",
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
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                }
                tx.commit().await.map_err(store_error)?;
                Ok(match self.get_review(review_id).await? {
                    None => ResolveResult::NotFound,
                    Some(r) if resolved_now => ResolveResult::Resolved(r),
                    Some(r) => ResolveResult::AlreadyResolved(r),
                })
            }
        }

        #[async_trait]
        impl LabelStore for $store {
            async fn insert_label(
                &self,
                label: &NewLabel,
                actor: &Actor,
            ) -> Result<LabelInsert, StoreError> {
                let at = stored_now();
                let id = Label::generate_id();
                // INVARIANT: an external row is imported once; the partial unique index
                // decides (on PostgreSQL a concurrent duplicate waits for the first
                // transaction, then does nothing).
                let mut tx = self.begin_write().await?;
                let written = sqlx::query(
                    "INSERT INTO labels (label_id, decision_id, label, source, external_id, \
                     note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING",
                )
                .bind(&id)
                .bind(&label.decision_id)
                .bind(label.kind.as_str())
                .bind(label.source.as_str())
                .bind(&label.external_id)
                .bind(&label.note)
                .bind(&actor.id)
                .bind(<$store>::time(at))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected();
                let row: LabelRow<<$store as Dialect>::Time> = if written == 1 {
                    sqlx::query_as(concat!(
                        "SELECT ",
                        label_columns!(),
                        " FROM labels WHERE label_id = $1"
                    ))
                    .bind(&id)
                    .fetch_one(&mut *tx)
                    .await
                } else {
                    sqlx::query_as(concat!(
                        "SELECT ",
                        label_columns!(),
                        " FROM labels WHERE source = $1 AND external_id = $2"
                    ))
                    .bind(label.source.as_str())
                    .bind(&label.external_id)
                    .fetch_one(&mut *tx)
                    .await
                }
                .map_err(store_error)?;
                let stored = row.into_label()?;
                if written == 1 {
                    <$store>::audit(&mut tx, actor, AuditRecord::label_created(&stored)).await?;
                }
                tx.commit().await.map_err(store_error)?;
                Ok(if written == 1 {
                    LabelInsert::Created(stored)
                } else {
                    LabelInsert::Duplicate(stored)
                })
            }

            async fn labels_for_decision(
                &self,
                decision_id: &str,
            ) -> Result<Vec<Label>, StoreError> {
                let rows: Vec<LabelRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT ",
                    label_columns!(),
                    " FROM labels WHERE decision_id = $1 ORDER BY created_at, label_id"
                ))
                .bind(decision_id)
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(LabelRow::into_label).collect()
            }

            async fn labelled_decisions(&self) -> Result<Vec<(Decision, LabelKind)>, StoreError> {
                let rows: Vec<(String, String)> = sqlx::query_as(concat!(
                    "SELECT d.body",
                    $as_text,
                    ", x.label FROM ",
                    latest_labels!(),
                    " JOIN decisions d ON d.decision_id = x.decision_id WHERE x.rn = 1 \
                     ORDER BY d.created_at, d.decision_id"
                ))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.iter()
                    .map(|(body, label)| Ok((decision_from_body(body)?, parse_label(label)?)))
                    .collect()
            }

            async fn fraud_labelled_decisions(
                &self,
                since: DateTime<Utc>,
            ) -> Result<Vec<Decision>, StoreError> {
                let bodies: Vec<String> = sqlx::query_scalar(concat!(
                    "SELECT d.body",
                    $as_text,
                    " FROM ",
                    latest_labels!(),
                    " JOIN decisions d ON d.decision_id = x.decision_id \
                     WHERE x.rn = 1 AND x.label <> 'legit' AND d.created_at >= $1 \
                     ORDER BY d.created_at"
                ))
                .bind(<$store>::time(since))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                bodies.iter().map(|b| decision_from_body(b)).collect()
            }
        }
    };
}

feedback_stores!(SqliteStore, as_text: "", text: "", time: "");
feedback_stores!(PgStore, as_text: "::text", text: "::text", time: "::timestamptz");
