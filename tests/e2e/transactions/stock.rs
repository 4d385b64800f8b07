//! Concurrent orders over HTTP never oversell.

use std::sync::Arc;

use serde_json::json;

use super::calls::config;
use crate::harness::{TestServer, backends};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_orders_for_ten_units_sell_ten() {
    for backend in backends() {
        let s = Arc::new(TestServer::start_with_transactions(&backend, config()).await);
        let key = Arc::new(s.checkout_key().await);
        s.sku("GPU-1", "999.00", 10).await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..100 {
            let (s, key) = (s.clone(), key.clone());
            tasks.spawn(async move {
                let a = s
                    .order(&key, &format!("o-{i}"), &format!("u-{i}"), "GPU-1", 1)
                    .await;
                (
                    a.status,
                    a.body["status"].as_str().map(str::to_owned),
                    a.body["code"].as_str().map(str::to_owned),
                )
            });
        }
        let results = tasks.join_all().await;
        let pending = results
            .iter()
            .filter(|(st, status, _)| *st == 201 && status.as_deref() == Some("PENDING_PAYMENT"))
            .count();
        let out_of_stock = results
            .iter()
            .filter(|(st, _, code)| *st == 409 && code.as_deref() == Some("out_of_stock"))
            .count();
        assert_eq!((pending, out_of_stock), (10, 90), "{results:?}");
        let sku = s.admin_get("/v1/skus/GPU-1").await;
        assert_eq!(
            sku["stock"],
            json!({"total": 10, "reserved": 10, "sold": 0, "available": 0})
        );
        let s = Arc::into_inner(s).expect("no other holders");
        s.finish().await;
    }
}
