//! The card (Stripe API), Alipay and WeChat Pay end to end, against the simulated gateways
//! the server runs with `--channel-simulator` (each checks our credentials and signs its own
//! answers or events with keys of its own): an order paid by card form or QR code, the
//! notification delivered several times at once applied once with one capture journal,
//! forged notifications refused in the channel's own form with nothing changed.

use arbiter_transactions::channels::keys::SigningKey;
use reqwest::Method;
use serde_json::{Value, json};

use super::calls::{config, order_body};
use crate::harness::{TestServer, backends};

async fn start(backend: &crate::harness::Backend) -> TestServer {
    TestServer::start_configured(backend, |c| c.channels.channel_simulator = true, config()).await
}

impl TestServer {
    /// A SKU priced `price` CNY with `units` in stock.
    pub(super) async fn cny_sku(&self, sku: &str, price: &str, units: i64) {
        self.sku_priced(sku, price, "CNY", units).await;
    }

    /// The account's CNY balance, `"0"` when it has none.
    pub(super) async fn cny_balance(&self, account: &str) -> String {
        self.balance_in(account, "CNY").await
    }

    pub(super) async fn post_webhook(
        &self,
        channel: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> (u16, String) {
        let mut request = self
            .client
            .post(self.url(&format!("/v1/webhooks/{channel}")))
            .body(body);
        for (k, v) in headers {
            request = request.header(*k, v);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_paid_through_each_channel_once_however_often_it_notifies() {
    for backend in backends() {
        let s = start(&backend).await;
        let key = s.checkout_key().await;
        s.cny_sku("TEA-1", "88.80", 10).await;
        for (channel, kind, code_prefix, taken) in [
            // Stripe's answer to an event is read by its status alone; ours names the verdict.
            ("card", "client_secret", "pi_sim", (200u16, None)),
            (
                "alipay",
                "qr_code",
                "https://qr.alipay.com/",
                (200, Some("success")),
            ),
            ("wechat", "qr_code", "weixin://wxpay/bizpayurl", (204, None)),
        ] {
            let user = format!("buyer-{channel}");
            let order = s
                .order(&key, &format!("o-{channel}"), &user, "TEA-1", 2)
                .await;
            assert_eq!(order.status, 201, "{}", order.body);
            let order_id = order.body["id"].as_str().expect("id").to_owned();
            assert_eq!(
                order.body["total"],
                json!({"value": "177.60", "currency": "CNY"})
            );
            let idem = format!("pay-{channel}");
            let pay = || {
                let (s, key, order_id, idem) = (&s, &key, &order_id, &idem);
                async move {
                    s.call(
                        Method::POST,
                        &format!("/v1/orders/{order_id}/payments"),
                        key,
                        Some(idem),
                        Some(&json!({"channel": channel})),
                    )
                    .await
                }
            };
            let a = pay().await;
            assert_eq!(a.status, 201, "{channel}: {}", a.body);
            assert_eq!(a.body["status"], "PROCESSING");
            assert_eq!(a.body["channel"], channel);
            assert_eq!(a.body["client_action"]["kind"], kind, "{}", a.body);
            let code = a.body["client_action"]["value"]
                .as_str()
                .expect("code")
                .to_owned();
            assert!(code.starts_with(code_prefix), "{code}");
            let payment_id = a.body["id"].as_str().expect("id").to_owned();
            let channel_payment_id = a.body["channel_payment_id"]
                .as_str()
                .expect("id")
                .to_owned();
            // The same key again: the same payment, the same code.
            let again = pay().await;
            assert_eq!(
                (
                    again.body["id"].as_str(),
                    again.body["client_action"]["value"].as_str()
                ),
                (Some(payment_id.as_str()), Some(code.as_str()))
            );

            // The buyer pays; the channel notifies three times at once.
            let a = s
                .call(
                    Method::POST,
                    &format!("/v1/channels/{channel}/payments/{channel_payment_id}/events"),
                    &s.admin_key,
                    None,
                    Some(&json!({"outcome": "succeeded", "times": 3, "concurrent": true})),
                )
                .await;
            assert_eq!(a.status, 200, "{}", a.body);
            let attempts = a.body["attempts"].as_array().expect("attempts");
            assert_eq!(attempts.len(), 3);
            for attempt in attempts {
                assert_eq!(
                    attempt["status"].as_u64(),
                    Some(u64::from(taken.0)),
                    "{channel}: every copy is answered as taken: {}",
                    a.body
                );
                if taken.1.is_some() {
                    assert_eq!(attempt["answer"].as_str(), taken.1, "{}", a.body);
                }
            }
            if channel == "card" {
                let applied = attempts.iter().filter(|a| a["answer"] == "applied").count();
                assert_eq!(
                    applied, 1,
                    "applied once, the others duplicates: {}",
                    a.body
                );
            }
            let payment = s.admin_get(&format!("/v1/payments/{payment_id}")).await;
            assert_eq!(payment["status"], "SUCCEEDED", "{payment}");
            assert_eq!(payment["client_action"]["value"], code.as_str());
            let order = s.admin_get(&format!("/v1/orders/{order_id}")).await;
            assert_eq!(order["status"], "PAID", "{order}");
            // One capture journal: the channel owes the order's total once.
            assert_eq!(
                s.cny_balance(&format!("channel_clearing:{channel}")).await,
                "177.60"
            );

            // A refund goes to the channel at once: Alipay refunds synchronously, the card
            // and WeChat Pay answer pending and notify.
            let a = s
                .call(
                    Method::POST,
                    "/v1/refunds",
                    &key,
                    Some(&format!("refund-{channel}")),
                    Some(
                        &json!({"payment_id": payment_id, "reason": "one tin broken",
                                 "amount": {"value": "20.00", "currency": "CNY"}}),
                    ),
                )
                .await;
            assert_eq!(a.status, 201, "{}", a.body);
            let refund_id = a.body["id"].as_str().expect("id").to_owned();
            let started = std::time::Instant::now();
            loop {
                let refund = s.admin_get(&format!("/v1/refunds/{refund_id}")).await;
                if refund["status"] == "SUCCEEDED" {
                    break;
                }
                assert_eq!(refund["status"], "PROCESSING", "{refund}");
                assert!(
                    started.elapsed().as_secs() < 10,
                    "{channel}: never refunded: {refund}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            assert_eq!(
                s.cny_balance(&format!("channel_clearing:{channel}")).await,
                "157.60",
                "one refund journal"
            );
        }
        let (sound, report, stderr) = super::ledger_cli::ledger_check(s.db()).await;
        assert!(sound, "{report} {stderr}");
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_notifications_are_refused_in_the_channels_form_and_change_nothing() {
    for backend in backends() {
        let s = start(&backend).await;
        let key = s.checkout_key().await;
        s.cny_sku("TEA-2", "10.00", 10).await;
        let order = s.order(&key, "o-forged", "forger", "TEA-2", 1).await;
        let order_id = order.body["id"].as_str().expect("id").to_owned();
        let a = s
            .call(
                Method::POST,
                &format!("/v1/orders/{order_id}/payments"),
                &key,
                Some("pay-forged"),
                Some(&json!({"channel": "alipay"})),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        let payment_id = a.body["id"].as_str().expect("id").to_owned();
        let out_trade_no = a.body["channel_payment_id"]
            .as_str()
            .expect("id")
            .to_owned();

        // A paid notification signed by a key that is not Alipay's.
        let forger = arbiter_transactions::channels::alipay::platform::AlipayPlatform::new(
            SigningKey::generate().expect("key"),
        );
        let form = forger
            .notification(&[
                ("notify_id", "forged-1"),
                ("app_id", "2021000000000000"),
                ("out_trade_no", &out_trade_no),
                ("trade_no", "2026FORGED"),
                ("trade_status", "TRADE_SUCCESS"),
                ("total_amount", "10.00"),
            ])
            .expect("form");
        let content_type = (
            "content-type",
            "application/x-www-form-urlencoded".to_owned(),
        );
        assert_eq!(
            s.post_webhook("alipay", std::slice::from_ref(&content_type), form)
                .await,
            (400, "fail".to_owned())
        );
        // Unsigned garbage, and a WeChat Pay notification without its headers.
        assert_eq!(
            s.post_webhook(
                "alipay",
                &[content_type],
                b"trade_status=TRADE_SUCCESS".to_vec()
            )
            .await
            .0,
            400
        );
        let (status, body) = s
            .post_webhook(
                "wechat",
                &[("content-type", "application/json".into())],
                br#"{"id":"EV-1"}"#.to_vec(),
            )
            .await;
        assert_eq!(status, 400);
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["code"], "FAIL");

        // A card payment at the simulated Stripe API, and a `payment_intent.succeeded` for it
        // signed with another endpoint's secret, naming our payment in its metadata.
        let card_order = s.order(&key, "o-forged-card", "forger", "TEA-2", 1).await;
        let card_order = card_order.body["id"].as_str().expect("id").to_owned();
        let a = s
            .call(
                Method::POST,
                &format!("/v1/orders/{card_order}/payments"),
                &key,
                Some("pay-forged-card"),
                Some(&json!({"channel": "card"})),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        let card_payment = a.body["id"].as_str().expect("id").to_owned();
        let intent = a.body["client_action"]["value"]
            .as_str()
            .and_then(|secret| secret.split("_secret_").next())
            .expect("client secret")
            .to_owned();
        let forged = serde_json::to_vec(&json!({
            "id": "evt_forged", "type": "payment_intent.succeeded", "created": 1,
            "data": {"object": {"id": intent, "amount": 1000, "currency": "cny",
                                "status": "succeeded",
                                "metadata": {"channel_payment_id": a.body["channel_payment_id"]}}}
        }))
        .expect("json");
        let now = chrono::Utc::now().timestamp();
        let signature = arbiter_transactions::signature::sign(b"whsec_not_ours", now, &forged);
        let (status, body) = s
            .post_webhook(
                "card",
                &[
                    ("content-type", "application/json".into()),
                    ("stripe-signature", signature),
                ],
                forged,
            )
            .await;
        assert_eq!(status, 400, "{body}");
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["code"], "invalid_signature", "{body}");
        let payment = s.admin_get(&format!("/v1/payments/{card_payment}")).await;
        assert_eq!(payment["status"], "PROCESSING", "{payment}");
        assert_eq!(s.cny_balance("channel_clearing:card").await, "0");

        let payment = s.admin_get(&format!("/v1/payments/{payment_id}")).await;
        assert_eq!(payment["status"], "PROCESSING", "{payment}");
        assert_eq!(s.cny_balance("channel_clearing:alipay").await, "0");
        let metrics = s
            .client
            .get(s.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        assert!(
            ["card", "alipay", "wechat"]
                .iter()
                .all(|c| metrics.contains(&format!("channel=\"{c}\""))),
            "refusals are counted per channel"
        );
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_not_configured_is_refused_by_name() {
    let s = TestServer::start_with_transactions(&crate::harness::Backend::Sqlite, config()).await;
    let key = s.checkout_key().await;
    s.sku("MUG-9", "5.00", 10).await;
    let order = s.order(&key, "o-nochan", "u-9", "MUG-9", 1).await;
    let order_id = order.body["id"].as_str().expect("id").to_owned();
    let a = s
        .call(
            Method::POST,
            &format!("/v1/orders/{order_id}/payments"),
            &key,
            Some("pay-nochan"),
            Some(&json!({"channel": "alipay"})),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("alipay"),
        "{}",
        a.body
    );
    let (status, _) = s.post_webhook("alipay", &[], b"x=1".to_vec()).await;
    assert_eq!(status, 404);
    let _ = order_body;
    s.finish().await;
}
