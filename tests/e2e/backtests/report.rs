//! Reports against an independent count: a stricter candidate's matrix, confusion and rule
//! hits; the exactness check with a trained model in the loop; refusals that name the field.

use std::collections::BTreeMap;

use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::support::{backtest, cell, payment};
use crate::feedback::decide;
use crate::harness::{TestServer, backends, problem};

/// What the test knows of one stored decision.
struct Known {
    id: String,
    action: String,
    score: f64,
    short_circuited: bool,
    /// Each module's effective action and whether it fired.
    rules: Vec<(String, String, bool)>,
    /// `Some(fraud)` when labelled.
    truth: Option<bool>,
}

const ORDER: [&str; 3] = ["accept", "challenge", "reject"];

fn rank(action: &str) -> usize {
    match action {
        "reject" => 3,
        "challenge" => 2,
        "accept" => 1,
        _ => 0,
    }
}

/// Seeds `n` payments, labels nine in ten, and reads each stored decision back.
async fn history(s: &TestServer, n: usize) -> Vec<Known> {
    let labeller = s.key(&["label:write"]).await;
    let mut rng = StdRng::seed_from_u64(16);
    let mut known = Vec::new();
    for i in 0..n {
        let (body, fraud) = payment(i, &mut rng);
        let d = decide(s, &body).await;
        let id = d["decision_id"].as_str().expect("id").to_owned();
        let labelled = i % 10 != 0;
        if labelled {
            let label = json!({"decision_id": id, "source": "analyst",
                "label": if fraud { "chargeback" } else { "legit" }});
            let r = s.post("/v1/labels", &labeller, &label).await;
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        }
        let stored = s.admin_get(&format!("/v1/decisions/{id}")).await;
        let rules = stored["layers"]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| {
                let faulted = !r["fault"].is_null();
                let action = match (faulted, r["fail_mode"].as_str()) {
                    (false, _) => r["action"].as_str().expect("action").to_owned(),
                    (true, Some("closed")) => "challenge".to_owned(),
                    (true, _) => "none".to_owned(),
                };
                let fired = !faulted
                    && (r["action"] != "none"
                        || r["score"].as_f64() != Some(0.0)
                        || r["reasons"].as_array().is_some_and(|x| !x.is_empty()));
                (r["name"].as_str().expect("name").to_owned(), action, fired)
            })
            .collect();
        known.push(Known {
            id,
            action: stored["action"].as_str().expect("action").to_owned(),
            score: stored["score"].as_f64().expect("score"),
            short_circuited: stored["layers"]["short_circuited"] == true,
            rules,
            truth: labelled.then_some(fraud),
        });
    }
    known
}

/// The candidate's action: the recorded rule verdicts (its modules are the deciding set's,
/// and deterministic) with its own bands over the recorded score.
fn candidate_action(k: &Known, challenge: f64, reject: f64) -> String {
    if k.short_circuited {
        return k.action.clone();
    }
    let band = if k.score >= reject {
        "reject"
    } else if k.score >= challenge {
        "challenge"
    } else {
        "accept"
    };
    let mut best = band;
    for (_, action, _) in &k.rules {
        if rank(action) > rank(best) {
            best = action;
        }
    }
    best.to_owned()
}

fn confusion(c: &Value) -> [u64; 4] {
    [
        "true_positive",
        "false_positive",
        "false_negative",
        "true_negative",
    ]
    .map(|f| c[f].as_u64().expect("count"))
}

/// Confusion counts of `flagged` against the labels, over the decisions the baseline did
/// not reject.
fn independent_confusion(known: &[Known], flagged: impl Fn(&Known) -> bool) -> [u64; 4] {
    let mut c = [0; 4];
    for k in known.iter().filter(|k| k.action != "reject") {
        let Some(fraud) = k.truth else { continue };
        let i = match (flagged(k), fraud) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        c[i] += 1;
    }
    c
}

