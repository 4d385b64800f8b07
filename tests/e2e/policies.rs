//! Policy modules, sets and rollouts through the API, with the real runtime and the bundled
//! example components.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, decision_body, problem};

/// A request the `geo_mismatch` example scores 60 (three countries, amount over 1000).
fn geo_request(id: &str, user: &str) -> Value {
    let mut v = decision_body(id);
    v["user"]["id"] = json!(user);
    v["amount"]["value"] = json!("1500.00");
    v["payment"]["card_country"] = json!("NG");
    v["shipping"]["country"] = json!("GB");
    v
}

fn geo_wasm() -> Vec<u8> {
    arbiter_runtime::bundled::find("geo_mismatch")
        .expect("bundled geo_mismatch")
        .component
        .to_vec()
}

async fn upload(s: &TestServer, key: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/v1/policies/{name}/versions")))
        .bearer_auth(key)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .expect("send")
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.expect("json")
}

#[tokio::test]
async fn a_fresh_service_decides_with_the_bundled_examples() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide", "policy:write", "decisions:read"]).await;
        let mods = json_of(s.get("/v1/policies", &key).await).await;
        assert_eq!(
            mods.as_array().map(Vec::len),
            Some(6),
            "{backend:?}: {mods}"
        );
        let set = json_of(s.get("/v1/policy-sets/1", &key).await).await;
        assert_eq!(set["policies"].as_array().map(Vec::len), Some(6));
        let d = json_of(
            s.post("/v1/decisions", &key, &geo_request("g-1", "u-1"))
                .await,
        )
        .await;
        assert_eq!(d["action"], "challenge", "{d}");
        let geo = d["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .find(|r| r["code"] == "geo.mismatch")
            .expect("geo reason")
            .clone();
        assert_eq!(geo["layer"], "rule");
        assert_eq!(geo["source"], "geo_mismatch@1");
        // The per-module results are on the stored decision, with fuel used.
        let detail = json_of(
            s.get(
                &format!("/v1/decisions/{}", d["decision_id"].as_str().expect("id")),
                &key,
            )
            .await,
        )
        .await;
        let rules = detail["layers"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 6);
        assert!(
            rules
                .iter()
                .all(|r| r["fuel_used"].as_u64().expect("fuel") > 0 && r["fault"].is_null())
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn uploads_are_validated_versioned_and_content_addressed() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["policy:write"]).await;
        let r = upload(&s, &key, "geo", geo_wasm()).await;
        assert_eq!(r.status(), 201, "{backend:?}");
        let first = json_of(r).await;
        assert_eq!(
            (first["name"].as_str(), first["version"].as_i64()),
            (Some("geo"), Some(1))
        );
        assert_eq!(first["sha256"].as_str().map(str::len), Some(64));
        let again = upload(&s, &key, "geo", geo_wasm()).await;
        assert_eq!(again.status(), 200);
        assert_eq!(json_of(again).await["version"], 1);
        let other = arbiter_runtime::bundled::find("card_testing")
            .expect("bundled")
            .component
            .to_vec();
        assert_eq!(
            json_of(upload(&s, &key, "geo", other).await).await["version"],
            2
        );

        let v = problem(
            upload(&s, &key, "bad", b"\0asm garbage".to_vec()).await,
            422,
            "invalid_module",
        )
        .await;
        assert!(
            v["detail"].as_str().expect("detail").contains("module"),
            "{v}"
        );
        problem(
            upload(&s, &key, "Bad Name", geo_wasm()).await,
            422,
            "invalid_value",
        )
        .await;
        let r = s
            .client
            .post(s.url("/v1/policies/geo/versions"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        problem(r, 415, "unsupported_media_type").await;
        let versions = json_of(s.get("/v1/policies/geo/versions", &key).await).await;
        assert_eq!(versions.as_array().map(Vec::len), Some(2));
        problem(
            s.get("/v1/policies/bad/versions", &key).await,
            404,
            "not_found",
        )
        .await;
        let decide_only = s.key(&["decide"]).await;
        problem(
            upload(&s, &decide_only, "geo", geo_wasm()).await,
            403,
            "forbidden",
        )
        .await;
        s.finish().await;
    }
}

#[tokio::test]
async fn rollout_live_shadow_promote_rollback_and_audit() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide", "policy:write", "decisions:read"]).await;
        // Set 2: the geo example alone with low thresholds, so geo requests are rejected.
        let r = s
            .post(
                "/v1/policy-sets",
                &key,
                &json!({"policies": [{"name": "geo_mismatch", "version": 1}],
            "thresholds": {"challenge": 1, "reject": 2}}),
            )
            .await;
        assert_eq!(r.status(), 201, "{backend:?}");
        assert_eq!(json_of(r).await["version"], 2);
        problem(
            s.post(
                "/v1/policy-sets",
                &key,
                &json!({"policies": [{"name": "nope", "version": 1}],
            "thresholds": {"challenge": 1, "reject": 2}}),
            )
            .await,
            422,
            "invalid_value",
        )
        .await;
        problem(
            s.post(
                "/v1/policy-sets",
                &key,
                &json!({"policies": [],
            "thresholds": {"challenge": 50, "reject": 2}}),
            )
            .await,
            422,
            "invalid_value",
        )
        .await;

        // Shadow: set 1 decides, set 2 is recorded.
        let r = s
            .post(
                "/v1/rollouts",
                &key,
                &json!({"policy_set_version": 2, "percent": 100, "mode": "shadow"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        problem(
            s.post(
                "/v1/rollouts",
                &key,
                &json!({"policy_set_version": 2, "percent": 10}),
            )
            .await,
            409,
            "conflict",
        )
        .await;
        let d = json_of(
            s.post("/v1/decisions", &key, &geo_request("sh-1", "u-1"))
                .await,
        )
        .await;
        assert_eq!(
            (d["policy_set_version"].as_i64(), d["action"].as_str()),
            (Some(1), Some("challenge"))
        );
        let detail = json_of(
            s.get(
                &format!("/v1/decisions/{}", d["decision_id"].as_str().expect("id")),
                &key,
            )
            .await,
        )
        .await;
        assert_eq!(detail["shadow"]["policy_set_version"], 2);
        let r = s
            .client
            .post(s.url("/v1/rollouts/current/rollback"))
            .bearer_auth(&key)
            .body(r#"{"reason": "looked enough"}"#)
            .send()
            .await
            .expect("send");
        assert_eq!(json_of(r).await["candidate"], Value::Null);

        // Live at 100 %: set 2 decides, then promote.
        let r = s
            .post(
                "/v1/rollouts",
                &key,
                &json!({"policy_set_version": 2, "percent": 100, "mode": "live"}),
            )
            .await;
        let cur = json_of(r).await;
        assert_eq!(
            (
                cur["stable"].as_i64(),
                cur["candidate"].as_i64(),
                cur["mode"].as_str()
            ),
            (Some(1), Some(2), Some("live"))
        );
        let d = json_of(
            s.post("/v1/decisions", &key, &geo_request("lv-1", "u-2"))
                .await,
        )
        .await;
        assert_eq!(
            (d["policy_set_version"].as_i64(), d["action"].as_str()),
            (Some(2), Some("reject"))
        );
        let r = s
            .client
            .post(s.url("/v1/rollouts/current/promote"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("send");
        assert_eq!(json_of(r).await["stable"], 2);
        let r = s
            .client
            .post(s.url("/v1/rollouts/current/promote"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("send");
        let body = problem(r, 404, "not_found").await;
        assert_eq!(
            body["detail"],
            "no rollout in progress to promote; start one with `POST /v1/rollouts` \
             (`arbiter rollout start --set N`)"
        );

        let audit = json_of(s.get("/v1/audit?limit=5", &s.admin_key).await).await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .expect("audit")
            .iter()
            .map(|e| e["action"].as_str().expect("action"))
            .collect();
        assert_eq!(
            actions,
            [
                "rollout.promote",
                "rollout.start",
                "rollout.rollback",
                "rollout.start",
                "policy_set.create"
            ]
        );
        let name = "test decide policy:write decisions:read";
        assert_eq!(audit["items"][0]["actor"], name, "the key's name");
        assert!(
            audit["items"][0]["actor_id"]
                .as_str()
                .expect("actor id")
                .starts_with("key_")
        );
        assert!(audit["next"].is_i64(), "a full page points to the next");
        s.finish().await;
    }
}

#[tokio::test]
async fn shadow_results_are_stored_on_the_decision() {
    let s = TestServer::start(&crate::harness::Backend::Sqlite).await;
    let key = s.key(&["decide", "policy:write", "decisions:read"]).await;
    s.post(
        "/v1/policy-sets",
        &key,
        &json!({"policies": [{"name": "geo_mismatch", "version": 1}],
        "thresholds": {"challenge": 1, "reject": 2}}),
    )
    .await;
    s.post(
        "/v1/rollouts",
        &key,
        &json!({"policy_set_version": 2, "percent": 100, "mode": "shadow"}),
    )
    .await;
    let d = json_of(
        s.post("/v1/decisions", &key, &geo_request("sh-2", "u-1"))
            .await,
    )
    .await;
    let detail = json_of(
        s.get(
            &format!("/v1/decisions/{}", d["decision_id"].as_str().expect("id")),
            &key,
        )
        .await,
    )
    .await;
    assert_eq!(detail["shadow"]["policy_set_version"], 2, "{detail}");
    assert_eq!(detail["shadow"]["action"], "reject");
    assert_eq!(detail["rollout"]["arm"], "stable");
    s.finish().await;
}

#[tokio::test]
async fn a_tripped_guard_rolls_back_by_itself() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide", "policy:write", "decisions:read"]).await;
        // Set 2 rejects everything (score 0 >= reject threshold 0).
        s.post(
            "/v1/policy-sets",
            &key,
            &json!({"policies": [], "thresholds": {"challenge": 0, "reject": 0}}),
        )
        .await;
        let r = s
            .post(
                "/v1/rollouts",
                &key,
                &json!({"policy_set_version": 2, "percent": 100, "mode": "live",
            "guard": {"max_reject_rate_increase_pts": 10, "min_decisions": 5}}),
            )
            .await;
        assert_eq!(r.status(), 201, "{backend:?}");
        for i in 0..5 {
            let d = json_of(
                s.post("/v1/decisions", &key, &decision_body(&format!("gd-{i}")))
                    .await,
            )
            .await;
            assert_eq!(d["action"], "reject");
        }
        // The candidate stops deciding at once on this replica.
        let d = json_of(
            s.post("/v1/decisions", &key, &decision_body("gd-next"))
                .await,
        )
        .await;
        assert_eq!(
            (d["policy_set_version"].as_i64(), d["action"].as_str()),
            (Some(1), Some("accept"))
        );
        // The durable rollback and its audit entry follow in the background; wait (bounded).
        let mut audited = None;
        for _ in 0..200 {
            let audit = json_of(s.get("/v1/audit?limit=1", &s.admin_key).await).await;
            if audit["items"][0]["action"] == "rollout.auto_rollback" {
                audited = Some(audit["items"][0].clone());
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let entry =
            audited.unwrap_or_else(|| panic!("{backend:?}: no automatic rollback was recorded"));
        assert_eq!(entry["actor"], "system");
        assert!(
            entry["detail"]["reason"]
                .as_str()
                .expect("reason")
                .contains("reject rate")
        );
        let cur = json_of(s.get("/v1/rollouts/current", &key).await).await;
        assert_eq!(
            (cur["stable"].as_i64(), cur["candidate"].as_i64()),
            (Some(1), None)
        );
        let d = json_of(
            s.post("/v1/decisions", &key, &decision_body("gd-after"))
                .await,
        )
        .await;
        assert_eq!(
            (d["policy_set_version"].as_i64(), d["action"].as_str()),
            (Some(1), Some("accept"))
        );
        s.finish().await;
    }
}
