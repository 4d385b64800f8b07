//! Rule snoozes, written once over `Arc<dyn Store>` and run against SQLite always and
//! PostgreSQL when `DATABASE_URL` is set: stored with their audit entry, listed live or all,
//! revoked once even when raced.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::audit::{AuditFilter, action};
use arbiter_engine::lists::ListKind;
use arbiter_engine::snooze::RuleSnooze;
use arbiter_engine::store::{SnoozeFilter, Store};
use chrono::Duration;
use support::fixtures::{actor, now};

on_every_backend!(snoozes_are_listed_live_and_revoked_once);

fn snooze(rule: &str, value: &str, expires_in: Duration) -> RuleSnooze {
    RuleSnooze {
        id: RuleSnooze::generate_id(),
        rule: rule.into(),
        kind: ListKind::User,
        value: value.into(),
        reason: "known customer".into(),
        expires_at: now() + expires_in,
        created_at: now(),
        created_by: "key_1".into(),
        created_by_name: "risk team".into(),
        revoked_at: None,
    }
}

mod stories {
    use super::*;

    pub async fn snoozes_are_listed_live_and_revoked_once(store: Arc<dyn Store>) {
        let live = snooze("geo_mismatch", "u-1", Duration::days(30));
        let expired = snooze("velocity", "u-1", -Duration::minutes(1));
        let other = snooze("geo_mismatch", "u-2", Duration::days(1));
        for s in [&live, &expired, &other] {
            store.insert_snooze(s, &actor()).await.expect("insert");
        }
        assert_eq!(
            store.get_snooze(&live.id).await.expect("get"),
            Some(live.clone()),
            "stored as given"
        );
        let in_force = SnoozeFilter {
            live_at: Some(now()),
            ..SnoozeFilter::default()
        };
        let ids: Vec<_> = store
            .list_snoozes(&in_force, 10)
            .await
            .expect("live")
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids.len(), 2, "the expired one is not in force");
        assert!(!ids.contains(&expired.id));
        let for_user = SnoozeFilter {
            kind: Some(ListKind::User),
            value: Some("u-1".into()),
            ..SnoozeFilter::default()
        };
        assert_eq!(
            store.list_snoozes(&for_user, 10).await.expect("all").len(),
            2
        );

        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (store, id) = (Arc::clone(&store), live.id.clone());
            tasks.push(tokio::spawn(async move {
                store
                    .revoke_snooze(&id, &actor(), now())
                    .await
                    .expect("revoke")
            }));
        }
        let mut won = 0;
        for t in tasks {
            won += usize::from(t.await.expect("join"));
        }
        assert_eq!(won, 1, "revoked once");
        let revoked = store
            .get_snooze(&live.id)
            .await
            .expect("get")
            .expect("kept");
        assert!(revoked.revoked_at.is_some());
        assert_eq!(
            store.list_snoozes(&in_force, 10).await.expect("live").len(),
            1
        );
        for (act, n) in [(action::SNOOZE_CREATE, 3), (action::SNOOZE_REVOKE, 1)] {
            let filter = AuditFilter {
                action: Some(act.into()),
                ..AuditFilter::default()
            };
            assert_eq!(
                store.list_audit(&filter, 10).await.expect("audit").len(),
                n,
                "{act}"
            );
        }
    }
}
