//! The review queue: listing challenged decisions oldest first, resolving each once with an
//! outcome and a label that agree, and correcting a resolution later with its own audit entry.
//! Claims and escalation are in `review_claims.rs`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use arbiter_engine::audit::Actor;
use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::feedback::{
    CorrectResult, LabelKind, Resolution, ResolveResult, Review, ReviewCursor, ReviewFilter,
    ReviewOutcome, ReviewPageItem, ReviewStatus,
};
use arbiter_engine::keys::{ApiKey, Scope};
use arbiter_engine::store::Store;

use super::error::{FeedbackError, invalid};
use super::limits::{MAX_NOTE_CHARS, at_most};
use super::review_claims::unavailable;
use crate::metrics::names;
use crate::services::graph::GraphService;

/// A reason code to filter by: what rules, lists and the graph emit (`geo.mismatch`).
const MAX_REASON_CHARS: usize = 100;

/// The queue's filters as the caller sends them, before validation.
#[derive(Debug, Default)]
pub struct QueueRequest<'a> {
    /// `open` (default), `resolved` or `all`.
    pub status: Option<&'a str>,
    pub checkpoint: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub escalated: Option<bool>,
    pub after: Option<&'a str>,
    pub limit: u32,
}

/// A resolution or a correction as the caller sends it, before validation. The reviewer is the
/// key: `reviewer`, when sent, must be the key's name.
pub struct ResolveRequest {
    pub outcome: String,
    pub label: String,
    pub reviewer: Option<String>,
    pub note: Option<String>,
    /// Resolve even though the decision's latest label says the opposite.
    pub supersede: bool,
}

pub struct ReviewPage {
    pub items: Vec<ReviewPageItem>,
    /// Pass back as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
    /// How many reviews the filter admits, on every page.
    pub total: u64,
}

pub struct ReviewService {
    pub(super) store: Arc<dyn Store>,
    pub(super) graph: Arc<GraphService>,
    /// A review open longer than this is overdue.
    pub(super) sla: Duration,
    /// How long a claim holds a case.
    pub(super) lease: Duration,
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

/// The filter a queue request asks for, as `viewer` may see it: resolved reviews are an
/// admin's to list, or a reviewer's own.
pub(super) fn queue_filter(
    q: &QueueRequest<'_>,
    viewer: &ApiKey,
) -> Result<ReviewFilter, FeedbackError> {
    let status = match q.status.unwrap_or("open") {
        "all" => None,
        s => Some(
            ReviewStatus::parse(s)
                .ok_or_else(|| invalid("status", format!("`{s}` is not open, resolved or all")))?,
        ),
    };
    let checkpoint = q
        .checkpoint
        .map(|c| {
            Checkpoint::parse(c)
                .ok_or_else(|| invalid("checkpoint", format!("`{c}` is not a checkpoint")))
        })
        .transpose()?;
    let reason = q.reason.map(valid_reason).transpose()?;
    let resolved_by = (status != Some(ReviewStatus::Open) && !viewer.allows(Scope::Admin))
        .then(|| viewer.id.clone());
    Ok(ReviewFilter {
        status,
        checkpoint,
        reason,
        escalated: q.escalated,
        resolved_by,
    })
}

fn valid_reason(code: &str) -> Result<String, FeedbackError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if code.is_empty() || code.len() > MAX_REASON_CHARS || !code.chars().all(allowed) {
        return Err(invalid(
            "reason",
            format!(
                "a reason code is 1 to {MAX_REASON_CHARS} letters, digits and `._-:` \
                 (`geo.mismatch`)"
            ),
        ));
    }
    Ok(code.to_owned())
}

/// Validates a resolution: an outcome and a label that agree, the reviewer the key names.
fn resolution(req: ResolveRequest, actor: &Actor) -> Result<Resolution, FeedbackError> {
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
    if !outcome.agrees_with(label) {
        return Err(invalid(
            "label",
            format!(
                "`{}` with outcome `{}` contradicts itself: approve goes with legit, reject with \
                 fraud or account_takeover",
                label,
                outcome.as_str()
            ),
        ));
    }
    if let Some(named) = req.reviewer.as_deref().map(str::trim)
        && named != actor.name
    {
        return Err(invalid(
            "reviewer",
            format!(
                "a resolution is recorded under the key's name `{}`; omit `reviewer` or send \
                 that name",
                actor.name
            ),
        ));
    }
    at_most(
        "note",
        req.note.as_deref().unwrap_or_default(),
        MAX_NOTE_CHARS,
    )?;
    Ok(Resolution {
        outcome,
        label,
        reviewer: actor.name.clone(),
        note: req.note.filter(|n| !n.trim().is_empty()),
    })
}

pub(super) fn not_found(review_id: &str) -> FeedbackError {
    FeedbackError::NotFound {
        what: "review",
        id: review_id.to_owned(),
    }
}

