//! The outbox feed over HTTP: a consumer paging `GET /v1/events` by `next_after` while orders
//! are paid and fulfilled concurrently sees each event once, each order's in the order its
//! steps happened; bad parameters are 400s naming the parameter.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::calls::config;
use crate::harness::{TestServer, backends, detail, problem};

/// What one order leaves in the feed, in order.
const ORDER_TOPICS: [&str; 6] = [
    "order.pending_payment",
    "payment.succeeded",
    "order.paid",
    "order.fulfilling",
    "order.fulfilled",
    "order.done",
];

/// Pages from `after` with `limit` until `want` events are seen (an event shows once its
/// change has committed, and on PostgreSQL once older transactions on the server have ended).
async fn consume(s: &TestServer, mut after: i64, limit: u32, want: usize) -> (Vec<Value>, i64) {
    let started = Instant::now();
    let mut seen = Vec::new();
    while seen.len() < want && started.elapsed() < Duration::from_secs(60) {
        let page = s
            .admin_get(&format!("/v1/events?after={after}&limit={limit}"))
            .await;
        let events = page["events"].as_array().expect("events").clone();
        assert!(events.len() <= limit as usize);
        let next = page["next_after"].as_i64().expect("next_after");
        match events.last() {
            Some(last) => assert_eq!(last["id"].as_i64(), Some(next)),
            None => {
                assert_eq!(next, after, "an empty page keeps the position");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        after = next;
        seen.extend(events);
    }
    (seen, after)
}

/// Pays and fulfils one order of `sku` for `user`; returns its id.
async fn order_to_done(s: &TestServer, key: &str, user: &str, sku: &str) -> String {
    let (order, _) = s.paid_order(key, user, sku, 1).await;
    let id = order["id"].as_str().expect("id").to_owned();
    for status in ["FULFILLING", "FULFILLED", "DONE"] {
        let a = s
            .call(
                Method::POST,
                &format!("/v1/orders/{id}/fulfilment"),
                &s.admin_key,
                None,
                Some(&json!({ "status": status })),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_sees_every_event_once_and_each_order_in_order() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        s.sku("BOX-1", "4.00", 100).await;
        let empty = s.admin_get("/v1/events").await;
        assert_eq!(
            empty,
            json!({"events": [], "next_after": 0, "starts_after": 0})
        );

        const ORDERS: usize = 4;
        let want = ORDERS * ORDER_TOPICS.len();
        // Four orders paid and fulfilled at once while the consumer pages.
        let (a, b, c, d, (seen, _)) = tokio::join!(
            order_to_done(&s, &key, "u-a", "BOX-1"),
            order_to_done(&s, &key, "u-b", "BOX-1"),
            order_to_done(&s, &key, "u-c", "BOX-1"),
            order_to_done(&s, &key, "u-d", "BOX-1"),
            consume(&s, 0, 4, want),
        );
        let ids = [a, b, c, d];
        assert_eq!(seen.len(), want, "every event, once: {seen:#?}");
        let mut unique: Vec<i64> = seen.iter().filter_map(|e| e["id"].as_i64()).collect();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), want, "no event twice");

        let mut per_order: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in &seen {
            assert!(e["created_at"].is_string(), "{e}");
            let order = e["payload"]["order_id"].as_str().expect("order_id");
            per_order
                .entry(order.to_owned())
                .or_default()
                .push(e["topic"].as_str().expect("topic").to_owned());
        }
        assert_eq!(per_order.len(), ORDERS);
        for id in &ids {
            assert_eq!(per_order[id], ORDER_TOPICS, "order {id}'s events in order");
        }

        // Nothing more, and a page from the middle repeats nothing before it.
        let last = seen[want - 1]["id"].as_i64().expect("id");
        assert_eq!(
            s.admin_get(&format!("/v1/events?after={last}")).await["events"],
            json!([])
        );
        let middle = seen[9]["id"].as_i64().expect("id");
        let rest = s
            .admin_get(&format!("/v1/events?after={middle}&limit=1000"))
            .await;
        assert_eq!(rest["events"].as_array().expect("events")[..], seen[10..]);
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400s_naming_the_parameter() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        for (query, param) in [
            ("after=abc", "after"),
            ("after=-1", "after"),
            ("after=1.5", "after"),
            ("after=999999", "after"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=ten", "limit"),
            ("limit=-5", "limit"),
            ("limt=5", "limt"),
            ("limit=5&limit=6", "limit"),
        ] {
            let a = s
                .call(
                    Method::GET,
                    &format!("/v1/events?{query}"),
                    &s.admin_key,
                    None,
                    None,
                )
                .await;
            assert_eq!(a.status, 400, "{query}: {}", a.body);
            assert_eq!(a.body["code"], "invalid_query", "{query}: {}", a.body);
            let detail = detail(&a.body);
            assert!(detail.contains(&format!("`{param}`")), "{query}: {detail}");
        }
        let a = s
            .call(
                Method::GET,
                "/v1/events?limit=1000&after=0",
                &s.admin_key,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let a = s.call(Method::GET, "/v1/events", &key, None, None).await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (403, Some("forbidden"))
        );
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_events_are_deleted_and_a_consumer_behind_them_is_told_where_the_feed_starts() {
    for backend in backends() {
        // Events older than 5 s go (no relay: by age alone), checked every 1.25 s; the test
        // reads each order's events well within that.
        let s =
            TestServer::start_configured(&backend, |c| c.relay.outbox_retention_secs = 5, config())
                .await;
        let key = s.checkout_key().await;
        s.sku("BOX-1", "4.00", 100).await;
        let (order, _) = s.paid_order(&key, "u-old", "BOX-1", 1).await;
        let (first, _) = consume(&s, 0, 100, 3).await;
        let first_id = first[0]["id"].as_i64().expect("id");
        let last_id = first.last().expect("events")["id"].as_i64().expect("id");
        assert_eq!(first[0]["payload"]["order_id"], order["id"]);

        // Retention deletes them; the feed says where it starts now.
        let started = Instant::now();
        let page = loop {
            let page = s.admin_get("/v1/events?after=0").await;
            if page["starts_after"].as_i64() >= Some(last_id) {
                break page;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{page}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(page["events"], json!([]), "{page}");
        let start = page["starts_after"].as_i64().expect("starts_after");

        // A consumer at the start reads on; one behind it is told its events expired.
        let at_start = s.admin_get(&format!("/v1/events?after={start}")).await;
        assert_eq!(at_start["next_after"], start);
        let behind = s
            .get(&format!("/v1/events?after={first_id}"), &s.admin_key)
            .await;
        let gone = problem(behind, 410, "events_expired").await;
        assert!(
            detail(&gone).contains(&format!("starts after `{start}`")),
            "{gone}"
        );

        // New events follow where the feed starts.
        s.paid_order(&key, "u-new", "BOX-1", 1).await;
        let (fresh, _) = consume(&s, start, 100, 3).await;
        assert!(fresh.len() >= 3, "{fresh:?}");
        s.finish().await;
    }
}
