//! What the review routes answer: a review, and a queue item that carries everything a
//! reviewer needs to judge the case without a second call (the decision's money, people,
//! device and places, its labels, its claim and its age against the SLA).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::feedback::{Review, ReviewPageItem};
use arbiter_engine::usual::UsualBehaviour;

use crate::http::decisions::ReasonView;
use crate::http::explanation_views::{ModelExplanationView, ScorePartsView};
use crate::http::usual_views::UsualBehaviourView;
use crate::services::feedback::ModelExplanation;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResolutionView {
    pub outcome: String,
    pub label: String,
    /// The resolving key's name.
    pub reviewer: String,
    pub note: Option<String>,
}

/// Who holds an open case, while the lease runs.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClaimView {
    /// The claiming key's name.
    pub reviewer: String,
    pub until: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EscalationView {
    /// The escalating key's name.
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    pub review_id: String,
    pub decision_id: String,
    /// `open` or `resolved`.
    pub status: String,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<ResolutionView>,
    /// Key id of the caller that resolved it.
    pub resolved_by: Option<String>,
    /// The live claim; `null` when no one holds the case.
    pub claim: Option<ClaimView>,
    /// Set when the case was passed to a senior reviewer.
    pub escalation: Option<EscalationView>,
}

impl ReviewView {
    pub fn new(r: Review, now: DateTime<Utc>) -> Self {
        let claim = r.live_claim(now).map(|c| ClaimView {
            reviewer: c.reviewer.clone(),
            until: c.until,
        });
        ReviewView {
            review_id: r.review_id,
            decision_id: r.decision_id,
            status: r.status.as_str().to_owned(),
            opened_at: r.opened_at,
            resolved_at: r.resolved_at,
            resolution: r.resolution.map(|x| ResolutionView {
                outcome: x.outcome.as_str().to_owned(),
                label: x.label.as_str().to_owned(),
                reviewer: x.reviewer,
                note: x.note,
            }),
            resolved_by: r.resolved_by,
            claim,
            escalation: r.escalation.map(|e| EscalationView {
                by: e.by,
                at: e.at,
                note: e.note,
            }),
        }
    }
}

/// What a reviewer needs to judge the case without opening the decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewedDecision {
    pub decision_id: String,
    pub event: String,
    pub action: String,
    /// Risk points: the sum of what each layer added (see `score_parts`), compared with the
    /// policy set's thresholds. Not a percentage: past the reject threshold more points add
    /// no severity.
    pub score: f64,
    /// What each layer added to the score; `null` on decisions made before it was recorded.
    pub score_parts: Option<ScorePartsView>,
    pub reasons: Vec<ReasonView>,
    pub user_id: String,
    /// `{"value", "currency"}` when the request carried an amount, else `null`.
    #[schema(value_type = Option<Object>)]
    pub amount: Option<serde_json::Value>,
    pub order_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub ip_country: Option<String>,
    pub card_bin: Option<String>,
    pub card_country: Option<String>,
    pub shipping_country: Option<String>,
    pub policy_set_version: i64,
    pub model_version: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// The newest label the decision has, whoever gave it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LatestLabelView {
    pub label: String,
    /// `review`, `chargeback`, `customer` or `analyst`.
    pub source: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QueueItem {
    #[serde(flatten)]
    pub review: ReviewView,
    /// Seconds since the review opened.
    pub age_secs: i64,
    /// Open longer than the review SLA.
    pub overdue: bool,
    /// A label already on the decision (an analyst's, a chargeback): resolving against it
    /// needs `supersede`.
    pub latest_label: Option<LatestLabelView>,
    pub decision: ReviewedDecision,
    /// The link-graph features and reasons at decision time (group size, shared devices,
    /// cards, hops to fraud); `null` when lists decided before the graph ran.
    #[schema(value_type = Option<Object>)]
    pub graph: Option<serde_json::Value>,
    /// Why the model scored it as it did: on a single case (not on queue pages), when a
    /// model ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_explanation: Option<ModelExplanationView>,
    /// The decision beside its customer's earlier decisions: on a single case (not on queue
    /// pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usual_behaviour: Option<UsualBehaviourView>,
}

impl QueueItem {
    /// A single case, with the model's explanation and the customer's usual behaviour.
    pub fn case(
        item: ReviewPageItem,
        explanation: Option<&ModelExplanation>,
        usual: UsualBehaviour,
        now: DateTime<Utc>,
        sla: Duration,
    ) -> Self {
        QueueItem {
            model_explanation: explanation.map(ModelExplanationView::from),
            usual_behaviour: Some(usual.into()),
            ..QueueItem::new(item, now, sla)
        }
    }

    /// A queue page's item.
    pub fn new(item: ReviewPageItem, now: DateTime<Utc>, sla: Duration) -> Self {
        let d = item.decision;
        let graph = d
            .layers
            .graph
            .as_ref()
            .and_then(|g| serde_json::to_value(g).ok());
        let age = item.review.resolved_at.unwrap_or(now) - item.review.opened_at;
        let c = d.context;
        QueueItem {
            age_secs: age.num_seconds(),
            overdue: item.review.resolved_at.is_none() && age > sla,
            review: ReviewView::new(item.review, now),
            latest_label: item.latest_label.map(|l| LatestLabelView {
                label: l.kind.as_str().to_owned(),
                source: l.source.as_str().to_owned(),
            }),
            decision: ReviewedDecision {
                decision_id: d.decision_id.0,
                event: c.checkpoint.as_str().to_owned(),
                action: d.action.as_str().to_owned(),
                score: d.score,
                score_parts: d.layers.score_parts.map(ScorePartsView::from),
                reasons: d.reasons.iter().map(ReasonView::from).collect(),
                user_id: c.user_id,
                amount: c
                    .amount
                    .map(|a| serde_json::json!({"value": a.value, "currency": a.currency})),
                order_id: c.order_id,
                email: c.email,
                phone: c.phone,
                device_id: c.device_id,
                ip: c.ip,
                ip_country: c.ip_country,
                card_bin: c.card_bin,
                card_country: c.card_country,
                shipping_country: c.shipping_country,
                policy_set_version: d.policy_set_version,
                model_version: d.model_version,
                created_at: d.created_at,
            },
            graph,
            model_explanation: None,
            usual_behaviour: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
    /// How many reviews the filters admit (on every page).
    pub total: u64,
    /// The review SLA in seconds: an open review older than this is overdue.
    pub sla_secs: i64,
}