impl ReviewService {
    pub fn new(
        store: Arc<dyn Store>,
        graph: Arc<GraphService>,
        sla: Duration,
        lease: Duration,
    ) -> Self {
        ReviewService {
            store,
            graph,
            sla,
            lease,
        }
    }

    /// How long a review may stay open before it is overdue.
    pub fn sla(&self) -> Duration {
        self.sla
    }

    pub async fn queue(
        &self,
        q: QueueRequest<'_>,
        viewer: &ApiKey,
    ) -> Result<ReviewPage, FeedbackError> {
        let filter = queue_filter(&q, viewer)?;
        let cursor = q.after.map(decode_cursor).transpose()?;
        let limit = q.limit.clamp(1, 200);
        let items = self
            .store
            .reviews_page(&filter, cursor.as_ref(), limit)
            .await?;
        let total = self.store.count_reviews(&filter).await?;
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(|i| encode_cursor(&i.review)))
            .flatten();
        Ok(ReviewPage { items, next, total })
    }

    /// One review with its decision and latest label.
    pub async fn case(&self, review_id: &str) -> Result<ReviewPageItem, FeedbackError> {
        self.store
            .get_review_item(review_id)
            .await?
            .ok_or_else(|| not_found(review_id))
    }

    /// Resolves a review once. Repeating the identical resolution answers the stored review
    /// (`false`: nothing changed); a different one, a case another reviewer holds, or a label
    /// contradicting the decision's latest one (unless superseded) is a conflict.
    pub async fn resolve(
        &self,
        review_id: &str,
        req: ResolveRequest,
        actor: &Actor,
    ) -> Result<(Review, bool), FeedbackError> {
        let supersede = req.supersede;
        let resolution = resolution(req, actor)?;
        let case = self.case(review_id).await?;
        if let Some(latest) = case.latest_label
            && case.review.status == ReviewStatus::Open
            && latest.kind.is_fraud() != resolution.label.is_fraud()
            && !supersede
        {
            return Err(FeedbackError::Conflict(format!(
                "decision `{}` is already labelled `{}` (source {}); resolve in agreement, or \
                 send \"supersede\": true to overrule it",
                case.review.decision_id,
                latest.kind,
                latest.source.as_str()
            )));
        }
        let now = Utc::now();
        match self
            .store
            .resolve_review(review_id, &resolution, actor, now)
            .await?
        {
            ResolveResult::NotFound => Err(not_found(review_id)),
            ResolveResult::Resolved(review) => {
                if let Some(secs) = review.turnaround_secs() {
                    metrics::histogram!(names::REVIEW_TURNAROUND_MINUTES).record(secs / 60.0);
                }
                metrics::counter!(names::LABELS_TOTAL, "label" => resolution.label.as_str())
                    .increment(1);
                self.graph
                    .apply_label(&case.decision, resolution.label)
                    .await;
                Ok((review, true))
            }
            ResolveResult::ClaimedByOther(review) => Err(unavailable(&review, now)),
            ResolveResult::AlreadyResolved(review)
                if review.resolution.as_ref() == Some(&resolution) =>
            {
                Ok((review, false))
            }
            ResolveResult::AlreadyResolved(review) => Err(FeedbackError::Conflict(format!(
                "review `{}` was already resolved differently at {}; correct it with \
                 POST /v1/reviews/{}/correct",
                review.review_id,
                review
                    .resolved_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default(),
                review.review_id
            ))),
        }
    }

    /// Replaces a resolution: the key that resolved the review may, or an admin. The new label
    /// supersedes the old one, and the graph follows it.
    pub async fn correct(
        &self,
        review_id: &str,
        req: ResolveRequest,
        caller: &ApiKey,
    ) -> Result<Review, FeedbackError> {
        let actor = Actor::key(caller);
        let resolution = resolution(req, &actor)?;
        let case = self.case(review_id).await?;
        let admin = caller.allows(Scope::Admin);
        if case.review.status == ReviewStatus::Open {
            return Err(FeedbackError::Conflict(format!(
                "review `{review_id}` is open; resolve it instead"
            )));
        }
        if !admin && case.review.resolved_by.as_deref() != Some(caller.id.as_str()) {
            return Err(FeedbackError::NeedsScope(Scope::Admin));
        }
        if case.review.resolution.as_ref() == Some(&resolution) {
            return Ok(case.review);
        }
        let only_by = (!admin).then_some(caller.id.as_str());
        match self
            .store
            .correct_review(review_id, &resolution, only_by, &actor, Utc::now())
            .await?
        {
            CorrectResult::NotFound => Err(not_found(review_id)),
            CorrectResult::NotCorrectable(_) => Err(FeedbackError::Conflict(format!(
                "review `{review_id}` changed while it was being corrected; read it and retry"
            ))),
            CorrectResult::Corrected(review) => {
                metrics::counter!(names::LABELS_TOTAL, "label" => resolution.label.as_str())
                    .increment(1);
                self.graph
                    .apply_label(&case.decision, resolution.label)
                    .await;
                Ok(review)
            }
        }
    }
}
