//! The operator CLI against the real binary: push a module, create a set from TOML, roll it
//! out in shadow, inspect and roll back.

use serde_json::Value;
use tokio::process::Command;

use crate::harness::{Backend, TestDb, start_arbiter};

async fn arbiter(args: &[&str], url: &str, key: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_arbiter"))
        .args(args)
        .env("ARBITER_URL", url)
        .env("ARBITER_KEY", key)
        .output()
        .await
        .expect("run arbiter");
    assert!(
        out.status.success(),
        "arbiter {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json output")
}

#[tokio::test]
async fn push_create_rollout_and_rollback_from_the_command_line() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let bin = start_arbiter(&db, &[], &[]).await;
    let key = db.admin_key();
    let dir = tempfile::tempdir().expect("tmp");
    let wasm = dir.path().join("geo.wasm");
    let component = arbiter_runtime::bundled::find("geo_mismatch")
        .expect("bundled")
        .component;
    std::fs::write(&wasm, component).expect("write wasm");

    let pushed = arbiter(
        &[
            "policy",
            "push",
            wasm.to_str().expect("path"),
            "--name",
            "geo",
        ],
        &bin.base,
        &key,
    )
    .await;
    assert_eq!(
        (pushed["name"].as_str(), pushed["version"].as_i64()),
        (Some("geo"), Some(1))
    );

    let set_toml = dir.path().join("set.toml");
    std::fs::write(
        &set_toml,
        "thresholds = { challenge = 30, reject = 70 }\npolicies = [ { name = \"geo\", version = 1, fail_mode = \"closed\" } ]\n",
    )
    .expect("write toml");
    let set = arbiter(
        &[
            "policy-set",
            "create",
            "--from",
            set_toml.to_str().expect("path"),
        ],
        &bin.base,
        &key,
    )
    .await;
    assert_eq!(set["version"], 2);
    assert_eq!(set["policies"][0]["fail_mode"], "closed");

    let started = arbiter(
        &[
            "rollout",
            "start",
            "--set",
            "2",
            "--percent",
            "10",
            "--shadow",
            "--max-reject-rate-increase",
            "5",
            "--min-decisions",
            "50",
        ],
        &bin.base,
        &key,
    )
    .await;
    assert_eq!(
        (
            started["candidate"].as_i64(),
            started["percent"].as_u64(),
            started["mode"].as_str()
        ),
        (Some(2), Some(10), Some("shadow"))
    );
    assert_eq!(
        (
            started["guard"]["max_reject_rate_increase_pts"].as_f64(),
            started["guard"]["min_decisions"].as_u64()
        ),
        (Some(5.0), Some(50)),
        "{started}"
    );
    let status = arbiter(&["rollout", "status"], &bin.base, &key).await;
    assert_eq!(status["stable"], 1);
    let back = arbiter(
        &["rollout", "rollback", "--reason", "checked"],
        &bin.base,
        &key,
    )
    .await;
    assert_eq!(back["candidate"], Value::Null);

    // A failing call exits non-zero with the server's problem detail.
    let out = Command::new(env!("CARGO_BIN_EXE_arbiter"))
        .args(["rollout", "promote"])
        .env("ARBITER_URL", &bin.base)
        .env("ARBITER_KEY", &key)
        .output()
        .await
        .expect("run arbiter");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not_found"));
}

