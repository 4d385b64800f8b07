//! Webhooks cannot fill the disk: thousands of 60 KB callbacks whose signature fails (none,
//! forged, stale, garbage) leave the database's size flat — none is stored, each is counted —
//! while decisions keep being answered. The decision latency with and without the flood is
//! printed (a measurement for the notes, not asserted: timings vary with the machine).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arbiter_transactions::signature::sign;
use serde_json::{Value, json};
use sqlx::Connection;

use super::calls::{SECRET, config};
use crate::harness::{Backend, TestDb, TestServer, backends, decision_body};

/// Callbacks in the flood, and the size of each body.
const FLOOD: usize = 3_000;
const BODY_BYTES: usize = 60 * 1024;
/// Callbacks in flight at once.
const SENDERS: usize = 16;
/// Decisions timed without the flood.
const QUIET_DECISIONS: usize = 200;
/// The database may grow this much while the flood runs: the probe's decisions are logged
/// (about a kilobyte each) — the flood, stored, would add `FLOOD × BODY_BYTES` = 180 MiB.
const MAX_GROWTH: i64 = 4 << 20;

/// How the database is doing: its logical size, and the callback log's rows and bytes.
#[derive(Debug, Clone, Copy)]
struct Size {
    bytes: i64,
    callbacks: i64,
    callback_bytes: i64,
}

async fn size(db: &TestDb) -> Size {
    match &db.database_url {
        None => {
            let path = db.data_dir().join(arbiter_storage::DEFAULT_SQLITE_FILE);
            let url = format!("sqlite://{}?mode=ro", path.display());
            let mut conn = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("open SQLite");
            // The size as this connection sees it: the file plus what the WAL adds to it, so
            // it does not depend on when the last checkpoint ran.
            let (pages, page_size): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT page_count FROM pragma_page_count), \
                 (SELECT page_size FROM pragma_page_size)",
            )
            .fetch_one(&mut conn)
            .await
            .expect("page count");
            let (callbacks, callback_bytes): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(raw)), 0) FROM channel_callbacks",
            )
            .fetch_one(&mut conn)
            .await
            .expect("callbacks");
            Size {
                bytes: pages * page_size,
                callbacks,
                callback_bytes,
            }
        }
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(url)
                .await
                .expect("connect PostgreSQL");
            let (bytes, callbacks, callback_bytes): (i64, i64, i64) = sqlx::query_as(
                "SELECT pg_database_size(current_database()), \
                 (SELECT COUNT(*) FROM channel_callbacks), \
                 pg_total_relation_size('channel_callbacks')",
            )
            .fetch_one(&mut conn)
            .await
            .expect("sizes");
            Size {
                bytes,
                callbacks,
                callback_bytes,
            }
        }
    }
}

/// One decision, timed; panics unless it is answered.
async fn decide(s: &TestServer, key: &str, id: &str) -> Duration {
    let started = Instant::now();
    let r = s
        .client
        .post(format!("{}/v1/decisions", s.base))
        .bearer_auth(key)
        .json(&decision_body(id))
        .send()
        .await
        .expect("decision sent");
    assert_eq!(r.status(), 200, "decision {id}");
    let _: Value = r.json().await.expect("decision");
    started.elapsed()
}

/// `(p50, p99, max)` in milliseconds.
fn summary(mut times: Vec<Duration>) -> (f64, f64, f64) {
    times.sort();
    let at = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times[i].as_secs_f64() * 1e3
    };
    (at(0.5), at(0.99), at(1.0))
}

/// The `i`-th hostile callback: no signature, a forged one, a stale one, or a garbage header.
fn hostile(i: usize, body: &[u8]) -> Option<String> {
    let now = chrono::Utc::now().timestamp();
    match i % 4 {
        0 => None,
        1 => Some(format!("t={now},v1={}", "ab".repeat(32))),
        2 => Some(sign(SECRET, now - 3_600, body)),
        _ => Some("t=99999999999999999999,v1=zz".into()),
    }
}

