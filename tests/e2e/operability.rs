//! What an operator sees of the real binary: one access-log line per request naming the route
//! template and the key (never the raw path, which can hold an e-mail), metrics with their
//! help texts and the gauges that matter, plain text logs when not on a terminal without
//! sqlx's notices, a fatal start-up error as JSON under `--log-format json`, and no "is back"
//! line when Redis was never away.

use std::time::Duration;

use serde_json::Value;

use crate::harness::{Backend, TestDb, start_arbiter};

/// The JSON log lines with `message`.
fn lines_with(output: &str, message: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == message)
        .collect()
}

#[tokio::test]
async fn the_access_log_names_the_route_and_the_key_never_the_path() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let bin = start_arbiter(&db, &[], &[]).await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!(
            "{}/v1/graph/entities/email/jane.doe@example.com",
            bin.base
        ))
        .bearer_auth(db.admin_key())
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    // The line is written as the response leaves; give the log reader a moment.
    let mut served = Vec::new();
    for _ in 0..100 {
        served = lines_with(&bin.output(), "served");
        if served.iter().any(|l| l["status"] == 404) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let line = served
        .iter()
        .find(|l| l["status"] == 404)
        .unwrap_or_else(|| panic!("no access-log line: {}", bin.output()));
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["span"]["route"], "/v1/graph/entities/{kind}/{value}");
    assert_eq!(line["span"]["method"], "GET");
    assert_eq!(line["span"]["key"], "first admin");
    assert!(line["ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
    assert!(
        !bin.output().contains("jane.doe@example.com"),
        "the raw path never reaches the log"
    );
    bin.kill().await;
}

#[tokio::test]
async fn metrics_carry_help_texts_and_the_operators_gauges() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let bin = start_arbiter(&db, &[], &[]).await;
    let text = reqwest::get(format!("{}/metrics", bin.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for help in [
        "# HELP arbiter_reviews_open ",
        "# HELP arbiter_review_oldest_age_seconds ",
        "# HELP arbiter_policy_set_active_version ",
        "# HELP arbiter_model_version ",
        "# HELP arbiter_build_info ",
    ] {
        assert!(text.contains(help), "{help} missing from:\n{text}");
    }
    assert!(text.contains("arbiter_reviews_open 0\n"), "{text}");
    assert!(
        text.contains("arbiter_policy_set_active_version 1\n"),
        "{text}"
    );
    assert!(
        text.contains("arbiter_model_version{slot=\"active\"} 0\n"),
        "{text}"
    );
    let version = env!("CARGO_PKG_VERSION");
    assert!(text.contains(&format!("arbiter_build_info{{version=\"{version}\"}} 1")));
    assert!(
        !bin.output().contains("is back"),
        "nothing came back: nothing was away"
    );
    bin.kill().await;
}

#[tokio::test]
async fn text_logs_off_a_terminal_are_plain_and_quiet() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_arbiter"))
        .args(["migrate", "--data-dir"])
        .arg(db.data_dir())
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("run migrate");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes in a pipe: {stderr:?}"
    );
    assert!(
        !stderr.contains("sqlx"),
        "no sqlx notices at the default level: {stderr}"
    );
}

#[tokio::test]
async fn a_fatal_start_up_error_is_a_json_line_under_json_logs() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_arbiter"))
        .args(["serve", "--log-format", "json", "--listen", "127.0.0.1:0"])
        .args(["--data-dir", "/proc/arbiter-cannot-be-here"])
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .output()
        .await
        .expect("run serve");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stopped = lines_with(&stdout, "arbiter stopped");
    assert_eq!(stopped.len(), 1, "{stdout}");
    assert_eq!(stopped[0]["level"], "ERROR");
    assert!(
        stopped[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("/proc/arbiter-cannot-be-here")),
        "{stdout}"
    );
}
