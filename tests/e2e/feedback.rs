//! Reviews and labels through the API: a challenged decision opens a review, a reviewer
//! resolves it once, labels supersede and mark the link graph, a chargeback file imports with
//! a per-row report, and the outcome report counts it all.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, decision_body, detail, problem};

/// A proxied high-value payment: the bundled `proxy_high_value` policy challenges it.
pub fn challenged_body(id: &str, user: &str) -> Value {
    let mut v = decision_body(id);
    v["amount"] = json!({"value": "480.00", "currency": "USD"});
    v["device"]["is_proxy"] = json!(true);
    v["user"]["id"] = json!(user);
    v["order_id"] = json!(format!("ord-{id}"));
    v
}

pub async fn decide(s: &TestServer, body: &Value) -> Value {
    let r = s.post("/v1/decisions", &s.admin_key, body).await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

async fn queue(s: &TestServer, key: &str, query: &str) -> Value {
    let r = s.get(&format!("/v1/reviews{query}"), key).await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

#[tokio::test]
async fn a_challenge_opens_a_review_that_is_resolved_once() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["label:write", "decisions:read"]).await;
        let decider = s.key(&["decide"]).await;
        let first = decide(&s, &challenged_body("rv-1", "ring-a")).await;
        assert_eq!(first["action"], "challenge", "{first}");
        decide(&s, &challenged_body("rv-2", "ring-b")).await;
        let accepted = decide(&s, &decision_body("rv-3")).await;
        assert_eq!(accepted["action"], "accept");

        let page = queue(&s, &reviewer, "?limit=1").await;
        let items = page["items"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0]["decision"]["decision_id"], first["decision_id"],
            "oldest first"
        );
        assert_eq!(items[0]["status"], "open");
        assert!(
            items[0]["decision"]["reasons"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
        );
        assert!(items[0]["graph"]["features"].is_object(), "{}", items[0]);
        let next = page["next"].as_str().expect("a second page");
        let page2 = queue(&s, &reviewer, &format!("?limit=1&after={next}")).await;
        assert_eq!(page2["items"].as_array().expect("items").len(), 1);
        let page3 = queue(&s, &reviewer, "?limit=10").await;
        assert_eq!(
            page3["items"].as_array().expect("items").len(),
            2,
            "accepts open nothing"
        );
        // A reviewer lists only the reviews it resolved; there are none yet.
        let all = queue(&s, &reviewer, "?status=resolved").await;
        assert_eq!(all["total"], 0, "{all}");

        let id = items[0]["review_id"].as_str().expect("id").to_owned();
        let path = format!("/v1/reviews/{id}/resolve");
        let body = json!({"outcome": "reject", "label": "fraud", "note": "ring"});
        problem(s.post(&path, &decider, &body).await, 403, "forbidden").await;
        let r = s.post(&path, &reviewer, &body).await;
        assert_eq!(r.status(), 200);
        let resolved: Value = r.json().await.expect("json");
        assert_eq!(resolved["status"], "resolved");
        assert_eq!(resolved["resolution"]["label"], "fraud");
        // The identical resolution again is answered, not refused.
        let again = s.post(&path, &reviewer, &body).await;
        assert_eq!(again.status(), 200);
        let other = json!({"outcome": "approve", "label": "legit"});
        let p = problem(s.post(&path, &reviewer, &other).await, 409, "conflict").await;
        assert!(p["detail"].as_str().expect("detail").contains(&id), "{p}");
        let p = problem(
            s.post(
                &path,
                &reviewer,
                &json!({"outcome": "maybe", "label": "fraud"}),
            )
            .await,
            422,
            "invalid_value",
        )
        .await;
        assert!(
            p["detail"].as_str().expect("detail").contains("`outcome`"),
            "{p}"
        );
        problem(
            s.post("/v1/reviews/rev_nope/resolve", &reviewer, &body)
                .await,
            404,
            "not_found",
        )
        .await;
        // The review's label is in the decision's history and marks the user in the graph.
        let did = first["decision_id"].as_str().expect("id");
        let h: Value = s
            .get(&format!("/v1/labels?decision_id={did}"), &reviewer)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(h.as_array().expect("history").len(), 1);
        assert_eq!(h[0]["source"], "review");
        let e: Value = s
            .get("/v1/graph/entities/user/ring-a", &s.admin_key)
            .await
            .json()
            .await
            .expect("json");
        assert!(
            e["fraud_mark"].is_object(),
            "the fraud label marks the user: {e}"
        );
        let open = queue(&s, &reviewer, "").await;
        assert_eq!(open["items"].as_array().expect("items").len(), 1);
        let resolved = queue(&s, &s.admin_key, "?status=resolved").await;
        assert_eq!(resolved["items"].as_array().expect("items").len(), 1);
        let own = queue(&s, &reviewer, "?status=all").await;
        assert_eq!(own["total"], 2, "its resolved one and the open one: {own}");
        s.finish().await;
    }
}

