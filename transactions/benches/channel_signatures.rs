//! What the payment channels' cryptography costs per call, so capacity is planned from
//! figures: an Alipay request signed (RSA-2048 private-key operation), an Alipay notification
//! verified and read, a WeChat Pay notification verified, opened (AES-256-GCM) and read.
//! `cargo bench -p arbiter-transactions --bench channel_signatures`.

use arbiter_engine::money::Money;
use arbiter_transactions::channels::alipay::platform::AlipayPlatform;
use arbiter_transactions::channels::alipay::{Alipay, AlipayConfig};
use arbiter_transactions::channels::keys::SigningKey;
use arbiter_transactions::channels::wechat::platform::WechatPlatform;
use arbiter_transactions::channels::wechat::{ApiV3Key, Wechat, WechatConfig};
use arbiter_transactions::channels::{Inbound, PaymentChannel};
use arbiter_transactions::ids::{ChannelPaymentId, IdempotencyKey, OrderId, PaymentId};
use arbiter_transactions::payment::Payment;
use arbiter_transactions::status::PaymentStatus;
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use iso_currency::Currency;
use serde_json::json;

const APIV3: &str = "0123456789abcdef0123456789ABCDEF";

fn payment() -> Payment {
    let now = Utc::now();
    Payment {
        id: PaymentId::generate(),
        order_id: OrderId::generate(),
        idempotency_key: IdempotencyKey("k".into()),
        body_hash: String::new(),
        channel: "alipay".into(),
        channel_payment_id: ChannelPaymentId::generate(),
        status: PaymentStatus::Processing,
        amount: Money::from_minor_units(8880, Currency::CNY),
        risk: None,
        created_at: now,
        updated_at: now,
    }
}

fn key() -> SigningKey {
    SigningKey::generate().expect("key")
}

fn bench(c: &mut Criterion) {
    let p = payment();
    let (app, alipay_key) = (key(), key());
    let alipay_public = alipay_key.verifying_key().expect("public");
    let alipay = Alipay::new(AlipayConfig {
        app_id: "2021000000000001".into(),
        gateway: "https://alipay.test/gateway.do".into(),
        notify_url: "https://shop.test/v1/webhooks/alipay".into(),
        app_key: app,
        platform_key: alipay_public,
    });
    let form = AlipayPlatform::new(alipay_key)
        .notification(&[
            ("notify_id", "n1"),
            ("app_id", "2021000000000001"),
            ("out_trade_no", &p.channel_payment_id.0),
            ("trade_no", "2026"),
            ("trade_status", "TRADE_SUCCESS"),
            ("total_amount", "88.80"),
        ])
        .expect("form");
    c.bench_function("alipay: sign a precreate request", |b| {
        b.iter(|| {
            alipay
                .create_payment(&p, "Order", Utc::now())
                .expect("request")
        })
    });
    c.bench_function("alipay: verify and read a notification", |b| {
        b.iter(|| {
            alipay
                .notification(
                    Inbound {
                        headers: &[],
                        body: &form,
                    },
                    Utc::now(),
                )
                .expect("notice")
        })
    });

    let (merchant, platform_key) = (key(), key());
    let platform_public = platform_key.verifying_key().expect("public");
    let wechat = Wechat::new(WechatConfig {
        mchid: "1900000109".into(),
        appid: "wx".into(),
        base_url: "https://wechat.test".into(),
        notify_url: "https://shop.test/v1/webhooks/wechat".into(),
        merchant_serial: "S".into(),
        merchant_key: merchant,
        apiv3_key: ApiV3Key::parse(APIV3).expect("apiv3"),
        platform_keys: vec![("PUB".into(), platform_public)],
    });
    let transaction = json!({
        "mchid": "1900000109", "out_trade_no": p.channel_payment_id.0,
        "transaction_id": "4200", "trade_state": "SUCCESS",
        "amount": {"total": 8880, "currency": "CNY"},
    });
    let n = WechatPlatform::new("PUB", platform_key, ApiV3Key::parse(APIV3).expect("apiv3"))
        .notification(
            "EV",
            "TRANSACTION.SUCCESS",
            "transaction",
            &transaction,
            Utc::now(),
        )
        .expect("notification");
    c.bench_function("wechat: verify, open and read a notification", |b| {
        b.iter(|| {
            wechat
                .notification(
                    Inbound {
                        headers: &n.headers,
                        body: &n.body,
                    },
                    Utc::now(),
                )
                .expect("notice")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
