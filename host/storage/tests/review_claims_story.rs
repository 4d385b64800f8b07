//! How reviewers share the queue, written once over `Arc<dyn Store>` and run against SQLite
//! always and PostgreSQL when `DATABASE_URL` is set: filters and counts, claims with a lease
//! (never one case to two reviewers, even when they race), escalation, resolutions that respect
//! a claim, and corrections with their audit entry.

#[macro_use]
mod support;

use std::collections::HashSet;
use std::sync::Arc;

use arbiter_engine::audit::{Actor, AuditFilter, action};
use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::decision::{Layer, Reason};
use arbiter_engine::feedback::{
    ClaimResult, ClaimTarget, CorrectResult, LabelKind, LabelSource, NewLabel, Resolution,
    ResolveResult, Review, ReviewFilter, ReviewOutcome, ReviewStatus,
};
use arbiter_engine::store::Store;
use arbiter_engine::{Decision, EnrichedContext};
use chrono::{Duration, Utc};
use support::fixtures::decision;

on_every_backend!(filters_narrow_the_queue_and_its_count);
on_every_backend!(racing_claimers_never_share_a_case);
on_every_backend!(a_lapsed_lease_returns_the_case_and_a_claim_blocks_others);
on_every_backend!(escalation_flags_and_releases_a_case);
on_every_backend!(a_correction_replaces_the_resolution_and_is_audited);

fn reviewer(n: u32) -> Actor {
    Actor {
        id: format!("key_rev{n}"),
        name: format!("reviewer {n}"),
    }
}

fn open() -> ReviewFilter {
    ReviewFilter {
        status: Some(ReviewStatus::Open),
        ..ReviewFilter::default()
    }
}

fn fraud() -> Resolution {
    Resolution {
        outcome: ReviewOutcome::Reject,
        label: LabelKind::Fraud,
        reviewer: "reviewer 1".into(),
        note: None,
    }
}

/// `n` challenged decisions a minute apart (oldest first), tagged `prefix-i`.
async fn challenged(store: &Arc<dyn Store>, prefix: &str, n: usize) -> Vec<Decision> {
    let mut batch: Vec<_> = (0..n).map(|i| decision(&format!("{prefix}-{i}"))).collect();
    for (i, d) in batch.iter_mut().enumerate() {
        d.created_at = Utc::now() - Duration::minutes(60 - i as i64);
    }
    store.insert_decisions(&batch).await.expect("insert");
    batch
}

fn with_checkpoint(mut d: Decision, checkpoint: Checkpoint) -> Decision {
    d.context = EnrichedContext {
        checkpoint,
        ..d.context
    };
    d
}

mod stories {
    use super::*;

