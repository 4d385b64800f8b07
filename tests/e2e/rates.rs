//! Amounts in a reporting currency and the model score, as rules and policies read them
//! (layout 2.1): a versioned rate table set through the API, every decision recording the
//! converted amount with the rate and version it used, the bundled `new_account_high_value`
//! comparing yen as dollars, replays reading what the decision saw after the rates moved, and
//! a rule file reading the model's score.

use chrono::Utc;
use serde_json::{Value, json};

use crate::backtests::support::backtest;
use crate::harness::{Backend, TestServer, backends, decision_body, problem};
use crate::rules::{json_of, upload};

/// A payment from a one-day-old account.
fn new_account_payment(id: &str, value: &str, currency: &str) -> Value {
    let mut v = decision_body(id);
    v["user"]["id"] = json!(format!("rates-{id}"));
    v["user"]["account_age_days"] = json!(1);
    v["amount"] = json!({"value": value, "currency": currency});
    v
}

async fn decide(s: &TestServer, key: &str, body: &Value) -> Value {
    let r = s.post("/v1/decisions", key, body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let d = json_of(r).await;
    let id = d["decision_id"].as_str().expect("id");
    json_of(s.get(&format!("/v1/decisions/{id}"), key).await).await
}

fn has_reason(d: &Value, code: &str) -> bool {
    d["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .any(|r| r["code"] == code)
}

#[tokio::test]
async fn amounts_are_compared_in_the_reporting_currency_at_the_recorded_rate() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide", "policy:write", "decisions:read"]).await;

        // No table yet: dollars convert at 1, yen not at all.
        let none = json_of(s.get("/v1/rates", &key).await).await;
        assert_eq!(
            (
                none["version"].as_i64(),
                none["reporting_currency"].as_str()
            ),
            (Some(0), Some("USD")),
            "{none}"
        );
        let d = decide(&s, &key, &new_account_payment("r-1", "500000", "JPY")).await;
        assert_eq!(d["context"]["amount"].get("reporting"), None, "{d}");
        assert!(!has_reason(&d, "account.new_high_value"), "{d}");

        // Bad tables are refused naming the field; nothing is stored.
        for (body, code, field) in [
            (
                json!({"reporting_currency": "USD", "rates": {"JPY": "-1"}}),
                "invalid_value",
                "rates.JPY",
            ),
            (
                json!({"reporting_currency": "USD", "rates": {"JPY": "0"}}),
                "invalid_value",
                "rates.JPY",
            ),
            (
                json!({"reporting_currency": "USD", "rates": {"XQQ": "1"}}),
                "unknown_currency",
                "rates.XQQ",
            ),
            (
                json!({"reporting_currency": "ZZZ", "rates": {}}),
                "unknown_currency",
                "reporting_currency",
            ),
        ] {
            let p = problem(s.post("/v1/rates", &key, &body).await, 422, code).await;
            let detail = p["detail"].as_str().expect("detail");
            assert!(detail.contains(&format!("`{field}`")), "{backend:?}: {p}");
        }
        let many: serde_json::Map<String, Value> =
            (0..301).map(|i| (format!("C{i:02}"), json!("1"))).collect();
        let p = problem(
            s.post(
                "/v1/rates",
                &key,
                &json!({"reporting_currency": "USD", "rates": many}),
            )
            .await,
            422,
            "invalid_value",
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .expect("detail")
                .contains("at most 300 rates"),
            "{p}"
        );
        assert_eq!(json_of(s.get("/v1/rates", &key).await).await["version"], 0);

        let table =
            json!({"reporting_currency": "USD", "rates": {"JPY": "0.0067", "EUR": "1.080"}});
        let r = s.post("/v1/rates", &key, &table).await;
        assert_eq!(r.status(), 201);
        let set = json_of(r).await;
        assert_eq!(set["version"], 1);
        assert_eq!(
            set["rates"],
            json!({"EUR": "1.08", "JPY": "0.0067"}),
            "{set}"
        );
        // The same table again changes nothing.
        let r = s.post("/v1/rates", &key, &table).await;
        assert_eq!(r.status(), 200);
        assert_eq!(json_of(r).await["version"], 1);
        let audit = json_of(s.get("/v1/audit?action=rates.set", &s.admin_key).await).await;
        assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
        assert_eq!(audit["items"][0]["target"], "rates@1");

        // JPY 5,000 is 33.50 USD: no longer an "extreme amount".
        let d = decide(&s, &key, &new_account_payment("r-2", "5000", "JPY")).await;
        assert_eq!(
            d["context"]["amount"]["reporting"],
            json!({"value": "33.50", "currency": "USD", "approx": 33.5, "rate": "0.0067",
                "rate_version": 1}),
            "{d}"
        );
        assert!(!has_reason(&d, "account.new_high_value"), "{d}");
        // JPY 500,000 is 3,350 USD: rejected, and the detail says both.
        let big = decide(&s, &key, &new_account_payment("r-3", "500000", "JPY")).await;
        assert_eq!(big["action"], "reject", "{big}");
        let reason = big["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .find(|r| r["code"] == "account.new_high_value")
            .expect("the bundled policy's reason")
            .clone();
        assert_eq!(
            reason["detail"],
            "account 1 days old, amount 500000.00 JPY (3350.00 in the reporting currency)"
        );
        let euros = decide(&s, &key, &new_account_payment("r-4", "600.00", "EUR")).await;
        assert_eq!(euros["context"]["amount"]["reporting"]["value"], "648.00");
        assert_eq!(euros["action"], "challenge", "{euros}");

        // New rates are in force at once; what was decided keeps the rate it used.
        let r = s
            .post(
                "/v1/rates",
                &key,
                &json!({"reporting_currency": "USD", "rates": {"JPY": "0.0001"}}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let cheap = decide(&s, &key, &new_account_payment("r-5", "500000", "JPY")).await;
        assert_eq!(cheap["context"]["amount"]["reporting"]["value"], "50.00");
        assert_eq!(cheap["context"]["amount"]["reporting"]["rate_version"], 2);
        assert!(!has_reason(&cheap, "account.new_high_value"), "{cheap}");
        let again = json_of(
            s.get(
                &format!("/v1/decisions/{}", big["decision_id"].as_str().expect("id")),
                &key,
            )
            .await,
        )
        .await;
        assert_eq!(again["context"]["amount"]["reporting"]["rate_version"], 1);

        // Six tables set at once: the newest is in force, whatever order they finish in.
        let posts: Vec<_> = (1..=6)
            .map(|i| {
                let request = s.client.post(s.url("/v1/rates")).bearer_auth(&key).json(
                    &json!({"reporting_currency": "USD", "rates": {"JPY": format!("0.00{i}")}}),
                );
                tokio::spawn(async move { request.send().await.expect("send").status() })
            })
            .collect();
        for post in posts {
            assert_eq!(post.await.expect("join"), 201);
        }
        let newest = json_of(s.get("/v1/rates", &key).await).await;
        assert_eq!(newest["version"], 8, "{newest}");
        let now = decide(&s, &key, &new_account_payment("r-6", "1000", "JPY")).await;
        assert_eq!(
            now["context"]["amount"]["reporting"]["rate"], newest["rates"]["JPY"],
            "{backend:?}: {now}"
        );
        assert_eq!(now["context"]["amount"]["reporting"]["rate_version"], 8);

        // A replay by the set that decided reproduces every decision, the JPY 500,000 reject
        // included (at today's rate it would pass): replays read the recorded conversion.
        let (from, to) = (
            Utc::now() - chrono::Duration::minutes(5),
            Utc::now() + chrono::Duration::minutes(1),
        );
        let run = backtest(&s, &key, &json!({"candidate": 1, "from": from, "to": to})).await;
        assert_eq!(run["result"]["determinism"]["checked"], 6, "{run}");
        assert_eq!(run["result"]["determinism"]["faults"], 0, "{run}");
        assert_eq!(run["result"]["changed"], 0, "{backend:?}: {run}");
        s.finish().await;
    }
}

/// A rule file reads the model's score: shadowing the bundled set, its reason says the score
/// is missing until a model is active, then quotes the very probability the decision's model
/// layer recorded.
#[tokio::test]
async fn a_rule_reads_the_model_score_the_decision_recorded() {
    let s = TestServer::start(&Backend::Sqlite).await;
    let key = s.key(&["decide", "policy:write", "decisions:read"]).await;
    let rules = "rule model_seen\n  when model.score >= 0\n  then score +1\n  reason \"rules.model_seen\" detail \"model {model.score}\"\n\nrule no_model\n  when model.score is missing\n  then score +1\n  reason \"rules.no_model\"\n";
    let r = upload(&s, &key, "model_rules", rules).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let r = s
        .post(
            "/v1/policy-sets",
            &key,
            &json!({"policies": [{"name": "model_rules", "version": 1}],
                "thresholds": {"challenge": 50, "reject": 80}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let set = json_of(r).await["version"].as_i64().expect("version");
    let r = s
        .post(
            "/v1/rollouts",
            &key,
            &json!({"policy_set_version": set, "mode": "shadow"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let shadow_reason = |d: &Value, code: &str| {
        d["shadow"]["reasons"]
            .as_array()
            .expect("shadow reasons")
            .iter()
            .find(|r| r["code"] == code)
            .cloned()
    };
    // Without a model: missing, and said so.
    let d = decide(&s, &key, &decision_body("m-0")).await;
    assert!(shadow_reason(&d, "rules.no_model").is_some(), "{d}");

    crate::model_loop::labelled_stream(&s, 200).await;
    let version = crate::model_loop::train(&s).await;
    crate::model_loop::activate(&s, version).await;
    let d = decide(&s, &key, &decision_body("m-1")).await;
    let probability = d["layers"]["model"]["probability"]
        .as_f64()
        .expect("the model scored it");
    let reason = shadow_reason(&d, "rules.model_seen").expect("the rule saw a score");
    assert_eq!(reason["detail"], format!("model {probability:.2}"), "{d}");
    assert!(shadow_reason(&d, "rules.no_model").is_none(), "{d}");
    s.finish().await;
}
