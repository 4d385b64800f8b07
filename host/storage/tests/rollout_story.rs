//! The rollout stories, written once over `Arc<dyn Store>` and run against every backend
//! (`support::backends`): SQLite always, PostgreSQL when `DATABASE_URL` is set.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::registry::{RolloutMode, RolloutStatus};
use arbiter_engine::store::{RolloutStart, Store, StoreError};
use support::fixtures::actor;
use support::registry::{guard, policy_sets};

on_every_backend!(a_promoted_rollout_activates_its_candidate_once);
on_every_backend!(a_rolled_back_rollout_keeps_the_stable_set);
on_every_backend!(racing_enders_end_a_rollout_once);
on_every_backend!(racing_starts_leave_one_active);
on_every_backend!(bad_rollouts_are_refused_with_the_value_named);

mod stories {
    use super::*;

    async fn start(store: &dyn Store, stable: i64, candidate: i64) -> RolloutStart {
        store
            .start_rollout(
                stable,
                candidate,
                10,
                RolloutMode::Live,
                Some(guard()),
                &actor(),
            )
            .await
            .expect("start rollout")
    }

    pub async fn a_promoted_rollout_activates_its_candidate_once(store: Arc<dyn Store>) {
        policy_sets(&*store, 3).await;
        let RolloutStart::Started(r) = start(&*store, 1, 2).await else {
            panic!("nothing was active")
        };
        assert_eq!((r.stable, r.candidate, r.percent), (1, 2, 10));
        assert_eq!(
            (r.mode, r.status),
            (RolloutMode::Live, RolloutStatus::Active)
        );
        assert_eq!(r.guard, Some(guard()), "the guard round-trips exactly");
        assert_eq!((r.reason.as_deref(), r.ended_at), (None, None));
        assert_eq!(r.created_by, actor().id);
        assert_eq!(
            store.current_rollout().await.expect("current"),
            Some(r.clone())
        );

        let second = store
            .start_rollout(1, 3, 50, RolloutMode::Shadow, None, &actor())
            .await
            .expect("a refused start is no error");
        assert_eq!(
            second,
            RolloutStart::AlreadyActive(r.clone()),
            "names the active one"
        );

        assert_eq!(store.active_policy_set().await.expect("active"), Some(1));
        let promoted = store
            .end_rollout(r.id, RolloutStatus::Promoted, Some("looks good"), &actor())
            .await
            .expect("promote")
            .expect("it was active");
        assert_eq!(promoted.status, RolloutStatus::Promoted);
        assert_eq!(promoted.reason.as_deref(), Some("looks good"));
        assert!(promoted.ended_at.is_some_and(|t| t >= r.started_at));
        assert_eq!(store.active_policy_set().await.expect("active"), Some(2));
        assert_eq!(store.current_rollout().await.expect("current"), None);

        for status in [RolloutStatus::Promoted, RolloutStatus::RolledBack] {
            let again = store
                .end_rollout(r.id, status, None, &actor())
                .await
                .expect("again");
            assert_eq!(again, None, "an ended rollout does not end again");
        }
        let unknown = store
            .end_rollout(9999, RolloutStatus::Promoted, None, &actor())
            .await;
        assert_eq!(unknown.expect("end unknown"), None);
        assert_eq!(store.active_policy_set().await.expect("active"), Some(2));

        // The next rollout may start now, in shadow and without a guard.
        let next = store
            .start_rollout(2, 3, 0, RolloutMode::Shadow, None, &actor())
            .await
            .expect("start");
        let RolloutStart::Started(next) = next else {
            panic!("the first one ended: {next:?}")
        };
        assert!(next.id > r.id);
        assert_eq!(
            (next.mode, next.guard, next.percent),
            (RolloutMode::Shadow, None, 0)
        );
    }

