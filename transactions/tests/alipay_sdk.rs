//! The Alipay adapter against an independent implementation: `python-alipay-sdk` (PyPI), run
//! from the Python that `CHANNEL_SDKS_PYTHON` names (`.ci/run` makes a venv with it). Three
//! facts are checked in both directions:
//!
//! - a request we signed carries the very signature the SDK computes for the same parameters
//!   with the same key (RSASSA-PKCS1-v1_5 is deterministic, so the sign content must match
//!   byte for byte);
//! - a notification the SDK signed with Alipay's key is accepted and read as paid;
//! - an answer signed as the SDK signs is accepted, and the SDK accepts it too.

mod support;

use arbiter_engine::money::Money;
use arbiter_transactions::channels::alipay::platform::AlipayPlatform;
use arbiter_transactions::channels::alipay::{Alipay, AlipayConfig};
use arbiter_transactions::channels::keys::SigningKey;
use arbiter_transactions::channels::{
    ChannelResponse, Inbound, NoticeState, PaymentChannel, PaymentState,
};
use arbiter_transactions::ids::{ChannelPaymentId, IdempotencyKey, OrderId, PaymentId};
use arbiter_transactions::payment::Payment;
use arbiter_transactions::status::PaymentStatus;
use chrono::Utc;
use iso_currency::Currency;
use serde_json::{Value, json};

const SDK_SCRIPT: &str = r#"
import json, sys
from urllib.parse import parse_qs
from alipay import AliPay

req = json.load(sys.stdin)
def sign_of(query):
    return parse_qs(query)["sign"][0]

# The merchant, as the SDK would be configured by a shop: its own key, Alipay's public key.
merchant = AliPay(appid=req["app_id"], app_private_key_string=req["app_key"],
                  alipay_public_key_string=req["platform_public"], sign_type="RSA2")
# Alipay's side: the platform key signs; the SDK's signer is the same RSA2 either way.
platform = AliPay(appid=req["app_id"], app_private_key_string=req["platform_key"],
                  alipay_public_key_string=req["app_public"], sign_type="RSA2")

out = {}
params = dict(req["request_params"])
params.pop("sign")
out["request_sign"] = sign_of(merchant.sign_data(params))
# Notifications are signed without sign_type, which is added beside the signature.
out["notification_sign"] = sign_of(platform.sign_data(dict(req["notification"])))
node = req["answer_node"]
out["answer_sign"] = platform._sign(node)
raw = '{"alipay_trade_query_response":' + node + ',"sign":"' + out["answer_sign"] + '"}'
out["sdk_reads_answer"] = merchant._verify_and_return_sync_response(
    raw, "alipay_trade_query_response")["trade_status"]
# What our simulated Alipay sends, checked by the SDK as a shop would check it.
ours = dict(req["our_notification"])
out["sdk_verifies_our_notification"] = merchant.verify(ours, ours.pop("sign"))
out["sdk_reads_our_answer"] = merchant._verify_and_return_sync_response(
    req["our_answer"], "alipay_trade_query_response")["trade_status"]
json.dump(out, sys.stdout)
"#;

fn sdk(input: &Value) -> Option<Value> {
    support::run("python-alipay-sdk", SDK_SCRIPT, input)
}

