use serde_json::json;

use super::*;

fn full() -> Value {
    json!({"request_id": "chk-0001", "event": "payment.authorize",
        "amount": {"value": "129.99", "currency": "USD"},
        "user": {"id": "u-1", "account_age_days": 12, "email": "ann@example.com", "phone": "+15551234567"},
        "device": {"id": "dev-9", "ip": "203.0.113.7", "ip_country": "US", "is_proxy": false},
        "payment": {"method": "card", "card_fingerprint": "fp_7Hc", "card_bin": "411111", "card_country": "US"},
        "shipping": {"address": "1 Main St, Springfield, US", "country": "US"},
        "order_id": "o-42", "attributes": {"promo_code": "WELCOME10"}})
}

fn parse(v: Value) -> Result<DecisionRequest, RequestError> {
    DecisionRequest::from_slice(v.to_string().as_bytes())
}

#[test]
fn accepts_the_documented_example() {
    let r = parse(full()).expect("valid");
    assert_eq!(r.checkpoint, Checkpoint::PaymentAuthorize);
    assert_eq!(r.amount.map(|m| m.minor_units()), Some(12999));
    assert_eq!(r.user_id, "u-1");
}

#[test]
fn body_hash_ignores_key_order_and_whitespace() {
    let a = DecisionRequest::from_slice(
        br#"{"request_id":"r","event":"account.login","user":{"id":"u"}}"#,
    )
    .expect("valid");
    let b = DecisionRequest::from_slice(
        br#"{ "user": {"id": "u"}, "event": "account.login", "request_id": "r" }"#,
    )
    .expect("valid");
    assert_eq!(a.body_hash, b.body_hash);
}

#[test]
fn names_the_missing_field() {
    let mut v = full();
    v["user"].as_object_mut().expect("object").remove("id");
    assert_eq!(
        parse(v),
        Err(RequestError::MissingField {
            field: "user.id".into()
        })
    );
    let mut v = full();
    v.as_object_mut().expect("object").remove("request_id");
    assert_eq!(
        parse(v),
        Err(RequestError::MissingField {
            field: "request_id".into()
        })
    );
}

#[test]
fn amount_is_required_for_money_checkpoints_only() {
    let mut v = full();
    v.as_object_mut().expect("object").remove("amount");
    assert_eq!(
        parse(v.clone()),
        Err(RequestError::MissingField {
            field: "amount".into()
        })
    );
    v["event"] = json!("account.login");
    assert!(parse(v).is_ok());
}

