//! Backtests end to end through the real endpoints, on both backends: a history with planted
//! fraud and labels is decided by the bundled example set, then replayed. A stricter
//! candidate's transition matrix, confusion counts and per-rule hits are checked against
//! values this test computes on its own from the stored decisions; the set that decided must
//! reproduce every decision (the exactness check), also with a trained model in the loop.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::feedback::decide;
use crate::harness::{TestServer, backends, decision_body, problem};

/// One payment of the history and whether it is fraud. A third are risky (a days-old
/// account paying a large amount through a proxy, from another country than the card's), and
/// mostly fraud; the rest mostly legitimate.
fn payment(i: usize, rng: &mut StdRng) -> (Value, bool) {
    let risky = rng.random_bool(0.33);
    let mut v = decision_body(&format!("bt-{i}"));
    let user = format!("bt-user-{i}");
    v["user"]["id"] = json!(user);
    v["user"]["email"] = json!(format!("{user}@example.com"));
    v["device"]["id"] = json!(format!("bt-dev-{i}"));
    v["device"]["ip"] = json!(format!("198.51.{}.{}", i / 250, i % 250 + 1));
    v["payment"]["card_fingerprint"] = json!(format!("bt-card-{i}"));
    v["shipping"]["address"] = json!(format!("{i} History Lane"));
    v["order_id"] = json!(format!("bt-order-{i}"));
    let (age, amount, proxy, ip_country) = if risky {
        (
            rng.random_range(0..3),
            rng.random_range(300..1500),
            rng.random_bool(0.8),
            "DE",
        )
    } else {
        (
            rng.random_range(30..900),
            rng.random_range(5..400),
            false,
            "US",
        )
    };
    v["user"]["account_age_days"] = json!(age);
    v["amount"] = json!({"value": format!("{amount}.{:02}", i % 100), "currency": "USD"});
    v["device"]["is_proxy"] = json!(proxy);
    v["device"]["ip_country"] = json!(ip_country);
    let fraud = risky != rng.random_bool(0.05);
    (v, fraud)
}

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

/// Starts a backtest, waits for it to end, and returns the run.
async fn backtest(s: &TestServer, key: &str, body: &Value) -> Value {
    let r = s.post("/v1/backtests", key, body).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    let run: Value = r.json().await.expect("json");
    assert_eq!(run["status"], "running");
    let id = run["backtest_id"].as_str().expect("id").to_owned();
    for _ in 0..1200 {
        let run: Value = s
            .get(&format!("/v1/backtests/{id}"), key)
            .await
            .json()
            .await
            .expect("json");
        if run["status"] != "running" {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("backtest {id} did not finish");
}

fn cell<'a>(result: &'a Value, baseline: &str, candidate: &str) -> &'a Value {
    result["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .find(|t| t["baseline"] == baseline && t["candidate"] == candidate)
        .expect("every cell is reported")
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
        let r = s
            .post(
                &format!("/v1/models/{version}/activate"),
                &s.admin_key,
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), 200);
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

/// Runs `arbiter backtest` against `base`; its exit status, stdout and stderr.
async fn backtest_cli(base: &str, key: &str, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_arbiter"))
        .arg("backtest")
        .args(args)
        .env("ARBITER_URL", base)
        .env("ARBITER_KEY", key)
        .output()
        .await
        .expect("run arbiter");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_command_line_prints_a_summary_or_the_whole_run() {
    let db = crate::harness::TestDb::new(&crate::harness::Backend::Sqlite).await;
    let bin = crate::harness::start_arbiter(&db, &[], &[]).await;
    let key = db.admin_key();
    let from = Utc::now() - chrono::Duration::minutes(1);
    let http = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(3);
    for i in 0..30 {
        let (body, _) = payment(i, &mut rng);
        let r = http
            .post(format!("{}/v1/decisions", bin.base))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .expect("decide");
        assert_eq!(r.status(), 200);
    }
    let to = Utc::now();
    let (from, to) = (from.to_rfc3339(), to.to_rfc3339());
    let window = ["--from", from.as_str(), "--to", to.as_str()];

    let mut args = vec!["--candidate", "1"];
    args.extend(window);
    let (ok, out, err) = backtest_cli(&bin.base, &key, &args).await;
    assert!(ok, "{err}");
    for line in [
        "changed 0 of 30",
        "determinism: 30 checked, 0 faults",
        "at reject",
    ] {
        assert!(out.contains(line), "`{line}` missing from:\n{out}");
    }

    args.push("--json");
    let (ok, out, err) = backtest_cli(&bin.base, &key, &args).await;
    assert!(ok, "{err}");
    let run: Value = serde_json::from_str(&out).expect("the whole run as JSON");
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["result"]["coverage"]["replayed"], 30);

    let mut args = vec!["--candidate", "42"];
    args.extend(window);
    let (ok, _, err) = backtest_cli(&bin.base, &key, &args).await;
    assert!(!ok);
    assert!(err.contains("not_found") && err.contains("42"), "{err}");
}

/// Multiplies the one stored decision into `n` more (same body and projection, new ids), so a
/// run has enough to replay to be caught in the middle.
async fn copies(db: &crate::harness::TestDb, backend: &crate::harness::Backend, n: u32) {
    let series = match backend {
        crate::harness::Backend::Sqlite => {
            format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})")
        }
        crate::harness::Backend::Postgres { .. } => {
            format!("WITH n(i) AS (SELECT generate_series(1, {n}))")
        }
    };
    db.execute(&format!(
        "{series} INSERT INTO decisions (decision_id, request_id, body_hash, event, action, \
         score, policy_set_version, model_version, created_at, body) \
         SELECT d.decision_id || '_' || n.i, d.request_id || '_' || n.i, d.body_hash, d.event, \
         d.action, d.score, d.policy_set_version, d.model_version, d.created_at, d.body \
         FROM decisions d CROSS JOIN n; \
         {series} INSERT INTO decision_features (decision_id, created_at, checkpoint, \
         policy_set_version, model_version, action, score, amount_minor, currency, replay) \
         SELECT f.decision_id || '_' || n.i, f.created_at, f.checkpoint, f.policy_set_version, \
         f.model_version, f.action, f.score, f.amount_minor, f.currency, f.replay \
         FROM decision_features f CROSS JOIN n;"
    ))
    .await;
}

