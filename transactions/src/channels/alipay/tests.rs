use std::sync::OnceLock;

use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;

use super::platform::AlipayPlatform;
use super::*;
use crate::channels::Inbound;
use crate::ids::{ChannelPaymentId, ChannelRefundId, IdempotencyKey, OrderId, PaymentId, RefundId};
use crate::status::{PaymentStatus, RefundStatus};

/// The merchant's and Alipay's keys, generated once for the whole test binary.
fn keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem = || {
            SigningKey::generate()
                .expect("generate")
                .to_pkcs8_pem()
                .expect("pem")
        };
        (pem(), pem())
    })
}

fn app_key() -> SigningKey {
    SigningKey::parse("app key", &keys().0).expect("app key")
}

/// Alipay's own private key, which only the channel (here the test) holds.
fn platform_key() -> SigningKey {
    SigningKey::parse("platform key", &keys().1).expect("platform key")
}

fn alipay() -> Alipay {
    Alipay::new(AlipayConfig {
        app_id: "2021000000000001".into(),
        gateway: "https://alipay.test/gateway.do".into(),
        notify_url: "https://merchant.test/v1/webhooks/alipay".into(),
        app_key: app_key(),
        platform_key: platform_key().verifying_key().expect("public"),
    })
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_990_000, 0).expect("instant")
}

fn cny(text: &str) -> Money {
    Money {
        amount: text.parse::<Decimal>().expect("decimal"),
        currency: Currency::CNY,
    }
}

fn payment(amount: Money) -> Payment {
    Payment {
        id: PaymentId::generate(),
        order_id: OrderId::generate(),
        idempotency_key: IdempotencyKey("k".into()),
        body_hash: String::new(),
        channel: ALIPAY.into(),
        channel_payment_id: ChannelPaymentId::generate(),
        status: PaymentStatus::Processing,
        amount,
        risk: None,
        created_at: at(),
        updated_at: at(),
    }
}

fn refund(payment: &Payment, amount: Money) -> Refund {
    Refund {
        id: RefundId::generate(),
        payment_id: payment.id.clone(),
        idempotency_key: IdempotencyKey("r".into()),
        body_hash: String::new(),
        channel_refund_id: ChannelRefundId::generate(),
        status: RefundStatus::Processing,
        amount,
        reason: "returned".into(),
        created_at: at(),
        updated_at: at(),
    }
}

/// Alipay's answer to `method`: `node` exactly as written, signed by the platform key.
fn answer(method: &str, node: &str) -> ChannelResponse {
    let sign = platform_key().sign_base64(node.as_bytes()).expect("sign");
    let name = format!("{}_response", method.replace('.', "_"));
    ChannelResponse {
        status: 200,
        headers: vec![],
        body: format!("{{\"{name}\":{node},\"sign\":\"{sign}\"}}").into_bytes(),
    }
}

/// A notification form signed by Alipay's key.
fn notification(params: &[(&str, &str)]) -> Vec<u8> {
    AlipayPlatform::new(platform_key())
        .notification(params)
        .expect("notification")
}

/// What the adapter reads from a notification's form body.
fn notified(a: &Alipay, body: &[u8]) -> Result<Notice, ChannelError> {
    a.notification(Inbound { headers: &[], body }, at())
}

fn paid_notification(p: &Payment, amount: &str) -> Vec<(&'static str, String)> {
    vec![
        ("notify_time", "2026-12-06 10:00:00".into()),
        ("notify_type", "trade_status_sync".into()),
        ("notify_id", "ac05099524730693a8b330c5ecf72da9786".into()),
        ("app_id", "2021000000000001".into()),
        ("charset", "utf-8".into()),
        ("version", "1.0".into()),
        ("trade_no", "2026120622001400000000000001".into()),
        ("out_trade_no", p.channel_payment_id.0.clone()),
        ("trade_status", "TRADE_SUCCESS".into()),
        ("total_amount", amount.into()),
        ("buyer_logon_id", "".into()),
        ("subject", "Order 1 & co".into()),
    ]
}

