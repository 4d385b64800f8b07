//! Redis lost mid-traffic and back, at the service level: two `arbiter` processes on one
//! PostgreSQL database reach Redis through a cuttable proxy while decisions keep coming.
//! During the cut every request still answers 200, decisions say
//! `layers.velocity_degraded: true`, `/readyz` says `degraded`, and a block-list entry made on
//! one replica reaches the other through the version check (no Redis needed). After the
//! restore decisions stop being degraded, `/readyz` is `ready`, the shared counters count
//! again — including what a replica counted on its own during the cut — and notifications
//! flow again. Needs `DATABASE_URL` and `REDIS_URL` (CI sets both); without them it says so and
//! does nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Api, Backend, TestDb, decision_body, start_arbiter};
use crate::redis_command::redis_command;
use crate::tcp_proxy::Proxy;

/// One decision request the background load sent.
struct Sent {
    started: Instant,
    finished: Instant,
    /// 0 when the request got no HTTP answer at all.
    status: u16,
    decision_id: Option<String>,
}

impl Api {
    /// Decides and returns the stored decision.
    async fn decide_seen(&self, base: &str, body: &Value) -> Value {
        let d = self.decide(base, body).await;
        self.detail(base, d["decision_id"].as_str().expect("id"))
            .await
    }

    async fn ready(&self, base: &str) -> Value {
        self.client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("json")
    }