    pub async fn a_rolled_back_rollout_keeps_the_stable_set(store: Arc<dyn Store>) {
        policy_sets(&*store, 2).await;
        let RolloutStart::Started(r) = start(&*store, 1, 2).await else {
            panic!("nothing was active")
        };
        let reason = "reject rate +4.2 pts over 1000 decisions (limit 2)";
        let back = store
            .end_rollout(r.id, RolloutStatus::RolledBack, Some(reason), &actor())
            .await
            .expect("roll back")
            .expect("it was active");
        assert_eq!(back.status, RolloutStatus::RolledBack);
        assert_eq!(back.reason.as_deref(), Some(reason));
        assert_eq!(store.active_policy_set().await.expect("active"), Some(1));
        assert_eq!(store.current_rollout().await.expect("current"), None);
        let promote = store
            .end_rollout(r.id, RolloutStatus::Promoted, None, &actor())
            .await;
        assert_eq!(
            promote.expect("promote"),
            None,
            "a rolled-back rollout cannot be promoted"
        );
        assert_eq!(store.active_policy_set().await.expect("active"), Some(1));
    }

    /// Several replicas notice the same tripped guard (or a person promotes while a guard
    /// trips): exactly one end takes effect.
    pub async fn racing_enders_end_a_rollout_once(store: Arc<dyn Store>) {
        policy_sets(&*store, 2).await;
        for round in 0..5 {
            let (stable, candidate) = if round % 2 == 0 { (1, 2) } else { (2, 1) };
            store
                .set_active_policy_set(stable, &actor())
                .await
                .expect("stable");
            let RolloutStart::Started(r) = start(&*store, stable, candidate).await else {
                panic!("round {round}: nothing was active")
            };
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..6 {
                let store = Arc::clone(&store);
                let status = if i % 2 == 0 {
                    RolloutStatus::Promoted
                } else {
                    RolloutStatus::RolledBack
                };
                tasks.spawn(async move {
                    let ended = store
                        .end_rollout(r.id, status, Some("race"), &actor())
                        .await;
                    ended.expect("end rollout")
                });
            }
            let winners: Vec<_> = tasks.join_all().await.into_iter().flatten().collect();
            assert_eq!(winners.len(), 1, "round {round}: one end wins: {winners:?}");
            let expected = match winners[0].status {
                RolloutStatus::Promoted => candidate,
                _ => stable,
            };
            let active = store.active_policy_set().await.expect("active");
            assert_eq!(
                active,
                Some(expected),
                "round {round}: {:?}",
                winners[0].status
            );
        }
    }

    pub async fn racing_starts_leave_one_active(store: Arc<dyn Store>) {
        policy_sets(&*store, 5).await;
        let mut tasks = tokio::task::JoinSet::new();
        for candidate in 2..=5 {
            let store = Arc::clone(&store);
            tasks.spawn(async move { start(&*store, 1, candidate).await });
        }
        let results = tasks.join_all().await;
        let started: Vec<_> = results
            .iter()
            .filter_map(|r| match r {
                RolloutStart::Started(r) => Some(r.clone()),
                RolloutStart::AlreadyActive(_) => None,
            })
            .collect();
        assert_eq!(started.len(), 1, "one start wins: {results:?}");
        for r in &results {
            if let RolloutStart::AlreadyActive(active) = r {
                assert_eq!(active, &started[0], "the losers are told who won");
            }
        }
        assert_eq!(
            store.current_rollout().await.expect("current"),
            Some(started[0].clone())
        );
    }

    pub async fn bad_rollouts_are_refused_with_the_value_named(store: Arc<dyn Store>) {
        policy_sets(&*store, 2).await;
        let missing = store
            .start_rollout(1, 7, 10, RolloutMode::Live, None, &actor())
            .await;
        assert!(
            matches!(&missing, Err(StoreError::Backend(m)) if m.contains("`7`")),
            "{missing:?}"
        );
        let too_many = store
            .start_rollout(1, 2, 101, RolloutMode::Live, None, &actor())
            .await;
        assert!(
            matches!(&too_many, Err(StoreError::Backend(m)) if m.contains("`101`")),
            "{too_many:?}"
        );
        assert_eq!(
            store.current_rollout().await.expect("current"),
            None,
            "nothing half-written"
        );

        let RolloutStart::Started(r) = start(&*store, 1, 2).await else {
            panic!("nothing was active")
        };
        let as_active = store
            .end_rollout(r.id, RolloutStatus::Active, None, &actor())
            .await;
        assert!(
            matches!(as_active, Err(StoreError::Backend(_))),
            "{as_active:?}"
        );
        assert_eq!(store.current_rollout().await.expect("current"), Some(r));
    }
}
