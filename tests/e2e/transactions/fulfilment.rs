//! Fulfilment over HTTP: a paid order goes `FULFILLING → FULFILLED → DONE`, `FULFILLED` earns
//! the revenue net of refunds, a repeated step changes nothing, an illegal step is a 409 that
//! changes nothing, a refund after fulfilment reverses revenue, and `arbiter ledger check`
//! stays sound.

use reqwest::Method;
use serde_json::{Value, json};

use super::calls::config;
use super::ledger_cli::ledger_check;
use crate::harness::{Answer, TestServer, backends};

async fn fulfil(s: &TestServer, order_id: &str, body: Value) -> Answer {
    s.call(
        Method::POST,
        &format!("/v1/orders/{order_id}/fulfilment"),
        &s.admin_key,
        None,
        Some(&body),
    )
    .await
}

/// A step that must succeed: the answered order.
async fn step(s: &TestServer, order_id: &str, status: &str) -> Value {
    let a = fulfil(s, order_id, json!({ "status": status })).await;
    assert_eq!(a.status, 200, "{status}: {}", a.body);
    assert_eq!(a.body["status"], status);
    a.body
}

fn trail(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["to"].as_str().map(str::to_owned))
        .collect()
}

/// Requests a refund of `value` USD and has the channel report it succeeded.
async fn refund(s: &TestServer, key: &str, payment: &Value, idempotency: &str, value: &str) {
    let r = s
        .call(
            Method::POST,
            "/v1/refunds",
            key,
            Some(idempotency),
            Some(&json!({"payment_id": payment["id"], "amount": {"value": value, "currency": "USD"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let cri = r.body["channel_refund_id"].as_str().expect("cri");
    let sent = s
        .channel("refunds", cri, json!({"outcome": "succeeded"}))
        .await;
    assert_eq!(sent["attempts"][0]["answer"], "applied", "{sent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_is_fulfilled_and_its_revenue_recognised_once() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        s.sku("MUG-1", "25.00", 10).await;
        let (order, payment) = s.paid_order(&key, "u-1", "MUG-1", 2).await;
        let id = order["id"].as_str().expect("id").to_owned();
        assert_eq!(order["status"], "PAID");
        refund(&s, &key, &payment, "r-before", "5.00").await;

        // Checkout callers cannot fulfil.
        let a = s
            .call(
                Method::POST,
                &format!("/v1/orders/{id}/fulfilment"),
                &key,
                None,
                Some(&json!({"status": "FULFILLING"})),
            )
            .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (403, Some("forbidden"))
        );

        let fulfilling = step(&s, &id, "FULFILLING").await;
        assert_eq!(
            trail(&fulfilling).last().map(String::as_str),
            Some("FULFILLING")
        );
        assert_eq!(
            s.balance("revenue").await,
            "0",
            "nothing earned before FULFILLED"
        );
        // Repeating the step the order is in: 200, no new history row.
        let again = step(&s, &id, "FULFILLING").await;
        assert_eq!(trail(&again), trail(&fulfilling));

        let fulfilled = step(&s, &id, "FULFILLED").await;
        assert_eq!(
            s.balance("revenue").await,
            "-45.00",
            "50.00 captured less 5.00 refunded"
        );
        assert_eq!(s.balance("customer_funds").await, "0.00");
        assert_eq!(s.balance("channel_clearing:card").await, "45.00");
        let again = step(&s, &id, "FULFILLED").await;
        assert_eq!(trail(&again), trail(&fulfilled));
        assert_eq!(s.balance("revenue").await, "-45.00", "no second journal");

        let done = step(&s, &id, "DONE").await;
        assert_eq!(
            trail(&done),
            [
                "CREATING",
                "PENDING_PAYMENT",
                "PAID",
                "FULFILLING",
                "FULFILLED",
                "DONE"
            ]
        );
        assert_eq!(
            s.admin_get(&format!("/v1/orders/{id}")).await["status"],
            "DONE"
        );

        // A return after delivery: the refund comes out of revenue.
        refund(&s, &key, &payment, "r-after", "20.00").await;
        assert_eq!(s.balance("revenue").await, "-25.00");
        assert_eq!(s.balance("customer_funds").await, "0.00");
        assert_eq!(s.balance("channel_clearing:card").await, "25.00");

        let db = s.stop().await;
        let (ok, report, stderr) = ledger_check(&db).await;
        assert!(ok, "ledger check failed: {report} {stderr}");
        assert_eq!(report["sound"], true, "{report}");
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_illegal_or_unknown_step_is_refused_and_changes_nothing() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        s.sku("CUP-1", "8.00", 10).await;
        let unpaid = s.order(&key, "o-unpaid", "u-2", "CUP-1", 1).await;
        assert_eq!(unpaid.status, 201, "{}", unpaid.body);
        let id = unpaid.body["id"].as_str().expect("id").to_owned();
        let before = s.admin_get(&format!("/v1/orders/{id}")).await;
        assert_eq!(before["status"], "PENDING_PAYMENT");

        let a = fulfil(&s, &id, json!({"status": "FULFILLED"})).await;
        assert_eq!(a.status, 409, "{}", a.body);
        assert_eq!(a.body["code"], "illegal_transition");
        assert!(
            a.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("PENDING_PAYMENT"),
            "{}",
            a.body
        );
        let after = s.admin_get(&format!("/v1/orders/{id}")).await;
        assert_eq!(after["status"], "PENDING_PAYMENT");
        assert_eq!(after["history"], before["history"], "no history row");
        assert_eq!(s.balance("revenue").await, "0");

        // Skipping a step on a paid order is refused too.
        let (paid, _) = s.paid_order(&key, "u-3", "CUP-1", 1).await;
        let paid_id = paid["id"].as_str().expect("id");
        let a = fulfil(&s, paid_id, json!({"status": "DONE"})).await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (409, Some("illegal_transition"))
        );

        // Unknown order, a status that is not a fulfilment step, a malformed body.
        let a = fulfil(&s, "ord_missing", json!({"status": "FULFILLING"})).await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (404, Some("not_found")),
            "{}",
            a.body
        );
        for body in [
            json!({"status": "PAID"}),
            json!({"status": "fulfilled"}),
            json!({}),
            json!({"status": "FULFILLING", "note": "x"}),
        ] {
            let a = fulfil(&s, paid_id, body.clone()).await;
            assert_eq!(a.status, 422, "{body}: {}", a.body);
            assert_eq!(a.body["code"], "invalid_value", "{body}: {}", a.body);
        }
        let a = fulfil(&s, paid_id, json!({"status": "PAID"})).await;
        assert!(
            a.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("status"),
            "{}",
            a.body
        );
        assert_eq!(
            s.admin_get(&format!("/v1/orders/{paid_id}")).await["status"],
            "PAID"
        );
        s.finish().await;
    }
}
