//! Every bad input gets a problem+json 4xx naming the problem, and leaves nothing behind.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, decision_body, problem};

/// Applies `change` to a valid body.
fn with(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = decision_body("bad-1");
    change(&mut v);
    serde_json::to_vec(&v).expect("json")
}

#[tokio::test]
async fn bad_decision_requests_are_refused_with_the_field_named() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide"]).await;
        let cases: Vec<(Vec<u8>, u16, &str, &str)> = vec![
            (b"{\"request_id\": ".to_vec(), 400, "invalid_json", "JSON"),
            (
                with(|v| {
                    v.as_object_mut().expect("obj").remove("event");
                }),
                422,
                "missing_field",
                "`event`",
            ),
            (
                with(|v| {
                    v["user"].as_object_mut().expect("obj").remove("id");
                }),
                422,
                "missing_field",
                "`user.id`",
            ),
            (
                with(|v| {
                    v.as_object_mut().expect("obj").remove("amount");
                }),
                422,
                "missing_field",
                "`amount`",
            ),
            (
                with(|v| v["user"]["account_age_days"] = json!("old")),
                422,
                "invalid_type",
                "`user.account_age_days`",
            ),
            (
                with(|v| v["amount"]["value"] = json!("-5.00")),
                422,
                "negative_amount",
                "`amount.value`",
            ),
            (
                with(|v| v["amount"]["value"] = json!(129.99)),
                422,
                "amount_not_string",
                "`amount.value`",
            ),
            (
                with(|v| v["amount"]["currency"] = json!("XXQ")),
                422,
                "unknown_currency",
                "`amount.currency`",
            ),
            (
                with(|v| v["amount"]["value"] = json!("1.999")),
                422,
                "too_many_decimals",
                "USD allows at most 2",
            ),
            (
                with(|v| v["amount"] = json!({"value": "100.5", "currency": "JPY"})),
                422,
                "too_many_decimals",
                "JPY allows at most 0",
            ),
            (
                with(|v| v["event"] = json!("payment.capture")),
                422,
                "unknown_event",
                "`payment.capture`",
            ),
            (
                with(|v| v["device"]["ip"] = json!("300.1.1.1")),
                422,
                "invalid_value",
                "`device.ip`",
            ),
            (
                with(|v| v["payment"]["pan"] = json!("x")),
                422,
                "unknown_field",
                "`payment.pan`",
            ),
            (
                with(|v| v["attributes"]["note"] = json!("4111-1111-1111-1111")),
                422,
                "raw_card_number",
                "card",
            ),
            (
                with(|v| v["payment"]["card_fingerprint"] = json!("4242424242424242")),
                422,
                "raw_card_number",
                "card",
            ),
        ];
        for (body, status, code, needle) in cases {
            let v = problem(s.post_raw("/v1/decisions", &key, body).await, status, code).await;
            let detail = v["detail"].as_str().expect("detail");
            assert!(detail.contains(needle), "{backend:?} {code}: {detail}");
        }
        // JPY with no decimals is fine.
        let ok = with(|v| v["amount"] = json!({"value": "1500", "currency": "JPY"}));
        let r = s.post_raw("/v1/decisions", &key, ok).await;
        assert_eq!(r.status(), 200);
        let d: Value = r.json().await.expect("json");
        // Nothing was written by the refused attempts: `bad-1` was still free.
        assert_eq!(d["request_id"], "bad-1");
        s.finish().await;
    }
}

#[tokio::test]
async fn oversized_body_gets_413() {
    let s = TestServer::start(&crate::harness::Backend::Sqlite).await;
    let big = with(|v| v["attributes"]["blob"] = json!("x".repeat(70 * 1024)));
    problem(
        s.post_raw("/v1/decisions", &s.admin_key, big).await,
        413,
        "payload_too_large",
    )
    .await;
    s.finish().await;
}

#[tokio::test]
async fn missing_invalid_and_underscoped_keys_are_refused() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let r = s
            .client
            .post(s.url("/v1/decisions"))
            .json(&decision_body("k-1"))
            .send()
            .await
            .expect("send");
        problem(r, 401, "unauthorized").await;
        let r = s
            .post("/v1/decisions", "arb_not-a-real-key", &decision_body("k-1"))
            .await;
        problem(r, 401, "unauthorized").await;
        let label_only = s.key(&["label:write"]).await;
        let v = problem(
            s.post("/v1/decisions", &label_only, &decision_body("k-1"))
                .await,
            403,
            "forbidden",
        )
        .await;
        assert!(v["detail"].as_str().expect("detail").contains("`decide`"));
        let decide = s.key(&["decide"]).await;
        let r = s
            .post(
                "/v1/lists/entries",
                &decide,
                &json!({"list": "block", "kind": "user", "value": "u"}),
            )
            .await;
        problem(r, 403, "forbidden").await;
        problem(
            s.get("/v1/decisions/dec_nope", &decide).await,
            403,
            "forbidden",
        )
        .await;
        let reader = s.key(&["decisions:read"]).await;
        problem(
            s.get("/v1/decisions/dec_nope", &reader).await,
            404,
            "not_found",
        )
        .await;
        s.finish().await;
    }
}