#[test]
fn names_the_field_with_the_wrong_type() {
    let mut v = full();
    v["user"]["account_age_days"] = json!("twelve");
    match parse(v) {
        Err(RequestError::InvalidType { field, .. }) => assert_eq!(field, "user.account_age_days"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn refuses_amount_as_number_unknown_event_and_unknown_field() {
    let mut v = full();
    v["amount"]["value"] = json!(129.99);
    assert_eq!(
        parse(v),
        Err(RequestError::AmountNotString {
            field: "amount.value".into()
        })
    );
    let mut v = full();
    v["event"] = json!("payment.capture");
    assert!(matches!(parse(v), Err(RequestError::UnknownEvent { .. })));
    let mut v = full();
    v["device"]["colour"] = json!("blue");
    assert_eq!(
        parse(v),
        Err(RequestError::UnknownField {
            field: "device.colour".into()
        })
    );
}

#[test]
fn refuses_a_card_number_anywhere() {
    let mut v = full();
    v["attributes"]["note"] = json!("card 4111 1111 1111 1111");
    assert_eq!(
        parse(v),
        Err(RequestError::RawCardNumber {
            field: "attributes.note".into(),
            key: false
        })
    );
    let mut v = full();
    v["user"]["id"] = json!("card4111111111111111");
    let err = parse(v).expect_err("flush against letters");
    assert_eq!(err.code(), "raw_card_number");
    assert!(err.to_string().contains("field `user.id`"), "{err}");
    assert!(!err.to_string().contains("4111"), "never echoed: {err}");
    assert_eq!(
        DecisionRequest::from_slice(b"{ broken 5500-0000-0000-0004"),
        Err(RequestError::RawCardNumber {
            field: "body".into(),
            key: false
        })
    );
}

#[test]
fn a_json_escape_hides_no_card_number() {
    let body =
        br#"{"request_id":"r","event":"account.login","user":{"id":"\u0034111111111111111"}}"#;
    assert_eq!(
        DecisionRequest::from_slice(body),
        Err(RequestError::RawCardNumber {
            field: "user.id".into(),
            key: false
        })
    );
}

#[test]
fn ordinary_ids_are_not_card_numbers() {
    let mut v = full();
    v["request_id"] = json!("chk-109-1764787915");
    v["order_id"] = json!("order 2026-12-03-0042-17");
    v["attributes"]["decision"] = json!("dec_01a206d9ba5a74c2a927142964926901");
    assert!(parse(v).is_ok());
}

#[test]
fn refuses_invalid_json_and_bad_ip() {
    assert!(matches!(
        DecisionRequest::from_slice(b"{not json"),
        Err(RequestError::InvalidJson(_))
    ));
    let mut v = full();
    v["device"]["ip"] = json!("999.1.1.1");
    assert!(
        matches!(parse(v), Err(RequestError::InvalidValue { field, .. }) if field == "device.ip")
    );
}

#[test]
fn refuses_nul_characters() {
    let body = br#"{"request_id":"r","event":"account.login","user":{"id":"u\u0000"}}"#;
    assert!(matches!(
        DecisionRequest::from_slice(body),
        Err(RequestError::InvalidValue { field, .. }) if field == "user.id"
    ));
}

#[test]
fn every_field_has_a_length_limit_named_in_the_error() {
    let cases: [(&str, &str, usize); 14] = [
        ("/request_id", "request_id", MAX_REQUEST_ID_CHARS),
        ("/user/id", "user.id", MAX_ID_CHARS),
        ("/user/email", "user.email", MAX_EMAIL_CHARS),
        ("/user/phone", "user.phone", MAX_PHONE_CHARS),
        ("/device/id", "device.id", MAX_ID_CHARS),
        ("/device/ip", "device.ip", MAX_IP_CHARS),
        ("/device/ip_country", "device.ip_country", MAX_COUNTRY_CHARS),
        ("/payment/method", "payment.method", MAX_METHOD_CHARS),
        (
            "/payment/card_fingerprint",
            "payment.card_fingerprint",
            MAX_ID_CHARS,
        ),
        ("/payment/card_bin", "payment.card_bin", MAX_CARD_BIN_CHARS),
        (
            "/payment/card_country",
            "payment.card_country",
            MAX_COUNTRY_CHARS,
        ),
        ("/shipping/address", "shipping.address", MAX_ADDRESS_CHARS),
        ("/shipping/country", "shipping.country", MAX_COUNTRY_CHARS),
        ("/order_id", "order_id", MAX_ID_CHARS),
    ];
    for (pointer, field, max) in cases {
        let mut at_limit = full();
        *at_limit.pointer_mut(pointer).expect(pointer) = json!("é".repeat(max));
        if field != "device.ip" {
            assert!(parse(at_limit).is_ok(), "{field} at {max} characters");
        }
        let mut over = full();
        *over.pointer_mut(pointer).expect(pointer) = json!("x".repeat(max + 1));
        let err = parse(over).expect_err(field);
        assert_eq!(
            err,
            RequestError::TooLong {
                field: field.into(),
                max
            }
        );
        assert_eq!(err.code(), "too_long");
        assert!(err.to_string().contains(&format!("{max} characters")));
    }
    let mut v = full();
    v["user"]["id"] = json!("u".repeat(20_000));
    assert!(matches!(parse(v), Err(RequestError::TooLong { field, .. }) if field == "user.id"));
}

#[test]
fn attributes_are_bounded_in_count_key_value_and_depth() {
    let with = |attributes: Value| {
        let mut v = full();
        v["attributes"] = attributes;
        parse(v)
    };
    let many: serde_json::Map<String, Value> = (0..=MAX_ATTRIBUTES)
        .map(|i| (format!("k{i}"), json!(i)))
        .collect();
    assert_eq!(
        with(Value::Object(many)),
        Err(RequestError::TooMany {
            field: "attributes".into(),
            max: MAX_ATTRIBUTES
        })
    );
    let key = "k".repeat(MAX_ATTRIBUTE_KEY_CHARS + 1);
    assert!(matches!(
        with(json!({ key: 1 })),
        Err(RequestError::TooLong { field, max: MAX_ATTRIBUTE_KEY_CHARS })
            if field.starts_with("attributes.kkkk") && field.ends_with('…')
    ));
    assert_eq!(
        with(json!({"note": "x".repeat(MAX_ATTRIBUTE_VALUE_CHARS + 1)})),
        Err(RequestError::TooLong {
            field: "attributes.note".into(),
            max: MAX_ATTRIBUTE_VALUE_CHARS
        })
    );
    assert_eq!(
        with(json!({"tags": ["a", {"inner": "x".repeat(MAX_ATTRIBUTE_VALUE_CHARS + 1)}]})),
        Err(RequestError::TooLong {
            field: "attributes.tags[1].inner".into(),
            max: MAX_ATTRIBUTE_VALUE_CHARS
        })
    );
    assert!(with(json!({"a": {"b": {"c": {"d": [1]}}}})).is_ok());
    assert_eq!(
        with(json!({"a": {"b": {"c": {"d": [[1]]}}}})),
        Err(RequestError::TooDeep {
            field: "attributes.a.b.c.d[0]".into(),
            max: MAX_ATTRIBUTE_DEPTH
        })
    );
    let long_list: Vec<u32> = (0..=MAX_ATTRIBUTES as u32).collect();
    assert_eq!(
        with(json!({ "list": long_list })),
        Err(RequestError::TooMany {
            field: "attributes.list".into(),
            max: MAX_ATTRIBUTES
        })
    );
}

#[test]
fn an_overflowing_amount_is_out_of_range() {
    for value in ["79228162514264337593543950335", "1000000000000"] {
        let mut v = full();
        v["amount"]["value"] = json!(value);
        assert!(matches!(
            parse(v),
            Err(RequestError::AmountOutOfRange { field, .. }) if field == "amount.value"
        ));
    }
    let mut v = full();
    v["amount"]["value"] = json!("1e30");
    assert!(matches!(parse(v), Err(RequestError::InvalidAmount { .. })));
}

#[test]
fn a_null_proxy_flag_means_what_an_absent_one_does() {
    let mut v = full();
    v["device"]["is_proxy"] = Value::Null;
    assert!(!parse(v).expect("null is accepted").device.is_proxy);
    let mut v = full();
    v["device"]["is_proxy"] = json!(true);
    assert!(parse(v).expect("valid").device.is_proxy);
    let mut v = full();
    v["device"]["is_proxy"] = json!("yes");
    assert!(matches!(parse(v), Err(RequestError::InvalidType { .. })));
}

/// The canonical bytes as they were first written (keys cloned into a `Value` and printed,
/// scalars printed by `Display`): hashes stored with past decisions were made this way, so a
/// retry of an old request must still hash the same.
fn canonical_hash_as_first_written(value: &Value) -> String {
    fn write(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(Value::String(k.clone()).to_string().as_bytes());
                    out.push(b':');
                    write(&map[k], out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
        }
    }
    let mut out = Vec::new();
    write(value, &mut out);
    hex::encode(Sha256::digest(&out))
}

#[test]
fn the_body_hash_is_the_one_past_decisions_were_stored_with() {
    let bodies = [
        full(),
        json!({"z": [1, -2, 3.25, 1e300, 0.1, true, null, "x"], "a": {"é\"\\\n\u{1f}": "ü/ 😀", "b": []},
            "M": {"k": {"j": {"i": [{"h": "g"}, {}]}}}, "": ""}),
        json!({"user": {"id": "\u{0}\u{7f}\t"}, "amount": {"value": "-0.00", "currency": "usd"}}),
    ];
    for body in bodies {
        assert_eq!(
            canonical_hash(&body),
            canonical_hash_as_first_written(&body),
            "{body}"
        );
    }
}
