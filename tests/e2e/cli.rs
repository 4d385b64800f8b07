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
