//! The WeChat Pay adapter and the simulated platform against an independent implementation:
//! `wechatpayv3` (PyPI), run from the Python that `CHANNEL_SDKS_PYTHON` names. Checked:
//!
//! - our request's `Authorization` header is the very one the SDK builds for the same method,
//!   path, body, time and nonce with the same key (PKCS#1 v1.5 is deterministic);
//! - a notification sealed and signed by Python (AES-256-GCM and SHA256withRSA from
//!   `cryptography`, WeChat Pay's message layout) is accepted and read by our adapter;
//! - a notification and an answer from our simulated platform are accepted by the SDK's own
//!   checks (`callback`, `_verify_signature`), the resource decrypting to what we sealed.

mod support;

use arbiter_engine::money::Money;
use arbiter_transactions::channels::keys::SigningKey;
use arbiter_transactions::channels::wechat::platform::WechatPlatform;
use arbiter_transactions::channels::wechat::{ApiV3Key, Wechat, WechatConfig};
use arbiter_transactions::channels::{Inbound, NoticeState, PaymentChannel, PaymentState};
use arbiter_transactions::ids::{ChannelPaymentId, IdempotencyKey, OrderId, PaymentId};
use arbiter_transactions::payment::Payment;
use arbiter_transactions::status::PaymentStatus;
use chrono::Utc;
use iso_currency::Currency;
use serde_json::{Value, json};

const APIV3: &str = "0123456789abcdef0123456789ABCDEF";
const MCHID: &str = "1900000109";
const SERIAL: &str = "PUB_KEY_ID_0114232019112410000000000001";

const SDK_SCRIPT: &str = r#"
import base64, json, os, sys, types
import wechatpayv3.utils as u
from wechatpayv3 import WeChatPay, WeChatPayType
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

req = json.load(sys.stdin)
out = {}

# 1. The SDK's Authorization header for our request, at our request's time and nonce.
r = req["request"]
u.time = types.SimpleNamespace(time=lambda: r["timestamp"])
out["authorization"] = u.build_authorization(
    r["path"], r["method"], req["mchid"], req["merchant_serial"],
    u.load_private_key(req["merchant_key"]), data=r["body"], nonce_str=r["nonce"])

# 2. A notification as WeChat Pay would send it, built here from the primitives.
plain = json.dumps(req["transaction"]).encode()
nonce = "a1b2c3d4e5f6"
sealed = AESGCM(req["apiv3"].encode()).encrypt(nonce.encode(), plain, b"transaction")
body = json.dumps({
    "id": "EV-PY", "create_time": "2026-12-06T18:00:00+08:00",
    "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "",
    "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                 "ciphertext": base64.b64encode(sealed).decode(), "associated_data": "transaction",
                 "nonce": nonce}})
ts, hnonce = str(req["now"]), "PYNONCE0123456789"
signature = u.rsa_sign(u.load_private_key(req["platform_key"]), "%s\n%s\n%s\n" % (ts, hnonce, body))
out["notification"] = {"body": body, "headers": {
    "wechatpay-timestamp": ts, "wechatpay-nonce": hnonce, "wechatpay-signature": signature,
    "wechatpay-serial": req["serial"], "wechatpay-signature-type": "WECHATPAY2-SHA256-RSA2048"}}

# 3. The SDK, as a merchant, checks what our simulated platform sends.
pay = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=req["mchid"],
                private_key=req["merchant_key"], cert_serial_no=req["merchant_serial"],
                appid="wxd678efh567hg6787", apiv3_key=req["apiv3"],
                public_key=req["platform_public"], public_key_id=req["serial"])
ours = req["our_notification"]
result = pay.callback(ours["headers"], ours["body"])
out["sdk_reads_notification"] = result["resource"]["trade_state"] if result else None
answer = req["our_answer"]
out["sdk_verifies_answer"] = pay._core._verify_signature(answer["headers"], answer["body"])
json.dump(out, sys.stdout)
"#;

fn sdk(input: &Value) -> Option<Value> {
    support::run("wechatpayv3", SDK_SCRIPT, input)
}

