//! The outbox relay to NATS JetStream (issue 21), end to end: orders, payments and refunds
//! under load while NATS is killed and started again; a JetStream consumer then receives every
//! event of the feed exactly once, in the feed's order (so each order's in the order its steps
//! happened), and only events the feed shows (committed). While NATS is away `/readyz` says
//! the relay is degraded, with its lag (growing from the first event that waits, also when the
//! relay was caught up as NATS went), and orders keep being taken.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use arbiter_host::config::RelayArgs;
use serde_json::{Value, json};

use super::calls::config;
use crate::harness::{OwnNats, Received, TestServer, backends, consume};

/// Relay settings for a test: its own stream and prefix, short timers.
pub fn relay_args(url: &str, prefix: &str) -> RelayArgs {
    RelayArgs {
        nats_url: Some(url.to_owned()),
        nats_prefix: prefix.to_owned(),
        nats_stream: prefix.to_uppercase(),
        relay_lease_secs: 2,
        relay_poll_ms: 20,
        nats_ack_timeout_ms: 1_000,
        relay_backoff_max_ms: 300,
        ..RelayArgs::default()
    }
}

/// Every event of the feed of the server at `base`, in feed order (`GET /v1/events` paged to
/// the end).
async fn whole_feed_at(http: &reqwest::Client, base: &str, admin_key: &str) -> Vec<Value> {
    let (mut after, mut all) = (0, Vec::new());
    loop {
        let page: Value = http
            .get(format!("{base}/v1/events?after={after}&limit=1000"))
            .bearer_auth(admin_key)
            .send()
            .await
            .expect("events")
            .json()
            .await
            .expect("json");
        let events = page["events"].as_array().expect("events").clone();
        if events.is_empty() {
            return all;
        }
        after = page["next_after"].as_i64().expect("next_after");
        all.extend(events);
    }
}