    pub async fn filters_narrow_the_queue_and_its_count(store: Arc<dyn Store>) {
        let mut geo = decision("flt-geo");
        geo.reasons.push(Reason {
            layer: Layer::Rule,
            code: "geo.mismatch".into(),
            source: "geo@1".into(),
            detail: None,
        });
        // A code whose `_` would match any character in an unescaped LIKE.
        let mut lookalike = decision("flt-lookalike");
        lookalike.reasons = vec![Reason {
            layer: Layer::Rule,
            code: "geoXmismatch".into(),
            source: "geo@1".into(),
            detail: None,
        }];
        let order = with_checkpoint(decision("flt-order"), Checkpoint::OrderCreate);
        store
            .insert_decisions(&[geo.clone(), lookalike, order.clone()])
            .await
            .expect("insert");

        assert_eq!(store.count_reviews(&open()).await.expect("count"), 3);
        let by_reason = ReviewFilter {
            reason: Some("geo.mismatch".into()),
            ..open()
        };
        let page = store
            .reviews_page(&by_reason, None, 10)
            .await
            .expect("page");
        assert_eq!(page.len(), 1, "only the decision that gave the code");
        assert_eq!(page[0].decision.request_id, "flt-geo");
        assert_eq!(store.count_reviews(&by_reason).await.expect("count"), 1);
        let underscore = ReviewFilter {
            reason: Some("geo_mismatch".into()),
            ..open()
        };
        assert_eq!(
            store.count_reviews(&underscore).await.expect("count"),
            0,
            "`_` in a code matches only itself"
        );
        let by_checkpoint = ReviewFilter {
            checkpoint: Some(Checkpoint::OrderCreate),
            ..open()
        };
        let page = store
            .reviews_page(&by_checkpoint, None, 10)
            .await
            .expect("page");
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].decision.decision_id, order.decision_id);
        assert!(page[0].latest_label.is_none());

        // A label from elsewhere shows on the case.
        store
            .insert_label(
                &NewLabel {
                    decision_id: geo.decision_id.0.clone(),
                    kind: LabelKind::Fraud,
                    source: LabelSource::Analyst,
                    external_id: None,
                    note: None,
                },
                &reviewer(9),
            )
            .await
            .expect("label");
        let item = store
            .get_review_item(&Review::id_for(&geo.decision_id.0))
            .await
            .expect("item")
            .expect("exists");
        let latest = item.latest_label.expect("labelled");
        assert_eq!(
            (latest.kind, latest.source),
            (LabelKind::Fraud, LabelSource::Analyst)
        );
    }

    pub async fn racing_claimers_never_share_a_case(store: Arc<dyn Store>) {
        challenged(&store, "race-claim", 5).await;
        let now = Utc::now();
        let mut tasks = Vec::new();
        for n in 0..8 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let filter = open();
                let result = store
                    .claim_review(
                        ClaimTarget::Next(&filter),
                        &reviewer(n),
                        now,
                        now + Duration::minutes(10),
                    )
                    .await
                    .expect("claim");
                match result {
                    ClaimResult::Claimed(item) => Some(item.review.review_id),
                    ClaimResult::Nothing => None,
                    ClaimResult::Unavailable(r) => panic!("next never answers unavailable: {r:?}"),
                }
            }));
        }
        let mut claimed = Vec::new();
        for t in tasks {
            if let Some(id) = t.await.expect("join") {
                claimed.push(id);
            }
        }
        let distinct: HashSet<_> = claimed.iter().collect();
        assert_eq!(claimed.len(), 5, "five cases, five claimers served");
        assert_eq!(distinct.len(), 5, "no case handed out twice: {claimed:?}");
    }

    pub async fn a_lapsed_lease_returns_the_case_and_a_claim_blocks_others(store: Arc<dyn Store>) {
        let batch = challenged(&store, "lease", 1).await;
        let id = Review::id_for(&batch[0].decision_id.0);
        let now = Utc::now();
        let lease = now + Duration::minutes(10);
        let first = store
            .claim_review(ClaimTarget::Review(&id), &reviewer(1), now, lease)
            .await
            .expect("claim");
        let ClaimResult::Claimed(item) = first else {
            panic!("an open review is claimable: {first:?}");
        };
        let claim = item.review.live_claim(now).expect("held");
        assert_eq!(claim.reviewer, "reviewer 1");

        // While the lease runs: no one else gets it, by id or as next, nor may resolve it.
        let other = store
            .claim_review(ClaimTarget::Review(&id), &reviewer(2), now, lease)
            .await
            .expect("claim");
        assert!(matches!(other, ClaimResult::Unavailable(_)), "{other:?}");
        let filter = open();
        let next = store
            .claim_review(ClaimTarget::Next(&filter), &reviewer(2), now, lease)
            .await
            .expect("next");
        assert_eq!(next, ClaimResult::Nothing);
        let blocked = store
            .resolve_review(&id, &fraud(), &reviewer(2), now)
            .await
            .expect("resolve");
        assert!(matches!(blocked, ResolveResult::ClaimedByOther(_)));
        assert!(
            store
                .labels_for_decision(&batch[0].decision_id.0)
                .await
                .expect("labels")
                .is_empty(),
            "a refused resolution writes no label"
        );

        // Past the lease the case is anyone's again.
        let later = lease + Duration::seconds(1);
        let next = store
            .claim_review(
                ClaimTarget::Next(&filter),
                &reviewer(2),
                later,
                later + Duration::minutes(10),
            )
            .await
            .expect("next");
        let ClaimResult::Claimed(item) = next else {
            panic!("a lapsed lease frees the case: {next:?}");
        };
        assert_eq!(item.review.review_id, id);

        // The holder releases it; the first reviewer may then resolve.
        assert!(
            !store
                .release_review(&id, "key_rev1")
                .await
                .expect("release"),
            "only the holder releases"
        );
        assert!(
            store
                .release_review(&id, "key_rev2")
                .await
                .expect("release")
        );
        let resolved = store
            .resolve_review(&id, &fraud(), &reviewer(1), later)
            .await
            .expect("resolve");
        let ResolveResult::Resolved(review) = resolved else {
            panic!("released: {resolved:?}");
        };
        assert_eq!(
            review.live_claim(later),
            None,
            "a resolved case is held by no one"
        );
    }

    pub async fn escalation_flags_and_releases_a_case(store: Arc<dyn Store>) {
        let batch = challenged(&store, "escalate", 2).await;
        let id = Review::id_for(&batch[0].decision_id.0);
        let now = Utc::now();
        store
            .claim_review(
                ClaimTarget::Review(&id),
                &reviewer(1),
                now,
                now + Duration::minutes(10),
            )
            .await
            .expect("claim");
        assert!(
            store
                .escalate_review(&id, Some("needs a senior"), &reviewer(2), now)
                .await
                .expect("escalate")
                .is_none(),
            "another reviewer's case cannot be escalated under them"
        );
        let review = store
            .escalate_review(&id, Some("needs a senior"), &reviewer(1), now)
            .await
            .expect("escalate")
            .expect("escalated");
        let escalation = review.escalation.clone().expect("flagged");
        assert_eq!(escalation.by, "reviewer 1");
        assert_eq!(escalation.note.as_deref(), Some("needs a senior"));
        assert_eq!(
            review.live_claim(now),
            None,
            "escalating releases the claim"
        );

        let escalated = ReviewFilter {
            escalated: Some(true),
            ..open()
        };
        let page = store
            .reviews_page(&escalated, None, 10)
            .await
            .expect("page");
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].review.review_id, id);
        let not = ReviewFilter {
            escalated: Some(false),
            ..open()
        };
        assert_eq!(store.count_reviews(&not).await.expect("count"), 1);
        let audit = store
            .list_audit(
                &AuditFilter {
                    action: Some(action::REVIEW_ESCALATE.into()),
                    target: Some(id.clone()),
                    ..AuditFilter::default()
                },
                10,
            )
            .await
            .expect("audit");
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].actor, "reviewer 1");
    }

    pub async fn a_correction_replaces_the_resolution_and_is_audited(store: Arc<dyn Store>) {
        let batch = challenged(&store, "correct", 1).await;
        let decision_id = batch[0].decision_id.0.clone();
        let id = Review::id_for(&decision_id);
        let now = Utc::now();
        let legit = Resolution {
            outcome: ReviewOutcome::Approve,
            label: LabelKind::Legit,
            reviewer: "reviewer 1".into(),
            note: Some("mistaken".into()),
        };
        assert_eq!(
            store
                .correct_review(&id, &legit, None, &reviewer(1), now)
                .await
                .expect("correct"),
            CorrectResult::NotCorrectable(store.get_review(&id).await.expect("get").expect("x")),
            "an open review is resolved, not corrected"
        );
        store
            .resolve_review(&id, &fraud(), &reviewer(1), now)
            .await
            .expect("resolve");
        let refused = store
            .correct_review(&id, &legit, Some("key_rev2"), &reviewer(2), now)
            .await
            .expect("correct");
        assert!(
            matches!(refused, CorrectResult::NotCorrectable(_)),
            "only its resolver's key, when one is named"
        );
        let corrected = store
            .correct_review(&id, &legit, Some("key_rev1"), &reviewer(1), now)
            .await
            .expect("correct");
        let CorrectResult::Corrected(review) = corrected else {
            panic!("the resolver corrects: {corrected:?}");
        };
        assert_eq!(review.resolution.as_ref(), Some(&legit));
        assert_eq!(review.status, ReviewStatus::Resolved);
        let labels = store
            .labels_for_decision(&decision_id)
            .await
            .expect("labels");
        let kinds: Vec<_> = labels.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [LabelKind::Fraud, LabelKind::Legit],
            "both kept, newest last"
        );
        let audit = store
            .list_audit(
                &AuditFilter {
                    action: Some(action::REVIEW_CORRECT.into()),
                    target: Some(id.clone()),
                    ..AuditFilter::default()
                },
                10,
            )
            .await
            .expect("audit");
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].detail["from"]["label"], "fraud");
        assert_eq!(audit[0].detail["label"], "legit");
    }
}
