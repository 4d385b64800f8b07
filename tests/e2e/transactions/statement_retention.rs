//! Statements' retention (issue 22) in a running server, on both backends: with
//! `--statement-retention-secs`, an imported statement loses its file and rows (its record,
//! with `expired_at`, stays); reconciling its day is refused with `410 statement_expired`
//! naming the way back; importing the same file again restores it and the day runs.

use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde_json::Value;

use super::calls::config;
use super::reconciliation::{CARD_HEADER, line, run, stay_inside_a_day};
use crate::harness::{TestServer, backends};

/// Imports `csv` as today's card statement; the statement as answered.
async fn import(s: &TestServer, csv: &str) -> (u16, Value) {
    let r = s
        .client
        .post(s.url(&format!(
            "/v1/reconciliation/statements?channel=card&date={}",
            Utc::now().date_naive()
        )))
        .bearer_auth(&s.admin_key)
        .header("content-type", "application/octet-stream")
        .body(csv.to_owned())
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_statement_is_refused_until_its_file_comes_back() {
    // The statement is today's; a day's window ends at midnight UTC.
    stay_inside_a_day(&[0]).await;
    for backend in backends() {
        let s = TestServer::start_configured(
            &backend,
            |c| c.retention.statement_retention_secs = 3,
            config(),
        )
        .await;
        let mut csv = String::from(CARD_HEADER);
        csv.push_str(&line("txn_x", "charge", 999, "pi_stranger", "ch_x"));
        let (status, first) = import(&s, &csv).await;
        assert_eq!(status, 201, "{first}");
        assert_eq!(first["expired_at"], Value::Null);
        let id = first["id"].as_str().expect("id").to_owned();

        let mut expired = Value::Null;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            expired = s
                .admin_get(&format!("/v1/reconciliation/statements/{id}"))
                .await;
            if !expired["expired_at"].is_null() {
                break;
            }
        }
        assert!(
            expired["expired_at"].is_string(),
            "{backend:?}: the statement outlived its 3 s: {expired}"
        );
        assert_eq!(expired["row_count"], 1, "the record stays: {expired}");

        let refused = s
            .call(
                Method::POST,
                "/v1/reconciliation/runs",
                &s.admin_key,
                None,
                Some(&serde_json::json!({"channel": "card", "date": Utc::now().date_naive().to_string()})),
            )
            .await;
        assert_eq!(refused.status, 410, "{}", refused.body);
        assert_eq!(
            refused.body["code"], "statement_expired",
            "{}",
            refused.body
        );
        let detail = refused.body["detail"].as_str().expect("detail");
        assert!(
            detail.contains(&id) && detail.contains("import the file again"),
            "{detail}"
        );

        let (status, back) = import(&s, &csv).await;
        assert_eq!(status, 201, "{back}");
        assert_eq!(
            (back["id"].as_str(), &back["expired_at"]),
            (Some(id.as_str()), &Value::Null),
            "{back}"
        );
        let (status, report) = run(&s, "card", Utc::now().date_naive()).await;
        assert_eq!(status, 200, "{report}");
        s.finish().await;
    }
}