#[tokio::test]
async fn a_chargeback_file_is_imported_from_the_command_line() {
    for backend in crate::harness::backends() {
        let db = TestDb::new(&backend).await;
        let bin = start_arbiter(&db, &[], &[]).await;
        let key = db.admin_key();
        let r = reqwest::Client::new()
            .post(format!("{}/v1/decisions", bin.base))
            .bearer_auth(&key)
            .json(&crate::harness::decision_body("cli-cb-1"))
            .send()
            .await
            .expect("decide");
        assert_eq!(r.status(), 200);
        let decided: Value = r.json().await.expect("decision");
        let did = decided["decision_id"].as_str().expect("id");
        let dir = tempfile::tempdir().expect("tmp");
        let clean = dir.path().join("clean.csv");
        std::fs::write(
            &clean,
            format!(
                "chargeback_id,decision_id,amount,currency,reason\ncb-9,{did},129.99,USD,10.4\n"
            ),
        )
        .expect("write csv");
        let path = clean.to_str().expect("path");
        let report = arbiter(&["labels", "import", path], &bin.base, &key).await;
        assert_eq!(report["imported"], 1, "{report}");
        let again = arbiter(&["labels", "import", path], &bin.base, &key).await;
        assert_eq!(
            (again["imported"].as_u64(), again["duplicates"].as_u64()),
            (Some(0), Some(1))
        );

        // A file with a rejected row: the report still printed, the exit status a failure.
        let partly = dir.path().join("partly.csv");
        std::fs::write(
            &partly,
            format!("chargeback_id,order_id,decision_id\ncb-10,,{did}\ncb-11,o-missing,\n"),
        )
        .expect("write csv");
        let out = Command::new(env!("CARGO_BIN_EXE_arbiter"))
            .args(["labels", "import", partly.to_str().expect("path")])
            .env("ARBITER_URL", &bin.base)
            .env("ARBITER_KEY", &key)
            .output()
            .await
            .expect("run arbiter");
        assert!(!out.status.success(), "a rejected row fails the import");
        let report: Value = serde_json::from_slice(&out.stdout).expect("the report on stdout");
        assert_eq!(report["imported"], 1, "{report}");
        assert_eq!(report["rejected"][0]["line"], 3, "{report}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("rejected"));
        drop(bin);
        db.drop_db().await;
    }
}

/// `arbiter` run locally (no server), with its exit status, stdout and stderr.
async fn local(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_arbiter"))
        .args(args)
        .output()
        .await
        .expect("run arbiter");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repo_file(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn rule_files_are_checked_compiled_tested_and_pushed_from_the_command_line() {
    let examples = repo_file("policies/rules/examples.rules");
    let cases = repo_file("policies/rules/examples.cases.json");

    let (ok, out, _) = local(&["rule", "check", &examples]).await;
    assert!(ok, "{out}");
    assert!(out.contains("28 rule(s), worst-case fuel"), "{out}");

    // The shipped cases pass; a wrong expectation fails with what differed.
    let (ok, out, err) = local(&["rule", "test", &examples, "--cases", &cases]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("7 case(s), 0 failed"), "{out}");
    let dir = tempfile::tempdir().expect("tmp");
    let wrong = dir.path().join("wrong.json");
    let text = std::fs::read_to_string(&cases).expect("cases");
    std::fs::write(
        &wrong,
        text.replace(
            "\"score\": 60, \"reasons\": [\"geo.mismatch\"]",
            "\"score\": 61, \"reasons\": [\"geo.mismatch\"]",
        ),
    )
    .expect("write");
    let (ok, out, _) = local(&[
        "rule",
        "test",
        &examples,
        "--cases",
        wrong.to_str().expect("path"),
    ])
    .await;
    assert!(!ok);
    assert!(
        out.contains("FAIL  three countries on a large payment: expected score 61, got 60"),
        "{out}"
    );

    // A mistake: the problem under its line, a non-zero exit.
    let bad = dir.path().join("bad.rules");
    std::fs::write(
        &bad,
        "rule a when card.contry == \"US\" then reject reason \"a.b\"\n",
    )
    .expect("write");
    let (ok, _, err) = local(&["rule", "check", bad.to_str().expect("path")]).await;
    assert!(!ok);
    assert!(err.contains("did you mean `card.country`?"), "{err}");
    assert!(err.contains("bad.rules:1:13"), "{err}");

    // Compile to a component, try it on one request, and push the file to a server.
    let out_wasm = dir.path().join("examples.wasm");
    let (ok, out, err) = local(&[
        "rule",
        "compile",
        &examples,
        "--out",
        out_wasm.to_str().expect("path"),
    ])
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("28 rule(s)"), "{out}");
    let request = dir.path().join("request.json");
    std::fs::write(
        &request,
        r#"{"request_id": "p-1", "event": "payment.authorize", "amount": {"value": "1500.00", "currency": "USD"},
            "user": {"id": "u-1"}, "device": {"ip": "203.0.113.7", "ip_country": "US", "is_proxy": true}}"#,
    )
    .expect("write");
    for module in [examples.as_str(), out_wasm.to_str().expect("path")] {
        let (ok, out, err) = local(&[
            "policy",
            "test",
            module,
            "--context",
            request.to_str().expect("path"),
        ])
        .await;
        assert!(ok, "{err}");
        assert!(out.starts_with("challenge, score 35, fuel "), "{out}");
        assert!(
            out.contains("network.proxy_high_value \"proxy ip 203.0.113.7 (US), amount 1500 USD\""),
            "{out}"
        );
    }

    let db = TestDb::new(&Backend::Sqlite).await;
    let bin = start_arbiter(&db, &[], &[]).await;
    let pushed = arbiter(
        &["rule", "push", &examples, "--name", "examples"],
        &bin.base,
        &db.admin_key(),
    )
    .await;
    assert_eq!(
        (pushed["kind"].as_str(), pushed["version"].as_i64()),
        (Some("rules"), Some(1)),
        "{pushed}"
    );
    assert_eq!(
        pushed["source"].as_str(),
        Some(std::fs::read_to_string(&examples).expect("file").as_str())
    );
    // A new set from the one serving traffic: the rule file in, one Rust module out.
    let set = arbiter(
        &[
            "policy-set",
            "create",
            "--from-current",
            "--add",
            "examples@1",
            "--remove",
            "geo_mismatch",
        ],
        &bin.base,
        &db.admin_key(),
    )
    .await;
    let names: Vec<&str> = set["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(set["version"], 2, "{set}");
    assert!(
        names.contains(&"examples") && !names.contains(&"geo_mismatch"),
        "{names:?}"
    );
    assert_eq!(
        names.len(),
        6,
        "five bundled modules and the file: {names:?}"
    );
    // The rate table from a file in the repository's shape, then shown.
    let rates = dir.path().join("rates.json");
    std::fs::write(
        &rates,
        r#"{"reporting_currency": "USD", "rates": {"EUR": "1.08", "JPY": "0.0067"}}"#,
    )
    .expect("write rates");
    let set_rates = arbiter(
        &["rates", "set", rates.to_str().expect("utf-8 path")],
        &bin.base,
        &db.admin_key(),
    )
    .await;
    assert_eq!(set_rates["version"], 1, "{set_rates}");
    let shown = arbiter(&["rates", "show"], &bin.base, &db.admin_key()).await;
    assert_eq!(shown["rates"]["JPY"], "0.0067", "{shown}");
    let listed = arbiter(&["policy-set", "list"], &bin.base, &db.admin_key()).await;
    let versions: Vec<i64> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| s["version"].as_i64())
        .collect();
    assert_eq!(
        (versions, listed["active"].as_i64()),
        (vec![2, 1], Some(1)),
        "{listed}"
    );
    bin.kill().await;
}

#[tokio::test]
async fn a_policy_crate_is_built_into_a_component_with_cargo_alone() {
    // The nested target directory the runtime's build script already built the examples in,
    // so this build is incremental.
    let nested = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("policies-wasm");
    let crate_dir = repo_file("policies/examples/geo_mismatch");
    let (ok, out, err) = local(&[
        "policy",
        "build",
        &crate_dir,
        "--target-dir",
        nested.to_str().expect("path"),
    ])
    .await;
    assert!(ok, "{err}");
    let component = std::path::PathBuf::from(out.trim());
    assert!(
        component.ends_with("wasm32-unknown-unknown/release/geo_mismatch.component.wasm"),
        "{out}"
    );
    let bytes = std::fs::read(&component).expect("component");
    // A component's preamble: the magic, then version 0x0d and layer 1.
    assert_eq!(&bytes[..8], b"\0asm\x0d\x00\x01\x00");

    let dir = tempfile::tempdir().expect("tmp");
    let request = dir.path().join("request.json");
    std::fs::write(
        &request,
        r#"{"request_id": "b-1", "event": "payment.authorize", "amount": {"value": "1500.00", "currency": "USD"},
            "user": {"id": "u-1"}, "device": {"ip": "203.0.113.7", "ip_country": "US"},
            "payment": {"card_country": "NG"}, "shipping": {"country": "GB"}}"#,
    )
    .expect("write");
    let (ok, out, err) = local(&[
        "policy",
        "test",
        out.trim(),
        "--context",
        request.to_str().expect("path"),
    ])
    .await;
    assert!(ok, "{err}");
    assert!(out.starts_with("none, score 60, fuel "), "{out}");
    assert!(out.contains("geo.mismatch"), "{out}");

    let (ok, _, err) = local(&["policy", "build", dir.path().to_str().expect("path")]).await;
    assert!(!ok);
    assert!(err.contains("has no Cargo.toml"), "{err}");
}
