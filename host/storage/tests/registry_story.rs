//! The registry's module stories, written once over `Arc<dyn Store>` and run against
//! every backend (`support::backends`): SQLite always, PostgreSQL when `DATABASE_URL` is set.

#[macro_use]
mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use arbiter_engine::audit::AuditFilter;
use arbiter_engine::store::{ModuleInsert, Store};
use support::fixtures::actor;
use support::registry::{precompiled, sha256, upload, wasm};

on_every_backend!(an_empty_registry_answers);
on_every_backend!(modules_are_versioned_per_name_and_content_addressed);
on_every_backend!(racing_uploads_get_dense_versions_and_one_per_digest);

mod stories {
    use super::*;

    pub async fn an_empty_registry_answers(store: Arc<dyn Store>) {
        assert_eq!(store.list_modules().await.expect("list"), vec![]);
        assert_eq!(
            store.list_module_versions("geo").await.expect("list"),
            vec![]
        );
        assert_eq!(store.get_module("geo", 1).await.expect("get"), None);
        assert_eq!(store.current_rollout().await.expect("current"), None);
        let audit = store.list_audit(&AuditFilter::default(), 10).await;
        assert_eq!(audit.expect("audit"), vec![]);
    }

    pub async fn modules_are_versioned_per_name_and_content_addressed(store: Arc<dyn Store>) {
        let (a, b) = (wasm(1, 300_000), wasm(2, 1000));
        let ModuleInsert::Created(v1) = upload(&*store, "geo", &a).await else {
            panic!("first upload creates")
        };
        assert_eq!((v1.name.as_str(), v1.version), ("geo", 1));
        assert_eq!(v1.sha256, sha256(&a));
        assert_eq!(v1.size_bytes, a.len() as i64);
        assert_eq!(v1.created_by, actor().id);

        let again = upload(&*store, "geo", &a).await;
        assert_eq!(
            again,
            ModuleInsert::Existing(v1.clone()),
            "same bytes, same version"
        );
        let ModuleInsert::Created(v2) = upload(&*store, "geo", &b).await else {
            panic!("other bytes create")
        };
        assert_eq!(v2.version, 2);
        // The same bytes under another name are that name's first version.
        let ModuleInsert::Created(other) = upload(&*store, "card_testing", &a).await else {
            panic!("another name creates")
        };
        assert_eq!(other.version, 1);
        assert_eq!(upload(&*store, "geo", &b).await.module(), &v2);

        let stored = store
            .get_module("geo", 1)
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(stored.module, v1, "metadata reads back as returned");
        assert!(stored.wasm == a, "the exact wasm bytes");
        assert!(
            stored.precompiled == precompiled(&a),
            "the exact precompiled bytes"
        );
        let stored = store.get_module("geo", 2).await.expect("get");
        assert_eq!(stored.map(|s| s.wasm), Some(b));
        assert_eq!(store.get_module("geo", 3).await.expect("get"), None);
        assert_eq!(store.get_module("nope", 1).await.expect("get"), None);

        assert_eq!(
            store.list_modules().await.expect("list"),
            vec![other, v1.clone(), v2.clone()],
            "by name, then version"
        );
        assert_eq!(
            store.list_module_versions("geo").await.expect("versions"),
            vec![v1, v2]
        );
        assert_eq!(
            store.list_module_versions("nope").await.expect("versions"),
            vec![]
        );
    }

    pub async fn racing_uploads_get_dense_versions_and_one_per_digest(store: Arc<dyn Store>) {
        for round in 0..3u8 {
            let name = format!("race{round}");
            // Four different modules at once, and each of them uploaded twice.
            let mut tasks = tokio::task::JoinSet::new();
            for seed in (0..4).chain(0..4) {
                let (store, name) = (Arc::clone(&store), name.clone());
                tasks.spawn(async move {
                    let bytes = wasm(seed + 10 * round, 2048);
                    (seed, upload(&*store, &name, &bytes).await)
                });
            }
            let results = tasks.join_all().await;
            let created: Vec<_> = results
                .iter()
                .filter_map(|(seed, r)| match r {
                    ModuleInsert::Created(m) => Some((*seed, m.version)),
                    ModuleInsert::Existing(_) => None,
                })
                .collect();
            let versions: BTreeSet<i64> = created.iter().map(|(_, v)| *v).collect();
            assert_eq!(
                versions,
                (1..=4).collect(),
                "dense, no duplicates: {created:?}"
            );
            let seeds: BTreeSet<u8> = created.iter().map(|(s, _)| *s).collect();
            assert_eq!(seeds.len(), 4, "each module created once: {created:?}");
            for (seed, r) in &results {
                let (_, version) = created.iter().find(|(s, _)| s == seed).expect("created");
                assert_eq!(r.module().version, *version, "both uploads of {seed} agree");
            }
            let listed = store.list_module_versions(&name).await.expect("versions");
            assert_eq!(
                listed.iter().map(|m| m.version).collect::<Vec<_>>(),
                vec![1, 2, 3, 4]
            );
        }
    }
}