fn headers_object(headers: &[(String, String)]) -> Value {
    Value::Object(
        headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

#[test]
fn requests_notifications_and_answers_agree_with_wechatpayv3() {
    let (merchant, platform_key) = (
        SigningKey::generate().expect("merchant key"),
        SigningKey::generate().expect("platform key"),
    );
    let merchant_pem = merchant.to_pkcs8_pem().expect("pem");
    let platform_pem = platform_key.to_pkcs8_pem().expect("pem");
    let platform_public = platform_key.verifying_key().expect("public");
    let wechat = Wechat::new(WechatConfig {
        mchid: MCHID.into(),
        appid: "wxd678efh567hg6787".into(),
        base_url: "https://wechat.test".into(),
        notify_url: "https://merchant.test/v1/webhooks/wechat".into(),
        merchant_serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into(),
        merchant_key: merchant,
        apiv3_key: ApiV3Key::parse(APIV3).expect("apiv3"),
        platform_keys: vec![(SERIAL.into(), platform_public.clone())],
    });
    let platform = WechatPlatform::new(
        SERIAL,
        SigningKey::parse("platform", &platform_pem).expect("platform"),
        ApiV3Key::parse(APIV3).expect("apiv3"),
    );
    let now = Utc::now();
    let payment = Payment {
        id: PaymentId::generate(),
        order_id: OrderId::generate(),
        idempotency_key: IdempotencyKey("k".into()),
        body_hash: String::new(),
        channel: "wechat".into(),
        channel_payment_id: ChannelPaymentId::generate(),
        status: PaymentStatus::Processing,
        amount: Money::from_minor_units(123_450, Currency::CNY),
        risk: None,
        created_at: now,
        updated_at: now,
    };
    let request = wechat
        .create_payment(&payment, "Tea & cakes — 茶", now)
        .expect("request");
    let authorization = request
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .expect("authorization")
        .1
        .clone();
    let field = |name: &str| {
        authorization
            .split(',')
            .find_map(|p| {
                p.split_once(&format!("{name}=\""))
                    .map(|(_, v)| v.trim_end_matches('"').to_owned())
            })
            .expect("field")
    };
    let transaction = json!({
        "mchid": MCHID, "appid": "wxd678efh567hg6787",
        "out_trade_no": payment.channel_payment_id.0,
        "transaction_id": "4200000000202612060000000001", "trade_type": "NATIVE",
        "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "success_time": "2026-12-06T18:00:00+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 123_450, "payer_total": 123_450, "currency": "CNY", "payer_currency": "CNY"},
    });
    let ours = platform
        .notification(
            "EV-RS",
            "TRANSACTION.SUCCESS",
            "transaction",
            &transaction,
            now,
        )
        .expect("our notification");
    let answer = platform.answer(200, &transaction, now).expect("our answer");
    let Some(out) = sdk(&json!({
        "mchid": MCHID,
        "merchant_serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        "merchant_key": merchant_pem,
        "platform_key": platform_pem,
        "platform_public": platform_public.to_pem(),
        "serial": SERIAL,
        "apiv3": APIV3,
        "now": now.timestamp(),
        "request": {
            "method": "POST",
            "path": "/v3/pay/transactions/native",
            "body": String::from_utf8(request.body.clone()).expect("utf-8"),
            "timestamp": field("timestamp").parse::<i64>().expect("timestamp"),
            "nonce": field("nonce_str"),
        },
        "transaction": transaction,
        "our_notification": {
            "headers": headers_object(&ours.headers),
            "body": String::from_utf8(ours.body.clone()).expect("utf-8"),
        },
        "our_answer": {
            "headers": headers_object(&answer.headers),
            "body": String::from_utf8(answer.body.clone()).expect("utf-8"),
        },
    })) else {
        return;
    };

    assert_eq!(
        out["authorization"], authorization,
        "the SDK builds the same Authorization header for our request"
    );

    let theirs = &out["notification"];
    let headers: Vec<(String, String)> = theirs["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("text").to_owned()))
        .collect();
    let body = theirs["body"].as_str().expect("body").as_bytes();
    let notice = wechat
        .notification(
            Inbound {
                headers: &headers,
                body,
            },
            now,
        )
        .expect("the SDK-built notification verifies and opens");
    assert_eq!(notice.notice_id, "EV-PY");
    assert_eq!(
        notice.state,
        NoticeState::Payment(PaymentState::Paid {
            amount: payment.amount,
            channel_trade_id: "4200000000202612060000000001".into()
        })
    );

    assert_eq!(out["sdk_reads_notification"], "SUCCESS");
    assert_eq!(out["sdk_verifies_answer"], true);
}
