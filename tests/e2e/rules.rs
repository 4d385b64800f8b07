//! Rule files through the API: compiled by the server into a module, kept with their text,
//! put in a policy set, shadowed and rolled out like any module; a file with a mistake is
//! refused with its line, column and problem, and nothing is stored.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, decision_body, problem};

/// Three countries and a large amount: rejected by the file; a single analyst's rule.
const GEO_RULES: &str = r#"# Three different countries on one large order: a stolen card pattern.
rule geo_three on order.create, payment.authorize
  when distinct(card.country, ip.country, shipping.country) == 3 and amount >= 1000
  then reject
  reason "rules.geo_three"
  detail "card {card.country}, ip {ip.country}, shipping {shipping.country}, {amount} {currency}"

rule big_new_account
  when account.age_days < 30 and amount > 5000
  then challenge score +10
  reason "rules.big_new_account"
"#;

fn geo_request(id: &str) -> Value {
    let mut v = decision_body(id);
    v["amount"]["value"] = json!("1500.00");
    v["payment"]["card_country"] = json!("NG");
    v["shipping"]["country"] = json!("GB");
    v
}

pub(crate) async fn upload(s: &TestServer, key: &str, name: &str, text: &str) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/v1/rules/{name}/versions")))
        .bearer_auth(key)
        .header("content-type", "text/plain; charset=utf-8")
        .body(text.to_owned())
        .send()
        .await
        .expect("send")
}

pub(crate) async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.expect("json")
}

