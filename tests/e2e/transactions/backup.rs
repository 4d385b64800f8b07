//! `arbiter backup` (issue 22): a copy of the embedded SQLite database taken by the real binary
//! while decisions and orders are being written restores to a database that passes
//! `arbiter ledger check` and holds every decision acknowledged before the backup began; an
//! existing target and a PostgreSQL database are refused, naming why.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::process::Command;

use super::calls::config;
use super::ledger_cli::ledger_check;
use crate::harness::{Backend, TestDb, TestServer, decision_body};

/// `arbiter backup --to <to>` on `data_dir`: whether it succeeded, and what it printed.
async fn backup(
    data_dir: &std::path::Path,
    to: &std::path::Path,
    extra: &[&str],
) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_arbiter"))
        .args(["backup", "--to"])
        .arg(to)
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("run arbiter");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_whole() {
    let s = TestServer::start_with_transactions(&Backend::Sqlite, config()).await;
    let key = s.checkout_key().await;
    s.sku("PEN-1", "3.50", 1_000).await;
    for i in 0..3 {
        let (_, payment) = s.paid_order(&key, &format!("u-{i}"), "PEN-1", 1).await;
        s.refund_succeeded(&key, &format!("r-{i}"), &payment, "1.00")
            .await;
    }

    // Decisions keep coming while the backup runs; each acknowledged one is noted.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let load = {
        let (acked, base, admin) = (acked.clone(), s.base.clone(), s.admin_key.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0;
            while !*stop.borrow() {
                n += 1;
                let r = http
                    .post(format!("{base}/v1/decisions"))
                    .bearer_auth(&admin)
                    .json(&decision_body(&format!("bk-{n}")))
                    .send()
                    .await
                    .expect("decide");
                assert_eq!(r.status(), 200);
                let d: serde_json::Value = r.json().await.expect("json");
                let id = d["decision_id"].as_str().expect("id").to_owned();
                acked.lock().expect("acked").push(id);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before: Vec<String> = acked.lock().expect("acked").clone();
    let copy_dir = tempfile::tempdir().expect("dir");
    let copy = copy_dir.path().join("arbiter-backup.db");
    let (ok, said) = backup(&s.db().data_dir(), &copy, &[]).await;
    assert!(ok, "{said}");
    assert!(said.contains("To restore"), "{said}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = stop_tx.send(true);
    load.await.expect("load");
    assert!(
        before.len() >= 5,
        "decisions ran before the backup: {}",
        before.len()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).expect("copy").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the copy is private");
    }

    // A second backup to the same file is refused; nothing is overwritten.
    let size = std::fs::metadata(&copy).expect("copy").len();
    let (ok, said) = backup(&s.db().data_dir(), &copy, &[]).await;
    assert!(!ok && said.contains("must not exist"), "{said}");
    assert_eq!(std::fs::metadata(&copy).expect("copy").len(), size);

    // Restored into a data directory of its own (with the original's secrets), it serves.
    let restored = TestDb::new(&Backend::Sqlite).await;
    std::fs::copy(&copy, restored.data_dir().join("arbiter.db")).expect("restore");
    for secret in ["admin.key", "card-webhook.secret"] {
        let from = s.db().data_dir().join(secret);
        if from.exists() {
            std::fs::copy(&from, restored.data_dir().join(secret)).expect("secret");
        }
    }
    let (sound, report, err) = ledger_check(&restored).await;
    assert!(sound, "{report} {err}");
    assert_eq!(
        report["journals"], 6,
        "three captures and three refunds: {report}"
    );
    s.finish().await;
    let back = TestServer::start_on(restored).await;
    for id in &before {
        let r = back
            .get(&format!("/v1/decisions/{id}"), &back.admin_key)
            .await;
        assert_eq!(r.status(), 200, "acknowledged before the backup: {id}");
    }
    back.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_is_pointed_to_pg_dump() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, said) = backup(
        dir.path(),
        &dir.path().join("copy.db"),
        &["--database-url", "postgres://nobody@127.0.0.1:1/none"],
    )
    .await;
    assert!(!ok && said.contains("pg_dump"), "{said}");
    assert!(
        !said.contains("nobody"),
        "no user name in the message: {said}"
    );
    let (ok, said) = backup(dir.path(), &dir.path().join("copy.db"), &[]).await;
    assert!(!ok && said.contains("no SQLite database"), "{said}");
    assert!(!dir.path().join("copy.db").exists());
}
