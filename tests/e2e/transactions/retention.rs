//! Retention (issue 22) in a running server, on both backends: with every age at 2 s, the
//! job deletes plain decisions, callbacks and audit entries once they are that old, and keeps
//! the decisions an order or payment names, a labelled one and a reviewed one; the ledger
//! still checks, and the deletions are counted. On PostgreSQL the decisions go with their
//! time partitions (a second each here): walked, detached and dropped by the same job.

use std::time::Duration;

use serde_json::{Value, json};

use super::calls::config;
use super::ledger_cli::ledger_check;
use super::text_columns::columns_holding;
use crate::feedback::challenged_body;
use crate::harness::{TestServer, backends, decision_body};

async fn decide(s: &TestServer, body: &Value) -> String {
    decided(s, body).await["decision_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn decided(s: &TestServer, body: &Value) -> Value {
    let r = s.post("/v1/decisions", &s.admin_key, body).await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

async fn stored(s: &TestServer, id: &str) -> bool {
    let status = s
        .get(&format!("/v1/decisions/{id}"), &s.admin_key)
        .await
        .status();
    assert!(status == 200 || status == 404, "{status}");
    status == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_rows_go_and_what_the_books_labels_and_reviews_need_stays() {
    for backend in backends() {
        let s = TestServer::start_configured(
            &backend,
            |c| {
                c.retention.decision_retention_secs = 2;
                c.retention.callback_retention_secs = 2;
                c.retention.audit_retention_secs = 2;
                // PostgreSQL: decisions expire a partition at a time; one a second here.
                c.retention.decision_partition_secs = 1;
            },
            config(),
        )
        .await;
        let key = s.checkout_key().await;
        s.sku("PEN-1", "3.50", 10).await;
        let (order, payment) = s.paid_order(&key, "ret-user", "PEN-1", 1).await;
        let order_decision = order["risk"]["decision_id"]
            .as_str()
            .expect("order risk")
            .to_owned();
        let payment_now = s
            .admin_get(&format!(
                "/v1/payments/{}",
                payment["id"].as_str().expect("id")
            ))
            .await;
        let payment_decision = payment_now["risk"]["decision_id"]
            .as_str()
            .expect("payment risk")
            .to_owned();
        let mut plain = Vec::new();
        for i in 0..3 {
            plain.push(decide(&s, &decision_body(&format!("ret-{i}"))).await);
        }
        // Challenged first: the fraud label below marks the shared device.
        let challenged = decided(&s, &challenged_body("ret-reviewed", "ret-challenged")).await;
        assert_eq!(challenged["action"], "challenge", "{challenged}");
        let reviewed = challenged["decision_id"].as_str().expect("id").to_owned();
        let labelled = decide(&s, &decision_body("ret-labelled")).await;
        let r = s
            .post(
                "/v1/labels",
                &s.admin_key,
                &json!({"decision_id": labelled, "label": "fraud",
                "source": "customer"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let callbacks_before =
            columns_holding(s.db(), payment["channel_payment_id"].as_str().expect("cpi")).await;
        assert!(
            callbacks_before
                .iter()
                .any(|(c, _)| c == "channel_callbacks.raw"),
            "{callbacks_before:?}"
        );

        let mut gone = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut all = true;
            for id in &plain {
                all &= !stored(&s, id).await;
            }
            if all {
                gone = true;
                break;
            }
        }
        assert!(gone, "{backend:?}: plain decisions outlived their 2 s");
        for (what, id) in [
            ("order's", &order_decision),
            ("payment's", &payment_decision),
            ("labelled", &labelled),
            ("reviewed", &reviewed),
        ] {
            assert!(
                stored(&s, id).await,
                "{backend:?}: the {what} decision {id} is kept"
            );
        }
        let callbacks =
            columns_holding(s.db(), payment["channel_payment_id"].as_str().expect("cpi")).await;
        assert!(
            !callbacks.iter().any(|(c, _)| c == "channel_callbacks.raw"),
            "{backend:?}: {callbacks:?}"
        );
        assert!(
            s.metric("arbiter_retention_deleted_total{kind=\"decisions\"}")
                .await
                >= 3.0
        );
        assert!(
            s.metric("arbiter_retention_deleted_total{kind=\"callbacks\"}")
                .await
                >= 1.0
        );
        let (ok, report, err) = ledger_check(s.db()).await;
        assert!(ok, "{report} {err}");
        s.finish().await;
    }
}
