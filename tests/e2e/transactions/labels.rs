//! Label integrity: a label or chargeback addressed by order lands on the decision the
//! transaction core recorded for that order — never on a decision some caller posted to
//! `/v1/decisions` naming the order id — and a chargeback id seen before for another decision
//! is a conflict (409, or a rejected row), not a silent duplicate.

use reqwest::Method;
use serde_json::{Value, json};

use super::calls::config;
use crate::harness::{TestServer, backends, decision_body, detail};

impl TestServer {
    /// Posts a decision with `key`; returns its id.
    async fn posted_decision(&self, key: &str, body: &Value) -> String {
        let a = self
            .call(Method::POST, "/v1/decisions", key, None, Some(body))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body["decision_id"].as_str().expect("id").to_owned()
    }

    async fn label(&self, key: &str, body: Value) -> (u16, Value) {
        let a = self
            .call(Method::POST, "/v1/labels", key, None, Some(&body))
            .await;
        (a.status, a.body)
    }

    async fn import(&self, key: &str, csv: String) -> Value {
        let r = self
            .client
            .post(format!("{}/v1/labels/import", self.base))
            .bearer_auth(key)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .expect("import");
        assert_eq!(r.status(), 200);
        r.json().await.expect("report")
    }

    async fn user_marked(&self, user: &str) -> bool {
        self.admin_get(&format!("/v1/graph/entities/user/{user}"))
            .await["fraud_mark"]
            .is_object()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_by_order_lands_on_the_decision_the_core_recorded() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let checkout = s.checkout_key().await;
        let labeller = s.key(&["label:write"]).await;
        s.sku("BIKE-1", "80.00", 5).await;
        let order = s.order(&checkout, "o-1", "buyer", "BIKE-1", 1).await.body;
        let order_id = order["id"].as_str().expect("id").to_owned();
        let created = order["risk"]["decision_id"].as_str().expect("decision");

        // Any caller with `decide` can post decisions naming the order id, at any checkpoint;
        // a payment.authorize one, for an innocent user, is what the old lookup preferred.
        let mut hijack = decision_body("hijack-1");
        hijack["order_id"] = json!(order_id);
        hijack["user"]["id"] = json!("victim");
        let hijack_id = s.posted_decision(&checkout, &hijack).await;

        let (status, l) = s
            .label(
                &labeller,
                json!({"order_id": order_id, "label": "fraud", "source": "customer"}),
            )
            .await;
        assert_eq!(status, 201, "{l}");
        assert_eq!(
            l["decision_id"], created,
            "unpaid: the order.create decision"
        );
        assert!(
            !s.user_marked("victim").await,
            "the posted decision is untouched"
        );
        assert!(s.user_marked("buyer").await);

        // Paid: the captured payment's payment.authorize decision is the one of record.
        let (paid, payment) = s.paid_order(&checkout, "payer", "BIKE-1", 1).await;
        let paid_id = paid["id"].as_str().expect("id").to_owned();
        let authorized = payment["risk"]["decision_id"].as_str().expect("decision");
        hijack["request_id"] = json!("hijack-2");
        hijack["order_id"] = json!(paid_id);
        let hijack2 = s.posted_decision(&checkout, &hijack).await;
        let report = s
            .import(
                &labeller,
                format!(
                    "chargeback_id,order_id,amount,currency\ncb-1,{paid_id},80.00,USD\n\
                     cb-2,o-42,,\n"
                ),
            )
            .await;
        assert_eq!(report["imported"], 1, "{report}");
        assert_eq!(report["rejected"][0]["line"], 3, "{report}");
        assert!(
            report["rejected"][0]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("no order `o-42`")),
            "a posted decision's order id is no order: {report}"
        );
        let h = s
            .admin_get(&format!("/v1/labels?decision_id={authorized}"))
            .await;
        assert_eq!(h[0]["external_id"], "cb-1", "{h}");
        for posted in [&hijack_id, &hijack2] {
            let h = s
                .admin_get(&format!("/v1/labels?decision_id={posted}"))
                .await;
            assert_eq!(h, json!([]), "nothing lands on a posted decision");
        }
        assert!(!s.user_marked("victim").await);

        // An order id no order has is refused, naming the field.
        let (status, p) = s
            .label(
                &labeller,
                json!({"order_id": "o-42", "label": "fraud", "source": "analyst"}),
            )
            .await;
        assert_eq!((status, p["code"].as_str()), (422, Some("invalid_value")));
        assert!(
            p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("`order_id`"))
        );
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chargeback_id_seen_for_another_decision_is_a_conflict() {
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let labeller = s.key(&["label:write"]).await;
        let d1 = s
            .posted_decision(&s.admin_key, &decision_body("cb-d1"))
            .await;
        let d2 = s
            .posted_decision(&s.admin_key, &decision_body("cb-d2"))
            .await;
        let chargeback = |decision: &str| {
            json!({"decision_id": decision, "label": "chargeback", "source": "chargeback",
                "chargeback_id": "cb-77"})
        };
        let (status, first) = s.label(&labeller, chargeback(&d1)).await;
        assert_eq!(status, 201, "{first}");
        assert_eq!(first["external_id"], "cb-77");
        // The same chargeback for the same decision: the stored label, recorded once.
        let (status, again) = s.label(&labeller, chargeback(&d1)).await;
        assert_eq!((status, &again["label_id"]), (201, &first["label_id"]));
        assert_eq!(
            s.admin_get(&format!("/v1/labels?decision_id={d1}"))
                .await
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        // For another decision: a conflict naming both, and nothing stored.
        let (status, p) = s.label(&labeller, chargeback(&d2)).await;
        assert_eq!((status, p["code"].as_str()), (409, Some("conflict")), "{p}");
        let detail = detail(&p);
        assert!(detail.contains("cb-77") && detail.contains(&d1), "{detail}");
        assert_eq!(
            s.admin_get(&format!("/v1/labels?decision_id={d2}")).await,
            json!([])
        );
        // A chargeback id goes with source `chargeback` only.
        let (status, p) = s
            .label(
                &labeller,
                json!({"decision_id": d2, "label": "fraud", "source": "analyst",
                    "chargeback_id": "cb-78"}),
            )
            .await;
        assert_eq!(status, 422, "{p}");
        assert!(
            p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("`chargeback_id`"))
        );

        // In a file: the same rule, per row (and within the file itself).
        let report = s
            .import(
                &labeller,
                format!(
                    "chargeback_id,decision_id\ncb-77,{d1}\ncb-77,{d2}\ncb-90,{d2}\ncb-90,{d1}\n"
                ),
            )
            .await;
        assert_eq!(
            (&report["imported"], &report["duplicates"]),
            (&json!(1), &json!(1)),
            "{report}"
        );
        let rejected = report["rejected"].as_array().expect("rejected");
        let lines: Vec<_> = rejected.iter().map(|r| r["line"].clone()).collect();
        assert_eq!(lines, [json!(3), json!(5)], "{report}");
        assert!(
            rejected[0]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("cb-77"))
        );
        let h = s.admin_get(&format!("/v1/labels?decision_id={d2}")).await;
        assert_eq!(h.as_array().map(Vec::len), Some(1), "only cb-90: {h}");
        s.finish().await;
    }
}
