use std::sync::OnceLock;

use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;

use super::platform::WechatPlatform;
use super::*;
use crate::channels::{Inbound, Notice, NoticeState};
use crate::ids::{ChannelPaymentId, ChannelRefundId, IdempotencyKey, OrderId, PaymentId, RefundId};
use crate::status::{PaymentStatus, RefundStatus};

const APIV3: &str = "0123456789abcdef0123456789ABCDEF";
const MCHID: &str = "1900000109";
const SERIAL: &str = "PUB_KEY_ID_0114232019112410000000000001";

/// The merchant's key and two platform keys (the second for a rotation), generated once.
fn keys() -> &'static [String; 3] {
    static KEYS: OnceLock<[String; 3]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem = || {
            SigningKey::generate()
                .expect("generate")
                .to_pkcs8_pem()
                .expect("pem")
        };
        [pem(), pem(), pem()]
    })
}

fn key(i: usize) -> SigningKey {
    SigningKey::parse("key", &keys()[i]).expect("key")
}

fn platform() -> WechatPlatform {
    WechatPlatform::new(SERIAL, key(1), ApiV3Key::parse(APIV3).expect("apiv3"))
}

fn wechat() -> Wechat {
    Wechat::new(WechatConfig {
        mchid: MCHID.into(),
        appid: "wxd678efh567hg6787".into(),
        base_url: "https://wechat.test".into(),
        notify_url: "https://merchant.test/v1/webhooks/wechat".into(),
        merchant_serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into(),
        merchant_key: key(0),
        apiv3_key: ApiV3Key::parse(APIV3).expect("apiv3"),
        platform_keys: vec![
            (SERIAL.into(), key(1).verifying_key().expect("public")),
            (
                "PUB_KEY_ID_NEXT".into(),
                key(2).verifying_key().expect("public"),
            ),
        ],
    })
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_990_000, 0).expect("instant")
}

fn cny(fen: i64) -> Money {
    Money::from_minor_units(fen, Currency::CNY)
}

fn payment() -> Payment {
    Payment {
        id: PaymentId::generate(),
        order_id: OrderId::generate(),
        idempotency_key: IdempotencyKey("k".into()),
        body_hash: String::new(),
        channel: WECHAT.into(),
        channel_payment_id: ChannelPaymentId::generate(),
        status: PaymentStatus::Processing,
        amount: cny(8880),
        risk: None,
        created_at: at(),
        updated_at: at(),
    }
}

fn refund(p: &Payment, fen: i64) -> Refund {
    Refund {
        id: RefundId::generate(),
        payment_id: p.id.clone(),
        idempotency_key: IdempotencyKey("r".into()),
        body_hash: String::new(),
        channel_refund_id: ChannelRefundId::generate(),
        status: RefundStatus::Processing,
        amount: cny(fen),
        reason: "returned".into(),
        created_at: at(),
        updated_at: at(),
    }
}

fn transaction(p: &Payment, state: &str) -> Value {
    json!({
        "mchid": MCHID,
        "appid": "wxd678efh567hg6787",
        "out_trade_no": p.channel_payment_id.0,
        "transaction_id": "4200000000202612060000000001",
        "trade_type": "NATIVE",
        "trade_state": state,
        "trade_state_desc": "",
        "success_time": "2026-12-06T18:00:00+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 8880, "payer_total": 8880, "currency": "CNY", "payer_currency": "CNY"},
    })
}

fn notice(p: &Payment, state: &str, at: DateTime<Utc>) -> super::platform::SignedNotification {
    platform()
        .notification(
            "EV-1",
            "TRANSACTION.SUCCESS",
            "transaction",
            &transaction(p, state),
            at,
        )
        .expect("notification")
}

fn read(
    n: &super::platform::SignedNotification,
    now: DateTime<Utc>,
) -> Result<Notice, ChannelError> {
    wechat().notification(
        Inbound {
            headers: &n.headers,
            body: &n.body,
        },
        now,
    )
}