async fn device_marked(s: &TestServer) -> bool {
    let e: Value = s
        .get("/v1/graph/entities/device/dev-9", &s.admin_key)
        .await
        .json()
        .await
        .expect("json");
    e["fraud_mark"].is_object()
}

#[tokio::test]
async fn labels_supersede_validate_and_unmark() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["label:write", "decisions:read"]).await;
        let mut body = decision_body("lb-1");
        body["user"]["id"] = json!("mallory");
        let d = decide(&s, &body).await;
        let did = d["decision_id"].as_str().expect("id");

        for (bad, field) in [
            (
                json!({"label": "fraud", "source": "analyst"}),
                "decision_id",
            ),
            (
                json!({"decision_id": did, "order_id": "o-42", "label": "fraud", "source": "analyst"}),
                "decision_id",
            ),
            (
                json!({"decision_id": did, "label": "stolen", "source": "analyst"}),
                "label",
            ),
            (
                json!({"decision_id": did, "label": "fraud", "source": "gossip"}),
                "source",
            ),
            (
                json!({"decision_id": "dec_missing", "label": "fraud", "source": "analyst"}),
                "decision_id",
            ),
            (
                json!({"order_id": "o-none", "label": "fraud", "source": "analyst"}),
                "order_id",
            ),
            // The posted decision names order `o-42`, but that is no transaction-core order:
            // an order's labels land only on decisions the core recorded for it.
            (
                json!({"order_id": "o-42", "label": "fraud", "source": "customer"}),
                "order_id",
            ),
        ] {
            let p = problem(s.post("/v1/labels", &key, &bad).await, 422, "invalid_value").await;
            assert!(
                p["detail"]
                    .as_str()
                    .expect("detail")
                    .contains(&format!("`{field}`")),
                "{p}"
            );
        }
        let r = s
            .post(
                "/v1/labels",
                &key,
                &json!({"decision_id": did, "label": "fraud", "source": "customer"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let l: Value = r.json().await.expect("json");
        assert_eq!(l["decision_id"], did);
        assert!(
            device_marked(&s).await,
            "a fraud label marks the device at once"
        );
        let r = s
            .post("/v1/labels", &key, &json!({"decision_id": did, "label": "legit", "source": "analyst", "note": "customer verified"}))
            .await;
        assert_eq!(r.status(), 201);
        assert!(
            !device_marked(&s).await,
            "a later legit label withdraws the mark"
        );
        let h: Value = s
            .get(&format!("/v1/labels?decision_id={did}"), &key)
            .await
            .json()
            .await
            .expect("json");
        let kinds: Vec<_> = h
            .as_array()
            .expect("history")
            .iter()
            .map(|l| l["label"].clone())
            .collect();
        assert_eq!(
            kinds,
            [json!("fraud"), json!("legit")],
            "both stay in history"
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn a_chargeback_file_imports_with_a_report_per_row() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["label:write", "decisions:read"]).await;
        let d = decide(&s, &decision_body("cb-1")).await;
        let did = d["decision_id"].as_str().expect("id");
        let d2 = decide(&s, &decision_body("cb-2")).await;
        let did2 = d2["decision_id"].as_str().expect("id");
        let file = format!(
            "chargeback_id,order_id,decision_id,amount,currency,reason\n\
             cb_1,,{did2},129.99,USD,10.4\n\
             cb_2,,{did},50.00,USD,13.1\n\
             cb_3,o-unknown,,,,\n\
             cb_4,,{did2},500.00,USD,\n\
             cb_5,,{did2},129.99,EUR,\n\
             ,,{did2},,,\n"
        );
        let send = |body: String, ct: &'static str| {
            s.client
                .post(s.url("/v1/labels/import"))
                .bearer_auth(&key)
                .header("content-type", ct)
                .body(body)
                .send()
        };
        let report: Value = send(file.clone(), "text/csv")
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert_eq!(report["imported"], 2, "{report}");
        assert_eq!(report["duplicates"], 0);
        let rejected = report["rejected"].as_array().expect("rejected");
        let lines: Vec<_> = rejected
            .iter()
            .map(|r| r["line"].as_u64().expect("line"))
            .collect();
        assert_eq!(lines, [4, 5, 6, 7], "{report}");
        assert!(
            rejected[0]["reason"]
                .as_str()
                .expect("r")
                .contains("o-unknown")
        );
        assert!(
            rejected[1]["reason"]
                .as_str()
                .expect("r")
                .contains("500.00")
        );
        assert!(
            rejected[3]["reason"]
                .as_str()
                .expect("r")
                .contains("chargeback_id")
        );
        let again: Value = send(file, "text/csv")
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert_eq!(
            (again["imported"].clone(), again["duplicates"].clone()),
            (json!(0), json!(2))
        );
        let r = send("x".into(), "application/json").await.expect("send");
        problem(r, 415, "unsupported_media_type").await;
        let r = send("order_id\no-42\n".into(), "text/csv")
            .await
            .expect("send");
        let p = problem(r, 422, "invalid_value").await;
        assert!(
            p["detail"].as_str().expect("d").contains("chargeback_id"),
            "{p}"
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn the_outcome_report_counts_actions_labels_and_turnaround() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["label:write", "decisions:read"]).await;
        let c1 = decide(&s, &challenged_body("rp-1", "u-a")).await;
        let c2 = decide(&s, &challenged_body("rp-2", "u-b")).await;
        let a = decide(&s, &decision_body("rp-3")).await;
        assert_eq!(
            (c1["action"].as_str(), a["action"].as_str()),
            (Some("challenge"), Some("accept"))
        );
        // A legit label on a challenged decision is a false positive; fraud on an accepted one
        // was missed; fraud on a challenged one was caught.
        for (d, label) in [(&c1, "legit"), (&c2, "fraud"), (&a, "fraud")] {
            let r = s
                .post(
                    "/v1/labels",
                    &key,
                    &json!({"decision_id": d["decision_id"], "label": label, "source": "analyst"}),
                )
                .await;
            assert_eq!(r.status(), 201);
        }
        let open = s
            .get("/v1/reviews", &key)
            .await
            .json::<Value>()
            .await
            .expect("json");
        let id = open["items"][0]["review_id"]
            .as_str()
            .expect("id")
            .to_owned();
        let r = s
            .post(
                &format!("/v1/reviews/{id}/resolve"),
                &key,
                &json!({"outcome": "approve", "label": "legit"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = s
            .get("/v1/reports/outcomes?policy_set_version=1", &s.admin_key)
            .await;
        assert_eq!(r.status(), 200);
        let rep: Value = r.json().await.expect("json");
        assert_eq!(
            rep["decisions"],
            json!({"accept": 1, "challenge": 2, "reject": 0}),
            "{rep}"
        );
        assert_eq!(rep["intercept_rate"], json!(2.0 / 3.0));
        assert_eq!(rep["labelled_intercepts"], 2);
        assert_eq!(rep["false_positive_rate"], json!(0.5), "{rep}");
        assert_eq!(
            rep["fraud_caught"],
            json!({"count": 1, "value": {"USD": "480.00"}})
        );
        assert_eq!(
            rep["fraud_missed"],
            json!({"count": 1, "value": {"USD": "129.99"}})
        );
        assert_eq!(rep["review_turnaround"]["resolved"], 1);
        let other = s
            .get("/v1/reports/outcomes?policy_set_version=99", &s.admin_key)
            .await;
        let other: Value = other.json().await.expect("json");
        assert_eq!(other["decisions"]["challenge"], 0);
        assert_eq!(other["intercept_rate"], Value::Null);
        let bad = s
            .get(
                "/v1/reports/outcomes?from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z",
                &s.admin_key,
            )
            .await;
        let p = problem(bad, 400, "invalid_query").await;
        assert!(detail(&p).contains("`from`"), "{p}");
        problem(s.get("/v1/reports/outcomes", &key).await, 403, "forbidden").await;
        s.finish().await;
    }
}
