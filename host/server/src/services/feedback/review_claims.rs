//! Who works which case: a reviewer claims the next open review (or one they picked) for a
//! lease, so two reviewers never work the same case; releases it; or escalates it to a senior
//! reviewer. A lease that lapses returns the case to the queue by itself.

use chrono::Utc;

use arbiter_engine::audit::Actor;
use arbiter_engine::feedback::{ClaimResult, ClaimTarget, Review, ReviewPageItem};
use arbiter_engine::keys::ApiKey;

use super::error::FeedbackError;
use super::limits::{MAX_NOTE_CHARS, at_most};
use super::reviews::{QueueRequest, ReviewService, not_found, queue_filter};

impl ReviewService {
    /// The oldest open review the filters admit that no one else holds, now held by `caller`
    /// for the lease; `None` when nothing is waiting. A case the caller already holds counts
    /// as waiting for it (its lease is renewed).
    pub async fn claim_next(
        &self,
        q: QueueRequest<'_>,
        caller: &ApiKey,
    ) -> Result<Option<ReviewPageItem>, FeedbackError> {
        let filter = queue_filter(&q, caller)?;
        self.claim(ClaimTarget::Next(&filter), caller).await
    }

    /// Claims one review: a conflict when it is resolved or another reviewer holds it.
    pub async fn claim_review(
        &self,
        review_id: &str,
        caller: &ApiKey,
    ) -> Result<ReviewPageItem, FeedbackError> {
        self.claim(ClaimTarget::Review(review_id), caller)
            .await?
            .ok_or_else(|| not_found(review_id))
    }

    async fn claim(
        &self,
        target: ClaimTarget<'_>,
        caller: &ApiKey,
    ) -> Result<Option<ReviewPageItem>, FeedbackError> {
        let now = Utc::now();
        match self
            .store
            .claim_review(target, &Actor::key(caller), now, now + self.lease)
            .await?
        {
            ClaimResult::Claimed(item) => Ok(Some(*item)),
            ClaimResult::Nothing => Ok(None),
            ClaimResult::Unavailable(review) => Err(unavailable(&review, now)),
        }
    }

    /// Gives a case back to the queue before its lease ends.
    pub async fn release(&self, review_id: &str, caller: &ApiKey) -> Result<(), FeedbackError> {
        if self.store.release_review(review_id, &caller.id).await? {
            return Ok(());
        }
        match self.store.get_review(review_id).await? {
            None => Err(not_found(review_id)),
            Some(_) => Err(FeedbackError::Conflict(format!(
                "this key holds no claim on review `{review_id}`"
            ))),
        }
    }

    /// Passes an open case to a senior reviewer: flagged, unclaimed, audited.
    pub async fn escalate(
        &self,
        review_id: &str,
        note: Option<String>,
        caller: &ApiKey,
    ) -> Result<Review, FeedbackError> {
        at_most("note", note.as_deref().unwrap_or_default(), MAX_NOTE_CHARS)?;
        let note = note.filter(|n| !n.trim().is_empty());
        let now = Utc::now();
        if let Some(review) = self
            .store
            .escalate_review(review_id, note.as_deref(), &Actor::key(caller), now)
            .await?
        {
            return Ok(review);
        }
        match self.store.get_review(review_id).await? {
            None => Err(not_found(review_id)),
            Some(review) => Err(unavailable(&review, now)),
        }
    }
}

/// Why a claim or an escalation could not take `review`.
pub(super) fn unavailable(review: &Review, now: chrono::DateTime<Utc>) -> FeedbackError {
    match review.live_claim(now) {
        Some(c) => FeedbackError::Conflict(format!(
            "review `{}` is claimed by `{}` until {}",
            review.review_id,
            c.reviewer,
            c.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        None => FeedbackError::Conflict(format!(
            "review `{}` is {}",
            review.review_id,
            review.status.as_str()
        )),
    }
}