fn borrowed<'a>(params: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    params.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn the_sign_content_sorts_drops_empty_values_and_the_signature_and_encodes_nothing() {
    let content = sign_content(
        [
            ("timestamp", "2026-12-06 18:00:00"),
            ("app_id", "1"),
            ("sign", "x"),
            ("empty", ""),
            ("biz_content", r#"{"subject":"a&b=c"}"#),
        ],
        &["sign"],
    );
    assert_eq!(
        content,
        r#"app_id=1&biz_content={"subject":"a&b=c"}&timestamp=2026-12-06 18:00:00"#
    );
}

#[test]
fn a_request_is_signed_by_the_app_key_over_its_parameters_in_beijing_time() {
    let p = payment(cny("88.80"));
    let request = alipay()
        .create_payment(&p, "Order 1", at())
        .expect("request");
    assert_eq!(request.method, HttpMethod::Post);
    assert_eq!(request.url, "https://alipay.test/gateway.do");
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("method"), "alipay.trade.precreate");
    assert_eq!(get("sign_type"), "RSA2");
    // 1764990000 is 2025-12-06 03:00:00 UTC: 11:00 in Beijing.
    assert_eq!(get("timestamp"), "2025-12-06 11:00:00");
    assert_eq!(
        get("notify_url"),
        "https://merchant.test/v1/webhooks/alipay"
    );
    let biz: Value = serde_json::from_str(&get("biz_content")).expect("json");
    assert_eq!(biz["total_amount"], "88.80");
    assert_eq!(biz["out_trade_no"], p.channel_payment_id.0.as_str());
    let content = sign_content(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["sign"],
    );
    let merchant_public = app_key().verifying_key().expect("public");
    assert!(merchant_public.verify_base64(content.as_bytes(), &get("sign")));
    assert!(
        !merchant_public.verify_base64(content.replace("88.80", "0.01").as_bytes(), &get("sign"))
    );
}

#[test]
fn only_cny_is_taken() {
    let usd = Money {
        amount: Decimal::ONE,
        currency: Currency::USD,
    };
    assert!(matches!(
        alipay().create_payment(&payment(usd), "x", at()),
        Err(ChannelError::Currency { .. })
    ));
}