#[test]
fn a_request_carries_the_merchants_signature_over_method_path_time_nonce_and_body() {
    let p = payment();
    let request = wechat()
        .create_payment(&p, "Order 1", at())
        .expect("request");
    assert_eq!(
        request.url,
        "https://wechat.test/v3/pay/transactions/native"
    );
    let body: Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(body["amount"]["total"], 8880);
    assert_eq!(body["out_trade_no"], p.channel_payment_id.0.as_str());
    let authorization = &request
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .expect("authorization")
        .1;
    assert!(authorization.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000109\""));
    let merchant = key(0).verifying_key().expect("public");
    let signed = |path: &str, body: &[u8], now| {
        WechatPlatform::verify_request(&merchant, MCHID, authorization, ("POST", path, body), now)
    };
    assert!(signed("/v3/pay/transactions/native", &request.body, at()));
    assert!(
        !signed("/v3/pay/transactions/native", b"{}", at()),
        "another body"
    );
    assert!(
        !signed("/v3/refund/domestic/refunds", &request.body, at()),
        "another path"
    );
    assert!(
        !signed(
            "/v3/pay/transactions/native",
            &request.body,
            at() + chrono::Duration::minutes(6)
        ),
        "replayed later"
    );
    let query = wechat().query_payment(&p, None, at()).expect("query");
    assert_eq!(
        query.url,
        format!(
            "https://wechat.test/v3/pay/transactions/out-trade-no/{}?mchid=1900000109",
            p.channel_payment_id.0
        )
    );
    assert!(query.body.is_empty());
}

#[test]
fn a_notification_is_verified_opened_and_read() {
    let p = payment();
    let n = notice(&p, "SUCCESS", at());
    let notice = read(&n, at() + chrono::Duration::seconds(30)).expect("verified");
    assert_eq!(notice.notice_id, "EV-1");
    assert_eq!(notice.channel_payment_id, p.channel_payment_id.0);
    assert_eq!(
        notice.state,
        NoticeState::Payment(PaymentState::Paid {
            amount: cny(8880),
            channel_trade_id: "4200000000202612060000000001".into()
        })
    );
}

#[test]
fn forged_stale_unknown_serial_and_tampered_notifications_are_refused() {
    let p = payment();
    let n = notice(&p, "SUCCESS", at());
    // Signed four minutes ago: fine; six: a replay.
    assert!(read(&n, at() + chrono::Duration::minutes(4)).is_ok());
    assert!(matches!(
        read(&n, at() + chrono::Duration::minutes(6)),
        Err(ChannelError::NotForUs { .. })
    ));
    // A serial nobody configured.
    let mut unknown = n.clone();
    for (k, v) in &mut unknown.headers {
        if k == "wechatpay-serial" {
            *v = "PUB_KEY_ID_SOMEONE_ELSE".into();
        }
    }
    assert!(matches!(
        read(&unknown, at()),
        Err(ChannelError::UnknownKey { .. })
    ));
    // Signed by a key that is not the one its serial names.
    let imposter = WechatPlatform::new(SERIAL, key(0), ApiV3Key::parse(APIV3).expect("apiv3"));
    let forged = imposter
        .notification(
            "EV-1",
            "TRANSACTION.SUCCESS",
            "transaction",
            &transaction(&p, "SUCCESS"),
            at(),
        )
        .expect("notification");
    assert_eq!(
        read(&forged, at()),
        Err(ChannelError::BadSignature { channel: WECHAT })
    );
    // The body changed after signing.
    let mut tampered = n.clone();
    tampered.body = String::from_utf8(n.body.clone())
        .expect("utf-8")
        .replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESS ")
        .into_bytes();
    assert_eq!(
        read(&tampered, at()),
        Err(ChannelError::BadSignature { channel: WECHAT })
    );
    // Signed correctly, but the resource sealed under another APIv3 key: it does not open.
    let other = WechatPlatform::new(
        SERIAL,
        key(1),
        ApiV3Key::parse("ffffffffffffffffffffffffffffffff").expect("apiv3"),
    );
    let sealed_elsewhere = other
        .notification(
            "EV-1",
            "TRANSACTION.SUCCESS",
            "transaction",
            &transaction(&p, "SUCCESS"),
            at(),
        )
        .expect("notification");
    assert_eq!(
        read(&sealed_elsewhere, at()),
        Err(ChannelError::BadSignature { channel: WECHAT })
    );
    // No signature headers at all.
    let bare = super::platform::SignedNotification {
        headers: vec![],
        body: n.body.clone(),
    };
    assert_eq!(
        read(&bare, at()),
        Err(ChannelError::BadSignature { channel: WECHAT })
    );
}

