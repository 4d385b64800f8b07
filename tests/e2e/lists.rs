//! Lists change the next decision; bad entries are refused and nothing is written.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, decision_body, problem};

#[tokio::test]
async fn block_allow_and_watch_entries_apply_to_the_next_decision() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let admin = s.admin_key.clone();
        // Address entries match however the address is written.
        let r = s
            .post(
                "/v1/lists/entries",
                &admin,
                &json!({"list": "watch", "kind": "address",
                "value": "1 MAIN ST springfield us", "reason": "reshipper"}),
            )
            .await;
        assert_eq!(r.status(), 201, "{backend:?}");
        let d: Value = s
            .post("/v1/decisions", &admin, &decision_body("l-1"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(d["action"], "accept");
        assert_eq!(d["score"], 20.0);
        assert_eq!(d["reasons"][0]["code"], "list.watch.address");

        let r = s
            .post(
                "/v1/lists/entries",
                &admin,
                &json!({"list": "block", "kind": "email",
                "value": "ANN@example.com", "reason": "chargebacks"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let block: Value = r.json().await.expect("json");
        let d: Value = s
            .post("/v1/decisions", &admin, &decision_body("l-2"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(d["action"], "reject");
        assert!(
            d["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .any(|r| r["code"] == "list.block.email" && r["layer"] == "list")
        );

        let found: Value = s
            .get("/v1/lists/entries?kind=email&value=Ann@Example.com", &admin)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(found.as_array().map(Vec::len), Some(1));

        let id = block["id"].as_str().expect("id");
        let r = s
            .client
            .delete(s.url(&format!("/v1/lists/entries/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 204);
        let d: Value = s
            .post("/v1/decisions", &admin, &decision_body("l-3"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(d["action"], "accept");
        let r = s
            .client
            .delete(s.url(&format!("/v1/lists/entries/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("send");
        problem(r, 404, "not_found").await;
        s.finish().await;
    }
}

#[tokio::test]
async fn allow_entry_short_circuits_to_accept() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let admin = s.admin_key.clone();
        for (list, kind, value) in [("block", "device", "dev-9"), ("allow", "user", "u-1")] {
            let r = s
                .post(
                    "/v1/lists/entries",
                    &admin,
                    &json!({"list": list, "kind": kind, "value": value}),
                )
                .await;
            assert_eq!(r.status(), 201);
        }
        // Block outranks allow.
        let d: Value = s
            .post("/v1/decisions", &admin, &decision_body("a-1"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(d["action"], "reject", "{backend:?}");
        let mut other_device = decision_body("a-2");
        other_device["device"]["id"] = json!("dev-1");
        let d: Value = s
            .post("/v1/decisions", &admin, &other_device)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(d["action"], "accept");
        assert_eq!(d["reasons"][0]["code"], "list.allow.user");
        s.finish().await;
    }
}

#[tokio::test]
async fn bad_entries_are_refused_and_not_written() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let admin = s.admin_key.clone();
        let cases = [
            (
                json!({"list": "grey", "kind": "user", "value": "u"}),
                "list",
            ),
            (
                json!({"list": "block", "kind": "shoe", "value": "u"}),
                "kind",
            ),
            (
                json!({"list": "block", "kind": "ip", "value": "not-an-ip"}),
                "value",
            ),
            (
                json!({"list": "block", "kind": "user", "value": "u", "expires_at": "2001-01-01T00:00:00Z"}),
                "expires_at",
            ),
        ];
        for (body, field) in cases {
            let v = problem(
                s.post("/v1/lists/entries", &admin, &body).await,
                422,
                "invalid_value",
            )
            .await;
            assert!(
                v["detail"]
                    .as_str()
                    .expect("detail")
                    .contains(&format!("`{field}`")),
                "{v}"
            );
        }
        let v = problem(
            s.post(
                "/v1/lists/entries",
                &admin,
                &json!({"list": "block", "kind": 5, "value": "u"}),
            )
            .await,
            422,
            "invalid_value",
        )
        .await;
        assert!(
            v["detail"].as_str().expect("detail").contains("kind"),
            "{v}"
        );
        let all: Value = s
            .get("/v1/lists/entries", &admin)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(all, json!([]), "{backend:?}");
        s.finish().await;
    }
}

#[tokio::test]
async fn adding_an_entry_twice_is_idempotent_and_one_delete_lifts_it() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let admin = s.admin_key.clone();
        let entry = json!({"list": "block", "kind": "user", "value": "u-1", "reason": "ring"});
        let first = s.post("/v1/lists/entries", &admin, &entry).await;
        assert_eq!(first.status(), 201, "{backend:?}");
        let first: Value = first.json().await.expect("json");
        // The same entry again (the value written differently normalises alike): the one in
        // force answers, 200, nothing written.
        let again = s
            .post(
                "/v1/lists/entries",
                &admin,
                &json!({"list": "block", "kind": "user", "value": " u-1 ", "reason": "ring"}),
            )
            .await;
        assert_eq!(again.status(), 200, "{backend:?}");
        let again: Value = again.json().await.expect("json");
        assert_eq!(again["id"], first["id"]);
        // Another reason for the same identity is a conflict naming the entry in force.
        let other = json!({"list": "block", "kind": "user", "value": "u-1", "reason": "other"});
        let v = problem(
            s.post("/v1/lists/entries", &admin, &other).await,
            409,
            "conflict",
        )
        .await;
        let id = first["id"].as_str().expect("id");
        assert!(v["detail"].as_str().expect("detail").contains(id), "{v}");
        let all: Value = s
            .get("/v1/lists/entries?kind=user&value=u-1", &admin)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
        // One delete lifts the block.
        let r = s
            .client
            .delete(s.url(&format!("/v1/lists/entries/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 204);
        let d: Value = s
            .post("/v1/decisions", &admin, &decision_body("idem-1"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(d["action"], "accept", "{d}");
        s.finish().await;
    }
}
