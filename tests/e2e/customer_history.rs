//! What a reviewer reads of a customer's history: the decisions that named an entity, newest
//! first in pages (`GET /v1/graph/entities/{kind}/{value}/decisions`), and a case set beside
//! the customer's usual behaviour (`usual_behaviour` on `GET /v1/reviews/{id}`).

use serde_json::{Value, json};

use crate::feedback::{challenged_body, decide};
use crate::harness::{TestServer, backends, decision_body, problem};

/// Four ordinary purchases by `hist-u` from one device in the US, then a large one from a new
/// device in Canada behind a proxy that is challenged. The decisions' ids, oldest first.
async fn history(s: &TestServer) -> (Vec<String>, Value) {
    let mut ids = Vec::new();
    for (i, amount) in ["20.00", "30.00", "40.00", "25.00"].into_iter().enumerate() {
        let mut body = decision_body(&format!("hist-{i}"));
        body["user"]["id"] = json!("hist-u");
        body["device"]["id"] = json!("dev-h1");
        body["amount"]["value"] = json!(amount);
        let d = decide(s, &body).await;
        assert_eq!(d["action"], "accept", "{d}");
        ids.push(d["decision_id"].as_str().expect("id").to_owned());
        if i == 3 {
            // A repeated request is answered from the log and links nothing.
            assert_eq!(decide(s, &body).await["decision_id"], d["decision_id"]);
        }
    }
    let mut body = challenged_body("hist-4", "hist-u");
    body["device"]["id"] = json!("dev-h2");
    body["device"]["ip_country"] = json!("CA");
    let challenged = decide(s, &body).await;
    assert_eq!(challenged["action"], "challenge", "{challenged}");
    ids.push(challenged["decision_id"].as_str().expect("id").to_owned());
    (ids, challenged)
}

/// The review a challenged decision opened: `rev_` and its decision id's UUID.
fn review_id_of(decision: &Value) -> String {
    let id = decision["decision_id"].as_str().expect("id");
    format!("rev_{}", id.trim_start_matches("dec_"))
}

fn item_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["decision_id"].as_str().expect("id").to_owned())
        .collect()
}

async fn page(s: &TestServer, key: &str, path: &str) -> Value {
    let r = s.get(path, key).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("json")
}

#[tokio::test]
async fn an_entitys_decisions_are_listed_newest_first_in_pages() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let (ids, challenged) = history(&s).await;
        let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

        let base = "/v1/graph/entities/user/hist-u/decisions";
        let first = page(&s, &reviewer, &format!("{base}?limit=2")).await;
        assert_eq!(first["kind"], "user");
        assert_eq!(first["value"], "hist-u");
        assert_eq!(item_ids(&first), newest_first[..2]);
        let top = &first["items"][0];
        assert_eq!(top["action"], "challenge");
        assert_eq!(top["amount"], "480");
        assert_eq!(top["currency"], "USD");
        assert_eq!(top["device_id"], "dev-h2");
        assert_eq!(top["ip_country"], "CA");
        assert_eq!(top["review_id"], review_id_of(&challenged));
        assert!(
            first["items"][1]["review_id"].is_null(),
            "an accepted decision opened no review"
        );
        let before = first["next_before"].as_str().expect("a next page");
        let second = page(&s, &reviewer, &format!("{base}?limit=2&before={before}")).await;
        assert_eq!(item_ids(&second), newest_first[2..4]);
        let before = second["next_before"].as_str().expect("a last page");
        let last = page(&s, &reviewer, &format!("{base}?limit=2&before={before}")).await;
        assert_eq!(item_ids(&last), newest_first[4..]);
        assert!(last["next_before"].is_null(), "{last}");

        // Any entity a decision names; an e-mail as sent (normalised like decisions).
        let device = page(&s, &reviewer, "/v1/graph/entities/device/dev-h1/decisions").await;
        assert_eq!(item_ids(&device).len(), 4);
        let email = page(
            &s,
            &reviewer,
            "/v1/graph/entities/email/ANN@example.com/decisions",
        )
        .await;
        assert_eq!(email["value"], "ann@example.com");
        assert!(item_ids(&email).len() >= 5, "{email}");

        // After a restart the heads come back from the stored decisions. On PostgreSQL the
        // start-up build reads the graph feed only below the oldest transaction running on
        // the server (other tests' too) and the follower folds in the rest as that horizon
        // moves, so they are back within the feed's lag, not necessarily at once.
        let s = TestServer::start_on(s.stop().await).await;
        let started = std::time::Instant::now();
        loop {
            let again = page(&s, &reviewer, &format!("{base}?limit=10")).await;
            if item_ids(&again) == newest_first {
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the heads never came back: {again}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn entity_decisions_refuse_bad_names_cursors_and_keys() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let decider = s.key(&["decide"]).await;
        let bad = [
            ("/v1/graph/entities/shoe/x/decisions", "invalid_path"),
            (
                "/v1/graph/entities/card/4242424242424242/decisions",
                "invalid_path",
            ),
            ("/v1/graph/entities/ip/not-an-ip/decisions", "invalid_path"),
            (
                "/v1/graph/entities/user/u-1/decisions?before=dec_x",
                "invalid_query",
            ),
            (
                "/v1/graph/entities/user/u-1/decisions?limit=0",
                "invalid_query",
            ),
            (
                "/v1/graph/entities/user/u-1/decisions?limit=101",
                "invalid_query",
            ),
        ];
        for (path, code) in bad {
            let body = problem(s.get(path, &reviewer).await, 400, code).await;
            assert!(
                !body.to_string().contains("4242424242424242"),
                "a card number is never echoed: {body}"
            );
        }
        // A well-formed id of no decision of this entity.
        problem(
            s.get(
                "/v1/graph/entities/user/u-1/decisions?before=dec_0123456789abcdef0123456789abcdef",
                &reviewer,
            )
            .await,
            404,
            "not_found",
        )
        .await;
        problem(
            s.get("/v1/graph/entities/user/u-1/decisions", &decider)
                .await,
            403,
            "forbidden",
        )
        .await;
        s.finish().await;
    }
}

#[tokio::test]
async fn a_case_is_set_beside_the_customers_usual_behaviour() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let reviewer = s.key(&["review"]).await;
        let (_, challenged) = history(&s).await;
        let review_id = review_id_of(&challenged);
        let case = page(&s, &reviewer, &format!("/v1/reviews/{review_id}")).await;
        let usual = &case["usual_behaviour"];
        assert_eq!(usual["past_decisions"], 4, "{usual}");
        assert_eq!(usual["past_challenged"], 0);
        let amount = &usual["amount"];
        assert_eq!(amount["currency"], "USD");
        assert_eq!(amount["samples"], 4);
        assert_eq!(amount["median"], 25.0);
        assert_eq!(amount["max"], 40.0);
        assert_eq!(amount["unusual"], true, "480 is far above a median of 25");
        let unusual: Vec<&str> = usual["unusual"]
            .as_array()
            .expect("unusual")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(unusual, ["amount", "device", "ip_country"], "{usual}");
        let device = usual["traits"]
            .as_array()
            .expect("traits")
            .iter()
            .find(|t| t["name"] == "device")
            .expect("device");
        assert_eq!(device["now"], "dev-h2");
        assert_eq!(device["usual"], json!([{"value": "dev-h1", "count": 4}]));
        // Queue pages do not carry it: it costs a read per case.
        let queue = page(&s, &reviewer, "/v1/reviews").await;
        assert!(
            queue["items"][0].get("usual_behaviour").is_none(),
            "{queue}"
        );
        s.finish().await;
    }
}
