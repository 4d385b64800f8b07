//! The link graph through the API: a ring sharing a device is flagged once one member is on
//! the block list; a household is not; the reviewer view shows the neighbourhood.

use serde_json::{Value, json};

use crate::harness::{Backend, TestServer, backends, decision_body, problem};

/// A login from `user` on `device` with its own card, e-mail and address.
fn login(id: &str, user: &str, device: &str) -> Value {
    let mut v = decision_body(id);
    v["event"] = json!("account.login");
    v.as_object_mut().expect("object").remove("amount");
    v["user"]["id"] = json!(user);
    v["user"]["email"] = json!(format!("{user}@example.com"));
    v["user"].as_object_mut().expect("user").remove("phone");
    v["device"]["id"] = json!(device);
    v["payment"]["card_fingerprint"] = json!(format!("fp-{user}"));
    v["shipping"]["address"] = json!(format!("{user} street"));
    v
}

async fn decide(s: &TestServer, body: &Value) -> Value {
    let r = s.post("/v1/decisions", &s.admin_key, body).await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

fn codes(d: &Value) -> Vec<String> {
    d["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().expect("code").to_owned())
        .collect()
}

#[tokio::test]
async fn a_ring_member_is_flagged_and_a_household_is_not() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        // A household: 3 users on one device.
        for (i, u) in ["mum", "dad", "kid"].iter().enumerate() {
            let d = decide(&s, &login(&format!("h-{i}"), u, "family-tablet")).await;
            assert_eq!(d["action"], "accept", "{backend:?} household: {d}");
        }
        // A ring: 8 accounts on one device, one of them then blocked.
        for i in 0..8 {
            decide(
                &s,
                &login(&format!("r-{i}"), &format!("ring-{i}"), "ring-phone"),
            )
            .await;
        }
        let r = s.post("/v1/lists/entries", &s.admin_key, &json!({"list": "block", "kind": "user", "value": "ring-0", "reason": "confirmed fraud"})).await;
        assert_eq!(r.status(), 201);
        let d = decide(&s, &login("r-next", "ring-5", "ring-phone")).await;
        let c = codes(&d);
        assert!(
            c.iter()
                .any(|c| c == "graph.near_fraud" || c == "graph.fraud_ring"),
            "{backend:?}: {c:?}"
        );
        assert!(c.iter().any(|c| c == "graph.shared_device"), "{c:?}");
        assert_ne!(d["action"], "accept", "{d}");
        let detail: Value = s
            .get(
                &format!("/v1/decisions/{}", d["decision_id"].as_str().expect("id")),
                &s.admin_key,
            )
            .await
            .json()
            .await
            .expect("json");
        let g = &detail["context"]["graph"];
        assert!(g["users_per_device"].as_u64().expect("users") >= 8, "{g}");
        assert!(g["hops_to_fraud"].as_u64().expect("hops") <= 2, "{g}");

        // A household member stays accepted after the ring is flagged.
        let d = decide(&s, &login("h-again", "mum", "family-tablet")).await;
        assert_eq!(d["action"], "accept", "{d}");

        let view: Value = s
            .get("/v1/graph/entities/device/ring-phone", &s.admin_key)
            .await
            .json()
            .await
            .expect("json");
        assert!(
            view["neighbours"].as_array().expect("neighbours").len() >= 8,
            "{view}"
        );
        let marked: Value = s
            .get("/v1/graph/entities/user/ring-0", &s.admin_key)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(marked["fraud_mark"]["reason"], "block list", "{marked}");
        problem(
            s.get("/v1/graph/entities/device/never-seen", &s.admin_key)
                .await,
            404,
            "not_found",
        )
        .await;
        problem(
            s.get("/v1/graph/entities/shoe/x", &s.admin_key).await,
            400,
            "invalid_path",
        )
        .await;
        s.finish().await;
    }
}

#[tokio::test]
async fn the_graph_is_rebuilt_from_the_decision_log_on_restart() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        for i in 0..4 {
            decide(
                &s,
                &login(&format!("rb-{i}"), &format!("rb-user-{i}"), "shared-dev"),
            )
            .await;
        }
        let db = s.stop().await;
        let s = TestServer::start_on(db).await;
        // On PostgreSQL the start-up build reads the graph feed up to the server's horizon and
        // the follower the rest: a transaction another session holds open anywhere on the
        // server (a parallel test) leaves the newest decisions to the follower, within the lag.
        let patience = match backend {
            Backend::Postgres { .. } => std::time::Duration::from_secs(30),
            _ => std::time::Duration::ZERO,
        };
        let started = std::time::Instant::now();
        loop {
            let view: Value = s
                .get("/v1/graph/entities/device/shared-dev", &s.admin_key)
                .await
                .json()
                .await
                .expect("json");
            if view["distinct_users"] == 4 {
                break;
            }
            assert!(started.elapsed() < patience, "{backend:?}: {view}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        s.finish().await;
    }
}