#[test]
fn an_answer_is_checked_on_its_exact_bytes() {
    let a = alipay();
    // Spacing and an escaped character as Alipay may write them: a re-encoding would differ.
    let node = r#"{"code":"10000","msg":"Success","out_trade_no":"pi_1", "qr_code":"https:\/\/qr.alipay.com\/bax0"}"#;
    assert_eq!(
        a.read_created(&answer("alipay.trade.precreate", node))
            .expect("created")
            .action,
        ClientAction::QrCode("https://qr.alipay.com/bax0".into())
    );
    // The same answer with the code swapped after signing.
    let mut tampered = answer("alipay.trade.precreate", node);
    tampered.body = String::from_utf8(tampered.body)
        .expect("utf-8")
        .replace("bax0", "evil")
        .into_bytes();
    assert_eq!(
        a.read_created(&tampered),
        Err(ChannelError::BadSignature { channel: ALIPAY })
    );
    // Signed by someone else's key.
    let other = SigningKey::generate().expect("key");
    let sign = other.sign_base64(node.as_bytes()).expect("sign");
    let forged = ChannelResponse {
        status: 200,
        headers: vec![],
        body: format!(r#"{{"alipay_trade_precreate_response":{node},"sign":"{sign}"}}"#)
            .into_bytes(),
    };
    assert_eq!(
        a.read_created(&forged),
        Err(ChannelError::BadSignature { channel: ALIPAY })
    );
}

#[test]
fn an_unsigned_answer_is_at_most_an_error() {
    let a = alipay();
    let unsigned = |node: &str| ChannelResponse {
        status: 200,
        headers: vec![],
        body: format!(r#"{{"alipay_trade_close_response":{node}}}"#).into_bytes(),
    };
    // An unsigned "no such trade" must not let an order be cancelled as never paid.
    assert!(matches!(
        a.read_closing(&unsigned(
            r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"x"}"#
        )),
        Err(ChannelError::Refused { code, .. }) if code == "ACQ.TRADE_NOT_EXIST"
    ));
    assert_eq!(
        a.read_closing(&unsigned(r#"{"code":"10000","msg":"Success"}"#)),
        Err(ChannelError::BadSignature { channel: ALIPAY })
    );
    let gateway_error = ChannelResponse {
        status: 200,
        headers: vec![],
        body: br#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"bad"}}"#.to_vec(),
    };
    assert!(matches!(
        a.read_payment_state(&gateway_error),
        Err(ChannelError::Refused { code, .. }) if code == "isv.invalid-app-id"
    ));
    let garbage = ChannelResponse {
        status: 502,
        headers: vec![],
        body: b"<html>bad gateway</html>".to_vec(),
    };
    assert!(matches!(
        a.read_payment_state(&garbage),
        Err(ChannelError::Malformed { .. })
    ));
}

#[test]
fn trade_statuses_map_to_payment_states() {
    let a = alipay();
    let query = |node: &str| a.read_payment_state(&answer("alipay.trade.query", node));
    assert_eq!(
        query(
            r#"{"code":"10000","msg":"Success","trade_status":"WAIT_BUYER_PAY","total_amount":"88.80"}"#
        ),
        Ok(PaymentState::Pending)
    );
    for status in ["TRADE_SUCCESS", "TRADE_FINISHED"] {
        assert_eq!(
            query(&format!(
                r#"{{"code":"10000","msg":"Success","trade_status":"{status}","total_amount":"88.80","trade_no":"2026x"}}"#
            )),
            Ok(PaymentState::Paid {
                amount: cny("88.80"),
                channel_trade_id: "2026x".into()
            })
        );
    }
    assert_eq!(
        query(r#"{"code":"10000","msg":"Success","trade_status":"TRADE_CLOSED"}"#),
        Ok(PaymentState::Closed)
    );
    assert_eq!(
        query(
            r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"x"}"#
        ),
        Ok(PaymentState::Unknown)
    );
    assert!(matches!(
        query(r#"{"code":"10000","msg":"Success","trade_status":"TRADE_PENDING"}"#),
        Err(ChannelError::Malformed { .. })
    ));
    assert!(matches!(
        query(
            r#"{"code":"10000","msg":"Success","trade_status":"TRADE_SUCCESS","total_amount":"8.888","trade_no":"t"}"#
        ),
        Err(ChannelError::Malformed { .. })
    ));
}

#[test]
fn a_close_says_closed_never_created_or_query_first() {
    let a = alipay();
    let close = |node: &str| a.read_closing(&answer("alipay.trade.close", node));
    assert_eq!(
        close(r#"{"code":"10000","msg":"Success","out_trade_no":"pi_1"}"#),
        Ok(Closing::Closed)
    );
    assert_eq!(
        close(
            r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"x"}"#
        ),
        Ok(Closing::NeverCreated)
    );
    assert_eq!(
        close(
            r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_STATUS_ERROR","sub_msg":"paid"}"#
        ),
        Ok(Closing::QueryFirst)
    );
    assert!(matches!(
        close(
            r#"{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error","sub_msg":"x"}"#
        ),
        Err(ChannelError::Refused { .. })
    ));
}

#[test]
fn refunds_move_money_once_and_queries_say_how_they_ended() {
    let a = alipay();
    let p = payment(cny("88.80"));
    let r = refund(&p, cny("10.00"));
    let request = a.refund(&r, &p, None, at()).expect("request");
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    let biz = &params
        .iter()
        .find(|(k, _)| k == "biz_content")
        .expect("biz")
        .1;
    let biz: Value = serde_json::from_str(biz).expect("json");
    assert_eq!(biz["out_request_no"], r.channel_refund_id.0.as_str());
    assert_eq!(biz["refund_amount"], "10.00");
    let refunded = |change: &str| {
        a.read_refund(
            &r,
            &answer(
                "alipay.trade.refund",
                &format!(r#"{{"code":"10000","msg":"Success","fund_change":"{change}","refund_fee":"10.00"}}"#),
            ),
        )
    };
    assert_eq!(
        refunded("Y"),
        Ok(RefundState::Succeeded {
            amount: cny("10.00")
        })
    );
    assert_eq!(refunded("N"), Ok(RefundState::Processing));
    let query =
        |node: &str| a.read_refund_state(&r, &answer("alipay.trade.fastpay.refund.query", node));
    assert_eq!(
        query(
            r#"{"code":"10000","msg":"Success","refund_amount":"10.00","refund_status":"REFUND_SUCCESS"}"#
        ),
        Ok(RefundState::Succeeded {
            amount: cny("10.00")
        })
    );
    assert_eq!(
        query(r#"{"code":"10000","msg":"Success","refund_amount":"10.00"}"#),
        Ok(RefundState::Succeeded {
            amount: cny("10.00")
        })
    );
    assert_eq!(
        query(r#"{"code":"10000","msg":"Success"}"#),
        Ok(RefundState::Unknown)
    );
}

#[test]
fn a_notification_is_verified_then_read() {
    let a = alipay();
    let p = payment(cny("88.80"));
    let params = paid_notification(&p, "88.80");
    let notice = notified(&a, &notification(&borrowed(&params))).expect("verified");
    assert_eq!(notice.channel_payment_id, p.channel_payment_id.0);
    assert_eq!(notice.notice_id, "ac05099524730693a8b330c5ecf72da9786");
    assert_eq!(
        notice.state,
        NoticeState::Payment(PaymentState::Paid {
            amount: cny("88.80"),
            channel_trade_id: "2026120622001400000000000001".into()
        })
    );
}

#[test]
fn forged_tampered_and_foreign_notifications_are_refused() {
    let a = alipay();
    let p = payment(cny("88.80"));
    let params = paid_notification(&p, "88.80");
    let signed = String::from_utf8(notification(&borrowed(&params))).expect("utf-8");
    // The amount changed after signing.
    let tampered = signed.replace("total_amount=88.80", "total_amount=0.01");
    assert_ne!(tampered, signed);
    assert_eq!(
        notified(&a, tampered.as_bytes()),
        Err(ChannelError::BadSignature { channel: ALIPAY })
    );
    // No signature at all.
    let unsigned: String = signed
        .split('&')
        .filter(|p| !p.starts_with("sign="))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(
        notified(&a, unsigned.as_bytes()),
        Err(ChannelError::BadSignature { channel: ALIPAY })
    );
    // The old RSA (SHA-1) scheme is not accepted.
    let rsa1 = signed.replace("sign_type=RSA2", "sign_type=RSA");
    assert_eq!(
        notified(&a, rsa1.as_bytes()),
        Err(ChannelError::BadSignature { channel: ALIPAY })
    );
    // Validly signed by Alipay, for another merchant's app.
    let mut foreign = params.clone();
    foreign[3].1 = "2021000000000999".into();
    assert!(matches!(
        notified(&a, &notification(&borrowed(&foreign))),
        Err(ChannelError::NotForUs { .. })
    ));
}

#[test]
fn pending_closed_and_refund_notifications_say_what_they_are() {
    let a = alipay();
    let p = payment(cny("88.80"));
    let with = |changes: &[(&'static str, &str)]| {
        let mut params = paid_notification(&p, "88.80");
        for (k, v) in changes {
            match params.iter_mut().find(|(n, _)| n == k) {
                Some(slot) => slot.1 = (*v).to_owned(),
                None => params.push((k, (*v).to_owned())),
            }
        }
        notified(&a, &notification(&borrowed(&params)))
    };
    assert_eq!(
        with(&[("trade_status", "WAIT_BUYER_PAY")]).map(|n| n.state),
        Ok(NoticeState::Payment(PaymentState::Pending))
    );
    assert_eq!(
        with(&[("trade_status", "TRADE_CLOSED")]).map(|n| n.state),
        Ok(NoticeState::Payment(PaymentState::Closed))
    );
    assert_eq!(
        with(&[
            ("trade_status", "TRADE_CLOSED"),
            ("out_biz_no", "re_1"),
            ("refund_fee", "88.80")
        ])
        .map(|n| n.state),
        Ok(NoticeState::RefundChanged {
            channel_refund_id: "re_1".into()
        })
    );
    assert!(matches!(
        with(&[("trade_status", "TRADE_SOMETHING")]),
        Err(ChannelError::Malformed { .. })
    ));
    assert!(matches!(
        with(&[("total_amount", "-1.00")]),
        Err(ChannelError::Malformed { .. })
    ));
}

#[test]
fn keys_are_read_in_every_form_the_channels_hand_out_and_never_printed() {
    let pem = &keys().0;
    let key = SigningKey::parse("app key", pem).expect("pkcs8 pem");
    // Alipay's key tool prints the bare base64 of the DER.
    let bare: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let same = SigningKey::parse("app key", &bare).expect("bare base64");
    let public = key.verifying_key().expect("public");
    let signature = same.sign(b"message").expect("sign");
    assert!(public.verify(b"message", &signature));
    assert!(!public.verify(b"massage", &signature));
    // A `PUBLIC KEY` PEM holds a SubjectPublicKeyInfo: the rsaEncryption OID comes first.
    let spki = pem::parse(public.to_pem()).expect("pem");
    assert_eq!(spki.tag(), "PUBLIC KEY");
    let rsa_encryption = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
    ];
    assert!(
        spki.contents()[..24]
            .windows(rsa_encryption.len())
            .any(|w| w == rsa_encryption)
    );
    let reread = VerifyingKey::parse("public", &public.to_pem()).expect("spki pem");
    assert!(reread.verify(b"message", &signature));
    let bare_public: String = public
        .to_pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        VerifyingKey::parse("public", &bare_public)
            .expect("bare spki")
            .verify(b"message", &signature)
    );
    assert!(matches!(
        SigningKey::parse("app key", &public.to_pem()),
        Err(ChannelError::Key {
            what: "app key",
            ..
        })
    ));
    assert!(matches!(
        VerifyingKey::parse("platform key", "not a key"),
        Err(ChannelError::Key { .. })
    ));
    let shown = format!("{key:?} {public:?}");
    assert!(!shown.contains(&bare[..40]), "{shown}");
}

#[test]
fn the_simulated_platform_checks_requests_and_signs_answers_the_adapter_reads() {
    let a = alipay();
    let p = payment(cny("88.80"));
    let request = a.query_payment(&p, None, at()).expect("request");
    let merchant = app_key().verifying_key().expect("public");
    let params = AlipayPlatform::verify_request(&merchant, &request.body).expect("signed");
    assert!(
        params
            .iter()
            .any(|(k, v)| k == "method" && v == "alipay.trade.query")
    );
    let forged = String::from_utf8(request.body.clone())
        .expect("utf-8")
        .replace("alipay.trade.query", "alipay.trade.close");
    assert_eq!(
        AlipayPlatform::verify_request(&merchant, forged.as_bytes()),
        None
    );
    let stranger = SigningKey::generate()
        .expect("key")
        .verifying_key()
        .expect("public");
    assert_eq!(
        AlipayPlatform::verify_request(&stranger, &request.body),
        None
    );
    let platform = AlipayPlatform::new(platform_key());
    let node = serde_json::json!({"code": "10000", "msg": "Success", "trade_status": "WAIT_BUYER_PAY",
                                  "out_trade_no": p.channel_payment_id.0, "total_amount": "88.80"});
    let answer = platform
        .answer("alipay.trade.query", &node)
        .expect("answer");
    assert_eq!(a.read_payment_state(&answer), Ok(PaymentState::Pending));
}
