//! The outbox relay across replicas (issue 21): two `arbiter serve` processes on one
//! PostgreSQL database, one relaying; it is killed (SIGKILL) mid-stream while orders are paid
//! and refunded on the other, which takes the relay over once the lease lapses and publishes
//! again from the last acknowledged event. A JetStream consumer then receives every event of
//! the feed exactly once, in the feed's order.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::nats_relay::{
    assert_each_order_in_step_order, assert_stream_is_the_feed, settled_feed, stream_of,
};
use crate::harness::{Backend, OwnNats, TestDb, backends, start_arbiter};

/// The flags of an `arbiter serve` replica relaying to `url` under `prefix`.
fn relay_flags(url: &str, prefix: &str) -> Vec<String> {
    [
        ("--nats-url", url.to_owned()),
        ("--nats-prefix", prefix.to_owned()),
        ("--nats-stream", prefix.to_uppercase()),
        ("--relay-lease-secs", "2".into()),
        ("--relay-poll-ms", "20".into()),
        ("--relay-backoff-max-ms", "300".into()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value])
    .collect()
}

/// A call to a replica (with an idempotency key of its own), which must answer `want`.
async fn admin(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    method: Method,
    path: &str,
    body: Value,
    want: u16,
) -> Value {
    let r = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(key)
        .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, want, "{path}: {body}");
    body
}

/// [`purchase`] on a replica by its base URL: an order paid through the built-in card
/// channel's signed webhook, and every third one partly refunded; the events it writes.
async fn purchase_at(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    admin_key: &str,
    n: usize,
) -> usize {
    let user = format!("u-{n}");
    let order = admin(
        http,
        base,
        key,
        Method::POST,
        "/v1/orders",
        super::calls::order_body(&user, "MUG-1", 1),
        201,
    )
    .await;
    let id = order["id"].as_str().expect("id");
    let payment = admin(
        http,
        base,
        key,
        Method::POST,
        &format!("/v1/orders/{id}/payments"),
        json!({"channel": "card"}),
        201,
    )
    .await;
    let cpi = payment["channel_payment_id"].as_str().expect("cpi");
    admin(
        http,
        base,
        admin_key,
        Method::POST,
        &format!("/v1/channels/card/payments/{cpi}/events"),
        json!({"outcome": "succeeded"}),
        200,
    )
    .await;
    if !n.is_multiple_of(3) {
        return 3;
    }
    let refund = admin(
        http,
        base,
        key,
        Method::POST,
        "/v1/refunds",
        json!({"payment_id": payment["id"], "amount": {"value": "1.00", "currency": "USD"}}),
        201,
    )
    .await;
    let cri = refund["channel_refund_id"].as_str().expect("cri");
    admin(
        http,
        base,
        admin_key,
        Method::POST,
        &format!("/v1/channels/card/refunds/{cri}/events"),
        json!({"outcome": "succeeded"}),
        200,
    )
    .await;
    4
}

/// `/readyz`'s relay part of a replica.
async fn relay_of(base: &str) -> Value {
    let ready: Value = reqwest::get(format!("{base}/readyz"))
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    ready["relay"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relays_replica_killed_mid_stream_another_takes_over_and_nothing_is_lost_or_doubled() {
    let Some(pg) = backends()
        .into_iter()
        .find(|b| matches!(b, Backend::Postgres { .. }))
    else {
        panic!("replicas share PostgreSQL: set DATABASE_URL");
    };
    let db = TestDb::new(&pg).await;
    let nats = OwnNats::start().await;
    let prefix = format!("e2e_{}", uuid::Uuid::now_v7().simple());
    let flags = relay_flags(&nats.url(), &prefix);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut replicas = vec![
        start_arbiter(&db, &flags, &[]).await,
        start_arbiter(&db, &flags, &[]).await,
    ];
    let http = reqwest::Client::new();
    let admin_key = db.admin_key();
    let base = replicas[0].base.clone();
    admin(
        &http,
        &base,
        &admin_key,
        Method::POST,
        "/v1/skus",
        json!({"sku": "MUG-1", "title": "Mug", "price": {"value": "12.00", "currency": "USD"}}),
        201,
    )
    .await;
    admin(
        &http,
        &base,
        &admin_key,
        Method::PUT,
        "/v1/skus/MUG-1/stock",
        json!({"total": 1_000_000}),
        200,
    )
    .await;
    let key = admin(
        &http,
        &base,
        &admin_key,
        Method::POST,
        "/v1/keys",
        json!({"name": "checkout", "scopes": ["decide", "orders:write", "refunds:write"]}),
        201,
    )
    .await["key"]
        .as_str()
        .expect("key")
        .to_owned();

    // Which replica relays: exactly one.
    let started = Instant::now();
    let active = loop {
        let mut active = Vec::new();
        for (i, r) in replicas.iter().enumerate() {
            if relay_of(&r.base).await["active"] == true {
                active.push(i);
            }
        }
        if active.len() == 1 {
            break active[0];
        }
        assert!(active.len() <= 1, "two replicas relay at once");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no replica took the relay"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let survivor = replicas[1 - active].base.clone();

    // Orders paid, some refunded, on the survivor throughout; the relaying replica is killed
    // mid-stream.
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let traffic = async {
        let (mut made, mut events) = (0, 0);
        while !*stop.borrow() {
            events += purchase_at(&http, &survivor, &key, &admin_key, made).await;
            made += 1;
        }
        (made, events)
    };
    let victim = replicas.remove(active);
    let kill = async {
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        victim.kill().await;
        // The survivor takes the relay over once the lease (2 s) lapses.
        let started = Instant::now();
        while relay_of(&survivor).await["active"] != true {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the survivor never took over"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        let _ = stop_tx.send(true);
    };
    let ((made, events), ()) = tokio::join!(traffic, kill);
    assert!(made >= 5, "traffic ran: {made} orders");

    let feed = settled_feed(&http, &survivor, &admin_key, events).await;
    let stream = stream_of(&nats.url(), &prefix, feed.len()).await;
    assert_stream_is_the_feed(&prefix, &feed, &stream);
    assert_each_order_in_step_order(&stream);
    for r in replicas {
        r.kill().await;
    }
    db.drop_db().await;
}
