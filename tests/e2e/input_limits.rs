//! Limits at the JSON edge, on both backends: every oversized field is refused naming the
//! field and the limit, a body holds one JSON value and nothing after it, and no route takes
//! a NUL character (PostgreSQL text cannot hold one). Nothing refused is stored.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, decision_body, detail, problem};

#[tokio::test]
async fn oversized_fields_are_refused_naming_the_field_and_the_limit() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide", "orders:write"]).await;
        // A 20,000-character user id is refused, and nothing was stored under its request id.
        let mut long_user = decision_body("long-1");
        long_user["user"]["id"] = json!("u".repeat(20_000));
        let v = problem(
            s.post("/v1/decisions", &key, &long_user).await,
            422,
            "too_long",
        )
        .await;
        assert!(
            detail(&v).contains("`user.id`") && detail(&v).contains("128 characters"),
            "{v}"
        );
        let r = s
            .post("/v1/decisions", &key, &decision_body("long-1"))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["idempotent-replayed"],
            "false",
            "a first decision"
        );
        // Attribute count and depth.
        let mut many = decision_body("long-2");
        many["attributes"] = (0..65).map(|i| (format!("k{i}"), json!(i))).collect();
        let v = problem(s.post("/v1/decisions", &key, &many).await, 422, "too_many").await;
        assert!(detail(&v).contains("`attributes`"), "{v}");
        let mut deep = decision_body("long-3");
        deep["attributes"]["a"] = json!({"b": {"c": {"d": [[1]]}}});
        let v = problem(s.post("/v1/decisions", &key, &deep).await, 422, "too_deep").await;
        assert!(detail(&v).contains("`attributes.a.b.c.d[0]`"), "{v}");
        // A list entry's value and reason.
        for (field, entry) in [
            (
                "value",
                json!({"list": "block", "kind": "user", "value": "u".repeat(129)}),
            ),
            (
                "reason",
                json!({"list": "block", "kind": "user", "value": "u", "reason": "r".repeat(501)}),
            ),
        ] {
            let v = problem(
                s.post("/v1/lists/entries", &s.admin_key, &entry).await,
                422,
                "too_long",
            )
            .await;
            assert!(detail(&v).contains(&format!("`{field}`")), "{v}");
        }
        // A label's note.
        let d: Value = s
            .post("/v1/decisions", &key, &decision_body("long-4"))
            .await
            .json()
            .await
            .expect("json");
        let label = json!({"decision_id": d["decision_id"], "label": "fraud",
            "source": "analyst", "note": "n".repeat(2001)});
        let v = problem(
            s.post("/v1/labels", &s.admin_key, &label).await,
            422,
            "too_long",
        )
        .await;
        assert!(
            detail(&v).contains("`note`") && detail(&v).contains("2000"),
            "{v}"
        );
        // The Idempotency-Key header.
        let r = s
            .client
            .post(s.url("/v1/orders"))
            .bearer_auth(&key)
            .header("idempotency-key", "k".repeat(256))
            .json(&json!({"items": [{"sku": "NONE", "qty": 1}], "user": "u-1"}))
            .send()
            .await
            .expect("send");
        let v = problem(r, 400, "invalid_header").await;
        assert!(detail(&v).contains("`Idempotency-Key`") && detail(&v).contains("255"));
        s.finish().await;
    }
}

#[tokio::test]
async fn trailing_bytes_after_a_json_body_are_refused() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let r = s
            .post_raw(
                "/v1/keys",
                &s.admin_key,
                br#"{"name":"k","scopes":["decide"]}garbage"#.to_vec(),
            )
            .await;
        problem(r, 400, "invalid_json").await;
        let r = s
            .post_raw(
                "/v1/lists/entries",
                &s.admin_key,
                br#"{"list":"block","kind":"user","value":"u"} {}"#.to_vec(),
            )
            .await;
        problem(r, 400, "invalid_json").await;
        let entries: Value = s
            .get("/v1/lists/entries", &s.admin_key)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(entries.as_array().map(Vec::len), Some(0), "{entries}");
        // Whitespace after the value is fine.
        let r = s
            .post_raw(
                "/v1/keys",
                &s.admin_key,
                b"{\"name\":\"k\",\"scopes\":[\"decide\"]} \n".to_vec(),
            )
            .await;
        assert_eq!(r.status(), 201);
        s.finish().await;
    }
}

#[tokio::test]
async fn nul_is_refused_on_every_route_naming_the_field() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide"]).await;
        let d: Value = s
            .post("/v1/decisions", &key, &decision_body("nul-0"))
            .await
            .json()
            .await
            .expect("json");
        let did = d["decision_id"].as_str().expect("id");
        let cases: Vec<(&str, &str, String, &str)> = vec![
            (
                "/v1/lists/entries",
                "",
                r#"{"list":"block","kind":"user","value":"u","reason":"a\u0000b"}"#.into(),
                "reason",
            ),
            (
                "/v1/lists/entries",
                "",
                r#"{"list":"block","kind":"user","value":"u\u0000"}"#.into(),
                "value",
            ),
            (
                "/v1/labels",
                "",
                format!(
                    r#"{{"decision_id":"{did}","label":"fraud","source":"analyst","note":"\u0000"}}"#
                ),
                "note",
            ),
            (
                "/v1/skus",
                "",
                r#"{"sku":"NUL-1","title":"mug\u0000","price":{"value":"1.00","currency":"USD"}}"#
                    .into(),
                "title",
            ),
            (
                "/v1/orders",
                "nul-order-1",
                r#"{"items":[{"sku":"NUL-1","qty":1}],"user":"u\u0000"}"#.into(),
                "user",
            ),
            (
                "/v1/keys",
                "",
                r#"{"name":"k","scopes":["decide\u0000"]}"#.into(),
                "scopes[0]",
            ),
        ];
        for (path, idem, body, field) in cases {
            let mut req = s
                .client
                .post(s.url(path))
                .bearer_auth(&s.admin_key)
                .header("content-type", "application/json")
                .body(body);
            if !idem.is_empty() {
                req = req.header("idempotency-key", idem);
            }
            let r = req.send().await.expect("send");
            let v = problem(r, 422, "invalid_value").await;
            assert!(
                detail(&v).contains(&format!("`{field}`")) && detail(&v).contains("NUL"),
                "{backend:?} {path}: {v}"
            );
        }
        s.finish().await;
    }
}
