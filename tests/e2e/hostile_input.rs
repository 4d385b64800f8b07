//! Hostile input at the JSON edge, on both backends: amounts that overflow, card numbers
//! behind escapes, in headers and in CSV files, ordinary ids that look numeric, identities in
//! another spelling. Each is answered with a problem+json naming the field (or, for ordinary
//! ids and spellings, decided as they should be), and nothing refused is stored. Size limits,
//! trailing bytes and NUL: `input_limits.rs`.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, decision_body, detail, problem};

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
        let storefront = s.key(&["orders:write"]).await;
        let r = s
            .client
            .post(s.url("/v1/orders"))
            .bearer_auth(&storefront)
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
