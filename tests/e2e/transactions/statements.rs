//! Channel statements imported for reconciliation (issue 20), over HTTP and from the command
//! line, on both backends: a file is archived once with its rows and audited; the same file
//! again is the statement held; a file that does not read is refused naming its line, and —
//! like a refused query, content type or key — leaves nothing written.

use serde_json::Value;
use tokio::process::Command;

use super::calls::config;
use crate::harness::{TestServer, backends};

const STATEMENT: &str = "id,type,source,amount,fee,net,currency,created,reporting_category\n\
    txn_1,charge,ch_1,42.50,1.53,40.97,eur,2026-12-06 10:00:00,charge\n\
    txn_2,refund,re_1,-10.00,0.00,-10.00,eur,2026-12-06 11:00:00,refund\n";

impl TestServer {
    pub(super) async fn post_statement(
        &self,
        key: &str,
        query: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(&format!("/v1/reconciliation/statements?{query}")))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body.to_vec())
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(super) async fn statement_imports(&self) -> usize {
        self.admin_get("/v1/audit?action=statement.import").await["items"]
            .as_array()
            .map_or(0, Vec::len)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_is_imported_once_and_a_bad_one_names_its_line() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let admin = s.admin_key.clone();
        let octets = "application/octet-stream";
        let query = "channel=card&date=2026-12-06";

        let (status, first) = s
            .post_statement(&admin, query, octets, STATEMENT.as_bytes())
            .await;
        assert_eq!(status, 201, "{first}");
        assert_eq!(
            (
                first["row_count"].as_u64(),
                first["size_bytes"].as_u64(),
                first["already_imported"].as_bool()
            ),
            (Some(2), Some(STATEMENT.len() as u64), Some(false)),
            "{first}"
        );
        let id = first["id"].as_str().expect("id").to_owned();
        let (status, again) = s
            .post_statement(&admin, query, octets, STATEMENT.as_bytes())
            .await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(
            (again["id"].as_str(), again["already_imported"].as_bool()),
            (Some(id.as_str()), Some(true))
        );
        let shown = s
            .admin_get(&format!("/v1/reconciliation/statements/{id}"))
            .await;
        assert_eq!(shown["sha256"], first["sha256"], "{shown}");

        // Refused, each by name, nothing written.
        let bad = STATEMENT.replace("-10.00,0.00,-10.00", "-10.0,0.00,-10.00");
        let (status, problem) = s
            .post_statement(&admin, query, octets, bad.as_bytes())
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("statement_unreadable")),
            "{problem}"
        );
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("line 3"),
            "{problem}"
        );
        let (status, problem) = s
            .post_statement(&admin, "channel=paypal&date=2026-12-06", octets, b"x")
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (400, Some("invalid_query"))
        );
        let (status, _) = s
            .post_statement(&admin, "channel=card&date=2026-13-40", octets, b"x")
            .await;
        assert_eq!(status, 400);
        let (status, _) = s
            .post_statement(&admin, query, "text/csv", STATEMENT.as_bytes())
            .await;
        assert_eq!(status, 415);
        let checkout = s.checkout_key().await;
        let (status, _) = s
            .post_statement(&checkout, query, octets, b"other bytes")
            .await;
        assert_eq!(status, 403);
        assert_eq!(s.statement_imports().await, 1, "one import audited");

        // The command line: another file is a new statement, the first one is held.
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("balance.csv");
        let run = |contents: String| {
            let (file, db) = (file.clone(), s.db());
            async move {
                std::fs::write(&file, contents).expect("write");
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_arbiter"));
                cmd.args([
                    "recon",
                    "import",
                    "--channel",
                    "card",
                    "--date",
                    "2026-12-06",
                ])
                .arg(&file)
                .arg("--data-dir")
                .arg(db.data_dir())
                .env_remove("DATABASE_URL")
                .env("RUST_LOG", "error");
                if let Some(url) = &db.database_url {
                    cmd.args(["--database-url", url]);
                }
                let out = cmd.output().await.expect("run arbiter");
                let view: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                (
                    out.status.success(),
                    view,
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                )
            }
        };
        let (ok, view, stderr) = run(STATEMENT.to_owned()).await;
        assert!(ok, "{stderr}");
        assert_eq!(
            (view["id"].as_str(), view["already_imported"].as_bool()),
            (Some(id.as_str()), Some(true)),
            "{view}"
        );
        let (ok, view, stderr) = run(STATEMENT.replace("txn_2", "txn_9")).await;
        assert!(ok, "{stderr}");
        assert_eq!(view["already_imported"], false, "{view}");
        let (ok, _, stderr) = run(bad).await;
        assert!(!ok);
        assert!(stderr.contains("line 3"), "{stderr}");
        assert_eq!(s.statement_imports().await, 2);
        s.finish().await;
    }
}
