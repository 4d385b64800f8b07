//! `arbiter ledger check` against the binary: sound after real payments and refunds, non-zero
//! exit once a kept balance disagrees with the entries.

use serde_json::{Value, json};
use sqlx::Connection;
use tokio::process::Command;

use super::calls::config;
use crate::harness::{TestDb, TestServer, backends};

pub(super) async fn ledger_check(db: &TestDb) -> (bool, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_arbiter"));
    cmd.args(["ledger", "check", "--data-dir"])
        .arg(db.data_dir())
        .env_remove("DATABASE_URL")
        // Logs go to stdout (telemetry's writer); keep PostgreSQL's migration notices out of
        // the JSON report.
        .env("RUST_LOG", "error");
    if let Some(url) = &db.database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.output().await.expect("run arbiter");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&out.stdout).into_owned()));
    (
        out.status.success(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_check_passes_on_a_real_ledger_and_fails_on_a_tampered_one() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let key = s.checkout_key().await;
        s.sku("PEN-1", "3.50", 10).await;
        let (_, payment) = s.paid_order(&key, "u-1", "PEN-1", 2).await;
        s.paid_order(&key, "u-2", "PEN-1", 1).await;
        let refund = s
            .call(reqwest::Method::POST, "/v1/refunds", &key, Some("r-1"),
                Some(&json!({"payment_id": payment["id"], "amount": {"value": "1.50", "currency": "USD"}})))
            .await;
        assert_eq!(refund.status, 201, "{}", refund.body);
        let cri = refund.body["channel_refund_id"].as_str().expect("cri");
        s.channel("refunds", cri, json!({"outcome": "succeeded"}))
            .await;
        let db = s.stop().await;

        let (ok, report, stderr) = ledger_check(&db).await;
        assert!(ok, "{stderr}");
        assert_eq!(report["sound"], true, "{report}");
        assert_eq!(report["journals"], 3, "{report}");

        let tamper = "UPDATE ledger_balances SET balance_minor = balance_minor + 1 \
                      WHERE account = 'customer_funds'";
        match &db.database_url {
            None => {
                let url = format!("sqlite://{}", db.data_dir().join("arbiter.db").display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
                sqlx::query(tamper).execute(&mut c).await.expect("tamper");
            }
            Some(url) => {
                let mut c = sqlx::PgConnection::connect(url).await.expect("postgres");
                sqlx::query(tamper).execute(&mut c).await.expect("tamper");
            }
        }
        let (ok, report, stderr) = ledger_check(&db).await;
        assert!(!ok, "a tampered ledger must fail the check: {report}");
        assert_eq!(report["sound"], false);
        assert_eq!(
            report["mismatched_balances"][0]["account"], "customer_funds",
            "{report}"
        );
        assert!(stderr.contains("does not balance"), "{stderr}");
        db.drop_db().await;
    }
}
