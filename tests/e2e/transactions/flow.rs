//! One order end to end: SKU → stock → order (risk asked) → payment → the channel's signed
//! webhook → PAID → ledger → refund → webhook → refund SUCCEEDED → ledger reversed.

use reqwest::Method;
use serde_json::json;

use super::calls::{config, order_body};
use crate::harness::{TestServer, backends};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_paid_and_refunded_through_the_card_channel() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        s.sku("MUG-1", "25.00", 10).await;

        // Checkout callers cannot manage the catalogue.
        let a = s
            .call(Method::GET, "/v1/skus/MUG-1", &key, None, None)
            .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (403, Some("forbidden"))
        );

        // The Idempotency-Key is required and named when missing.
        let a = s
            .call(
                Method::POST,
                "/v1/orders",
                &key,
                None,
                Some(&order_body("u-1", "MUG-1", 2)),
            )
            .await;
        assert_eq!(a.status, 422, "{}", a.body);
        assert_eq!(a.body["code"], "missing_idempotency_key");
        assert!(
            a.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("Idempotency-Key")
        );
        // A client-sent price is refused, never trusted.
        let mut priced = order_body("u-1", "MUG-1", 2);
        priced["price"] = json!({"value": "0.01", "currency": "USD"});
        let a = s
            .call(Method::POST, "/v1/orders", &key, Some("o-x"), Some(&priced))
            .await;
        assert_eq!(a.status, 422, "{}", a.body);

        let order = s.order(&key, "o-1", "u-1", "MUG-1", 2).await;
        assert_eq!(order.status, 201, "{}", order.body);
        let order = order.body;
        let order_id = order["id"].as_str().expect("id").to_owned();
        assert_eq!(order["status"], "PENDING_PAYMENT");
        assert_eq!(order["total"], json!({"value": "50.00", "currency": "USD"}));
        assert_eq!(order["risk"]["action"], "accept");
        let decision_id = order["risk"]["decision_id"].as_str().expect("decision id");
        // The risk decision is a real, logged decision at `order.create` (read by an analyst:
        // the checkout's key cannot read a decision's personal data).
        let analyst = s.key(&["decisions:read"]).await;
        let a = s
            .call(
                Method::GET,
                &format!("/v1/decisions/{decision_id}"),
                &analyst,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["request_id"], format!("{order_id}:order.create"));

        // The same key and body is the same order; another body is a conflict.
        let again = s.order(&key, "o-1", "u-1", "MUG-1", 2).await;
        assert_eq!(again.body["id"], order_id.as_str());
        let other = s.order(&key, "o-1", "u-1", "MUG-1", 3).await;
        assert_eq!(
            (other.status, other.body["code"].as_str()),
            (409, Some("idempotency_conflict"))
        );

        let sku = s.admin_get("/v1/skus/MUG-1").await;
        assert_eq!(
            sku["stock"],
            json!({"total": 10, "reserved": 2, "sold": 0, "available": 8})
        );

        let payment = s.pay(&key, &order_id).await;
        assert_eq!(payment["status"], "PROCESSING");
        assert_eq!(payment["amount"]["value"], "50.00");
        let payment_id = payment["id"].as_str().expect("payment id").to_owned();
        let cpi = payment["channel_payment_id"]
            .as_str()
            .expect("cpi")
            .to_owned();
        assert!(cpi.starts_with("pi_"), "{cpi}");

        let sent = s
            .channel("payments", &cpi, json!({"outcome": "succeeded"}))
            .await;
        assert_eq!(sent["event_type"], "payment_intent.succeeded");
        assert_eq!(
            sent["attempts"],
            json!([{"status": 200, "answer": "applied"}])
        );

        let paid = s.admin_get(&format!("/v1/orders/{order_id}")).await;
        assert_eq!(paid["status"], "PAID");
        let trail: Vec<&str> = paid["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter_map(|h| h["to"].as_str())
            .collect();
        assert_eq!(trail, ["CREATING", "PENDING_PAYMENT", "PAID"]);
        let sku = s.admin_get("/v1/skus/MUG-1").await;
        assert_eq!(
            sku["stock"],
            json!({"total": 10, "reserved": 0, "sold": 2, "available": 8})
        );
        assert_eq!(s.balance("channel_clearing:card").await, "50.00");
        assert_eq!(s.balance("customer_funds").await, "-50.00");

        // A paid order is not cancellable.
        let a = s
            .call(
                Method::POST,
                &format!("/v1/orders/{order_id}/cancel"),
                &key,
                None,
                None,
            )
            .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (409, Some("illegal_transition"))
        );

        // A partial refund, then one that would exceed what is left.
        let refund = s
            .call(Method::POST, "/v1/refunds", &key, Some("r-1"),
                Some(&json!({"payment_id": payment_id, "amount": {"value": "20.00", "currency": "USD"}, "reason": "damaged"})))
            .await;
        assert_eq!(refund.status, 201, "{}", refund.body);
        assert_eq!(refund.body["status"], "PROCESSING");
        let refund_id = refund.body["id"].as_str().expect("refund id").to_owned();
        let cri = refund.body["channel_refund_id"]
            .as_str()
            .expect("cri")
            .to_owned();
        let too_much = s
            .call(Method::POST, "/v1/refunds", &key, Some("r-2"),
                Some(&json!({"payment_id": payment_id, "amount": {"value": "30.01", "currency": "USD"}})))
            .await;
        assert_eq!(
            (too_much.status, too_much.body["code"].as_str()),
            (409, Some("refund_exceeds_capture")),
            "{}",
            too_much.body
        );

        let sent = s
            .channel("refunds", &cri, json!({"outcome": "succeeded"}))
            .await;
        assert_eq!(sent["event_type"], "refund.updated");
        assert_eq!(sent["attempts"][0]["answer"], "applied", "{sent}");
        let refunded = s.admin_get(&format!("/v1/refunds/{refund_id}")).await;
        assert_eq!(refunded["status"], "SUCCEEDED");
        let payment = s.admin_get(&format!("/v1/payments/{payment_id}")).await;
        assert_eq!(payment["status"], "SUCCEEDED");
        assert_eq!(payment["refunds"][0]["status"], "SUCCEEDED");
        assert_eq!(s.balance("channel_clearing:card").await, "30.00");
        assert_eq!(s.balance("customer_funds").await, "-30.00");
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_order_releases_its_stock() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        s.sku("TV-1", "499.00", 3).await;
        let a = s
            .call(
                Method::POST,
                "/v1/lists/entries",
                &s.admin_key,
                None,
                Some(
                    &json!({"list": "block", "kind": "user", "value": "u-fraud", "reason": "ring"}),
                ),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);

        let order = s.order(&key, "o-fraud", "u-fraud", "TV-1", 2).await;
        assert_eq!(order.status, 201, "{}", order.body);
        assert_eq!(order.body["status"], "REJECTED");
        assert_eq!(order.body["risk"]["action"], "reject");
        assert!(order.body["risk"]["decision_id"].is_string());
        let sku = s.admin_get("/v1/skus/TV-1").await;
        assert_eq!(
            sku["stock"],
            json!({"total": 3, "reserved": 0, "sold": 0, "available": 3})
        );
        // A rejected order cannot be paid.
        let id = order.body["id"].as_str().expect("id");
        let a = s
            .call(
                Method::POST,
                &format!("/v1/orders/{id}/payments"),
                &key,
                Some("p-fraud"),
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
