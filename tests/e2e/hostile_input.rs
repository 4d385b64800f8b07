//! Hostile input at the JSON edge, on both backends: amounts that overflow, card numbers
//! behind escapes, in headers and in CSV files, ordinary ids that look numeric, identities in
//! another spelling, oversized fields, trailing bytes and NUL characters. Each is answered
//! with a problem+json naming the field, and nothing is stored.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, decision_body, problem};

fn detail(v: &Value) -> &str {
    v["detail"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn overflowing_and_exotic_amounts_are_refused_naming_the_field() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide"]).await;
        for (value, code) in [
            ("79228162514264337593543950335", "amount_out_of_range"),
            ("99999999999999999999", "amount_out_of_range"),
            ("1000000000000", "amount_out_of_range"),
            ("1e30", "invalid_amount"),
            ("1E+5", "invalid_amount"),
            ("1_000", "invalid_amount"),
        ] {
            let mut body = decision_body("amt-1");
            body["amount"]["value"] = json!(value);
            let v = problem(s.post("/v1/decisions", &key, &body).await, 422, code).await;
            assert!(detail(&v).contains("`amount.value`"), "{value}: {v}");
        }
        // The largest amount is decided, and the refused attempts left `amt-1` free.
        let mut body = decision_body("amt-1");
        body["amount"]["value"] = json!("999999999999.99");
        let r = s.post("/v1/decisions", &key, &body).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["idempotent-replayed"],
            "false",
            "a first decision"
        );
        // A catalogue price takes the same parser.
        let sku = json!({"sku": "BIG-1", "title": "Big",
            "price": {"value": "79228162514264337593543950335", "currency": "USD"}});
        let v = problem(
            s.post("/v1/skus", &s.admin_key, &sku).await,
            422,
            "amount_out_of_range",
        )
        .await;
        assert!(detail(&v).contains("`price.value`"), "{v}");
        s.finish().await;
    }
}

#[tokio::test]
async fn card_numbers_are_refused_behind_escapes_in_headers_and_in_csv_files() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let decide = s.key(&["decide"]).await;
        // A JSON escape hides nothing; the refusal names the field and never echoes it.
        let body = decision_body("esc-1")
            .to_string()
            .replace("\"u-1\"", "\"\\u0034111111111111111\"");
        let v = problem(
            s.post_raw("/v1/decisions", &decide, body.into_bytes())
                .await,
            422,
            "raw_card_number",
        )
        .await;
        assert!(detail(&v).contains("field `user.id`"), "{v}");
        assert!(!detail(&v).contains("4111"), "{v}");
        // Flush against letters.
        let mut flush = decision_body("esc-2");
        flush["attributes"]["note"] = json!("card4111111111111111");
        let v = problem(
            s.post("/v1/decisions", &decide, &flush).await,
            422,
            "raw_card_number",
        )
        .await;
        assert!(detail(&v).contains("`attributes.note`"), "{v}");
        // Behind an escape in a list entry.
        let entry = r#"{"list": "watch", "kind": "user", "value": "u-9",
            "reason": "card \u0035555 5555 5555 4444"}"#;
        let v = problem(
            s.post_raw("/v1/lists/entries", &s.admin_key, entry.into())
                .await,
            422,
            "raw_card_number",
        )
        .await;
        assert!(detail(&v).contains("`reason`"), "{v}");
        // In the Idempotency-Key header, which is stored: a 400 naming the header.
        let r = s
            .client
            .post(s.url("/v1/orders"))
            .bearer_auth(&decide)
            .header("idempotency-key", "4111-1111-1111-1111")
            .json(&json!({"items": [{"sku": "NONE", "qty": 1}], "user": "u-1"}))
            .send()
            .await
            .expect("send");
        let v = problem(r, 400, "raw_card_number").await;
        assert!(detail(&v).contains("`Idempotency-Key`"), "{v}");
        // In a chargeback file: the row is rejected naming the column, nothing is labelled.
        let d: Value = {
            let mut body = decision_body("cb-pan-1");
            body["order_id"] = json!("ord-r7");
            let r = s.post("/v1/decisions", &decide, &body).await;
            assert_eq!(r.status(), 200);
            r.json().await.expect("json")
        };
        let labeller = s.key(&["label:write"]).await;
        let report: Value = s
            .client
            .post(s.url("/v1/labels/import"))
            .bearer_auth(&labeller)
            .header("content-type", "text/csv")
            .body("chargeback_id,order_id,reason\ncb-pan,ord-r7,card 4111111111111111\n")
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert_eq!(report["imported"], 0, "{report}");
        assert_eq!(
            report["rejected"][0]["reason"], "column `reason` looks like a raw card number",
            "{report}"
        );
        let did = d["decision_id"].as_str().expect("id");
        let labels = s
            .get(&format!("/v1/labels?decision_id={did}"), &labeller)
            .await
            .text()
            .await
            .expect("text");
        assert!(!labels.contains("4111"), "{labels}");
        s.finish().await;
    }
}

#[tokio::test]
async fn ordinary_ids_that_used_to_pass_luhn_are_decided() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide"]).await;
        for (i, (request_id, order_id)) in [
            ("chk-109-1764787915", "order 2026-12-03-0042-17"),
            ("chk-7-1764787999", "2026-12-03-0042-17"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut body = decision_body(request_id);
            body["order_id"] = json!(order_id);
            body["attributes"]["ref"] = json!(format!("dec_01a206d9ba5a74c2a92714296492690{i}"));
            let r = s.post("/v1/decisions", &key, &body).await;
            let status = r.status();
            assert_eq!(
                status,
                200,
                "{request_id}: {}",
                r.text().await.unwrap_or_default()
            );
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn identities_in_another_spelling_meet_their_list_entries() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide"]).await;
        for (kind, value) in [("ip", "203.0.113.99"), ("email", "fraud@example.com")] {
            let r = s
                .post(
                    "/v1/lists/entries",
                    &s.admin_key,
                    &json!({"list": "block", "kind": kind, "value": value}),
                )
                .await;
            assert_eq!(r.status(), 201, "{kind}");
        }
        let cases = [
            ("mapped-1", Some("::ffff:203.0.113.99"), None),
            ("mapped-2", Some("::FFFF:CB00:7163"), None),
            ("mail-1", None, Some("FRAUD@Example.COM")),
            ("mail-2", None, Some("ｆｒａｕｄ＠ｅｘａｍｐｌｅ．ｃｏｍ")),
        ];
        for (id, ip, email) in cases {
            let mut body = decision_body(id);
            if let Some(ip) = ip {
                body["device"]["ip"] = json!(ip);
            }
            if let Some(email) = email {
                body["user"]["email"] = json!(email);
            }
            let r = s.post("/v1/decisions", &key, &body).await;
            assert_eq!(r.status(), 200, "{id}");
            let d: Value = r.json().await.expect("json");
            assert_eq!(d["action"], "reject", "{id}: {d}");
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn oversized_fields_are_refused_naming_the_field_and_the_limit() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let key = s.key(&["decide"]).await;
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
                br#"{"scopes":["decide"]}garbage"#.to_vec(),
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
                b"{\"scopes\":[\"decide\"]} \n".to_vec(),
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
                r#"{"scopes":["decide\u0000"]}"#.into(),
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
