//! Order expiry dispatched through Redis: two `arbiter` processes on one PostgreSQL database
//! and one Redis (its own key prefix) cancel every unpaid order past its TTL exactly once —
//! one `CANCELLED` history row per order, stock released once — including orders whose Redis
//! entries were deleted, which the repair sweep puts back from the database's `due_items`.
//! Needs `DATABASE_URL` and `REDIS_URL` (CI sets both); without them it says so and does
//! nothing.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Arbiter, Backend, TestDb, start_arbiter};
use crate::redis_command::redis_command;

/// Orders per group; one group loses its Redis entries.
const GROUP: usize = 6;

struct Api {
    client: reqwest::Client,
    key: String,
}

impl Api {
    async fn send(&self, method: reqwest::Method, url: String, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, &url).bearer_auth(&self.key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status < 300, "{url}: {status} {body}");
        body
    }

    async fn order(&self, base: &str, n: usize) -> String {
        let body = json!({"items": [{"sku": "TTL-1", "qty": 1}], "user": format!("ttl-user-{n}"),
            "device": format!("ttl-dev-{n}"), "ip": "203.0.113.9", "payment_method": "card"});
        let r = self
            .client
            .post(format!("{base}/v1/orders"))
            .bearer_auth(&self.key)
            .header("Idempotency-Key", format!("ttl-{n}"))
            .json(&body)
            .send()
            .await
            .expect("order");
        assert_eq!(r.status(), 201);
        let order: Value = r.json().await.expect("json");
        assert_eq!(order["status"], "PENDING_PAYMENT", "{order}");
        order["id"].as_str().expect("id").to_owned()
    }
}

/// The sum of `cancelled` over a replica's "expired unpaid orders" log lines.
fn cancelled_in_log(replica: &Arbiter) -> u64 {
    replica
        .output()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["message"] == "expired unpaid orders")
        .filter_map(|v| v["cancelled"].as_u64())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_expire_each_order_once_and_the_sweep_restores_lost_entries() {
    let (Ok(pg), Ok(redis)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL")) else {
        eprintln!("redis_expiry: needs DATABASE_URL and REDIS_URL; not run");
        return;
    };
    let db = TestDb::new(&Backend::Postgres { admin_url: pg }).await;
    let prefix = format!("arbiter-e2e-exp-{}:", uuid::Uuid::now_v7().simple());
    let args = [
        "--redis-url",
        redis.as_str(),
        "--redis-prefix",
        prefix.as_str(),
    ];
    // Orders live 5 s; each worker looks every 100 ms and sweeps every 500 ms.
    let env = [
        ("ARBITER_ORDER_TTL_SECS", "5"),
        ("ARBITER_EXPIRY_INTERVAL_MS", "100"),
        ("ARBITER_EXPIRY_SWEEP_MS", "500"),
    ];
    // One after the other: the first start creates the admin key and the webhook secret.
    let a = start_arbiter(&db, &args, &env).await;
    let b = start_arbiter(&db, &args, &env).await;
    let key = db.admin_key();
    let api = Api {
        client: reqwest::Client::new(),
        key,
    };
    api.send(
        reqwest::Method::POST,
        format!("{}/v1/skus", a.base),
        Some(
            json!({"sku": "TTL-1", "title": "Hat", "price": {"value": "5.00", "currency": "USD"}}),
        ),
    )
    .await;
    api.send(
        reqwest::Method::PUT,
        format!("{}/v1/skus/TTL-1/stock", a.base),
        Some(json!({"total": 2 * GROUP})),
    )
    .await;

    let queue = |part: &str| format!("{prefix}q:order.expire:{part}");
    // Group one, created on both replicas, then Redis "loses" every entry it holds.
    let mut ids = Vec::new();
    for n in 0..GROUP {
        let base = if n % 2 == 0 { &a.base } else { &b.base };
        ids.push(api.order(base, n).await);
    }
    assert_eq!(
        redis_command(&redis, &["ZCARD", &queue("due")]).await,
        json!(GROUP),
        "each order is offered to Redis after its commit"
    );
    redis_command(
        &redis,
        &["DEL", &queue("due"), &queue("lease"), &queue("token")],
    )
    .await;
    for id in &ids {
        let order = api
            .send(
                reqwest::Method::GET,
                format!("{}/v1/orders/{id}", a.base),
                None,
            )
            .await;
        assert_eq!(
            order["status"], "PENDING_PAYMENT",
            "set-up slower than the TTL: the loss must come before the expiry"
        );
    }
    // Group two is dispatched normally.
    for n in GROUP..2 * GROUP {
        let base = if n % 2 == 0 { &a.base } else { &b.base };
        ids.push(api.order(base, n).await);
    }
    let sku = api
        .send(
            reqwest::Method::GET,
            format!("{}/v1/skus/TTL-1", b.base),
            None,
        )
        .await;
    assert_eq!(sku["stock"]["available"], 0, "{sku}");

    // Every order ends cancelled, group one through the sweep.
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in &ids {
        loop {
            let order = api
                .send(
                    reqwest::Method::GET,
                    format!("{}/v1/orders/{id}", a.base),
                    None,
                )
                .await;
            if order["status"] == "CANCELLED" {
                let cancelled: Vec<&Value> = order["history"]
                    .as_array()
                    .expect("history")
                    .iter()
                    .filter(|h| h["to"] == "CANCELLED")
                    .collect();
                assert_eq!(cancelled.len(), 1, "cancelled once: {order}");
                assert_eq!(cancelled[0]["note"], "reservation expired", "{order}");
                break;
            }
            assert_eq!(order["status"], "PENDING_PAYMENT", "{order}");
            assert!(
                Instant::now() < deadline,
                "order {id} was never expired: {order}\nA: {}\nB: {}",
                a.output(),
                b.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let sku = api
        .send(
            reqwest::Method::GET,
            format!("{}/v1/skus/TTL-1", b.base),
            None,
        )
        .await;
    assert_eq!(
        sku["stock"],
        json!({"total": 2 * GROUP, "reserved": 0, "sold": 0, "available": 2 * GROUP}),
        "stock released exactly once"
    );
    let (log_a, log_b) = (a.output(), b.output());
    assert!(
        format!("{log_a}{log_b}").contains("restored order expiries the dispatcher had lost"),
        "the sweep restored group one"
    );
    assert_eq!(
        cancelled_in_log(&a) + cancelled_in_log(&b),
        2 * GROUP as u64,
        "the two workers together cancelled each order once"
    );
    // Every claim was completed: nothing waits or is leased in Redis any more.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting = redis_command(&redis, &["ZCARD", &queue("due")]).await;
        let leased = redis_command(&redis, &["ZCARD", &queue("lease")]).await;
        if (waiting.clone(), leased.clone()) == (json!(0), json!(0)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Redis still holds {waiting} waiting and {leased} leased"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    a.kill().await;
    b.kill().await;
    let keys = redis_command(&redis, &["KEYS", &format!("{prefix}*")]).await;
    for k in keys.as_array().into_iter().flatten() {
        redis_command(&redis, &["DEL", k.as_str().expect("key")]).await;
    }
    db.drop_db().await;
}
