//! The feedback story (reviews, labels, model versions, report aggregates), written once over
//! `Arc<dyn Store>` and run against SQLite always and PostgreSQL when `DATABASE_URL` is set.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::action::Action;
use arbiter_engine::audit::{Actor, AuditFilter, action};
use arbiter_engine::feedback::{
    JobStatus, LabelInsert, LabelKind, LabelSource, ModelSlot, NewLabel, ReportWindow, Resolution,
    ResolveResult, Review, ReviewCursor, ReviewFilter, ReviewOutcome, ReviewStatus, TrainingJob,
};
use arbiter_engine::store::Store;
use chrono::{Duration, Utc};
use support::fixtures::{actor, decision, faulted_decision};

on_every_backend!(challenged_decisions_open_reviews_in_queue_order);
on_every_backend!(a_review_is_resolved_once_even_when_raced);
on_every_backend!(the_latest_label_supersedes_and_imports_are_deduplicated);
on_every_backend!(model_versions_jobs_and_slots);
on_every_backend!(jobs_whose_heartbeat_stopped_are_failed);
on_every_backend!(report_aggregates_respect_window_and_set);

fn status(status: ReviewStatus) -> ReviewFilter {
    ReviewFilter {
        status: Some(status),
        ..ReviewFilter::default()
    }
}

fn resolution(label: LabelKind) -> Resolution {
    Resolution {
        outcome: ReviewOutcome::Reject,
        label,
        reviewer: "ana".into(),
        note: Some("ring".into()),
    }
}

fn new_label(decision_id: &str, kind: LabelKind, external: Option<&str>) -> NewLabel {
    NewLabel {
        decision_id: decision_id.into(),
        kind,
        source: if external.is_some() {
            LabelSource::Chargeback
        } else {
            LabelSource::Analyst
        },
        external_id: external.map(str::to_owned),
        note: None,
    }
}

mod stories {
    use super::*;

    pub async fn challenged_decisions_open_reviews_in_queue_order(store: Arc<dyn Store>) {
        let mut batch: Vec<_> = (0..4).map(|i| decision(&format!("rv-{i}"))).collect();
        for (i, d) in batch.iter_mut().enumerate() {
            d.created_at = Utc::now() - Duration::minutes(10 - i as i64);
        }
        // An accepted decision opens nothing.
        batch.push(faulted_decision("rv-accepted"));
        store.insert_decisions(&batch).await.expect("insert");
        // A replayed duplicate opens no second review.
        store.insert_decisions(&batch[..1]).await.expect("replay");

        let page = store
            .reviews_page(&status(ReviewStatus::Open), None, 3)
            .await
            .expect("page 1");
        assert_eq!(page.len(), 3);
        assert_eq!(page[0].decision.request_id, "rv-0", "oldest first");
        let backlog = store.open_reviews().await.expect("open reviews");
        assert_eq!(backlog.count, 4, "four challenged decisions are waiting");
        assert_eq!(backlog.oldest_opened_at, Some(page[0].review.opened_at));
        assert_eq!(
            page[0].review.review_id,
            Review::id_for(&batch[0].decision_id.0)
        );
        let last = &page[2].review;
        let cursor = ReviewCursor {
            opened_at: last.opened_at,
            review_id: last.review_id.clone(),
        };
        let rest = store
            .reviews_page(&status(ReviewStatus::Open), Some(&cursor), 3)
            .await
            .expect("page 2");
        assert_eq!(rest.len(), 1, "four challenged decisions, four reviews");
        assert_eq!(rest[0].decision.request_id, "rv-3");
        assert!(
            store
                .reviews_page(&status(ReviewStatus::Resolved), None, 10)
                .await
                .expect("resolved")
                .is_empty()
        );
    }

