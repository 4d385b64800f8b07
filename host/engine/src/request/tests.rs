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
    assert_eq!(parse(v), Err(RequestError::RawCardNumber));
    assert_eq!(
        DecisionRequest::from_slice(b"{ broken 5500-0000-0000-0004"),
        Err(RequestError::RawCardNumber)
    );
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
        Err(RequestError::InvalidValue { field, .. }) if field == "body"
    ));
}
