use super::*;
use crate::samples::card_payment;

fn wit_verdict(score: f32, reasons: Vec<wit::Reason>) -> wit::Verdict {
    wit::Verdict {
        action: wit::Action::Challenge,
        score,
        reasons,
    }
}

fn reason(code: &str, detail: Option<&str>) -> wit::Reason {
    wit::Reason {
        code: code.into(),
        detail: detail.map(Into::into),
    }
}

#[test]
fn context_fields_arrive_in_the_abi_shape() {
    let ctx = card_payment();
    let wit = context(&ctx);
    assert_eq!(wit.checkpoint, wit::Checkpoint::PaymentAuthorize);
    let amount = wit.amount.expect("amount");
    assert_eq!(amount.value, 129.99);
    assert_eq!(amount.minor_units, 12_999);
    assert_eq!(amount.currency, "USD");
    assert_eq!(wit.card_country.as_deref(), Some("US"));
    assert_eq!(wit.velocity.card.map(|card| card.count_24h), Some(2));
    assert!(wit.graph.is_none());
}

#[test]
fn string_attributes_pass_as_is_and_others_as_json_text() {
    let mut ctx = card_payment();
    ctx.attributes = [
        ("s", serde_json::json!("plain text")),
        ("n", serde_json::json!(12.5)),
        ("b", serde_json::json!(true)),
        ("o", serde_json::json!({"k": ["v"]})),
        ("z", serde_json::Value::Null),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect();
    let wit = context(&ctx);
    let pairs: Vec<(&str, &str)> = wit
        .attributes
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("b", "true"),
            ("n", "12.5"),
            ("o", r#"{"k":["v"]}"#),
            ("s", "plain text"),
            ("z", "null"),
        ]
    );
}

#[test]
fn a_sane_verdict_converts() {
    let verdict = verdict_v1(wit_verdict(
        12.5,
        vec![reason("geo.mismatch", Some("card=US ip=FR"))],
    ))
    .expect("sane");
    assert_eq!(verdict.action, Action::Challenge);
    assert_eq!(verdict.score, 12.5);
    assert_eq!(
        verdict.reasons,
        [ReasonCode {
            code: "geo.mismatch".into(),
            detail: Some("card=US ip=FR".into()),
        }]
    );
}

#[test]
fn absurd_verdicts_are_malformed_output() {
    let too_many = (0..=MAX_REASONS).map(|_| reason("r", None)).collect();
    let long_code = "c".repeat(MAX_REASON_CODE_BYTES + 1);
    let long_detail = "d".repeat(MAX_REASON_DETAIL_BYTES + 1);
    for bad in [
        wit_verdict(f32::NAN, vec![]),
        wit_verdict(f32::INFINITY, vec![]),
        wit_verdict(f32::NEG_INFINITY, vec![]),
        wit_verdict(1.0, too_many),
        wit_verdict(1.0, vec![reason("", None)]),
        wit_verdict(1.0, vec![reason(&long_code, None)]),
        wit_verdict(1.0, vec![reason("ok", Some(&long_detail))]),
    ] {
        let fault = verdict_v1(bad).expect_err("absurd");
        assert_eq!(fault.kind, FaultKind::MalformedOutput, "{}", fault.message);
    }
}

#[test]
fn a_v2_verdict_is_checked_the_same_way() {
    let sane = v2::Verdict {
        action: v2::Action::Reject,
        score: 3.0,
        reasons: vec![v2::Reason {
            code: "r".into(),
            detail: None,
        }],
    };
    let verdict = verdict_v2(sane).expect("sane");
    assert_eq!(verdict.action, Action::Reject);
    assert_eq!(verdict.reasons.len(), 1);
    let nan = v2::Verdict {
        action: v2::Action::None,
        score: f32::NAN,
        reasons: Vec::new(),
    };
    let fault = verdict_v2(nan).expect_err("absurd");
    assert_eq!(fault.kind, FaultKind::MalformedOutput);
}