    pub async fn a_review_is_resolved_once_even_when_raced(store: Arc<dyn Store>) {
        let d = decision("race-review");
        store
            .insert_decisions(std::slice::from_ref(&d))
            .await
            .expect("insert");
        let id = Review::id_for(&d.decision_id.0);
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (store, id) = (Arc::clone(&store), id.clone());
            tasks.push(tokio::spawn(async move {
                let label = if i % 2 == 0 {
                    LabelKind::Fraud
                } else {
                    LabelKind::Legit
                };
                let reviewer = Actor {
                    id: format!("key_{i}"),
                    name: format!("reviewer {i}"),
                };
                store
                    .resolve_review(&id, &resolution(label), &reviewer, Utc::now())
                    .await
                    .expect("resolve")
            }));
        }
        let mut won = Vec::new();
        for t in tasks {
            if let ResolveResult::Resolved(r) = t.await.expect("join") {
                won.push(r);
            }
        }
        assert_eq!(won.len(), 1, "exactly one resolve wins");
        let labels = store
            .labels_for_decision(&d.decision_id.0)
            .await
            .expect("labels");
        assert_eq!(labels.len(), 1, "one label for one resolution");
        let stored = store.get_review(&id).await.expect("get").expect("exists");
        assert_eq!(stored.status, ReviewStatus::Resolved);
        assert_eq!(stored.resolution, won[0].resolution);
        let filter = AuditFilter {
            action: Some(action::REVIEW_RESOLVE.into()),
            ..AuditFilter::default()
        };
        let audited = store.list_audit(&filter, 10).await.expect("audit");
        assert_eq!(audited.len(), 1, "one resolution, one entry: {audited:?}");
        assert_eq!(Some(&audited[0].actor_id), stored.resolved_by.as_ref());
        assert_eq!(audited[0].target, id);
        assert_eq!(
            labels[0].kind,
            stored.resolution.as_ref().expect("resolution").label
        );
        assert_eq!(
            store
                .resolve_review(
                    "rev_missing",
                    &resolution(LabelKind::Fraud),
                    &actor(),
                    Utc::now(),
                )
                .await
                .expect("missing"),
            ResolveResult::NotFound
        );
    }

    pub async fn the_latest_label_supersedes_and_imports_are_deduplicated(store: Arc<dyn Store>) {
        let a = decision("lab-a");
        let b = decision("lab-b");
        store
            .insert_decisions(&[a.clone(), b.clone()])
            .await
            .expect("insert");
        store
            .insert_label(
                &new_label(&a.decision_id.0, LabelKind::Legit, None),
                &actor(),
            )
            .await
            .expect("first");
        store
            .insert_label(
                &new_label(&a.decision_id.0, LabelKind::Fraud, None),
                &actor(),
            )
            .await
            .expect("second");
        let first = store
            .insert_label(
                &new_label(&b.decision_id.0, LabelKind::Chargeback, Some("cb_1")),
                &actor(),
            )
            .await
            .expect("import");
        assert!(matches!(first, LabelInsert::Created(_)));
        let again = store
            .insert_label(
                &new_label(&b.decision_id.0, LabelKind::Chargeback, Some("cb_1")),
                &actor(),
            )
            .await
            .expect("re-import");
        match (first, again) {
            (LabelInsert::Created(f), LabelInsert::Duplicate(d)) => assert_eq!(f, d),
            other => panic!("expected created then duplicate, got {other:?}"),
        }
        let history = store
            .labels_for_decision(&a.decision_id.0)
            .await
            .expect("history");
        let kinds: Vec<_> = history.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [LabelKind::Legit, LabelKind::Fraud],
            "both stay in history"
        );
        let latest = store.labelled_decisions().await.expect("labelled");
        let of_a = latest
            .iter()
            .find(|(d, _)| d.decision_id == a.decision_id)
            .expect("a is labelled");
        assert_eq!(of_a.1, LabelKind::Fraud, "the later label supersedes");
        assert_eq!(latest.len(), 2);
        let marked = store
            .fraud_labelled_decisions(Utc::now() - Duration::hours(1))
            .await
            .expect("fraud");
        assert_eq!(marked.len(), 2, "fraud and chargeback both mark");
        let kinds: Vec<LabelKind> = marked.iter().map(|(_, k)| *k).collect();
        assert!(kinds.contains(&LabelKind::Fraud) && kinds.contains(&LabelKind::Chargeback));
    }

    pub async fn jobs_whose_heartbeat_stopped_are_failed(store: Arc<dyn Store>) {
        let job = |age_s: i64| TrainingJob {
            job_id: TrainingJob::generate_id(),
            status: JobStatus::Running,
            created_by: "key_1".into(),
            created_at: Utc::now() - Duration::seconds(age_s),
            finished_at: None,
            model_version: None,
            error: None,
        };
        // Started long ago, never beat since: abandoned.
        let silent = job(600);
        // Started long ago, beating now: alive.
        let beating = job(600);
        // Started just now: alive.
        let fresh = job(0);
        // Finished long ago: left alone.
        let done = job(600);
        for j in [&silent, &beating, &fresh, &done] {
            store.insert_job(j, &actor()).await.expect("job");
        }
        store
            .heartbeat_job(&beating.job_id, Utc::now())
            .await
            .expect("beat");
        store
            .finish_job(&done.job_id, JobStatus::Succeeded, None, None)
            .await
            .expect("finish");
        let failed = store
            .fail_abandoned_jobs(Utc::now() - Duration::seconds(60), "interrupted")
            .await
            .expect("sweep");
        assert_eq!(failed, vec![silent.job_id.clone()]);
        let read = store
            .get_job(&silent.job_id)
            .await
            .expect("get")
            .expect("job");
        assert_eq!(read.status, JobStatus::Failed);
        assert_eq!(read.error.as_deref(), Some("interrupted"));
        assert!(read.finished_at.is_some());
        for alive in [&beating, &fresh] {
            let read = store
                .get_job(&alive.job_id)
                .await
                .expect("get")
                .expect("job");
            assert_eq!(read.status, JobStatus::Running, "{}", alive.job_id);
        }
        let read = store
            .get_job(&done.job_id)
            .await
            .expect("get")
            .expect("job");
        assert_eq!(read.status, JobStatus::Succeeded);
        // A failed job's late heartbeat does not revive it.
        store
            .heartbeat_job(&silent.job_id, Utc::now())
            .await
            .expect("late beat");
        let again = store
            .fail_abandoned_jobs(Utc::now() - Duration::seconds(60), "interrupted")
            .await
            .expect("sweep again");
        assert!(again.is_empty(), "{again:?}");
    }

    pub async fn model_versions_jobs_and_slots(store: Arc<dyn Store>) {
        assert_eq!(store.model_slots().await.expect("slots"), (None, None));
        let job = TrainingJob {
            job_id: TrainingJob::generate_id(),
            status: JobStatus::Running,
            created_by: "key_1".into(),
            created_at: Utc::now(),
            finished_at: None,
            model_version: None,
            error: None,
        };
        store.insert_job(&job, &actor()).await.expect("job");
        let artifact = serde_json::json!({"learner": "logistic_regression", "w": [0.5, -1.25]});
        let v1 = store
            .insert_model_version(&artifact, Some(&job.job_id), &actor())
            .await
            .expect("v1");
        let v2 = store
            .insert_model_version(&artifact, None, &actor())
            .await
            .expect("v2");
        assert!(v2.version > v1.version);
        store
            .finish_job(&job.job_id, JobStatus::Succeeded, Some(v1.version), None)
            .await
            .expect("finish");
        let done = store.get_job(&job.job_id).await.expect("get").expect("job");
        assert_eq!(done.status, JobStatus::Succeeded);
        assert_eq!(done.model_version, Some(v1.version));
        assert!(done.finished_at.is_some());
        let read = store
            .get_model_version(v1.version)
            .await
            .expect("get")
            .expect("v1");
        assert_eq!(read.artifact, artifact);
        assert_eq!(store.list_model_versions().await.expect("list").len(), 2);
        store
            .set_model_slot(ModelSlot::Active, Some(v1.version), &actor())
            .await
            .expect("activate");
        store
            .set_model_slot(ModelSlot::Shadow, Some(v2.version), &actor())
            .await
            .expect("shadow");
        store
            .set_model_slot(ModelSlot::Active, Some(v2.version), &actor())
            .await
            .expect("re-activate");
        assert_eq!(
            store.model_slots().await.expect("slots"),
            (Some(v2.version), Some(v2.version))
        );
    }

    pub async fn report_aggregates_respect_window_and_set(store: Arc<dyn Store>) {
        let now = Utc::now();
        let mut challenged = decision("rep-1");
        challenged.created_at = now - Duration::minutes(5);
        let mut accepted = faulted_decision("rep-2");
        accepted.created_at = now - Duration::minutes(4);
        let mut other_set = decision("rep-3");
        other_set.policy_set_version = 2;
        other_set.created_at = now - Duration::minutes(3);
        let mut old = decision("rep-old");
        old.created_at = now - Duration::days(3);
        store
            .insert_decisions(&[challenged.clone(), accepted.clone(), other_set, old])
            .await
            .expect("insert");
        store
            .insert_label(
                &new_label(&accepted.decision_id.0, LabelKind::Fraud, None),
                &actor(),
            )
            .await
            .expect("label");
        store
            .resolve_review(
                &Review::id_for(&challenged.decision_id.0),
                &resolution(LabelKind::Legit),
                &actor(),
                now,
            )
            .await
            .expect("resolve");
        let window = ReportWindow {
            from: now - Duration::hours(1),
            to: now + Duration::minutes(1),
            policy_set_version: Some(1),
        };
        let counts = store.outcome_counts(&window).await.expect("counts");
        assert_eq!((counts.accept, counts.challenge, counts.reject), (1, 1, 0));
        let mut labelled = store.labelled_outcomes(&window).await.expect("labelled");
        labelled.sort_by_key(|o| o.action);
        assert_eq!(labelled.len(), 2);
        assert_eq!(labelled[0].action, Action::Accept);
        assert_eq!(labelled[0].label, LabelKind::Fraud);
        assert_eq!(labelled[0].amount_minor, Some(12999));
        assert_eq!(labelled[0].currency.as_deref(), Some("EUR"));
        assert_eq!(labelled[1].label, LabelKind::Legit);
        let turnarounds = store.review_turnarounds(&window).await.expect("turnaround");
        assert_eq!(turnarounds.len(), 1);
        assert!((turnarounds[0] - 300.0).abs() < 1.0, "{turnarounds:?}");
        let all_sets = ReportWindow {
            policy_set_version: None,
            ..window
        };
        assert_eq!(
            store.outcome_counts(&all_sets).await.expect("all").total(),
            3
        );
    }
}
