//! Bad input to the transaction core is refused, never decided: an order whose risk hints the
//! risk host would refuse (an IP that is not one) is a 422 naming the field with nothing
//! reserved or stored — it does not reach the fail mode, which would let a block-listed user
//! through — and a SKU priced at zero or below is refused at the catalogue.

use reqwest::Method;
use serde_json::{Value, json};

use super::calls::{config, order_body};
use crate::harness::{TestServer, backends, detail};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_with_invalid_risk_hints_is_refused_before_anything_is_written() {
    for backend in backends() {
        // The default fail mode of `order.create` is open: a risk-host fault accepts.
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        s.sku("TV-1", "300.00", 5).await;
        let a = s
            .call(
                Method::POST,
                "/v1/lists/entries",
                &s.admin_key,
                None,
                Some(&json!({"list": "block", "kind": "user", "value": "mallory",
                    "reason": "chargebacks"})),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);

        for (field, patch) in [
            ("ip", json!({"ip": "not-an-ip"})),
            ("ip", json!({"ip": ""})),
            ("user", json!({"user": "   "})),
        ] {
            let mut body = order_body("mallory", "TV-1", 1);
            for (k, v) in patch.as_object().expect("patch") {
                body[k] = v.clone();
            }
            let a = s
                .call(Method::POST, "/v1/orders", &key, Some("o-bad"), Some(&body))
                .await;
            assert_eq!(
                (a.status, a.body["code"].as_str()),
                (422, Some("invalid_value")),
                "{patch}: {}",
                a.body
            );
            let detail = detail(&a.body);
            assert!(detail.contains(&format!("`{field}`")), "{patch}: {detail}");
            // Nothing half-written: no unit reserved, no order behind the key, no event.
            let sku = s.admin_get("/v1/skus/TV-1").await;
            assert_eq!(
                sku["stock"],
                json!({"total": 5, "reserved": 0, "sold": 0, "available": 5}),
                "{patch}"
            );
            let events = s.admin_get("/v1/events?after=0").await;
            assert_eq!(events["events"], json!([]), "{patch}: {events}");
        }
        // The key was never claimed: the same key with a valid body makes the order, and the
        // block list decides it.
        let a = s.order(&key, "o-bad", "mallory", "TV-1", 1).await;
        assert_eq!(a.status, 201, "{}", a.body);
        assert_eq!(a.body["status"], "REJECTED", "{}", a.body);
        assert_eq!(a.body["risk"]["action"], "reject");
        assert_eq!(a.body["risk"]["fail_mode"], Value::Null);
        // Not a block-listed user with a bad IP either: bad input is never waved through.
        let mut body = order_body("u-ok", "TV-1", 1);
        body["ip"] = json!("999.1.1.1");
        let a = s
            .call(Method::POST, "/v1/orders", &key, Some("o-ok"), Some(&body))
            .await;
        assert_eq!(a.status, 422, "{}", a.body);
        assert_eq!(s.admin_get("/v1/skus/TV-1").await["stock"]["reserved"], 0);
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_and_negative_prices_are_refused_at_the_catalogue() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        for value in ["0", "0.00", "-0.00", "-1.00"] {
            let a = s
                .call(
                    Method::POST,
                    "/v1/skus",
                    &s.admin_key,
                    None,
                    Some(&json!({"sku": "FREE-1", "title": "Free",
                        "price": {"value": value, "currency": "USD"}})),
                )
                .await;
            assert_eq!(a.status, 422, "{value}: {}", a.body);
            let detail = detail(&a.body);
            assert!(detail.contains("price.value"), "{value}: {detail}");
        }
        let a = s
            .call(Method::GET, "/v1/skus/FREE-1", &s.admin_key, None, None)
            .await;
        assert_eq!(a.status, 404, "nothing stored: {}", a.body);
        // A priced SKU cannot be repriced to zero either.
        s.sku("CUP-1", "4.50", 3).await;
        let a = s
            .call(
                Method::POST,
                "/v1/skus",
                &s.admin_key,
                None,
                Some(&json!({"sku": "CUP-1", "title": "Cup",
                    "price": {"value": "0.00", "currency": "USD"}})),
            )
            .await;
        assert_eq!(a.status, 422, "{}", a.body);
        assert_eq!(
            s.admin_get("/v1/skus/CUP-1").await["price"],
            json!({"value": "4.50", "currency": "USD"})
        );
        s.finish().await;
    }
}
