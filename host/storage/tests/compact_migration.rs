//! Migration 0029 (the compact stored decision) over decisions an older release stored, on
//! both backends: each still reads back bit-identical from its JSON body, a backtest replays
//! it from that body, the shadow answer its dropped projection held is in its row (and the
//! amount, for a row stored without it), a walk of an entity's chain runs from a new (packed)
//! decision through the old ones, and a repeated request is answered with the old decision.

#[macro_use]
mod support;

use arbiter_engine::Decision;
use arbiter_engine::backtest::{RecordedDecision, Window};
use arbiter_engine::lists::ListKind;
use arbiter_engine::store::{AppendOutcome, Store};
use chrono::{Duration, SubsecRound, Utc};
use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection, SqliteConnection};
use support::upgrade::{folder, migrations_before};

/// Two decisions of one user as a release before 0029 stored them (the second chained to
/// the first), and the statements that stored them; `ts` renders a time for the backend,
/// `pg` adds what PostgreSQL's partitioned tables need since 0026 (`part`, the request id).
fn stored_before(ts: impl Fn(&str) -> String, pg: bool) -> ([Decision; 2], Vec<String>) {
    let first = support::fixtures::decision("before-1");
    let mut second = support::fixtures::decision("before-2");
    second.chain.user = Some(first.decision_id.0.clone());
    second.chain.device = Some(first.decision_id.0.clone());
    let mut seed = Vec::new();
    for d in [&first, &second] {
        let body = serde_json::to_string(d).expect("body").replace('\'', "''");
        let at = ts(&d
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        let (part, part_at) = if pg {
            (", part", format!(", {at}"))
        } else {
            ("", String::new())
        };
        // Stored without the amount columns; the projection has them.
        seed.push(format!(
            "INSERT INTO decisions (decision_id, request_id, body_hash, event, action, score, \
             policy_set_version, model_version, created_at, body{part}) VALUES \
             ('{}', '{}', '{}', 'payment.authorize', 'challenge', {:?}, 1, 7, {at}, '{body}'\
             {part_at})",
            d.decision_id, d.request_id, d.body_hash, d.score
        ));
        if pg {
            seed.push(format!(
                "INSERT INTO decision_requests (request_id, decision_id, created_at) \
                 VALUES ('{}', '{}', {at})",
                d.request_id, d.decision_id
            ));
        }
        let replay = serde_json::to_string(&arbiter_engine::backtest::ReplayInput::of(d))
            .expect("replay")
            .replace('\'', "''");
        // The first was evaluated by a shadow candidate too.
        let shadow = if d.request_id == "before-1" {
            "2, 'reject', 91.25, 'velocity'"
        } else {
            "NULL, NULL, NULL, NULL"
        };
        seed.push(format!(
            "INSERT INTO decision_features (decision_id, created_at, checkpoint, \
             policy_set_version, model_version, action, score, amount_minor, currency, replay, \
             shadow_version, shadow_action, shadow_score, shadow_hits{part}) VALUES \
             ('{}', {at}, 'payment.authorize', 1, 7, 'challenge', {:?}, 12999, 'EUR', \
             '{replay}', {shadow}{part_at})",
            d.decision_id, d.score
        ));
    }
    ([first, second], seed)
}

/// The ids of `kind`'s chain walked from `from`, newest first.
async fn walk(store: &dyn Store, kind: ListKind, from: &Decision) -> Vec<String> {
    store
        .entity_decisions(kind, &from.decision_id.0, 10)
        .await
        .expect("walk")
        .into_iter()
        .map(|p| p.decision_id)
        .collect()
}

async fn reads_the_old_decisions(store: &dyn Store, old: &[Decision; 2], backend: &str) {
    let [first, second] = old;
    for d in old {
        let read = store
            .get_decision(&d.decision_id.0)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(&read, d, "{backend}: read back whole from its body");
        assert_eq!(read.score.to_bits(), d.score.to_bits());
    }

    // A backtest replays them from their bodies.
    let window = Window {
        from: first.created_at - Duration::minutes(1),
        to: Utc::now() + Duration::minutes(1),
        checkpoint: None,
    };
    let page = store
        .recorded_page(window, Utc::now(), None, 10)
        .await
        .expect("page");
    let mut read: Vec<RecordedDecision> = page
        .into_iter()
        .map(|row| row.decode().expect("decodes").0)
        .collect();
    read.sort_by(|a, b| a.decision_id.cmp(&b.decision_id));
    let mut expected: Vec<RecordedDecision> = old
        .iter()
        .map(|d| {
            let mut r = RecordedDecision::of(d);
            r.created_at = r.created_at.trunc_subsecs(6);
            r
        })
        .collect();
    expected.sort_by(|a, b| a.decision_id.cmp(&b.decision_id));
    assert_eq!(read, expected, "{backend}: replayed from the stored bodies");

    // The shadow answer the projection held, read by a rollout's summary.
    let shadow = store
        .shadow_page(
            2,
            first.created_at - Duration::minutes(1),
            Utc::now(),
            None,
            10,
        )
        .await
        .expect("shadow page");
    assert_eq!(shadow.len(), 1, "{backend}");
    assert_eq!(shadow[0].decision_id, first.decision_id.0);
    assert_eq!(shadow[0].shadow_action, arbiter_engine::Action::Reject);
    assert_eq!(shadow[0].shadow_score, 91.25);
    assert_eq!(shadow[0].hits, ["velocity"]);
    assert_eq!(
        shadow[0].amount,
        Some(("EUR".to_owned(), 12_999)),
        "{backend}"
    );

    // A new decision of the same user, packed, chained to the second: the walk crosses from
    // the new form into the old.
    let mut third = support::fixtures::decision("after-1");
    third.chain.user = Some(second.decision_id.0.clone());
    store
        .insert_decisions(std::slice::from_ref(&third))
        .await
        .expect("insert");
    assert_eq!(
        walk(store, ListKind::User, &third).await,
        [
            third.decision_id.0.as_str(),
            &second.decision_id.0,
            &first.decision_id.0
        ],
        "{backend}"
    );
    assert_eq!(
        walk(store, ListKind::Device, second).await,
        [second.decision_id.0.as_str(), &first.decision_id.0],
        "{backend}"
    );

    // A repeated request is answered with the old decision.
    let mut retried = support::fixtures::decision("before-1");
    retried.created_at = Utc::now();
    match &store.insert_decisions(&[retried]).await.expect("insert")[0] {
        AppendOutcome::Existing(d) => assert_eq!(d.as_ref(), first, "{backend}"),
        other => panic!("{backend}: the stored decision answers its request: {other:?}"),
    }
}

#[tokio::test]
async fn decisions_stored_before_0029_read_replay_and_chain_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join(arbiter_storage::DEFAULT_SQLITE_FILE);
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let (old, seed) = stored_before(|t| format!("'{t}'"), false);
    let conn = upgraded!(SqliteConnection, &url, "sqlite", "0029", seed);
    let _ = conn.close().await;
    let store = arbiter_storage::connect(None, dir.path())
        .await
        .expect("open the upgraded database");
    reads_the_old_decisions(store.as_ref(), &old, "sqlite").await;
}

#[tokio::test]
async fn decisions_stored_before_0029_read_replay_and_chain_on_postgres() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    let (old, seed) = stored_before(|t| format!("TIMESTAMPTZ '{t}'"), true);
    let conn = upgraded!(PgConnection, &db.url, "postgres", "0029", seed);
    let _ = conn.close().await;
    let store = arbiter_storage::connect(Some(&db.url), std::path::Path::new("unused"))
        .await
        .expect("open the upgraded database");
    reads_the_old_decisions(store.as_ref(), &old, "postgres").await;
}
