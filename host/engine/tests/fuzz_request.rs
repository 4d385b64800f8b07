//! Fuzz targets (proptest) for what reads untrusted bytes first: the decision request parser,
//! the amount parser, the JSON screen and the card scan. Each must answer every input with
//! `Ok` or an error, never a panic, and what it accepts must hold its documented invariants.
//!
//! CI runs the default 256 cases per target. Run them long with
//! `PROPTEST_CASES=200000 cargo test --release -p arbiter-engine --test fuzz_request`.

use arbiter_engine::card_scan::contains_card_number;
use arbiter_engine::money::{MAX_AMOUNT_INTEGER_DIGITS, Money, MoneyWire, RateTable};
use arbiter_engine::request::{MAX_ATTRIBUTES, MAX_ID_CHARS, MAX_REQUEST_ID_CHARS};
use arbiter_engine::screen::screen_json;
use arbiter_engine::{DecisionRequest, EnrichedContext};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// A valid body to mutate.
fn base() -> Value {
    json!({"request_id": "chk-0001", "event": "payment.authorize",
        "amount": {"value": "129.99", "currency": "USD"},
        "user": {"id": "u-1", "account_age_days": 12, "email": "ann@example.com", "phone": "+15551234567"},
        "device": {"id": "dev-9", "ip": "203.0.113.7", "ip_country": "US", "is_proxy": false},
        "payment": {"method": "card", "card_fingerprint": "fp_7Hc", "card_bin": "411111", "card_country": "US"},
        "shipping": {"address": "1 Main St, Springfield, US", "country": "US"},
        "order_id": "o-42", "attributes": {"promo_code": "WELCOME10"}})
}

/// Where hostile values go.
const POINTERS: &[&str] = &[
    "/request_id",
    "/event",
    "/amount",
    "/amount/value",
    "/amount/currency",
    "/user",
    "/user/id",
    "/user/account_age_days",
    "/user/email",
    "/user/phone",
    "/device/id",
    "/device/ip",
    "/device/ip_country",
    "/device/is_proxy",
    "/payment/card_fingerprint",
    "/payment/card_bin",
    "/shipping/address",
    "/order_id",
    "/attributes",
    "/attributes/promo_code",
];

/// Strings an attacker would try: numbers in every notation, card-like digits, escapes that
/// decode to NUL or digits, odd Unicode, and long runs.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,40}(\\.[0-9]{0,40})?",
        "-?[0-9]{1,30}([eE][+-]?[0-9]{1,4})?",
        "[0-9 -]{10,30}",
        "[a-z]{0,3}[0-9]{13,19}[a-z]{0,3}",
        "::(ffff|FFFF):[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        "\\PC{0,40}",
        any::<String>(),
        Just("79228162514264337593543950335".to_owned()),
        Just("\u{0}".to_owned()),
        Just("ｆｒａｕｄ＠ｅｘａｍｐｌｅ．ｃｏｍ".to_owned()),
        (1usize..3000).prop_map(|n| "x".repeat(n)),
        (1usize..300).prop_map(|n| "é".repeat(n)),
    ]
}

/// JSON values of every type, nested a few levels.
fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 128, 12, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..12).prop_map(Value::Array),
            prop::collection::btree_map(hostile_string(), inner, 0..12)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Checks what an accepted request must satisfy, and that enriching it does not panic.
fn accepted_holds_its_invariants(req: &DecisionRequest) {
    assert!(req.request_id.chars().count() <= MAX_REQUEST_ID_CHARS);
    assert!(req.user_id.chars().count() <= MAX_ID_CHARS);
    assert!(req.attributes.len() <= MAX_ATTRIBUTES);
    if let Some(m) = req.amount {
        assert!(!m.amount.is_sign_negative() || m.amount.is_zero());
        assert_eq!(m.checked_minor_units(), Some(m.minor_units()));
    }
    // Nothing accepted holds a card number or a NUL, however it was escaped.
    let mut texts = vec![req.request_id.as_str(), req.user_id.as_str()];
    texts.extend(
        [
            &req.email,
            &req.phone,
            &req.device.id,
            &req.device.ip,
            &req.payment.card_fingerprint,
            &req.payment.card_bin,
            &req.shipping.address,
            &req.order_id,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str),
    );
    let mut attribute_texts = Vec::new();
    for (k, v) in &req.attributes {
        attribute_texts.push(k.clone());
        texts_of(v, &mut attribute_texts);
    }
    texts.extend(attribute_texts.iter().map(String::as_str));
    for text in texts {
        assert!(!contains_card_number(text.as_bytes()), "accepted: {text}");
        assert!(!text.contains('\0'), "accepted a NUL: {text:?}");
    }
    let ctx = EnrichedContext::normalise(req, &RateTable::default());
    assert_eq!(ctx.request_id, req.request_id);
}

/// Every decoded string, key and integer inside `v` (a float in exponent notation is not a
/// card number as written: `4.3604894652272204e38`).
fn texts_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|i| texts_of(i, out)),
        Value::Object(map) => {
            for (k, item) in map {
                out.push(k.clone());
                texts_of(item, out);
            }
        }
        _ => {}
    }
}

fn decide_bytes(bytes: &[u8]) {
    match DecisionRequest::from_slice(bytes) {
        Ok(req) => accepted_holds_its_invariants(&req),
        Err(e) => assert!(!e.code().is_empty()),
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_request_parser(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        decide_bytes(&bytes);
        let _ = screen_json(&bytes);
        let _ = contains_card_number(&bytes);
    }

    #[test]
    fn hostile_json_never_panics_the_request_parser(
        edits in prop::collection::vec((0..POINTERS.len(), hostile_value()), 1..5),
        raw_escapes in any::<bool>(),
    ) {
        let mut body = base();
        for (at, value) in edits {
            if let Some(slot) = body.pointer_mut(POINTERS[at]) {
                *slot = value;
            }
        }
        let mut text = body.to_string();
        if raw_escapes {
            // The same body with every digit written as a JSON escape where it is inside a string.
            text = escape_digits_in_strings(&text);
        }
        decide_bytes(text.as_bytes());
    }

    #[test]
    fn arbitrary_text_never_panics_the_amount_parser(value in hostile_string(), currency in "[A-Z]{3}|\\PC{0,5}") {
        let wire = MoneyWire { value, currency };
        if let Ok(m) = Money::parse("amount", &wire) {
            let limit = Decimal::from(10_i64.pow(MAX_AMOUNT_INTEGER_DIGITS as u32));
            prop_assert!(m.amount < limit);
            prop_assert!(m.amount >= Decimal::ZERO);
            prop_assert_eq!(m.checked_minor_units(), Some(m.minor_units()));
            // What is written back reads back as the same amount.
            let again = Money::parse("amount", &m.to_wire()).expect("round trip");
            prop_assert_eq!(again.amount, m.amount);
        }
    }

    #[test]
    fn any_plain_decimal_within_the_limit_is_read_exactly(int in 0u64..1_000_000_000_000, cents in 0u32..100) {
        let wire = MoneyWire { value: format!("{int}.{cents:02}"), currency: "USD".into() };
        let m = Money::parse("amount", &wire).expect("within the limit");
        prop_assert_eq!(m.minor_units(), int as i64 * 100 + i64::from(cents));
    }
}

/// Rewrites digits inside JSON strings as `\u003N` escapes.
fn escape_digits_in_strings(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string && !escaped && c.is_ascii_digit() {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
            continue;
        }
        out.push(c);
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_string = !in_string;
        }
    }
    out
}
