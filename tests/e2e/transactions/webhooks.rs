//! The card webhook over HTTP: forged, stale, unsigned and tampered callbacks are refused with
//! a 4xx and change nothing; one success delivered ten times at once is applied once; a
//! failure arriving after the success (out of order) changes nothing.

use arbiter_transactions::signature::sign;
use reqwest::Method;
use serde_json::{Value, json};

use super::calls::{SECRET, config};
use crate::harness::{TestServer, backends};

/// The `payment_intent.succeeded` body the channel would send for `payment`.
fn success_body(payment: &Value) -> Vec<u8> {
    let now = chrono::Utc::now().timestamp();
    serde_json::to_vec(
        &json!({"id": format!("evt_forged_{now}"), "type": "payment_intent.succeeded",
        "created": now, "data": {"object": {"id": payment["channel_payment_id"], "amount": 1500,
        "currency": "usd", "status": "succeeded"}}}),
    )
    .expect("body")
}

async fn post_webhook(s: &TestServer, signature: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut req = s
        .client
        .post(format!("{}/v1/webhooks/card", s.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(sig) = signature {
        req = req.header("Stripe-Signature", sig);
    }
    let r = req.send().await.expect("send");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_stale_callbacks_change_nothing() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        s.sku("BOOK-1", "15.00", 5).await;
        let order = s.order(&key, "o-1", "u-1", "BOOK-1", 1).await.body;
        let order_id = order["id"].as_str().expect("id").to_owned();
        let payment = s.pay(&key, &order_id).await;
        let body = success_body(&payment);
        let now = chrono::Utc::now().timestamp();

        let forged = sign(b"whsec_not_ours", now, &body);
        let stale = sign(SECRET, now - 6 * 60, &body);
        let future = sign(SECRET, now + 6 * 60, &body);
        let mut tampered = body.clone();
        tampered.extend_from_slice(b" ");
        let good_for_other_body = sign(SECRET, now, &body);
        for (what, sig, raw) in [
            ("forged", Some(forged.as_str()), &body),
            ("stale", Some(stale.as_str()), &body),
            ("future", Some(future.as_str()), &body),
            ("unsigned", None, &body),
            ("garbage header", Some("t=abc"), &body),
            (
                "tampered body",
                Some(good_for_other_body.as_str()),
                &tampered,
            ),
        ] {
            let (status, v) = post_webhook(&s, sig, raw).await;
            assert_eq!(status, 400, "{what}: {v}");
            assert_eq!(v["code"], "invalid_signature", "{what}: {v}");
        }
        // Verified but not an event we know: refused too, before anything is read.
        let junk = br#"{"id":"evt_1","type":"charge.captured"}"#;
        let (status, v) = post_webhook(&s, Some(&sign(SECRET, now, junk)), junk).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (400, Some("malformed_event")),
            "{v}"
        );

        let order = s.admin_get(&format!("/v1/orders/{order_id}")).await;
        assert_eq!(order["status"], "PENDING_PAYMENT");
        let pid = payment["id"].as_str().expect("pid");
        assert_eq!(
            s.admin_get(&format!("/v1/payments/{pid}")).await["status"],
            "PROCESSING"
        );
        assert_eq!(s.balance("channel_clearing:card").await, "0");
        assert_eq!(s.admin_get("/v1/skus/BOOK-1").await["stock"]["sold"], 0);

        // The same body, correctly signed now, applies — and a replay of it is a duplicate.
        let signed = sign(SECRET, now, &body);
        let (status, v) = post_webhook(&s, Some(&signed), &body).await;
        assert_eq!(
            (status, v["verdict"].as_str()),
            (200, Some("applied")),
            "{v}"
        );
        let (status, v) = post_webhook(&s, Some(&signed), &body).await;
        assert_eq!(
            (status, v["verdict"].as_str()),
            (200, Some("duplicate")),
            "{v}"
        );
        assert_eq!(s.balance("channel_clearing:card").await, "15.00");
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_success_delivered_ten_times_at_once_pays_once() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        s.sku("LAMP-1", "40.00", 5).await;
        let order = s.order(&key, "o-1", "u-1", "LAMP-1", 1).await.body;
        let order_id = order["id"].as_str().expect("id").to_owned();
        let payment = s.pay(&key, &order_id).await;
        let cpi = payment["channel_payment_id"].as_str().expect("cpi");

        let sent = s
            .channel(
                "payments",
                cpi,
                json!({"outcome": "succeeded", "times": 10, "concurrent": true}),
            )
            .await;
        let attempts = sent["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len(), 10);
        assert!(attempts.iter().all(|a| a["status"] == 200), "{sent}");
        let applied = attempts.iter().filter(|a| a["answer"] == "applied").count();
        let duplicate = attempts
            .iter()
            .filter(|a| a["answer"] == "duplicate")
            .count();
        assert_eq!((applied, duplicate), (1, 9), "{sent}");

        let order = s.admin_get(&format!("/v1/orders/{order_id}")).await;
        assert_eq!(order["status"], "PAID");
        let paid_rows = order["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter(|h| h["to"] == "PAID")
            .count();
        assert_eq!(paid_rows, 1);
        // One capture journal: the clearing account holds the amount once.
        assert_eq!(s.balance("channel_clearing:card").await, "40.00");
        assert_eq!(s.admin_get("/v1/skus/LAMP-1").await["stock"]["sold"], 1);

        // A failure reported after the success (out of order) changes nothing.
        let sent = s
            .channel("payments", cpi, json!({"outcome": "failed"}))
            .await;
        assert_eq!(sent["attempts"][0]["status"], 200, "{sent}");
        assert_ne!(sent["attempts"][0]["answer"], "applied", "{sent}");
        let pid = payment["id"].as_str().expect("pid");
        assert_eq!(
            s.admin_get(&format!("/v1/payments/{pid}")).await["status"],
            "SUCCEEDED"
        );
        assert_eq!(
            s.admin_get(&format!("/v1/orders/{order_id}")).await["status"],
            "PAID"
        );
        assert_eq!(s.balance("channel_clearing:card").await, "40.00");

        // A slow channel: the delivery waits, and its signature is still fresh.
        let order2 = s.order(&key, "o-2", "u-2", "LAMP-1", 1).await.body;
        let p2 = s.pay(&key, order2["id"].as_str().expect("id")).await;
        let sent = s
            .channel(
                "payments",
                p2["channel_payment_id"].as_str().expect("cpi"),
                json!({"outcome": "failed", "delay_ms": 300}),
            )
            .await;
        assert_eq!(sent["attempts"][0]["answer"], "applied", "{sent}");
        let p2id = p2["id"].as_str().expect("pid");
        assert_eq!(
            s.admin_get(&format!("/v1/payments/{p2id}")).await["status"],
            "FAILED"
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn the_webhook_needs_no_api_key_and_the_trigger_needs_admin() {
    let s = TestServer::start_with_transactions(&crate::harness::Backend::Sqlite, config()).await;
    let key = s.checkout_key().await;
    let a = s
        .call(
            Method::POST,
            "/v1/channels/card/payments/pi_x/events",
            &key,
            None,
            Some(&json!({"outcome": "succeeded"})),
        )
        .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = s
        .call(
            Method::POST,
            "/v1/channels/card/payments/pi_x/events",
            &s.admin_key,
            None,
            Some(&json!({"outcome": "succeeded"})),
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (404, Some("not_found"))
    );
    s.finish().await;
}