    /// Polls `/readyz` until its status is `want`, for at most `within`.
    async fn wait_ready_status(&self, base: &str, want: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let ready = self.ready(base).await;
            if ready["status"] == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{base}/readyz never said `{want}`: {ready}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn block_user(&self, base: &str, user: &str) {
        let r = self
            .client
            .post(format!("{base}/v1/lists/entries"))
            .bearer_auth(&self.key)
            .json(&json!({"list": "block", "kind": "user", "value": user, "reason": "ring"}))
            .send()
            .await
            .expect("block");
        assert_eq!(r.status(), 201, "a list write needs the database only");
    }

    /// Polls `base` with payments by `user` until one is rejected, for at most `within`.
    async fn wait_rejected(&self, base: &str, user: &str, within: Duration) {
        let deadline = Instant::now() + within;
        for n in 0.. {
            let body = payment(&format!("{user}-{base}-{n}"), user, &format!("{user}-card"));
            if self.decide(base, &body).await["action"] == "reject" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{base} still accepts blocked user `{user}`"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `base` with fresh payments until one is decided on shared counters again.
    async fn wait_not_degraded(&self, base: &str, within: Duration) {
        let deadline = Instant::now() + within;
        for n in 0.. {
            let body = payment(&format!("probe-{base}-{n}"), "probe-user", "probe-card");
            let seen = self.decide_seen(base, &body).await;
            if seen["layers"]["velocity_degraded"].is_null() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{base} still degraded after Redis came back: {}",
                seen["layers"]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A payment by `user` with `card`, otherwise unremarkable.
fn payment(id: &str, user: &str, card: &str) -> Value {
    let mut v = decision_body(id);
    v["user"]["id"] = json!(user);
    v["payment"]["card_fingerprint"] = json!(card);
    v["amount"] = json!({"value": "12.00", "currency": "USD"});
    v
}

fn card_count(seen: &Value) -> &Value {
    &seen["context"]["velocity"]["card"]["count_1h"]
}

/// Sends decisions to both replicas in turn until `stop`, recording each.
fn spawn_load(
    client: reqwest::Client,
    key: String,
    bases: [String; 2],
    stop: Arc<AtomicBool>,
    sent: Arc<Mutex<Vec<Sent>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut i = 0usize;
        while !stop.load(Ordering::SeqCst) {
            let body = payment(
                &format!("load-{i}"),
                &format!("load-user-{}", i % 7),
                &format!("load-card-{}", i % 3),
            );
            let started = Instant::now();
            let answer = client
                .post(format!("{}/v1/decisions", bases[i % 2]))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await;
            let (status, decision_id) = match answer {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    (status, v["decision_id"].as_str().map(str::to_owned))
                }
                Err(_) => (0, None),
            };
            sent.lock().expect("sent").push(Sent {
                started,
                finished: Instant::now(),
                status,
                decision_id,
            });
            i += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_lost_mid_traffic_degrades_then_recovers_without_errors() {
    let (Ok(pg), Ok(redis)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL")) else {
        eprintln!("redis_outage: needs DATABASE_URL and REDIS_URL; not run");
        return;
    };
    let db = TestDb::new(&Backend::Postgres { admin_url: pg }).await;
    // redis://host:port[/db] → the same through the proxy.
    let rest = redis.trim_start_matches("redis://");
    let (upstream, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let proxy = Proxy::start(upstream.to_owned()).await;
    let proxied = format!("redis://127.0.0.1:{}{path}", proxy.port);
    let prefix = format!("arbiter-e2e-outage-{}:", uuid::Uuid::now_v7().simple());
    let args = [
        "--redis-url",
        proxied.as_str(),
        "--redis-prefix",
        prefix.as_str(),
    ];
    let a = start_arbiter(&db, &args, &[]).await;
    let b = start_arbiter(&db, &args, &[]).await;
    let api = Api {
        client: reqwest::Client::new(),
        key: db.admin_key(),
    };
    let (ra, rb) = (a.base.as_str(), b.base.as_str());
    let within = Duration::from_secs(15);
    api.wait_ready_status(ra, "ready", within).await;
    api.wait_ready_status(rb, "ready", within).await;

    let stop = Arc::new(AtomicBool::new(false));
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let load = spawn_load(
        api.client.clone(),
        api.key.clone(),
        [a.base.clone(), b.base.clone()],
        stop.clone(),
        sent.clone(),
    );

    // Before: counters are shared.
    for i in 0..3 {
        api.decide(
            ra,
            &payment(&format!("c1-{i}"), &format!("c1-u{i}"), "card-1"),
        )
        .await;
    }
    let seen = api
        .decide_seen(rb, &payment("c1-3", "c1-u3", "card-1"))
        .await;
    assert_eq!(card_count(&seen), 3, "{}", seen["context"]);
    assert!(seen["layers"]["velocity_degraded"].is_null());

    // Redis lost.
    let cut_at = Instant::now();
    proxy.cut();
    let mut during = Vec::new();
    for i in 0..3 {
        let d = api
            .decide(
                ra,
                &payment(&format!("c2-{i}"), &format!("c2-u{i}"), "card-2"),
            )
            .await;
        during.push(d["decision_id"].as_str().expect("id").to_owned());
    }
    api.wait_ready_status(ra, "degraded", within).await;
    api.wait_ready_status(rb, "degraded", within).await;
    // A list change on A reaches B through the version check, Redis or not.
    api.block_user(ra, "mallory").await;
    api.wait_rejected(rb, "mallory", within).await;
    let pass_at = Instant::now();
    proxy.pass();

    // Everything decided during the cut used the documented fallback.
    let load_during: Vec<String> = sent
        .lock()
        .expect("sent")
        .iter()
        .filter(|s| s.started > cut_at && s.finished < pass_at)
        .filter_map(|s| s.decision_id.clone())
        .collect();
    assert!(
        load_during.len() >= 10,
        "the load kept going during the cut ({} decisions)",
        load_during.len()
    );
    for id in during.iter().chain(&load_during) {
        let seen = api.detail(ra, id).await;
        assert_eq!(
            seen["layers"]["velocity_degraded"], true,
            "decision {id} during the cut: {}",
            seen["layers"]
        );
    }

    // Back: shared counters resume on both replicas, readiness returns.
    api.wait_not_degraded(ra, within).await;
    api.wait_not_degraded(rb, within).await;
    api.wait_ready_status(ra, "ready", within).await;
    api.wait_ready_status(rb, "ready", within).await;
    // A counted card-2 on its own during the cut and replayed it on reconnect: B sees it.
    let seen = api
        .decide_seen(rb, &payment("c2-3", "c2-u3", "card-2"))
        .await;
    assert_eq!(card_count(&seen), 3, "{}", seen["context"]);
    // New traffic is shared again.
    for i in 0..4 {
        api.decide(
            ra,
            &payment(&format!("c3-{i}"), &format!("c3-u{i}"), "card-3"),
        )
        .await;
    }
    let seen = api
        .decide_seen(rb, &payment("c3-4", "c3-u4", "card-3"))
        .await;
    assert_eq!(card_count(&seen), 4, "{}", seen["context"]);
    assert!(seen["layers"]["velocity_degraded"].is_null());
    // Notifications flow again (or the version check carries it): a change after the restore
    // reaches the other replica too.
    api.block_user(ra, "eve").await;
    api.wait_rejected(rb, "eve", within).await;

    stop.store(true, Ordering::SeqCst);
    load.await.expect("load");
    let sent = std::mem::take(&mut *sent.lock().expect("sent"));
    let failed: Vec<u16> = sent
        .iter()
        .map(|s| s.status)
        .filter(|s| *s != 200)
        .collect();
    assert!(
        failed.is_empty(),
        "every request answered 200 through the outage; got {failed:?}"
    );
    assert!(
        sent.iter().any(|s| s.started > pass_at),
        "load after the restore"
    );
    drop(sent);

    a.kill().await;
    b.kill().await;
    let keys = redis_command(&redis, &["KEYS", &format!("{prefix}*")]).await;
    for k in keys.as_array().into_iter().flatten() {
        redis_command(&redis, &["DEL", k.as_str().expect("key")]).await;
    }
    db.drop_db().await;
}
