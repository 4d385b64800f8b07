//! Health, readiness, metrics and the OpenAPI document.

use serde_json::Value;

use crate::harness::{Backend, TestServer, decision_body};

#[tokio::test]
async fn health_ready_and_metrics() {
    let s = TestServer::start(&Backend::Sqlite).await;
    assert_eq!(
        s.client
            .get(s.url("/healthz"))
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
    assert_eq!(
        s.client
            .get(s.url("/readyz"))
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
    let r = s
        .post("/v1/decisions", &s.admin_key, &decision_body("m-1"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let _ = s.post("/v1/decisions", "bad", &decision_body("m-2")).await;
    let text = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    for needle in [
        "arbiter_decisions_total{event=\"payment.authorize\",action=\"accept\"}",
        "arbiter_stage_duration_seconds_bucket{stage=\"lists\"",
        "arbiter_decision_log_batch_size_bucket",
        "arbiter_rejected_requests_total{code=\"unauthorized\"}",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    s.finish().await;
}

#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let s = TestServer::start(&Backend::Sqlite).await;
    let doc: Value = s
        .client
        .get(s.url("/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().expect("item").keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let expected = [
        ("delete", "/v1/backtests/{backtest_id}"),
        ("delete", "/v1/lists/entries/{id}"),
        ("delete", "/v1/models/shadow"),
        ("delete", "/v1/snoozes/{id}"),
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/readyz"),
        ("get", "/v1/audit"),
        ("get", "/v1/backtests"),
        ("get", "/v1/backtests/{backtest_id}"),
        ("get", "/v1/channels"),
        ("get", "/v1/decisions/{decision_id}"),
        ("get", "/v1/events"),
        ("get", "/v1/graph/entities/{kind}/{value}"),
        ("get", "/v1/graph/entities/{kind}/{value}/decisions"),
        ("get", "/v1/keys"),
        ("get", "/v1/labels"),
        ("get", "/v1/ledger/accounts/{name}"),
        ("get", "/v1/lists/entries"),
        ("get", "/v1/models"),
        ("get", "/v1/models/jobs/{job_id}"),
        ("get", "/v1/models/{version}"),
        ("get", "/v1/orders/{id}"),
        ("get", "/v1/payments/{id}"),
        ("get", "/v1/policies"),
        ("get", "/v1/policies/{name}/versions"),
        ("get", "/v1/policy-sets"),
        ("get", "/v1/policy-sets/{version}"),
        ("get", "/v1/policy-sets/{version}/approvals"),
        ("get", "/v1/rates"),
        ("get", "/v1/reconciliation/days"),
        ("get", "/v1/reconciliation/issues"),
        ("get", "/v1/reconciliation/issues/{id}"),
        ("get", "/v1/reconciliation/statements/{id}"),
        ("get", "/v1/refunds/{id}"),
        ("get", "/v1/reports/outcomes"),
        ("get", "/v1/reviews"),
        ("get", "/v1/reviews/{review_id}"),
        ("get", "/v1/rollouts/current"),
        ("get", "/v1/rules/{name}/versions/{version}"),
        ("get", "/v1/skus/{sku}"),
        ("get", "/v1/snoozes"),
        ("get", "/v1/subjects/export"),
        ("post", "/v1/backtests"),
        (
            "post",
            "/v1/channels/alipay/payments/{channel_payment_id}/events",
        ),
        (
            "post",
            "/v1/channels/card/payments/{channel_payment_id}/events",
        ),
        (
            "post",
            "/v1/channels/card/refunds/{channel_refund_id}/events",
        ),
        (
            "post",
            "/v1/channels/wechat/payments/{channel_payment_id}/events",
        ),
        ("post", "/v1/channels/{name}/disable"),
        ("post", "/v1/channels/{name}/enable"),
        ("post", "/v1/channels/{name}/faults"),
        ("post", "/v1/channels/{name}/statement-plants"),
        ("post", "/v1/decisions"),
        ("post", "/v1/keys"),
        ("post", "/v1/keys/{id}/revoke"),
        ("post", "/v1/labels"),
        ("post", "/v1/labels/import"),
        ("post", "/v1/lists/entries"),
        ("post", "/v1/models/train"),
        ("post", "/v1/models/{version}/activate"),
        ("post", "/v1/models/{version}/shadow"),
        ("post", "/v1/orders"),
        ("post", "/v1/orders/{id}/cancel"),
        ("post", "/v1/orders/{id}/fulfilment"),
        ("post", "/v1/orders/{id}/payments"),
        ("post", "/v1/policies/{name}/versions"),
        ("post", "/v1/policy-sets"),
        ("post", "/v1/policy-sets/{version}/approve"),
        ("post", "/v1/rates"),
        ("post", "/v1/reconciliation/issues/{id}/resolve"),
        ("post", "/v1/reconciliation/runs"),
        ("post", "/v1/reconciliation/statements"),
        ("post", "/v1/reconciliation/statements/fetch"),
        ("post", "/v1/refunds"),
        ("post", "/v1/reviews/claim"),
        ("post", "/v1/reviews/{review_id}/claim"),
        ("post", "/v1/reviews/{review_id}/correct"),
        ("post", "/v1/reviews/{review_id}/escalate"),
        ("post", "/v1/reviews/{review_id}/release"),
        ("post", "/v1/reviews/{review_id}/resolve"),
        ("post", "/v1/rollouts"),
        ("post", "/v1/rollouts/current/live"),
        ("post", "/v1/rollouts/current/promote"),
        ("post", "/v1/rollouts/current/rollback"),
        ("post", "/v1/rules/{name}/versions"),
        ("post", "/v1/skus"),
        ("post", "/v1/snoozes"),
        ("post", "/v1/subjects/erase"),
        ("post", "/v1/webhooks/alipay"),
        ("post", "/v1/webhooks/card"),
        ("post", "/v1/webhooks/wechat"),
        ("put", "/v1/skus/{sku}/stock"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);
    // Every documented route is served (answers something other than 404/405 for its method).
    for (method, path) in &documented {
        let url = s.url(
            &path
                .replace("{id}", "x")
                .replace("{decision_id}", "x")
                .replace("{name}", "x")
                .replace("{version}", "x")
                .replace("{kind}", "user")
                .replace("{value}", "x")
                .replace("{review_id}", "x")
                .replace("{job_id}", "x")
                .replace("{sku}", "x")
                .replace("{channel_payment_id}", "x")
                .replace("{channel_refund_id}", "x"),
        );
        let req = s
            .client
            .request(method.to_uppercase().parse().expect("method"), url)
            .bearer_auth(&s.admin_key);
        let r = req.send().await.expect("send");
        let status = r.status().as_u16();
        // A route that does not exist gets axum's bare 404/405; ours answer problem+json.
        let problem = r
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes() == b"application/problem+json");
        assert!(status != 405, "{method} {path} -> {status}");
        assert!(status != 404 || problem, "{method} {path} -> bare 404");
    }
    // The documented example request is accepted as documented.
    let example = &doc["components"]["schemas"]["DecisionRequestDoc"]["example"];
    let r = s.post("/v1/decisions", &s.admin_key, example).await;
    assert_eq!(r.status(), 200, "{example}");
    s.finish().await;
}