/// The feed once it holds the `want` events the test's traffic wrote. On PostgreSQL an event
/// shows once every older transaction on the server has ended, other tests' too, so the feed
/// (and the relay reading it) can lag its commits.
pub async fn settled_feed(
    http: &reqwest::Client,
    base: &str,
    admin_key: &str,
    want: usize,
) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let feed = whole_feed_at(http, base, admin_key).await;
        assert!(
            feed.len() <= want,
            "{} events for {want} written",
            feed.len()
        );
        if feed.len() == want {
            return feed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the feed shows {} of {want} events",
            feed.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// [`settled_feed`] of an in-process server.
pub async fn whole_feed(s: &TestServer, want: usize) -> Vec<Value> {
    settled_feed(&s.client, &s.base, &s.admin_key, want).await
}

/// What a consumer of the relay's stream for `prefix` receives (every subject, from the
/// first message), expecting `want` and checking nothing more comes.
pub async fn stream_of(url: &str, prefix: &str, want: usize) -> Vec<Received> {
    consume(
        url,
        &prefix.to_uppercase(),
        &format!("{prefix}.>"),
        want,
        Duration::from_secs(2),
    )
    .await
}

/// The stream holds exactly the feed: the same events, once each, in the same order, each on
/// its topic's subject with its id as `Nats-Msg-Id`.
pub fn assert_stream_is_the_feed(prefix: &str, feed: &[Value], stream: &[Received]) {
    let ids = |v: &mut dyn Iterator<Item = i64>| v.collect::<Vec<_>>();
    let feed_ids = ids(&mut feed.iter().map(|e| e["id"].as_i64().expect("id")));
    let stream_ids = ids(&mut stream.iter().map(|m| m.body["id"].as_i64().expect("id")));
    assert_eq!(
        stream_ids.len(),
        feed_ids.len(),
        "the stream holds as many events as the feed"
    );
    assert_eq!(stream_ids, feed_ids, "the stream is the feed, in order");
    for (m, e) in stream.iter().zip(feed) {
        assert_eq!(m.body, *e, "the stream carries the feed's event");
        assert_eq!(m.msg_id, e["id"].to_string());
        assert_eq!(
            m.subject,
            format!("{prefix}.{}", e["topic"].as_str().expect("topic"))
        );
    }
}

/// Each order's events in the stream follow its steps: created, paid, refunded.
pub fn assert_each_order_in_step_order(stream: &[Received]) {
    let rank = |topic: &str| match topic {
        "order.pending_payment" => 0,
        "payment.succeeded" => 1,
        "order.paid" => 2,
        "refund.succeeded" => 3,
        _ => 4,
    };
    let mut by_order: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for m in stream {
        if let Some(order) = m.body["payload"]["order_id"].as_str() {
            by_order
                .entry(order.to_owned())
                .or_default()
                .push(m.body["topic"].as_str().expect("topic"));
        }
    }
    assert!(!by_order.is_empty());
    for (order, topics) in by_order {
        let ranks: Vec<_> = topics.iter().map(|t| rank(t)).collect();
        assert!(
            ranks.windows(2).all(|w| w[0] <= w[1]),
            "order {order}'s events out of step: {topics:?}"
        );
    }
}

/// One customer's purchase: an order paid by card, and every third one partly refunded; the
/// events it writes (the order pending payment, the payment, the order paid, the refund).
async fn purchase(s: &TestServer, key: &str, worker: usize, n: usize) -> usize {
    let user = format!("u-{worker}-{n}");
    let order = s.order(key, &format!("o-{user}"), &user, "MUG-1", 1).await;
    assert_eq!(
        order.status, 201,
        "orders are taken while NATS is away: {}",
        order.body
    );
    let order_id = order.body["id"].as_str().expect("id").to_owned();
    let payment = s.pay(key, &order_id).await;
    let cpi = payment["channel_payment_id"].as_str().expect("cpi");
    s.channel("payments", cpi, json!({"outcome": "succeeded"}))
        .await;
    if !n.is_multiple_of(3) {
        return 3;
    }
    s.refund_succeeded(key, &format!("r-{user}"), &payment, "1.00")
        .await;
    4
}

/// Purchases by `workers` customers at once until `stop` is set: how many were made, and the
/// events they wrote.
async fn load(
    s: &TestServer,
    key: &str,
    workers: usize,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> (usize, usize) {
    let runs = (0..workers).map(|w| {
        let stop = stop.clone();
        async move {
            let (mut made, mut events) = (0, 0);
            while !*stop.borrow() {
                events += purchase(s, key, w, made).await;
                made += 1;
            }
            (made, events)
        }
    });
    futures_util::future::join_all(runs)
        .await
        .into_iter()
        .fold((0, 0), |(m, e), (dm, de)| (m + dm, e + de))
}

/// Polls `/readyz` until `accept` holds for its `relay` part (or fails after 30 s).
pub async fn relay_until(s: &TestServer, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let ready: Value = reqwest::get(s.url("/readyz"))
            .await
            .expect("readyz")
            .json()
            .await
            .expect("json");
        if accept(&ready["relay"]) {
            return ready;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "relay never {what}: {ready}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Its own NATS, a server relaying to it on a stream of its own, a checkout key and `stock`
/// mugs; returns once the relay is active and publishing.
async fn relaying(
    backend: &crate::harness::Backend,
    stock: i64,
) -> (OwnNats, String, TestServer, String) {
    let nats = OwnNats::start().await;
    let prefix = format!("e2e_{}", uuid::Uuid::now_v7().simple());
    let args = relay_args(&nats.url(), &prefix);
    let s = TestServer::start_configured(backend, |c| c.relay = args, config()).await;
    let key = s.checkout_key().await;
    s.sku("MUG-1", "12.00", stock).await;
    relay_until(&s, "active", |r| {
        r["active"] == true && r["publishing"] == true
    })
    .await;
    (nats, prefix, s, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_the_stream_once_in_order_while_nats_dies_and_returns() {
    for backend in backends() {
        let (mut nats, prefix, s, key) = relaying(&backend, 1_000_000).await;

        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let traffic = load(&s, &key, 3, &stop);
        let outage = async {
            tokio::time::sleep(Duration::from_millis(800)).await;
            nats.kill().await;
            let degraded = relay_until(&s, "degraded", |r| {
                r["publishing"] == false && r["lag_seconds"].as_f64() > Some(0.0)
            })
            .await;
            assert_eq!(degraded["status"], "degraded", "{degraded}");
            assert!(degraded["relay"]["error"].is_string(), "{degraded}");
            // Orders go on meanwhile (each purchase asserts its answers).
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            nats.restart().await;
            tokio::time::sleep(Duration::from_millis(800)).await;
            let _ = stop_tx.send(true);
        };
        let ((made, events), ()) = tokio::join!(traffic, outage);
        assert!(made >= 6, "traffic ran: {made} purchases");

        let feed = whole_feed(&s, events).await;
        let caught_up = relay_until(&s, "caught up", |r| {
            r["publishing"] == true && r["lag_seconds"] == 0.0
        })
        .await;
        assert_eq!(caught_up["relay"]["error"], Value::Null, "{caught_up}");
        let stream = stream_of(&nats.url(), &prefix, feed.len()).await;
        assert_stream_is_the_feed(&prefix, &feed, &stream);
        assert_each_order_in_step_order(&stream);
        s.finish().await;
    }
}

/// The relay was caught up when NATS went: an order placed while NATS is away is lag that
/// `/readyz` shows, growing, until NATS is back and the order is on the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_written_while_nats_is_away_shows_as_lag_even_from_caught_up() {
    for backend in backends() {
        let (mut nats, prefix, s, key) = relaying(&backend, 10).await;
        relay_until(&s, "caught up", |r| r["lag_seconds"] == 0.0).await;

        nats.kill().await;
        relay_until(&s, "failing", |r| r["publishing"] == false).await;
        let order = s.order(&key, "o-away", "u-away", "MUG-1", 1).await;
        assert_eq!(order.status, 201, "{}", order.body);
        let first = relay_until(&s, "behind", |r| {
            r["publishing"] == false && r["lag_seconds"].as_f64() > Some(0.0)
        })
        .await;
        assert_eq!(first["status"], "degraded", "{first}");
        tokio::time::sleep(Duration::from_millis(600)).await;
        let later = relay_until(&s, "still behind", |r| r["publishing"] == false).await;
        assert!(
            later["relay"]["lag_seconds"].as_f64() > first["relay"]["lag_seconds"].as_f64(),
            "the lag grows while NATS is away: {first} then {later}"
        );

        nats.restart().await;
        let feed = whole_feed(&s, 1).await;
        relay_until(&s, "caught up again", |r| {
            r["publishing"] == true && r["lag_seconds"] == 0.0
        })
        .await;
        let stream = stream_of(&nats.url(), &prefix, feed.len()).await;
        assert_stream_is_the_feed(&prefix, &feed, &stream);
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_events_reach_the_stream_without_personal_data() {
    use crate::feedback::{challenged_body, decide};
    for backend in backends() {
        let nats = OwnNats::start().await;
        let prefix = format!("e2e_{}", uuid::Uuid::now_v7().simple());
        let args = RelayArgs {
            decision_events: true,
            ..relay_args(&nats.url(), &prefix)
        };
        let s = TestServer::start_configured(&backend, |c| c.relay = args, config()).await;
        let challenged = decide(&s, &challenged_body("de-1", "user-de-1")).await;
        assert_eq!(challenged["action"], "challenge", "{challenged}");
        let accepted = decide(&s, &crate::harness::decision_body("de-2")).await;
        // The same request again stores nothing new and announces nothing.
        decide(&s, &crate::harness::decision_body("de-2")).await;
        let reviewer = s.key(&["label:write", "decisions:read"]).await;
        let decision_id = challenged["decision_id"].as_str().expect("id");
        let review_id = format!("rev_{}", decision_id.trim_start_matches("dec_"));
        let resolved = s
            .post(
                &format!("/v1/reviews/{review_id}/resolve"),
                &reviewer,
                &json!({"outcome": "reject", "label": "fraud", "note": "ring of user-de-1"}),
            )
            .await;
        assert_eq!(resolved.status(), 200);

        // Two decisions, the review one opened, its resolution.
        let feed = whole_feed(&s, 4).await;
        let stream = stream_of(&nats.url(), &prefix, feed.len()).await;
        assert_stream_is_the_feed(&prefix, &feed, &stream);
        let topics: Vec<&str> = stream
            .iter()
            .map(|m| m.body["topic"].as_str().expect("topic"))
            .collect();
        assert_eq!(
            topics,
            [
                "decision.made",
                "review.opened",
                "decision.made",
                "review.resolved"
            ]
        );
        let made = &stream[0].body["payload"];
        assert_eq!(made["decision_id"], challenged["decision_id"]);
        assert_eq!(made["action"], "challenge");
        assert_eq!(made["policy_set_version"], challenged["policy_set_version"]);
        assert!(
            made["reason_codes"]
                .as_array()
                .is_some_and(|r| !r.is_empty()),
            "{made}"
        );
        assert_eq!(stream[1].body["payload"]["review_id"], review_id);
        assert_eq!(
            stream[2].body["payload"]["decision_id"],
            accepted["decision_id"]
        );
        let closed = &stream[3].body["payload"];
        assert_eq!(
            (closed["outcome"].as_str(), closed["label"].as_str()),
            (Some("reject"), Some("fraud"))
        );
        // No personal value of the requests, nor the reviewer's note, anywhere on the stream.
        let everything = serde_json::to_string(&feed).expect("json");
        for personal in [
            "user-de-1",
            "Example.com",
            "555 123",
            "Main St",
            "fp_7Hc",
            "dev-9",
            "203.0.113",
            "ord-de-1",
            "o-42",
            "\"de-1\"",
            "\"de-2\"",
            "ring of",
        ] {
            assert!(!everything.contains(personal), "{personal} in {everything}");
        }
        s.finish().await;
    }
}