#[test]
fn requests_notifications_and_answers_agree_with_python_alipay_sdk() {
    let (app, platform) = (
        SigningKey::generate().expect("app key"),
        SigningKey::generate().expect("platform key"),
    );
    let app_id = "2021000000000001";
    let alipay = Alipay::new(AlipayConfig {
        app_id: app_id.into(),
        gateway: "https://alipay.test/gateway.do".into(),
        notify_url: "https://merchant.test/v1/webhooks/alipay".into(),
        app_key: SigningKey::parse("app", &app.to_pkcs8_pem().expect("pem")).expect("app"),
        platform_key: platform.verifying_key().expect("public"),
    });
    let platform_pem = platform.to_pkcs8_pem().expect("pem");
    let platform_public = platform.verifying_key().expect("public").to_pem();
    let now = Utc::now();
    let payment = Payment {
        id: PaymentId::generate(),
        order_id: OrderId::generate(),
        idempotency_key: IdempotencyKey("k".into()),
        body_hash: String::new(),
        channel: "alipay".into(),
        channel_payment_id: ChannelPaymentId::generate(),
        status: PaymentStatus::Processing,
        amount: Money {
            amount: "1234.50".parse().expect("amount"),
            currency: Currency::CNY,
        },
        risk: None,
        created_at: now,
        updated_at: now,
    };
    // A subject with characters the form encoding and the sign content treat differently.
    let request = alipay
        .create_payment(&payment, "Tea & cakes = 2 × 茶", now)
        .expect("request");
    let request_params: serde_json::Map<String, Value> = url::form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    let notification = json!({
        "notify_time": "2026-12-06 18:00:00",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "app_id": app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2026120622001400000000000001",
        "out_trade_no": payment.channel_payment_id.0,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "1234.50",
        "subject": "Tea & cakes = 2 × 茶",
    });
    let answer_node = format!(
        r#"{{"code":"10000","msg":"Success","out_trade_no":"{}","trade_no":"2026x","trade_status":"TRADE_SUCCESS","total_amount":"1234.50","buyer_logon_id":"159****5620"}}"#,
        payment.channel_payment_id.0
    );
    let platform = AlipayPlatform::new(platform);
    let our_notification: serde_json::Map<String, Value> = url::form_urlencoded::parse(
        &platform
            .notification(&[
                ("notify_id", "n1"),
                ("app_id", app_id),
                ("out_trade_no", &payment.channel_payment_id.0),
                ("trade_status", "TRADE_SUCCESS"),
                ("total_amount", "1234.50"),
                ("subject", "Tea & cakes = 2 × 茶"),
            ])
            .expect("our notification"),
    )
    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
    .collect();
    let our_answer = platform
        .answer(
            "alipay.trade.query",
            &json!({"code": "10000", "msg": "Success", "trade_status": "WAIT_BUYER_PAY",
                    "out_trade_no": payment.channel_payment_id.0, "total_amount": "1234.50"}),
        )
        .expect("our answer");
    let Some(out) = sdk(&json!({
        "our_notification": our_notification,
        "our_answer": String::from_utf8(our_answer.body).expect("utf-8"),
        "app_id": app_id,
        "app_key": app.to_pkcs8_pem().expect("pem"),
        "app_public": app.verifying_key().expect("public").to_pem(),
        "platform_key": platform_pem,
        "platform_public": platform_public,
        "request_params": request_params,
        "notification": notification,
        "answer_node": answer_node,
    })) else {
        return;
    };

    assert_eq!(
        out["request_sign"], request_params["sign"],
        "the SDK signs our request's parameters to the same signature"
    );

    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in notification.as_object().expect("object") {
        form.append_pair(k, v.as_str().expect("text"));
    }
    form.append_pair("sign_type", "RSA2");
    form.append_pair("sign", out["notification_sign"].as_str().expect("sign"));
    let notice = alipay
        .notification(
            Inbound {
                headers: &[],
                body: form.finish().as_bytes(),
            },
            now,
        )
        .expect("the SDK's notification verifies");
    assert_eq!(
        notice.state,
        NoticeState::Payment(PaymentState::Paid {
            amount: payment.amount,
            channel_trade_id: "2026120622001400000000000001".into()
        })
    );

    let raw = format!(
        r#"{{"alipay_trade_query_response":{answer_node},"sign":"{}"}}"#,
        out["answer_sign"].as_str().expect("sign")
    );
    let state = alipay
        .read_payment_state(&ChannelResponse {
            status: 200,
            headers: vec![],
            body: raw.into_bytes(),
        })
        .expect("the SDK's answer verifies");
    assert!(matches!(state, PaymentState::Paid { .. }), "{state:?}");
    assert_eq!(out["sdk_reads_answer"], "TRADE_SUCCESS");
    assert_eq!(out["sdk_verifies_our_notification"], true);
    assert_eq!(out["sdk_reads_our_answer"], "WAIT_BUYER_PAY");
}
