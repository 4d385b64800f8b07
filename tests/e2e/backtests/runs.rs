//! Runs as jobs: the command line against the real binary, a cancel in flight, a crash in
//! the middle of a run.

use std::time::Duration;

use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::support::payment;
use crate::harness::{backends, decision_body};

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

/// Multiplies the one stored decision into `n` more (same stored form, new ids), so a
/// run has enough to replay to be caught in the middle.
async fn copies(db: &crate::harness::TestDb, backend: &crate::harness::Backend, n: u32) {
    // PostgreSQL's rows carry their time partition's key (migration 0026).
    let (series, part, d_part) = match backend {
        crate::harness::Backend::Sqlite => (
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})"
            ),
            "",
            "",
        ),
        crate::harness::Backend::Postgres { .. } => (
            format!("WITH n(i) AS (SELECT generate_series(1, {n}))"),
            ", part",
            ", d.part",
        ),
    };
    db.execute(&format!(
        "{series} INSERT INTO decisions (decision_id, request_id, body_hash, event, action, \
         score, policy_set_version, model_version, created_at, body, packed, chain, \
         amount_minor, currency{part}) \
         SELECT d.decision_id || '_' || n.i, d.request_id || '_' || n.i, d.body_hash, d.event, \
         d.action, d.score, d.policy_set_version, d.model_version, d.created_at, d.body, \
         d.packed, d.chain, d.amount_minor, d.currency{d_part} \
         FROM decisions d CROSS JOIN n;"
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
        // One run at a time per replica (the default): a second start waits its turn.
        let second = http
            .post(format!("{}/v1/backtests", bin.base))
            .bearer_auth(&key)
            .json(&spec)
            .send()
            .await
            .expect("call");
        assert_eq!(second.status().as_u16(), 429, "{backend:?}");
        assert_eq!(
            second.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"5"[..])
        );
        let busy: Value = second.json().await.expect("problem");
        assert_eq!(busy["code"], "backtests_busy", "{busy}");
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
