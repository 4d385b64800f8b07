//! A module compiled from a rule file replays exactly: decisions made by a set of rule files
//! are reproduced one for one by a backtest of that set, and its rules' hits are counted.

use chrono::{Duration, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::support::{backtest, payment};
use crate::harness::{TestServer, backends};

const RULES: &str = r#"
rule young_and_large when account.age_days < 3 and amount > 300
  then reject reason "bt.young_and_large" detail "{account.age_days} days, {amount} {currency}"
rule proxied when ip.is_proxy then score +30 reason "bt.proxied"
rule foreign_ip when ip.country != card.country then score +15 reason "bt.foreign_ip"
"#;

#[tokio::test]
async fn decisions_made_by_a_rule_file_replay_exactly() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide", "policy:write", "decisions:read"]).await;
        let r = s
            .client
            .post(s.url("/v1/rules/history_rules/versions"))
            .bearer_auth(&key)
            .header("content-type", "text/plain")
            .body(RULES)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 201);
        let r = s
            .post(
                "/v1/policy-sets",
                &key,
                &json!({"policies": [{"name": "history_rules", "version": 1}],
                    "thresholds": {"challenge": 40, "reject": 80}}),
            )
            .await;
        let set = r.json::<Value>().await.expect("json")["version"].clone();
        let r = s
            .post(
                "/v1/rollouts",
                &key,
                &json!({"policy_set_version": set, "percent": 100, "mode": "live"}),
            )
            .await;
        assert_eq!(r.status(), 201);

        let from = Utc::now() - Duration::seconds(1);
        let mut rng = StdRng::seed_from_u64(24);
        let (mut fired, n) = (0u64, 60);
        for i in 0..n {
            let (body, _) = payment(i, &mut rng);
            let d: Value = s
                .post("/v1/decisions", &key, &body)
                .await
                .json()
                .await
                .expect("json");
            assert_eq!(d["policy_set_version"], set, "{d}");
            let codes: Vec<&str> = d["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .filter_map(|r| r["code"].as_str())
                .filter(|c| c.starts_with("bt."))
                .collect();
            fired += u64::from(!codes.is_empty());
        }
        assert!(fired > 0, "the history fires the rules");

        let run = backtest(
            &s,
            &key,
            &json!({"from": from, "to": Utc::now(), "candidate": set}),
        )
        .await;
        assert_eq!(run["status"], "succeeded", "{backend:?}: {run}");
        let result = &run["result"];
        assert_eq!(result["coverage"]["replayed"], n as u64);
        assert_eq!(
            result["determinism"]["checked"], n as u64,
            "{backend:?}: {result}"
        );
        assert_eq!(
            result["determinism"]["faults"], 0,
            "{}",
            result["determinism"]
        );
        assert_eq!(result["changed"], 0, "{backend:?}: {result}");
        assert_eq!(
            result["rules"]["history_rules"]["hits"], fired,
            "{}",
            result["rules"]
        );
        s.finish().await;
    }
}
