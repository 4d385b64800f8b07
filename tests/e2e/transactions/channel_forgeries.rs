//! WeChat Pay notifications that must change nothing, sent over HTTP to a server configured as
//! a real merchant is (its flags and key files, no simulator): forged with another key under
//! the right serial, signed under a serial the server holds no key for, stale (outside the
//! timestamp tolerance), and validly signed around a tampered ciphertext. Each is answered in
//! WeChat Pay's error form and counted by reason; then the genuine one is applied, once. The
//! test plays the platform itself, holding the keys it gave the server.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use arbiter_transactions::channels::keys::SigningKey;
use arbiter_transactions::channels::wechat::ApiV3Key;
use arbiter_transactions::channels::wechat::platform::{SignedNotification, WechatPlatform};
use reqwest::Method;
use serde_json::{Value, json};

use super::calls::config;
use crate::harness::{TestServer, backends};

const MCHID: &str = "1900000109";
const SERIAL: &str = "PUB_KEY_ID_0114232019112410000000000001";
const APIV3: &str = "0123456789abcdef0123456789ABCDEF";

fn secret_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// A WeChat Pay API that answers a Native create with a code, signed by `platform`.
async fn platform_api(platform: std::sync::Arc<WechatPlatform>) -> String {
    let app = axum::Router::new().fallback(move || {
        let platform = platform.clone();
        async move {
            let answer = platform
                .answer(
                    200,
                    &json!({"code_url": "weixin://wxpay/bizpayurl?pr=forgeries"}),
                    chrono::Utc::now(),
                )
                .expect("answer");
            let mut response = axum::response::IntoResponse::into_response(answer.body);
            for (k, v) in answer.headers {
                response.headers_mut().insert(
                    axum::http::HeaderName::try_from(k).expect("name"),
                    axum::http::HeaderValue::try_from(v).expect("value"),
                );
            }
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn transaction(out_trade_no: &str) -> Value {
    json!({
        "mchid": MCHID, "appid": "wxd678efh567hg6787", "out_trade_no": out_trade_no,
        "transaction_id": "4200000000202612060000000009", "trade_type": "NATIVE",
        "trade_state": "SUCCESS", "trade_state_desc": "",
        "success_time": "2026-12-06T18:00:00+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 1000, "payer_total": 1000, "currency": "CNY", "payer_currency": "CNY"},
    })
}

impl TestServer {
    async fn post_wechat(&self, n: &SignedNotification) -> (u16, Value) {
        let headers: Vec<(&str, String)> = n
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let (status, body) = self.post_webhook("wechat", &headers, n.body.clone()).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn refusals(&self, reason: &str) -> u64 {
        let metrics = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        metrics
            .lines()
            .find(|l| {
                l.starts_with("arbiter_webhook_refusals_total")
                    && l.contains("channel=\"wechat\"")
                    && l.contains(&format!("reason=\"{reason}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_unknown_serial_and_tampered_notifications_change_nothing() {
    let platform_key = SigningKey::generate().expect("key");
    let platform = std::sync::Arc::new(WechatPlatform::new(
        SERIAL,
        SigningKey::parse("platform", &platform_key.to_pkcs8_pem().expect("pem")).expect("key"),
        ApiV3Key::parse(APIV3).expect("apiv3"),
    ));
    let api = platform_api(platform.clone()).await;
    for backend in backends() {
        let dir = tempfile::tempdir().expect("tmp");
        let keys_dir = dir.path().join("platform");
        std::fs::create_dir(&keys_dir).expect("mkdir");
        std::fs::write(
            keys_dir.join(format!("{SERIAL}.pem")),
            platform_key.verifying_key().expect("public").to_pem(),
        )
        .expect("write");
        let merchant_key = SigningKey::generate()
            .expect("key")
            .to_pkcs8_pem()
            .expect("pem");
        let (merchant_file, apiv3_file) = (
            secret_file(dir.path(), "merchant.pem", &merchant_key),
            secret_file(dir.path(), "apiv3", APIV3),
        );
        let s = TestServer::start_configured(
            &backend,
            |c| {
                let w = &mut c.channels;
                w.wechat_mchid = Some(MCHID.into());
                w.wechat_appid = Some("wxd678efh567hg6787".into());
                w.wechat_base_url = Some(api.clone());
                w.wechat_merchant_serial = Some("MERCHANTSERIAL".into());
                w.wechat_merchant_key_file = Some(merchant_file.clone());
                w.wechat_apiv3_key_file = Some(apiv3_file.clone());
                w.wechat_platform_keys_dir = Some(keys_dir.clone());
            },
            config(),
        )
        .await;
        let key = s.checkout_key().await;
        s.cny_sku("FORGE-1", "10.00", 5).await;
        let order = s.order(&key, "o-forge", "u-forge", "FORGE-1", 1).await;
        let order_id = order.body["id"].as_str().expect("id").to_owned();
        let a = s
            .call(
                Method::POST,
                &format!("/v1/orders/{order_id}/payments"),
                &key,
                Some("pay-forge"),
                Some(&json!({"channel": "wechat"})),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        let payment_id = a.body["id"].as_str().expect("id").to_owned();
        let out_trade_no = a.body["channel_payment_id"]
            .as_str()
            .expect("id")
            .to_owned();
        let plain = transaction(&out_trade_no);
        let now = chrono::Utc::now();
        let genuine = platform
            .notification(
                "EV-GENUINE",
                "TRANSACTION.SUCCESS",
                "transaction",
                &plain,
                now,
            )
            .expect("notification");

        let other_key = || SigningKey::generate().expect("key");
        let apiv3 = || ApiV3Key::parse(APIV3).expect("apiv3");
        let forged = WechatPlatform::new(SERIAL, other_key(), apiv3())
            .notification("EV-F", "TRANSACTION.SUCCESS", "transaction", &plain, now)
            .expect("forged");
        let unknown_serial = WechatPlatform::new("PUB_KEY_ID_NOT_HELD", other_key(), apiv3())
            .notification("EV-U", "TRANSACTION.SUCCESS", "transaction", &plain, now)
            .expect("unknown serial");
        let stale = platform
            .notification(
                "EV-S",
                "TRANSACTION.SUCCESS",
                "transaction",
                &plain,
                now - chrono::Duration::minutes(10),
            )
            .expect("stale");
        // The genuine envelope with one character of its ciphertext changed, signed anew by the
        // platform: the signature holds, the AEAD tag does not.
        let mut envelope: Value = serde_json::from_slice(&genuine.body).expect("json");
        let ciphertext = envelope["resource"]["ciphertext"]
            .as_str()
            .expect("ciphertext")
            .to_owned();
        let flipped = if ciphertext.starts_with('A') {
            "B"
        } else {
            "A"
        };
        envelope["resource"]["ciphertext"] = json!(format!("{flipped}{}", &ciphertext[1..]));
        let body = envelope.to_string().into_bytes();
        let mut headers = platform.sign(&body, now).expect("sign");
        headers.push(("content-type".into(), "application/json".into()));
        let tampered = SignedNotification { headers, body };

        for (what, n, reason) in [
            ("forged", &forged, "bad_signature"),
            ("unknown serial", &unknown_serial, "unknown_key"),
            ("stale", &stale, "not_for_us"),
            ("tampered ciphertext", &tampered, "bad_signature"),
        ] {
            let before = s.refusals(reason).await;
            let (status, body) = s.post_wechat(n).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("FAIL")),
                "{what}: {body}"
            );
            assert_eq!(
                s.refusals(reason).await,
                before + 1,
                "{what} counted as {reason}"
            );
            let payment = s.admin_get(&format!("/v1/payments/{payment_id}")).await;
            assert_eq!(payment["status"], "PROCESSING", "{what}: {payment}");
            assert_eq!(
                s.cny_balance("channel_clearing:wechat").await,
                "0",
                "{what}"
            );
        }

        // The genuine notification is applied, and the same one again changes nothing.
        for _ in 0..2 {
            let (status, body) = s.post_wechat(&genuine).await;
            assert_eq!(status, 204, "{body}");
            let payment = s.admin_get(&format!("/v1/payments/{payment_id}")).await;
            assert_eq!(payment["status"], "SUCCEEDED", "{payment}");
            assert_eq!(s.cny_balance("channel_clearing:wechat").await, "10.00");
        }
        s.finish().await;
    }
}
