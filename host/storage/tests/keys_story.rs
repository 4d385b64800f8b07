//! The key story, written once over `Arc<dyn Store>` and run against every backend
//! (`support::backends`): a key is stored with every field of its record, revoked once (a
//! second revocation changes nothing and says so), and its last use moves only forward.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::keys::Scope;
use arbiter_engine::store::{KeyRevocation, Store};
use chrono::Duration;
use support::fixtures::{actor, api_key, now};

on_every_backend!(a_key_reads_back_with_every_field);
on_every_backend!(a_key_is_revoked_once);
on_every_backend!(last_uses_are_flushed_forward_only);

mod stories {
    use super::*;

    pub async fn a_key_reads_back_with_every_field(store: Arc<dyn Store>) {
        let mut full = api_key("key_full", &[Scope::Decide, Scope::OrdersWrite], 10);
        full.name = "checkout — eu-west".into();
        full.created_by = "key_admin".into();
        full.expires_at = Some(now() + Duration::days(30));
        full.last_used_at = Some(now() - Duration::seconds(3));
        let bare = api_key("key_bare", &[Scope::Admin], 5);
        store
            .insert_key(&full, &actor())
            .await
            .expect("insert full");
        store
            .insert_key(&bare, &actor())
            .await
            .expect("insert bare");
        assert_eq!(
            store.all_keys().await.expect("keys"),
            vec![full, bare],
            "oldest first, every field as written"
        );
    }

    pub async fn a_key_is_revoked_once(store: Arc<dyn Store>) {
        let key = api_key("key_gone", &[Scope::Decide], 10);
        let other = api_key("key_kept", &[Scope::Decide], 5);
        store.insert_key(&key, &actor()).await.expect("insert");
        store.insert_key(&other, &actor()).await.expect("insert");
        let first = now();
        let Some(KeyRevocation::Revoked(revoked)) = store
            .revoke_key(&key.id, first, &actor())
            .await
            .expect("revoke")
        else {
            panic!("the first revocation revokes");
        };
        assert_eq!(revoked.revoked_at, Some(first));
        assert_eq!(revoked.name, key.name);

        let again = store
            .revoke_key(&key.id, first + Duration::seconds(5), &actor())
            .await
            .expect("revoke again");
        assert_eq!(
            again,
            Some(KeyRevocation::AlreadyRevoked(revoked.clone())),
            "a second revocation keeps the first time"
        );
        assert_eq!(
            store
                .revoke_key("key_missing", first, &actor())
                .await
                .expect("unknown"),
            None
        );
        let all = store.all_keys().await.expect("keys");
        assert_eq!(all, vec![revoked, other], "the other key is untouched");
    }

    pub async fn last_uses_are_flushed_forward_only(store: Arc<dyn Store>) {
        let a = api_key("key_a", &[Scope::Decide], 10);
        let b = api_key("key_b", &[Scope::Decide], 5);
        store.insert_key(&a, &actor()).await.expect("insert");
        store.insert_key(&b, &actor()).await.expect("insert");
        let t = now();
        store.record_key_uses(&[]).await.expect("nothing to flush");
        store
            .record_key_uses(&[
                ("key_a".into(), t),
                ("key_b".into(), t - Duration::seconds(1)),
                ("key_missing".into(), t),
            ])
            .await
            .expect("flush");
        // Another replica flushes an older use of `key_a` late, and a newer one of `key_b`.
        store
            .record_key_uses(&[
                ("key_a".into(), t - Duration::seconds(4)),
                ("key_b".into(), t + Duration::seconds(2)),
            ])
            .await
            .expect("second flush");
        let used: Vec<_> = store
            .all_keys()
            .await
            .expect("keys")
            .into_iter()
            .map(|k| (k.id, k.last_used_at))
            .collect();
        assert_eq!(
            used,
            vec![
                ("key_a".to_owned(), Some(t)),
                ("key_b".to_owned(), Some(t + Duration::seconds(2))),
            ]
        );
    }
}