#[test]
fn a_rotated_in_platform_key_is_accepted_beside_the_old_one() {
    let p = payment();
    let next = WechatPlatform::new(
        "PUB_KEY_ID_NEXT",
        key(2),
        ApiV3Key::parse(APIV3).expect("apiv3"),
    );
    let n = next
        .notification(
            "EV-2",
            "TRANSACTION.SUCCESS",
            "transaction",
            &transaction(&p, "SUCCESS"),
            at(),
        )
        .expect("notification");
    assert!(read(&n, at()).is_ok());
}

#[test]
fn another_merchants_notification_is_not_ours() {
    let p = payment();
    let mut t = transaction(&p, "SUCCESS");
    t["mchid"] = json!("1900000999");
    let n = platform()
        .notification("EV-3", "TRANSACTION.SUCCESS", "transaction", &t, at())
        .expect("notification");
    assert!(matches!(read(&n, at()), Err(ChannelError::NotForUs { .. })));
}

#[test]
fn refund_notifications_name_the_refund_and_its_outcome() {
    let p = payment();
    let r = refund(&p, 1000);
    let record = |status: &str| {
        json!({
            "mchid": MCHID,
            "out_trade_no": p.channel_payment_id.0,
            "transaction_id": "4200000000202612060000000001",
            "out_refund_no": r.channel_refund_id.0,
            "refund_id": "50000000382019052709732678859",
            "refund_status": status,
            "success_time": "2026-12-06T18:10:00+08:00",
            "user_received_account": "招商银行信用卡0403",
            "amount": {"total": 8880, "refund": 1000, "payer_total": 8880, "payer_refund": 1000},
        })
    };
    let read_refund = |status: &str, event: &str| {
        let n = platform()
            .notification("EV-4", event, "refund", &record(status), at())
            .expect("notification");
        read(&n, at()).map(|n| n.state)
    };
    assert_eq!(
        read_refund("SUCCESS", "REFUND.SUCCESS"),
        Ok(NoticeState::Refund {
            channel_refund_id: r.channel_refund_id.0.clone(),
            state: RefundState::Succeeded { amount: cny(1000) }
        })
    );
    assert!(matches!(
        read_refund("ABNORMAL", "REFUND.ABNORMAL"),
        Ok(NoticeState::Refund {
            state: RefundState::Failed { .. },
            ..
        })
    ));
}

#[test]
fn answers_are_verified_and_mapped() {
    let (w, pf, p) = (wechat(), platform(), payment());
    let answer = |status, body: Value| pf.answer(status, &body, at()).expect("answer");
    assert_eq!(
        w.read_created(&answer(
            200,
            json!({"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"})
        )),
        Ok(Created {
            action: ClientAction::QrCode("weixin://wxpay/bizpayurl?pr=p4lpSuKzz".into()),
            reference: None
        })
    );
    for (state, want) in [
        ("NOTPAY", PaymentState::Pending),
        ("USERPAYING", PaymentState::Pending),
        ("CLOSED", PaymentState::Closed),
        (
            "SUCCESS",
            PaymentState::Paid {
                amount: cny(8880),
                channel_trade_id: "4200000000202612060000000001".into(),
            },
        ),
    ] {
        assert_eq!(
            w.read_payment_state(&answer(200, transaction(&p, state))),
            Ok(want)
        );
    }
    let not_found = json!({"code": "ORDER_NOT_EXIST", "message": "订单不存在"});
    assert_eq!(
        w.read_payment_state(&answer(404, not_found.clone())),
        Ok(PaymentState::Unknown)
    );
    assert_eq!(
        w.read_closing(&answer(204, Value::Null)),
        Ok(Closing::Closed)
    );
    assert_eq!(
        w.read_closing(&answer(404, not_found.clone())),
        Ok(Closing::NeverCreated)
    );
    assert_eq!(
        w.read_closing(&answer(
            400,
            json!({"code": "ORDERPAID", "message": "订单已支付"})
        )),
        Ok(Closing::QueryFirst)
    );
    // The same "no such order" without a signature settles nothing.
    let unsigned = ChannelResponse {
        status: 404,
        headers: vec![],
        body: not_found.to_string().into_bytes(),
    };
    assert!(matches!(
        w.read_closing(&unsigned),
        Err(ChannelError::Refused { .. })
    ));
    assert!(matches!(
        w.read_payment_state(&unsigned),
        Err(ChannelError::Refused { .. })
    ));
    // A success whose body was changed on the way.
    let mut changed = answer(200, transaction(&p, "NOTPAY"));
    changed.body = String::from_utf8(changed.body)
        .expect("utf-8")
        .replace("NOTPAY", "SUCCESS")
        .into_bytes();
    assert_eq!(
        w.read_payment_state(&changed),
        Err(ChannelError::BadSignature { channel: WECHAT })
    );
    let r = refund(&p, 1000);
    let refunded = |status: &str| {
        w.read_refund_state(
            &r,
            &answer(
                200,
                json!({"refund_id": "5000", "out_refund_no": r.channel_refund_id.0,
                   "out_trade_no": p.channel_payment_id.0, "status": status,
                   "amount": {"total": 8880, "refund": 1000, "currency": "CNY"}}),
            ),
        )
    };
    assert_eq!(
        refunded("SUCCESS"),
        Ok(RefundState::Succeeded { amount: cny(1000) })
    );
    assert_eq!(refunded("PROCESSING"), Ok(RefundState::Processing));
    assert!(matches!(refunded("CLOSED"), Ok(RefundState::Failed { .. })));
    assert_eq!(
        w.read_refund_state(
            &r,
            &answer(404, json!({"code": "RESOURCE_NOT_EXISTS", "message": "x"}))
        ),
        Ok(RefundState::Unknown)
    );
}

