//! An unpaid order past its TTL is cancelled by the background worker and its stock released.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use super::calls::config;
use crate::harness::{TestServer, backends};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_order_past_its_ttl_is_cancelled_by_the_worker() {
    for backend in backends() {
        let tx = arbiter_host::wiring_transactions::TransactionsConfig {
            order_ttl: Duration::from_secs(1),
            ..config()
        };
        let s = TestServer::start_with_transactions(&backend, tx).await;
        let key = s.checkout_key().await;
        s.sku("HAT-1", "9.99", 2).await;
        let order = s.order(&key, "o-1", "u-1", "HAT-1", 2).await;
        assert_eq!(order.body["status"], "PENDING_PAYMENT", "{}", order.body);
        let id = order.body["id"].as_str().expect("id").to_owned();
        assert_eq!(s.admin_get("/v1/skus/HAT-1").await["stock"]["available"], 0);

        // The worker looks every 100 ms; the order expires after 1 s. Polling, not sleeping a
        // fixed time: the test ends as soon as the worker has acted.
        let deadline = Instant::now() + Duration::from_secs(15);
        let order = loop {
            let order = s.admin_get(&format!("/v1/orders/{id}")).await;
            if order["status"] != "PENDING_PAYMENT" || Instant::now() > deadline {
                break order;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(order["status"], "CANCELLED", "{order}");
        let last = order["history"].as_array().and_then(|h| h.last()).cloned();
        assert_eq!(
            last.as_ref().map(|h| h["note"].clone()),
            Some(json!("reservation expired"))
        );
        let sku = s.admin_get("/v1/skus/HAT-1").await;
        assert_eq!(
            sku["stock"],
            json!({"total": 2, "reserved": 0, "sold": 0, "available": 2})
        );
        // Too late to pay.
        let a = s
            .call(
                Method::POST,
                &format!("/v1/orders/{id}/payments"),
                &key,
                Some("p-1"),
                Some(&json!({"channel": "card"})),
            )
            .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (409, Some("illegal_transition"))
        );
        s.finish().await;
    }
}