#[tokio::test]
async fn a_rule_file_is_compiled_stored_with_its_text_shadowed_and_rolled_out() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide", "policy:write", "decisions:read"]).await;

        let r = upload(&s, &key, "geo_rules", GEO_RULES).await;
        assert_eq!(r.status(), 201, "{backend:?}");
        let created = json_of(r).await;
        assert_eq!(
            (created["version"].as_i64(), created["kind"].as_str()),
            (Some(1), Some("rules")),
            "{created}"
        );
        assert_eq!(created["source"], GEO_RULES);
        // The same text again is the same module.
        let r = upload(&s, &key, "geo_rules", GEO_RULES).await;
        assert_eq!(r.status(), 200);
        assert_eq!(json_of(r).await["sha256"], created["sha256"]);
        let shown = json_of(s.get("/v1/rules/geo_rules/versions/1", &key).await).await;
        assert_eq!(shown["source"], GEO_RULES);
        let listed = json_of(s.get("/v1/policies/geo_rules/versions", &key).await).await;
        assert_eq!(listed[0]["kind"], "rules", "{listed}");
        // A bundled module has no rule file to show.
        problem(
            s.get("/v1/rules/geo_mismatch/versions/1", &key).await,
            404,
            "not_found",
        )
        .await;

        // A set of the file alone, shadowed, then live.
        let r = s
            .post(
                "/v1/policy-sets",
                &key,
                &json!({"policies": [{"name": "geo_rules", "version": 1}],
                    "thresholds": {"challenge": 50, "reject": 80}}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let set = json_of(r).await["version"].as_i64().expect("set version");
        let listed = json_of(s.get("/v1/policy-sets?limit=1", &key).await).await;
        assert_eq!(
            (
                listed["items"][0]["version"].as_i64(),
                listed["active"].as_i64(),
                listed["next"].as_i64()
            ),
            (Some(set), Some(1), Some(set)),
            "{listed}"
        );
        let older = json_of(s.get(&format!("/v1/policy-sets?before={set}"), &key).await).await;
        assert_eq!(older["items"][0]["version"], 1, "{older}");
        assert_eq!(older["next"], Value::Null);
        let r = s
            .post(
                "/v1/rollouts",
                &key,
                &json!({"policy_set_version": set, "mode": "shadow"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        // A shadow rollout without a share shadows all traffic.
        let started = json_of(r).await;
        assert_eq!(started["percent"], 100);
        let shadow_id = started["rollout_id"].clone();
        assert!(shadow_id.is_i64(), "{started}");
        let d = json_of(s.post("/v1/decisions", &key, &geo_request("rs-1")).await).await;
        assert_eq!(d["policy_set_version"].as_i64(), Some(1), "{d}");
        let id = d["decision_id"].as_str().expect("id").to_owned();
        let detail = json_of(s.get(&format!("/v1/decisions/{id}"), &key).await).await;
        assert_eq!(detail["shadow"]["policy_set_version"].as_i64(), Some(set));
        assert_eq!(detail["shadow"]["action"], "reject", "{detail}");

        // From shadow to live: the same rollout, audited as going live.
        let r = s
            .post("/v1/rollouts/current/live", &key, &json!({"percent": 100}))
            .await;
        assert_eq!(r.status(), 200);
        let live = json_of(r).await;
        assert_eq!(
            (live["mode"].as_str(), live["percent"].as_i64()),
            (Some("live"), Some(100)),
            "{live}"
        );
        assert_eq!(live["rollout_id"], shadow_id);
        problem(
            s.post("/v1/rollouts/current/live", &key, &json!({"percent": 50}))
                .await,
            409,
            "conflict",
        )
        .await;
        let audit = json_of(s.get("/v1/audit?limit=1", &s.admin_key).await).await;
        assert_eq!(audit["items"][0]["action"], "rollout.go_live", "{audit}");
        let d = json_of(s.post("/v1/decisions", &key, &geo_request("rs-2")).await).await;
        assert_eq!(
            (d["policy_set_version"].as_i64(), d["action"].as_str()),
            (Some(set), Some("reject")),
            "{d}"
        );
        let reason = d["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .find(|r| r["code"] == "rules.geo_three")
            .expect("the file's reason")
            .clone();
        assert_eq!(reason["source"], "geo_rules@1");
        assert_eq!(reason["layer"], "rule");
        assert_eq!(
            reason["detail"], "card NG, ip US, shipping GB, 1500 USD",
            "{reason}"
        );
        // A small order passes the same file.
        let d = json_of(s.post("/v1/decisions", &key, &decision_body("rs-3")).await).await;
        assert_eq!(d["action"], "accept", "{d}");
        s.finish().await;
    }
}

#[tokio::test]
async fn a_rule_file_with_a_mistake_is_refused_with_line_column_and_problem() {
    let s = TestServer::start(&crate::harness::Backend::Sqlite).await;
    let key = s.key(&["policy:write"]).await;

    let typo = "rule geo\n  when card.contry != ip.country\n  then challenge\n  reason \"geo.x\"\n";
    let body = problem(upload(&s, &key, "typo", typo).await, 422, "invalid_rules").await;
    let first = &body["errors"][0];
    assert_eq!(
        (first["line"].as_i64(), first["column"].as_i64()),
        (Some(2), Some(8)),
        "{body}"
    );
    assert_eq!(first["message"], "unknown attribute `card.contry`");
    assert_eq!(first["help"], "did you mean `card.country`?");
    let detail = body["detail"].as_str().expect("detail");
    assert!(
        detail.contains("when card.contry != ip.country"),
        "{detail}"
    );
    assert!(detail.contains("^^^^^^^^^^^"), "{detail}");

    let syntax = "rule a when amount > then reject reason \"a.b\"";
    let body = problem(
        upload(&s, &key, "syntax", syntax).await,
        422,
        "invalid_rules",
    )
    .await;
    assert_eq!(body["errors"][0]["column"].as_i64(), Some(22), "{body}");

    // Nothing was stored for either.
    problem(
        s.get("/v1/policies/typo/versions", &key).await,
        404,
        "not_found",
    )
    .await;
    problem(
        s.get("/v1/policies/syntax/versions", &key).await,
        404,
        "not_found",
    )
    .await;

    // Not text, not UTF-8, no scope.
    let r = s
        .client
        .post(s.url("/v1/rules/a/versions"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("send");
    problem(r, 415, "unsupported_media_type").await;
    let r = s
        .client
        .post(s.url("/v1/rules/a/versions"))
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body(vec![0xff, 0xfe, b'r'])
        .send()
        .await
        .expect("send");
    problem(r, 422, "invalid_value").await;
    let reader = s.key(&["decide"]).await;
    problem(upload(&s, &reader, "a", GEO_RULES).await, 403, "forbidden").await;
    let huge = "#".repeat(300 << 10);
    problem(upload(&s, &key, "a", &huge).await, 413, "payload_too_large").await;
    s.finish().await;
}

#[tokio::test]
async fn authoring_mistakes_get_answers_that_say_what_to_do() {
    let s = TestServer::start(&crate::harness::Backend::Sqlite).await;
    let key = s.key(&["policy:write"]).await;
    // A native library pushed by mistake: over the cap, but the problem is what it is.
    let mut elf = b"\x7fELF".to_vec();
    elf.resize(4_800_000, 0);
    let r = s
        .client
        .post(s.url("/v1/policies/oops/versions"))
        .bearer_auth(&key)
        .header("content-type", "application/wasm")
        .body(elf)
        .send()
        .await
        .expect("send");
    let body = problem(r, 422, "invalid_module").await;
    let detail = body["detail"].as_str().expect("detail");
    assert!(detail.contains("not a WebAssembly file"), "{detail}");
    assert!(detail.contains("arbiter policy build"), "{detail}");
    // A live rollout must name its share.
    let r = s
        .post(
            "/v1/rollouts",
            &key,
            &json!({"policy_set_version": 1, "mode": "live"}),
        )
        .await;
    let body = problem(r, 422, "invalid_value").await;
    assert!(
        body["detail"].as_str().expect("detail").contains("percent"),
        "{body}"
    );
    // Promoting with nothing rolling out says how to start.
    let r = s
        .client
        .post(s.url("/v1/rollouts/current/promote"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("send");
    let body = problem(r, 404, "not_found").await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .starts_with("no rollout in progress to promote; start one with"),
        "{body}"
    );
    s.finish().await;
}