#[tokio::test]
async fn a_stricter_candidate_is_reported_as_the_history_says() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["policy:write"]).await;
        let from = Utc::now() - chrono::Duration::minutes(1);
        let known = history(&s, 240).await;
        // A window that ends before the runs start: its fingerprint does not depend on when.
        let to = Utc::now();
        let window = json!({"from": from, "to": to});

        // The candidate: the deciding set's modules with lower bands.
        let set1 = s.admin_get("/v1/policy-sets/1").await;
        let (challenge, reject) = (20.0, 45.0);
        let r = s
            .post(
                "/v1/policy-sets",
                &key,
                &json!({"policies": set1["policies"],
                    "thresholds": {"challenge": challenge, "reject": reject}}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let candidate = r.json::<Value>().await.expect("json")["version"].clone();

        let mut body = window.clone();
        body["candidate"] = candidate.clone();
        let run = backtest(&s, &key, &body).await;
        assert_eq!(run["status"], "succeeded", "{backend:?}: {run}");
        let result = &run["result"];
        let n = known.len() as u64;
        assert_eq!(result["coverage"]["read"], n);
        assert_eq!(result["coverage"]["replayed"], n);
        assert_eq!(result["coverage"]["unlabelled"], n / 10);
        assert_eq!(run["progress"]["read"], n);
        assert_eq!(result["fingerprint"]["decisions"], n);

        // The matrix, cell by cell.
        let mut expected: BTreeMap<(String, String), (u64, Vec<String>)> = BTreeMap::new();
        for k in &known {
            let c = candidate_action(k, challenge, reject);
            let e = expected.entry((k.action.clone(), c)).or_default();
            e.0 += 1;
            e.1.push(k.id.clone());
        }
        let mut changed = 0;
        for b in ORDER {
            for c in ORDER {
                let want = expected
                    .get(&(b.to_owned(), c.to_owned()))
                    .map_or(0, |e| e.0);
                let got = cell(result, b, c);
                assert_eq!(got["count"], want, "{backend:?}: {b} -> {c}");
                if b != c {
                    changed += want;
                    for id in got["examples"].as_array().expect("examples") {
                        let ids = &expected[&(b.to_owned(), c.to_owned())].1;
                        assert!(ids.iter().any(|i| i == id), "{id} is no {b} -> {c}");
                    }
                }
            }
        }
        assert_eq!(result["changed"], changed);
        assert!(changed > 0, "{backend:?}: lower bands change something");

        // Confusion against the labels, both sides.
        assert_eq!(
            confusion(&result["candidate"]["at_reject"]),
            independent_confusion(&known, |k| candidate_action(k, challenge, reject)
                == "reject"),
            "{backend:?}: candidate at reject"
        );
        assert_eq!(
            confusion(&result["candidate"]["at_challenge_or_reject"]),
            independent_confusion(&known, |k| candidate_action(k, challenge, reject)
                != "accept"),
            "{backend:?}: candidate at challenge or reject"
        );
        assert_eq!(
            confusion(&result["baseline"]["at_challenge_or_reject"]),
            independent_confusion(&known, |k| k.action != "accept"),
            "{backend:?}: baseline at challenge or reject"
        );
        let rejected = known.iter().filter(|k| k.action == "reject").count() as u64;
        assert_eq!(result["baseline_rejected"], rejected);

        // Per-rule hits.
        let mut hits: BTreeMap<String, u64> = BTreeMap::new();
        for k in known.iter().filter(|k| !k.short_circuited) {
            for (name, _, fired) in &k.rules {
                if *fired {
                    *hits.entry(name.clone()).or_default() += 1;
                }
            }
        }
        assert!(!hits.is_empty(), "the planted fraud fires rules");
        for (name, n) in &hits {
            assert_eq!(result["rules"][name]["hits"], *n, "{backend:?}: {name}");
        }
        assert_eq!(
            result["rules"].as_object().map(|o| o.len()),
            Some(hits.len()),
            "{backend:?}: {}",
            result["rules"]
        );
        assert_eq!(
            result["determinism"]["checked"], 0,
            "another set is no exactness check"
        );

        // The exactness check: the set that decided reproduces every decision.
        let mut body = window.clone();
        body["candidate"] = json!(1);
        let exact = backtest(&s, &key, &body).await;
        let e = &exact["result"];
        assert_eq!(e["determinism"]["checked"], n, "{backend:?}: {exact}");
        assert_eq!(
            e["determinism"]["faults"], 0,
            "{backend:?}: {}",
            e["determinism"]
        );
        assert_eq!(e["changed"], 0);

        // A seeded sample replays its share, the same one each time.
        let mut body = window.clone();
        body["candidate"] = candidate.clone();
        body["sample"] = json!({"rate": 0.5, "seed": 7});
        let a = backtest(&s, &key, &body).await;
        let b = backtest(&s, &key, &body).await;
        let replayed = a["result"]["coverage"]["replayed"].as_u64().expect("n");
        assert!((60..=180).contains(&replayed), "{replayed} of {n}");
        assert_eq!(
            replayed + a["result"]["coverage"]["sampled_out"].as_u64().expect("n"),
            n
        );
        assert_eq!(a["result"]["transitions"], b["result"]["transitions"]);
        assert_eq!(
            a["result"]["fingerprint"]["id"], b["result"]["fingerprint"]["id"],
            "the same inputs over the same data carry the same fingerprint"
        );

        let list: Value = s
            .get("/v1/backtests?limit=2", &key)
            .await
            .json()
            .await
            .expect("json");
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["backtest_id"], b["backtest_id"], "newest first");
        assert!(list["next"].is_string());
        s.finish().await;
    }
}

