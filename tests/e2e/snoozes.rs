//! Rule snoozes through the API: a reviewer silences a rule for one customer, the next
//! decision for that customer records the rule as snoozed and does not count it (another
//! customer's still does), a replay of the snoozed decision reproduces it, and a revocation
//! makes the rule count again.

use chrono::Utc;
use serde_json::{Value, json};

use crate::backtests::support::backtest;
use crate::feedback::{challenged_body, decide};
use crate::harness::{TestServer, backends, detail, problem};

/// The bundled rule the challenged body trips.
const RULE: &str = "proxy_high_value";

#[tokio::test]
async fn a_snoozed_rule_stops_counting_for_that_customer_until_revoked() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let from = Utc::now() - chrono::Duration::minutes(1);
        let first = decide(&s, &challenged_body("snz-1", "snz-user")).await;
        assert_eq!(first["action"], "challenge", "{first}");

        let body = json!({"rule": RULE, "kind": "user", "value": "snz-user",
            "reason": "travels with a VPN; verified by phone", "days": 30});
        let r = s.post("/v1/snoozes", &reviewer, &body).await;
        assert_eq!(r.status(), 201);
        let snooze: Value = r.json().await.expect("json");
        assert_eq!(snooze["live"], true);
        assert_eq!(snooze["created_by"], "test review");
        let id = snooze["id"].as_str().expect("id").to_owned();

        let quiet = decide(&s, &challenged_body("snz-2", "snz-user")).await;
        assert_eq!(
            quiet["action"], "accept",
            "the snoozed rule does not count: {quiet}"
        );
        let detail_of =
            |d: &Value| format!("/v1/decisions/{}", d["decision_id"].as_str().expect("id"));
        let recorded = s.admin_get(&detail_of(&quiet)).await;
        assert_eq!(recorded["context"]["snoozed_rules"], json!([RULE]));
        let module = recorded["layers"]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|m| m["name"] == RULE)
            .expect("the rule still ran")
            .clone();
        assert_eq!(module["snoozed"], true, "{module}");
        assert_eq!(module["action"], "challenge", "what it said is kept");
        let other = decide(&s, &challenged_body("snz-3", "another-user")).await;
        assert_eq!(other["action"], "challenge", "only that customer's");

        // Replaying the deciding set reproduces the snoozed decision too.
        let policy = s.key(&["policy:write"]).await;
        let run = backtest(
            &s,
            &policy,
            &json!({"candidate": 1, "from": from, "to": Utc::now()}),
        )
        .await;
        assert_eq!(run["result"]["determinism"]["faults"], 0, "{run}");
        assert_eq!(run["result"]["determinism"]["checked"], 3, "{run}");

        let listed: Value = s
            .get("/v1/snoozes?kind=user&value=snz-user", &reviewer)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(listed["items"][0]["id"], id.as_str());

        let r = s
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/snoozes/{id}"),
                &reviewer,
                None,
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["live"], false);
        let again = s
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/snoozes/{id}"),
                &reviewer,
                None,
                None,
            )
            .await;
        assert_eq!(again.status, 200, "revoking twice changes nothing");
        let loud = decide(&s, &challenged_body("snz-4", "snz-user")).await;
        assert_eq!(loud["action"], "challenge", "the rule counts again");
        let live: Value = s
            .get("/v1/snoozes", &reviewer)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(live["items"], json!([]));
        let all: Value = s
            .get("/v1/snoozes?all=true", &reviewer)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(all["items"].as_array().map(Vec::len), Some(1));
        for (act, target) in [("snooze.create", &id), ("snooze.revoke", &id)] {
            let audit = s
                .admin_get(&format!("/v1/audit?action={act}&target={target}"))
                .await;
            assert_eq!(
                audit["items"].as_array().map(Vec::len),
                Some(1),
                "{act}: {audit}"
            );
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn a_snooze_names_a_real_rule_an_entity_a_reason_and_a_bounded_time() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let ok = json!({"rule": RULE, "kind": "user", "value": "u", "reason": "r"});
        for (patch, field) in [
            (json!({"rule": "no_such_rule"}), "rule"),
            (json!({"kind": "planet"}), "kind"),
            (json!({"kind": "ip", "value": "not an ip"}), "value"),
            (json!({"reason": "  "}), "reason"),
            // 501 characters as sent, though fewer once trimmed: the schema's bound.
            (json!({"reason": format!("r{}", " ".repeat(500))}), "reason"),
            (json!({"days": 0}), "days"),
            (json!({"days": 366}), "days"),
        ] {
            let mut body = ok.clone();
            for (k, v) in patch.as_object().expect("patch") {
                body[k] = v.clone();
            }
            let p = problem(
                s.post("/v1/snoozes", &reviewer, &body).await,
                422,
                "invalid_value",
            )
            .await;
            assert!(detail(&p).contains(&format!("`{field}`")), "{field}: {p}");
        }
        let p = problem(
            s.post(
                "/v1/snoozes",
                &reviewer,
                &json!({"rule": RULE, "kind": "card",
                "value": "4111 1111 1111 1111", "reason": "r"}),
            )
            .await,
            422,
            "raw_card_number",
        )
        .await;
        assert!(detail(&p).contains("value"), "{p}");
        let decide_key = s.key(&["decide"]).await;
        problem(
            s.post("/v1/snoozes", &decide_key, &ok).await,
            403,
            "forbidden",
        )
        .await;
        let nothing: Value = s
            .get("/v1/snoozes?all=true", &reviewer)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(nothing["items"], json!([]), "nothing half-written");
        let missing = s
            .call(
                reqwest::Method::DELETE,
                "/v1/snoozes/snz_nope",
                &reviewer,
                None,
                None,
            )
            .await;
        assert_eq!(
            (missing.status, &missing.body["code"]),
            (404, &json!("not_found"))
        );
        s.finish().await;
    }
}
