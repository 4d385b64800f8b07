//! The review queue: listing challenged decisions oldest first and resolving each once.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use arbiter_engine::audit::Actor;
use arbiter_engine::feedback::{
    LabelKind, Resolution, ResolveResult, Review, ReviewCursor, ReviewOutcome, ReviewPageItem,
    ReviewStatus,
};
use arbiter_engine::store::Store;

use super::error::{FeedbackError, invalid};
use super::limits::{MAX_NOTE_CHARS, MAX_REVIEWER_CHARS, at_most};
use crate::metrics::names;
use crate::services::graph::GraphService;

/// A resolution as the caller sends it, before validation.
pub struct ResolveRequest {
    pub outcome: String,
    pub label: String,
    pub reviewer: String,
    pub note: Option<String>,
}

pub struct ReviewPage {
    pub items: Vec<ReviewPageItem>,
    /// Pass back as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

pub struct ReviewService {
    store: Arc<dyn Store>,
    graph: Arc<GraphService>,
}

/// The cursor is `<opened_at RFC 3339>~<review_id>`: opaque to callers, stable across pages.
fn encode_cursor(r: &Review) -> String {
    format!(
        "{}~{}",
        r.opened_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        r.review_id
    )
}

fn decode_cursor(s: &str) -> Result<ReviewCursor, FeedbackError> {
    let bad = || invalid("after", format!("`{s}` is not a cursor this API returned"));
    let (at, id) = s.split_once('~').ok_or_else(bad)?;
    let opened_at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    Ok(ReviewCursor {
        opened_at,
        review_id: id.to_owned(),
    })
}

impl ReviewService {
    pub fn new(store: Arc<dyn Store>, graph: Arc<GraphService>) -> Self {
        ReviewService { store, graph }
    }

    pub async fn queue(
        &self,
        status: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ReviewPage, FeedbackError> {
        let status = status
            .map(|s| {
                ReviewStatus::parse(s)
                    .ok_or_else(|| invalid("status", format!("`{s}` is not open or resolved")))
            })
            .transpose()?;
        let cursor = after.map(decode_cursor).transpose()?;
        let limit = limit.clamp(1, 200);
        let items = self
            .store
            .reviews_page(status, cursor.as_ref(), limit)
            .await?;
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(|i| encode_cursor(&i.review)))
            .flatten();
        Ok(ReviewPage { items, next })
    }

    /// Resolves a review once. Repeating the identical resolution answers the stored review
    /// (`false`: nothing changed); a different one is a conflict.
    pub async fn resolve(
        &self,
        review_id: &str,
        req: ResolveRequest,
        actor: &Actor,
    ) -> Result<(Review, bool), FeedbackError> {
        let outcome = ReviewOutcome::parse(&req.outcome).ok_or_else(|| {
            invalid(
                "outcome",
                format!("`{}` is not approve or reject", req.outcome),
            )
        })?;
        let label: LabelKind = req.label.parse().map_err(|m: String| invalid("label", m))?;
        if label == LabelKind::Chargeback {
            return Err(invalid(
                "label",
                "a reviewer labels fraud, legit or account_takeover; chargebacks come from the \
                 channel (POST /v1/labels or the chargeback import)",
            ));
        }
        let reviewer = req.reviewer.trim();
        if reviewer.is_empty() {
            return Err(invalid("reviewer", "must name the reviewer"));
        }
        at_most("reviewer", reviewer, MAX_REVIEWER_CHARS)?;
        at_most(
            "note",
            req.note.as_deref().unwrap_or_default(),
            MAX_NOTE_CHARS,
        )?;
        let resolution = Resolution {
            outcome,
            label,
            reviewer: reviewer.to_owned(),
            note: req.note.filter(|n| !n.is_empty()),
        };
        match self
            .store
            .resolve_review(review_id, &resolution, actor, Utc::now())
            .await?
        {
            ResolveResult::NotFound => Err(FeedbackError::NotFound {
                what: "review",
                id: review_id.to_owned(),
            }),
            ResolveResult::Resolved(review) => {
                if let Some(secs) = review.turnaround_secs() {
                    metrics::histogram!(names::REVIEW_TURNAROUND_MINUTES).record(secs / 60.0);
                }
                if let Some(d) = self.store.get_decision(&review.decision_id).await? {
                    self.graph
                        .apply_label(&d.decision_id.0, &d.context, label.is_fraud());
                }
                Ok((review, true))
            }
            ResolveResult::AlreadyResolved(review)
                if review.resolution.as_ref() == Some(&resolution) =>
            {
                Ok((review, false))
            }
            ResolveResult::AlreadyResolved(review) => Err(FeedbackError::Conflict(format!(
                "review `{}` was already resolved differently at {}",
                review.review_id,
                review
                    .resolved_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default()
            ))),
        }
    }
}
