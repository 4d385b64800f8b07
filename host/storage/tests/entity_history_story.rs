//! Decisions by entity, written once over `Arc<dyn Store>` and run against SQLite always and
//! PostgreSQL when `DATABASE_URL` is set: every new decision writes one `decision_entities` row
//! per entity it names, a repeated request writes none, and a page is newest first, bounded and
//! continued by a decision id. Also migration 0018 over decisions an older release stored.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::Decision;
use arbiter_engine::lists::ListKind;
use arbiter_engine::store::Store;
use sqlx::Connection;
use sqlx::migrate::Migrator;
use support::upgrade::{folder, migrations_before};

on_every_backend!(decisions_are_found_by_each_entity_they_name);

/// A decision for `user` from `device`, without a phone.
fn decision(request_id: &str, user: &str, device: &str) -> Decision {
    let mut d = support::fixtures::decision(request_id);
    d.context.user_id = user.into();
    d.context.device_id = Some(device.into());
    d.context.phone = None;
    d
}

mod stories {
    use super::*;

    async fn ids(
        store: &Arc<dyn Store>,
        kind: ListKind,
        value: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Vec<String> {
        store
            .entity_decisions(kind, value, before, limit)
            .await
            .expect("entity decisions")
            .into_iter()
            .map(|p| p.decision_id)
            .collect()
    }

    pub async fn decisions_are_found_by_each_entity_they_name(store: Arc<dyn Store>) {
        let first = decision("eh-1", "u-1", "dev-a");
        store
            .insert_decisions(std::slice::from_ref(&first))
            .await
            .expect("first");
        // One batch of three, and the first again: a repeated request writes nothing new.
        let batch = vec![
            decision("eh-2", "u-1", "dev-b"),
            decision("eh-3", "u-2", "dev-a"),
            decision("eh-4", "u-1", "dev-a"),
            decision("eh-1", "u-1", "dev-z"),
        ];
        store.insert_decisions(&batch).await.expect("batch");
        let id = |i: usize| batch[i].decision_id.0.clone();

        assert_eq!(
            ids(&store, ListKind::User, "u-1", None, 10).await,
            [id(2), id(0), first.decision_id.0.clone()],
            "newest first, the repeat not counted"
        );
        assert_eq!(
            ids(&store, ListKind::Device, "dev-a", None, 10).await,
            [id(2), id(1), first.decision_id.0.clone()]
        );
        assert!(
            ids(&store, ListKind::Device, "dev-z", None, 10)
                .await
                .is_empty()
        );
        // A page continues before the last id it showed.
        assert_eq!(ids(&store, ListKind::User, "u-1", None, 1).await, [id(2)]);
        assert_eq!(
            ids(&store, ListKind::User, "u-1", Some(&id(2)), 1).await,
            [id(0)]
        );
        assert!(
            ids(&store, ListKind::User, "u-1", Some(&first.decision_id.0), 5)
                .await
                .is_empty()
        );
        // Every kind the context holds is indexed by its normalised value; an absent one is not.
        let ctx = &first.context;
        for (kind, value) in [
            (ListKind::Email, ctx.email.as_deref()),
            (ListKind::Card, ctx.card_fingerprint.as_deref()),
            (ListKind::Ip, ctx.ip.as_deref()),
            (ListKind::Address, ctx.shipping_address_hash.as_deref()),
        ] {
            let value = value.expect("the fixture names it");
            assert_eq!(
                ids(&store, kind, value, None, 10).await.len(),
                4,
                "{kind:?} {value}"
            );
        }
        assert!(ids(&store, ListKind::Phone, "", None, 10).await.is_empty());
        // What the usual behaviour reads: the context as stored, with the columns.
        let past = store
            .entity_decisions(ListKind::User, "u-2", None, 10)
            .await
            .expect("u-2");
        assert_eq!(past.len(), 1);
        assert_eq!(past[0].context.device_id.as_deref(), Some("dev-a"));
        assert_eq!(past[0].context.amount, batch[1].context.amount);
        assert_eq!(
            (past[0].action, past[0].score),
            (batch[1].action, batch[1].score)
        );
        assert_eq!(
            past[0].created_at.timestamp_micros(),
            batch[1].created_at.timestamp_micros()
        );
    }
}

/// Stores a decision as a release before 0018 did, upgrades, and reads its entity rows.
macro_rules! backfill_entities {
    ($conn:ty, $url:expr, $backend:literal, $ts:expr) => {{
        let mut d = support::fixtures::decision("old-entities");
        d.context.phone = Some(String::new());
        let body = serde_json::to_string(&d).expect("body").replace('\'', "''");
        let at = $ts("2026-01-01T00:00:00.000000Z");
        let seed = vec![format!(
            "INSERT INTO decisions (decision_id, request_id, body_hash, event, action, score, \
             policy_set_version, model_version, created_at, body) VALUES \
             ('{}', 'old-entities', 'h', 'payment.authorize', 'challenge', 50, 1, NULL, \
             {at}, '{body}')",
            d.decision_id
        )];
        let mut conn = upgraded!($conn, $url, $backend, "0018", seed);
        let mut rows: Vec<(String, String)> =
            sqlx::query_as("SELECT kind, entity FROM decision_entities WHERE decision_id = $1")
                .bind(&d.decision_id.0)
                .fetch_all(&mut conn)
                .await
                .expect("rows");
        rows.sort();
        let c = &d.context;
        let mut expected: Vec<(String, String)> = [
            ("address", c.shipping_address_hash.clone()),
            ("card", c.card_fingerprint.clone()),
            ("device", c.device_id.clone()),
            ("email", c.email.clone()),
            ("ip", c.ip.clone()),
            ("user", Some(c.user_id.clone())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.expect("the fixture names it")))
        .collect();
        expected.sort();
        assert_eq!(rows, expected, "{}: the empty phone is skipped", $backend);
        let _ = conn.close().await;
    }};
}

#[tokio::test]
async fn migration_0018_indexes_stored_decisions_by_entity_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    backfill_entities!(sqlx::SqliteConnection, &url, "sqlite", |t: &str| format!(
        "'{t}'"
    ));
}

#[tokio::test]
async fn migration_0018_indexes_stored_decisions_by_entity_on_postgres() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    backfill_entities!(sqlx::PgConnection, &db.url, "postgres", |t: &str| format!(
        "TIMESTAMPTZ '{t}'"
    ));
}
