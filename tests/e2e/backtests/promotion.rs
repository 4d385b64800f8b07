//! What stands between a candidate and live traffic: a shadow run's summary, the evidence a
//! promotion needs, and a guarded deployment's backtest and second key.

use std::collections::BTreeMap;

use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::support::{backtest, cell, payment};
use crate::feedback::decide;
use crate::harness::{TestServer, backends, problem};

#[tokio::test]
async fn promotion_needs_evidence_and_a_shadow_run_is_summarised() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["policy:write", "decide", "decisions:read"]).await;
        let set1 = s.admin_get("/v1/policy-sets/1").await;
        // Set 2 switches every rule off; in shadow, it is only recorded.
        let r = s
            .post(
                "/v1/policy-sets",
                &key,
                &json!({"policies": [], "thresholds": set1["thresholds"]}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let start = |version: i64, percent: u8, mode: &str| json!({"policy_set_version": version, "percent": percent, "mode": mode});
        let r = s.post("/v1/rollouts", &key, &start(2, 100, "shadow")).await;
        assert_eq!(r.status(), 201);
        let p = problem(
            s.post("/v1/rollouts/current/promote", &key, &json!({}))
                .await,
            409,
            "unsafe_policy_change",
        )
        .await;
        let detail = p["detail"].as_str().expect("detail");
        assert!(
            detail.contains("no modules") && detail.contains("served no traffic"),
            "{p}"
        );

        // Traffic in shadow: the summary compares the live answers with the recorded shadow
        // ones, decision by decision.
        let mut rng = StdRng::seed_from_u64(11);
        let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
        for i in 0..24 {
            let (body, _) = payment(20_000 + i, &mut rng);
            let d = decide(&s, &body).await;
            let stored = s
                .admin_get(&format!(
                    "/v1/decisions/{}",
                    d["decision_id"].as_str().expect("id")
                ))
                .await;
            let shadow = stored["shadow"]["action"]
                .as_str()
                .expect("shadowed")
                .to_owned();
            *expected
                .entry((
                    stored["action"].as_str().expect("action").to_owned(),
                    shadow,
                ))
                .or_default() += 1;
        }
        let current = s.admin_get("/v1/rollouts/current").await;
        let summary = &current["shadow_summary"];
        assert_eq!(summary["coverage"]["read"], 24, "{backend:?}: {current}");
        assert_eq!(current["shadow_summary_partial"], false);
        for ((b, c), n) in &expected {
            assert_eq!(cell(summary, b, c)["count"], *n, "{backend:?}: {b} -> {c}");
        }
        assert!(
            expected.keys().any(|(b, c)| b != c),
            "{backend:?}: switching the rules off changes some answers: {expected:?}"
        );
        assert_eq!(summary["rules"], json!({}), "an empty set fires no rule");

        // Served traffic is evidence, an empty set still is not: only a forced promotion
        // goes through, and the audit log says what it overrode.
        let p = problem(
            s.post("/v1/rollouts/current/promote", &key, &json!({}))
                .await,
            409,
            "unsafe_policy_change",
        )
        .await;
        assert!(
            !p["detail"]
                .as_str()
                .expect("detail")
                .contains("served no traffic"),
            "{p}"
        );
        // `null` is no body: still refused, not a malformed request.
        problem(
            s.post("/v1/rollouts/current/promote", &key, &Value::Null)
                .await,
            409,
            "unsafe_policy_change",
        )
        .await;
        let r = s
            .post(
                "/v1/rollouts/current/promote",
                &key,
                &json!({"force": true}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let audit = s.admin_get("/v1/audit?action=rollout.promote").await;
        let reason = audit["items"][0]["detail"]["reason"]
            .as_str()
            .expect("reason");
        assert!(
            reason.starts_with("forced: policy set 2 has no modules"),
            "{audit}"
        );

        // A set that served nothing is promoted once a backtest has passed.
        let r = s
            .post(
                "/v1/policy-sets",
                &key,
                &json!({"policies": set1["policies"], "thresholds": set1["thresholds"]}),
            )
            .await;
        let v3 = r.json::<Value>().await.expect("json")["version"]
            .as_i64()
            .expect("version");
        let r = s.post("/v1/rollouts", &key, &start(v3, 0, "live")).await;
        assert_eq!(r.status(), 201);
        problem(
            s.post("/v1/rollouts/current/promote", &key, &json!({}))
                .await,
            409,
            "unsafe_policy_change",
        )
        .await;
        let window = json!({"candidate": v3, "from": Utc::now() - chrono::Duration::hours(1),
            "to": Utc::now()});
        assert_eq!(backtest(&s, &key, &window).await["status"], "succeeded");
        let r = s
            .post("/v1/rollouts/current/promote", &key, &json!({}))
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        s.finish().await;
    }
}

#[tokio::test]
async fn a_guarded_deployment_needs_a_recent_backtest_and_a_second_key() {
    for backend in backends() {
        let s = TestServer::start_with(&backend, |c| {
            c.require_backtest_days = Some(7);
            c.require_approval = true;
        })
        .await;
        let maker = s.key(&["policy:write"]).await;
        let checker = s.key(&["policy:approve"]).await;
        let both = s.key(&["policy:write", "policy:approve"]).await;
        let set1 = s.admin_get("/v1/policy-sets/1").await;
        let r = s
            .post(
                "/v1/policy-sets",
                &maker,
                &json!({"policies": set1["policies"], "thresholds": {"challenge": 30, "reject": 70}}),
            )
            .await;
        let v = r.json::<Value>().await.expect("json")["version"]
            .as_i64()
            .expect("version");
        let live = json!({"policy_set_version": v, "percent": 10, "mode": "live"});
        let p = problem(
            s.post("/v1/rollouts", &maker, &live).await,
            409,
            "activation_guarded",
        )
        .await;
        assert!(
            p["detail"].as_str().expect("detail").contains("backtest"),
            "{p}"
        );
        // Shadow is no live traffic: it needs neither.
        let shadow = json!({"policy_set_version": v, "percent": 100, "mode": "shadow"});
        assert_eq!(s.post("/v1/rollouts", &maker, &shadow).await.status(), 201);
        assert_eq!(
            s.post("/v1/rollouts/current/rollback", &maker, &json!({}))
                .await
                .status(),
            200
        );

        let window = json!({"candidate": v, "from": Utc::now() - chrono::Duration::hours(1),
            "to": Utc::now()});
        assert_eq!(backtest(&s, &maker, &window).await["status"], "succeeded");
        let p = problem(
            s.post("/v1/rollouts", &maker, &live).await,
            409,
            "activation_guarded",
        )
        .await;
        assert!(
            p["detail"].as_str().expect("detail").contains("approval"),
            "{p}"
        );

        let approve = format!("/v1/policy-sets/{v}/approve");
        problem(s.post(&approve, &maker, &json!({})).await, 403, "forbidden").await;
        let r = s
            .post(
                &approve,
                &checker,
                &json!({"note": "backtest bt_… reviewed"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let approvals: Value = r.json().await.expect("json");
        assert_eq!(approvals["approvals"].as_array().map(Vec::len), Some(1));
        let again: Value = s
            .post(&approve, &checker, &json!({}))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(again["approvals"], approvals["approvals"], "once per key");
        // The maker reads who approved, and why.
        let shown: Value = s
            .get(&format!("/v1/policy-sets/{v}/approvals"), &maker)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(shown, approvals, "{shown}");
        assert_eq!(shown["approvals"][0]["note"], "backtest bt_… reviewed");
        problem(
            s.get("/v1/policy-sets/99/approvals", &maker).await,
            404,
            "not_found",
        )
        .await;
        problem(
            s.post("/v1/policy-sets/99/approve", &checker, &json!({}))
                .await,
            404,
            "not_found",
        )
        .await;

        // The approval counts only while its key could still give it.
        let keys = s.admin_get("/v1/keys").await;
        let checker_id = keys
            .as_array()
            .or_else(|| keys["items"].as_array())
            .expect("keys")
            .iter()
            .find(|k| k["name"] == "test policy:approve")
            .expect("the checker's key")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let r = s
            .post(
                &format!("/v1/keys/{checker_id}/revoke"),
                &s.admin_key,
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), 200);
        problem(
            s.post("/v1/rollouts", &maker, &live).await,
            409,
            "activation_guarded",
        )
        .await;
        let lead = s.key(&["policy:approve"]).await;
        assert_eq!(s.post(&approve, &lead, &json!({})).await.status(), 200);
        assert_eq!(s.post("/v1/rollouts", &maker, &live).await.status(), 201);
        // A key's own approval does not let it through: the checker must be someone else.
        s.post(&approve, &both, &json!({})).await;
        let r = s
            .post("/v1/rollouts/current/rollback", &maker, &json!({}))
            .await;
        assert_eq!(r.status(), 200);
        let both_only = s
            .post(
                "/v1/policy-sets",
                &both,
                &json!({"policies": set1["policies"], "thresholds": {"challenge": 31, "reject": 71}}),
            )
            .await
            .json::<Value>()
            .await
            .expect("json")["version"]
            .as_i64()
            .expect("version");
        let w2 = json!({"candidate": both_only, "from": Utc::now() - chrono::Duration::hours(1),
            "to": Utc::now()});
        assert_eq!(backtest(&s, &both, &w2).await["status"], "succeeded");
        s.post(
            &format!("/v1/policy-sets/{both_only}/approve"),
            &both,
            &json!({}),
        )
        .await;
        let own = json!({"policy_set_version": both_only, "percent": 10, "mode": "live"});
        problem(
            s.post("/v1/rollouts", &both, &own).await,
            409,
            "activation_guarded",
        )
        .await;
        assert_eq!(s.post("/v1/rollouts", &maker, &own).await.status(), 201);
        let r = s
            .post("/v1/rollouts/current/promote", &maker, &json!({}))
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());

        let audit = s.admin_get("/v1/audit?action=policy_set.approve").await;
        assert_eq!(audit["items"].as_array().map(Vec::len), Some(4), "{audit}");
        s.finish().await;
    }
}
