//! The decision endpoint: answers, idempotency, replayable detail.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, decision_body};

#[tokio::test]
async fn decides_and_returns_a_replayable_record() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide", "decisions:read"]).await;
        let r = s
            .post("/v1/decisions", &key, &decision_body("chk-0001"))
            .await;
        assert_eq!(r.status(), 200, "{backend:?}");
        assert_eq!(r.headers()["idempotent-replayed"], "false");
        let d: Value = r.json().await.expect("json");
        assert_eq!(d["request_id"], "chk-0001");
        assert!(d["decision_id"].as_str().expect("id").starts_with("dec_"));
        assert_eq!(d["action"], "accept");
        assert_eq!(d["policy_set_version"], 1);
        assert_eq!(d["model_version"], Value::Null);
        assert!(d["created_at"].is_string());

        let id = d["decision_id"].as_str().expect("id");
        let detail: Value = s
            .get(&format!("/v1/decisions/{id}"), &key)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(detail["decision_id"], d["decision_id"]);
        let ctx = &detail["context"];
        assert_eq!(ctx["email"], "ann@example.com");
        assert_eq!(ctx["email_domain"], "example.com");
        assert_eq!(ctx["phone"], "+15551234567");
        assert_eq!(ctx["amount"]["minor_units"], 12999);
        assert_eq!(
            ctx["shipping_address_hash"].as_str().map(str::len),
            Some(64)
        );
        assert!(ctx["velocity"]["user"]["count_1h"].is_number());
        assert!(detail["layers"]["timings"].is_object());
        s.finish().await;
    }
}

#[tokio::test]
async fn same_request_id_same_body_returns_the_stored_decision() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let first: Value = s
            .post("/v1/decisions", &s.admin_key, &decision_body("dup-1"))
            .await
            .json()
            .await
            .expect("json");
        // Same body, keys in another order: same decision.
        let reordered = serde_json::to_vec(&decision_body("dup-1")).expect("json");
        let r = s.post_raw("/v1/decisions", &s.admin_key, reordered).await;
        assert_eq!(r.headers()["idempotent-replayed"], "true");
        let again: Value = r.json().await.expect("json");
        assert_eq!(first["decision_id"], again["decision_id"], "{backend:?}");

        let mut changed = decision_body("dup-1");
        changed["amount"]["value"] = json!("999.00");
        let r = s.post("/v1/decisions", &s.admin_key, &changed).await;
        crate::harness::problem(r, 409, "idempotency_conflict").await;
        s.finish().await;
    }
}

#[tokio::test]
async fn concurrent_duplicates_get_one_decision() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let client = s.client.clone();
            let url = s.url("/v1/decisions");
            let key = s.admin_key.clone();
            tasks.push(tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(key)
                    .json(&decision_body("race-1"))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status(), 200);
                let v: Value = r.json().await.expect("json");
                v["decision_id"].as_str().expect("id").to_owned()
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.expect("task"));
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{backend:?}: {ids:?}");
        s.finish().await;
    }
}

#[tokio::test]
async fn velocity_counts_earlier_decisions_of_the_same_card() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        for i in 0..3 {
            let r = s
                .post(
                    "/v1/decisions",
                    &s.admin_key,
                    &decision_body(&format!("v-{i}")),
                )
                .await;
            assert_eq!(r.status(), 200);
        }
        let d: Value = s
            .post("/v1/decisions", &s.admin_key, &decision_body("v-3"))
            .await
            .json()
            .await
            .expect("json");
        let detail: Value = s
            .get(
                &format!("/v1/decisions/{}", d["decision_id"].as_str().expect("id")),
                &s.admin_key,
            )
            .await
            .json()
            .await
            .expect("json");
        let card = &detail["context"]["velocity"]["card"];
        assert_eq!(card["count_1h"], 3, "{backend:?}");
        assert!((card["sum_1h"].as_f64().expect("sum") - 389.97).abs() < 1e-6);
        s.finish().await;
    }
}