#[test]
fn only_cny_in_whole_fen_is_taken() {
    let mut p = payment();
    p.amount = Money {
        amount: Decimal::ONE,
        currency: Currency::USD,
    };
    assert!(matches!(
        wechat().create_payment(&p, "x", at()),
        Err(ChannelError::Currency { .. })
    ));
}

#[test]
fn the_apiv3_key_is_32_characters_and_never_printed() {
    assert!(ApiV3Key::parse("short").is_err());
    let key = ApiV3Key::parse(APIV3).expect("key");
    assert!(!format!("{key:?}").contains("0123"));
}

#[test]
fn acknowledgements_are_wechat_pays_forms() {
    assert_eq!(wechat().acknowledge(true).status, 204);
    let refusal = wechat().acknowledge(false);
    assert_eq!(refusal.status, 500);
    let body: Value = serde_json::from_slice(&refusal.body).expect("json");
    assert_eq!(body["code"], "FAIL");
}

#[test]
fn a_platform_key_rotated_in_without_a_restart_is_accepted_and_a_retired_one_refused() {
    let (w, p) = (wechat(), payment());
    let newest = SigningKey::generate().expect("key");
    let newest_public = newest.verifying_key().expect("public");
    let rotated = WechatPlatform::new(
        "PUB_KEY_ID_ROTATED",
        newest,
        ApiV3Key::parse(APIV3).expect("apiv3"),
    );
    let n = rotated
        .notification(
            "EV-9",
            "TRANSACTION.SUCCESS",
            "transaction",
            &transaction(&p, "SUCCESS"),
            at(),
        )
        .expect("notification");
    let read_by = |w: &Wechat, n: &super::platform::SignedNotification| {
        w.notification(
            Inbound {
                headers: &n.headers,
                body: &n.body,
            },
            at(),
        )
    };
    assert!(matches!(
        read_by(&w, &n),
        Err(ChannelError::UnknownKey { .. })
    ));
    let old = (SERIAL.to_owned(), key(1).verifying_key().expect("public"));
    let serials = w.replace_platform_keys(vec![
        old,
        ("PUB_KEY_ID_ROTATED".into(), newest_public.clone()),
    ]);
    assert_eq!(
        serials,
        vec![SERIAL.to_owned(), "PUB_KEY_ID_ROTATED".to_owned()]
    );
    assert!(read_by(&w, &n).is_ok());
    assert!(
        read_by(&w, &notice(&p, "SUCCESS", at())).is_ok(),
        "the old key still holds"
    );
    w.replace_platform_keys(vec![("PUB_KEY_ID_ROTATED".into(), newest_public)]);
    assert!(matches!(
        read_by(&w, &notice(&p, "SUCCESS", at())),
        Err(ChannelError::UnknownKey { .. })
    ));
}