#[tokio::test]
async fn bad_backtests_are_refused_with_the_field_at_fault() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["policy:write"]).await;
        let window = |extra: Value| {
            let mut b = json!({"candidate": 1, "from": "2026-01-01T00:00:00Z",
                "to": "2026-02-01T00:00:00Z"});
            for (k, v) in extra.as_object().expect("object") {
                b[k] = v.clone();
            }
            b
        };
        let p = problem(
            s.post("/v1/backtests", &key, &window(json!({"candidate": 99})))
                .await,
            404,
            "not_found",
        )
        .await;
        assert!(p["detail"].as_str().expect("detail").contains("99"), "{p}");
        problem(
            s.post(
                "/v1/backtests",
                &key,
                &window(json!({"candidate_model": 5})),
            )
            .await,
            404,
            "not_found",
        )
        .await;
        for (extra, field) in [
            (json!({"to": "2025-01-01T00:00:00Z"}), "to"),
            (json!({"to": "2027-06-01T00:00:00Z"}), "to"),
            (json!({"sample": {"rate": 0}}), "sample.rate"),
            (json!({"thresholds": [50, 10]}), "thresholds"),
            (json!({"labels": {"fraud": ["stolen"]}}), "labels.fraud"),
            (
                json!({"labels": {"maturity_days": 400}}),
                "labels.maturity_days",
            ),
            (json!({"lists": "yesterday"}), "lists"),
            (json!({"checkpoint": "checkout"}), "checkpoint"),
        ] {
            let p = problem(
                s.post("/v1/backtests", &key, &window(extra.clone())).await,
                422,
                "invalid_value",
            )
            .await;
            let detail = p["detail"].as_str().expect("detail");
            assert!(
                detail.starts_with(&format!("field `{field}`")),
                "{extra}: {p}"
            );
        }
        let decider = s.key(&["decide"]).await;
        problem(
            s.post("/v1/backtests", &decider, &window(json!({}))).await,
            403,
            "forbidden",
        )
        .await;
        problem(s.get("/v1/backtests/bt_nope", &key).await, 404, "not_found").await;
        let none: Value = s
            .get("/v1/backtests", &key)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(none["items"], json!([]), "nothing refused was recorded");
        s.finish().await;
    }
}

#[tokio::test]
async fn the_deciding_set_and_its_model_reproduce_every_decision() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["policy:write"]).await;
        let from = Utc::now() - chrono::Duration::minutes(1);
        crate::model_loop::labelled_stream(&s, 200).await;
        let version = crate::model_loop::train(&s).await;
        crate::model_loop::activate(&s, version).await;
        // Decisions with the model in the loop: its score is part of theirs.
        let mut rng = StdRng::seed_from_u64(5);
        for i in 0..80 {
            let (body, _) = payment(10_000 + i, &mut rng);
            let d = decide(&s, &body).await;
            assert_eq!(d["model_version"], version, "{d}");
        }
        let to = Utc::now() + chrono::Duration::minutes(1);
        let run = backtest(&s, &key, &json!({"candidate": 1, "from": from, "to": to})).await;
        let d = &run["result"]["determinism"];
        assert_eq!(d["checked"], 280, "{backend:?}: {run}");
        assert_eq!(d["faults"], 0, "{backend:?}: {d}");
        assert_eq!(run["result"]["changed"], 0);
        // Scoring again with the model that decided: the 80 it scored are an exactness
        // check of the model too (the 200 before it was active are not: it did not run).
        let run = backtest(
            &s,
            &key,
            &json!({"candidate": 1, "from": from, "to": to, "candidate_model": version}),
        )
        .await;
        let d = &run["result"]["determinism"];
        assert_eq!(d["checked"], 80, "{backend:?}: {run}");
        assert_eq!(d["faults"], 0, "{backend:?}: {d}");
        s.finish().await;
    }
}