#[tokio::test]
async fn a_run_is_cancelled_in_flight_and_a_crashed_one_fails_on_restart() {
    for backend in backends() {
        let db = crate::harness::TestDb::new(&backend).await;
        let mut bin = crate::harness::start_arbiter(&db, &[], &[]).await;
        let key = db.admin_key();
        let http = reqwest::Client::new();
        let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
            let mut req = http
                .request(method, format!("{}{path}", bin.base))
                .bearer_auth(&key);
            if let Some(b) = body {
                req = req.json(&b);
            }
            async move {
                let r = req.send().await.expect("call");
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let from = Utc::now() - chrono::Duration::minutes(1);
        let (status, _) = call(
            reqwest::Method::POST,
            "/v1/decisions",
            Some(decision_body("bt-cancel")),
        )
        .await;
        assert_eq!(status, 200);
        copies(&db, &backend, 40_000).await;
        let spec = json!({"candidate": 1, "from": from, "to": Utc::now()});

        let (status, run) = call(reqwest::Method::POST, "/v1/backtests", Some(spec.clone())).await;
        assert_eq!(status, 202, "{run}");
        let path = format!("/v1/backtests/{}", run["backtest_id"].as_str().expect("id"));
        let (status, cancelled) = call(reqwest::Method::DELETE, &path, None).await;
        assert_eq!(status, 200);
        assert_eq!(cancelled["status"], "cancelled", "{backend:?}: {cancelled}");
        // The run sees the cancel at its next progress write and stops reading.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let (_, first) = call(reqwest::Method::GET, &path, None).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let (_, later) = call(reqwest::Method::GET, &path, None).await;
        assert_eq!(later["status"], "cancelled");
        assert_eq!(
            later["result"],
            Value::Null,
            "a cancelled run keeps no report"
        );
        assert_eq!(
            first["progress"], later["progress"],
            "{backend:?}: it stopped"
        );
        assert!(later["progress"]["read"].as_u64().expect("read") < 40_001);
        let (_, again) = call(reqwest::Method::DELETE, &path, None).await;
        assert_eq!(
            again["finished_at"], cancelled["finished_at"],
            "a second cancel changes nothing"
        );

        // A crash in the middle of a run: the restarted service fails it with the reason once
        // its heartbeat is older than the liveness limit (set back here, not waited for).
        let (status, run) = call(reqwest::Method::POST, "/v1/backtests", Some(spec.clone())).await;
        assert_eq!(status, 202, "{run}");
        let id = run["backtest_id"].as_str().expect("id").to_owned();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pid = nix::unistd::Pid::from_raw(bin.child.id().expect("pid") as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("kill");
        let _ = bin.child.wait().await;
        let long_ago = match backend {
            crate::harness::Backend::Sqlite => "'2020-01-01T00:00:00.000000Z'",
            crate::harness::Backend::Postgres { .. } => "TIMESTAMPTZ '2020-01-01T00:00:00Z'",
        };
        db.execute(&format!(
            "UPDATE backtests SET heartbeat_at = {long_ago} WHERE backtest_id = '{id}'"
        ))
        .await;
        let bin = crate::harness::start_arbiter(&db, &[], &[]).await;
        let r = http
            .get(format!("{}/v1/backtests/{id}", bin.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("get");
        let failed: Value = r.json().await.expect("json");
        assert_eq!(failed["status"], "failed", "{backend:?}: {failed}");
        assert!(
            failed["error"]
                .as_str()
                .is_some_and(|e| e.contains("interrupted")),
            "{failed}"
        );
        drop(bin);
        db.drop_db().await;
    }
}

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
