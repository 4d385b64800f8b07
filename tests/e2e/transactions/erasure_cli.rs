//! `arbiter subjects erase` against a running binary, and the erasure key: the one given in
//! `ARBITER_ERASURE_KEY` makes pseudonyms an independent HMAC-SHA-256 (Python's `hmac`)
//! agrees with; without it the server generates `<data-dir>/erasure.key`, owner-only.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;
use tokio::process::Command;

use crate::harness::{Backend, TestDb, decision_body, start_arbiter};

const KEY: &str = "a-test-erasure-key-0123456789";

/// `erased:` and the first 16 bytes of HMAC-SHA-256(`key`, `value`), computed by Python.
fn python_pseudonym(key: &str, value: &str) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys; \
             print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest()[:32])",
            key,
            value,
        ])
        .output()
        .expect("python3");
    assert!(out.status.success());
    format!("erased:{}", String::from_utf8_lossy(&out.stdout).trim())
}

async fn subjects(base: &str, key: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_arbiter"))
        .arg("subjects")
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
async fn the_command_line_erases_through_the_server_under_the_configured_key() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let bin = start_arbiter(&db, &[], &[("ARBITER_ERASURE_KEY", KEY)]).await;
    let admin = db.admin_key();
    let mut body = decision_body("cli-erase-1");
    body["user"]["id"] = "cli-erase-user".into();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/decisions", bin.base))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .expect("decide");
    assert_eq!(r.status(), 200);

    let (ok, out, err) =
        subjects(&bin.base, &admin, &["erase", "--user-id", "cli-erase-user"]).await;
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).expect("the report as JSON");
    assert_eq!(
        report["subject"],
        python_pseudonym(KEY, "cli-erase-user").as_str(),
        "{report}"
    );
    assert!(
        report["rewritten"]["decisions.packed"].as_u64() >= Some(1),
        "{report}"
    );
    assert!(
        !db.data_dir().join("erasure.key").exists(),
        "the configured key is used"
    );

    let (ok, _, err) = subjects(&bin.base, &admin, &["erase"]).await;
    assert!(!ok);
    assert!(err.contains("--user-id"), "{err}");
    let (ok, _, err) = subjects(&bin.base, "not-a-key", &["erase", "--phone", "+1 555"]).await;
    assert!(!ok);
    assert!(err.contains("401"), "{err}");
    bin.kill().await;

    // Without a configured key the server makes one of its own, readable by it alone.
    let db = TestDb::new(&Backend::Sqlite).await;
    let bin = start_arbiter(&db, &[], &[]).await;
    let file = db.data_dir().join("erasure.key");
    let mode = std::fs::metadata(&file)
        .expect("erasure.key")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let key = std::fs::read_to_string(&file)
        .expect("read")
        .trim()
        .to_owned();
    assert_eq!(key.len(), 64, "32 random bytes in hex");
    let (ok, out, err) = subjects(
        &bin.base,
        &db.admin_key(),
        &["erase", "--email", "A@B.example"],
    )
    .await;
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        report["subject"],
        python_pseudonym(&key, "a@b.example").as_str()
    );
    bin.kill().await;
}