async fn refusals_counted(s: &TestServer) -> u64 {
    let text = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|l| l.starts_with("arbiter_webhook_refusals_total{") && l.contains("card"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_unsigned_webhooks_leaves_the_database_flat() {
    for backend in backends() {
        let name = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        };
        let s = Arc::new(TestServer::start_with_transactions(&backend, config()).await);
        let key = Arc::new(s.checkout_key().await);
        let mut quiet = Vec::with_capacity(QUIET_DECISIONS);
        for i in 0..QUIET_DECISIONS {
            quiet.push(decide(&s, &key, &format!("quiet-{i}")).await);
        }
        let before = size(s.db()).await;
        let counted_before = refusals_counted(&s).await;

        let body: Arc<Vec<u8>> = Arc::new({
            let mut b = br#"{"id":"evt_flood","type":"payment_intent.succeeded","pad":""#.to_vec();
            b.resize(BODY_BYTES - 2, b'x');
            b.extend_from_slice(br#""}"#);
            b
        });
        let flooding = Arc::new(AtomicBool::new(true));
        let probe = {
            let (s, key, flooding) = (s.clone(), key.clone(), flooding.clone());
            tokio::spawn(async move {
                let mut during = Vec::new();
                let mut i = 0;
                while flooding.load(Ordering::SeqCst) {
                    let took = decide(&s, &key, &format!("flood-{i}")).await;
                    if flooding.load(Ordering::SeqCst) {
                        during.push(took);
                    }
                    i += 1;
                }
                during
            })
        };
        let started = Instant::now();
        let mut senders = tokio::task::JoinSet::new();
        for sender in 0..SENDERS {
            let (s, body) = (s.clone(), body.clone());
            senders.spawn(async move {
                for i in (sender..FLOOD).step_by(SENDERS) {
                    let mut req = s
                        .client
                        .post(format!("{}/v1/webhooks/card", s.base))
                        .header("content-type", "application/json")
                        .body(body.to_vec());
                    if let Some(sig) = hostile(i, &body) {
                        req = req.header("Stripe-Signature", sig);
                    }
                    let r = req.send().await.expect("webhook sent");
                    assert_eq!(r.status(), 400, "callback {i}");
                    let v: Value = r.json().await.expect("problem");
                    assert_eq!(v["code"], "invalid_signature", "callback {i}: {v}");
                }
            });
        }
        senders.join_all().await;
        let flood_took = started.elapsed();
        flooding.store(false, Ordering::SeqCst);
        let during = probe.await.expect("probe");
        let after = size(s.db()).await;
        let counted = refusals_counted(&s).await - counted_before;

        let (q50, q99, qmax) = summary(quiet);
        let decided = during.len();
        let (d50, d99, dmax) = summary(during);
        eprintln!(
            "webhook flood ({name}): {FLOOD} x {BODY_BYTES} B refused in {:.1}s; database \
             {} -> {} bytes (+{}), callbacks {} -> {}; decision latency ms p50/p99/max: \
             quiet {q50:.2}/{q99:.2}/{qmax:.2} ({QUIET_DECISIONS}), during the flood \
             {d50:.2}/{d99:.2}/{dmax:.2} ({decided})",
            flood_took.as_secs_f64(),
            before.bytes,
            after.bytes,
            after.bytes - before.bytes,
            before.callbacks,
            after.callbacks,
        );
        assert!(decided > 0, "decisions were answered during the flood");
        // At least: the registry is the process's, shared with tests running beside this one.
        assert!(counted >= FLOOD as u64, "every refusal counted: {counted}");
        assert_eq!(
            (after.callbacks, after.callback_bytes),
            (before.callbacks, before.callback_bytes),
            "no refused callback stored"
        );
        assert!(
            after.bytes - before.bytes < MAX_GROWTH,
            "{name}: the database grew {} bytes",
            after.bytes - before.bytes
        );

        // A verified callback is still logged with its body (here: for no payment we know).
        let now = chrono::Utc::now().timestamp();
        let event = serde_json::to_vec(&json!({"id": "evt_real", "type":
            "payment_intent.succeeded", "created": now, "data": {"object": {"id": "pi_unknown",
            "amount": 100, "currency": "usd", "status": "succeeded"}}}))
        .expect("event");
        let r = s
            .client
            .post(format!("{}/v1/webhooks/card", s.base))
            .header("content-type", "application/json")
            .header("Stripe-Signature", sign(SECRET, now, &event))
            .body(event.clone())
            .send()
            .await
            .expect("webhook");
        assert_eq!(r.status(), 200);
        let logged = size(s.db()).await;
        assert_eq!(logged.callbacks, before.callbacks + 1);
        if backend_is_sqlite(&backend) {
            assert_eq!(
                logged.callback_bytes,
                before.callback_bytes + event.len() as i64
            );
        }
        let s = Arc::into_inner(s).expect("no other holders");
        s.finish().await;
    }
}

fn backend_is_sqlite(backend: &Backend) -> bool {
    matches!(backend, Backend::Sqlite)
}
