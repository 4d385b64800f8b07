//! Routing among channels: an operator switches Alipay off (API or CLI, audited) and new
//! payments that ask for it go to WeChat Pay, the payment's history saying why; a method
//! goes to the eligible channel of highest priority; with no eligible channel left the
//! refusal names the cause.

use reqwest::Method;
use serde_json::{Value, json};
use tokio::process::Command;

use super::calls::config;
use crate::harness::{TestServer, backends};

impl TestServer {
    async fn start_paying(&self, key: &str, tag: &str, request: Value) -> crate::harness::Answer {
        let order = self
            .order(key, &format!("o-{tag}"), &format!("u-{tag}"), "ROUTE-1", 1)
            .await;
        assert_eq!(order.status, 201, "{}", order.body);
        let order_id = order.body["id"].as_str().expect("id").to_owned();
        self.call(
            Method::POST,
            &format!("/v1/orders/{order_id}/payments"),
            key,
            Some(&format!("pay-{tag}")),
            Some(&request),
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switched_off_channel_sends_new_payments_to_the_next_one() {
    for backend in backends() {
        let s = TestServer::start_configured(
            &backend,
            |c| c.channels.channel_simulator = true,
            config(),
        )
        .await;
        let key = s.checkout_key().await;
        s.cny_sku("ROUTE-1", "8.00", 20).await;

        let table = s.admin_get("/v1/channels").await;
        let names: Vec<&str> = table["channels"]
            .as_array()
            .expect("channels")
            .iter()
            .map(|c| c["name"].as_str().expect("name"))
            .collect();
        assert_eq!(
            names,
            ["alipay", "wechat", "card"],
            "highest priority first: {table}"
        );
        assert!(
            table["channels"]
                .as_array()
                .expect("channels")
                .iter()
                .all(|c| c["configured"] == true)
        );

        // `qr` goes to the highest priority: Alipay.
        let a = s.start_paying(&key, "qr-1", json!({"method": "qr"})).await;
        assert_eq!(
            (a.status, a.body["channel"].as_str()),
            (201, Some("alipay")),
            "{}",
            a.body
        );

        // Switched off (with a reason, audited), Alipay's payments go to WeChat Pay.
        let off = s
            .call(
                Method::POST,
                "/v1/channels/alipay/disable",
                &s.admin_key,
                None,
                Some(&json!({"reason": "Alipay reports an outage"})),
            )
            .await;
        assert_eq!(
            (off.status, off.body["enabled"].as_bool()),
            (200, Some(false)),
            "{}",
            off.body
        );
        let a = s
            .start_paying(&key, "ask-alipay", json!({"channel": "alipay"}))
            .await;
        assert_eq!(
            (a.status, a.body["channel"].as_str()),
            (201, Some("wechat")),
            "{}",
            a.body
        );
        assert_eq!(a.body["client_action"]["kind"], "qr_code");
        let payment = s
            .admin_get(&format!(
                "/v1/payments/{}",
                a.body["id"].as_str().expect("id")
            ))
            .await;
        let notes: Vec<&str> = payment["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter_map(|h| h["note"].as_str())
            .collect();
        assert!(
            notes.iter().any(|n| n.contains("alipay is switched off")),
            "{notes:?}"
        );
        let audit = s.admin_get("/v1/audit?action=channel.disable").await;
        assert_eq!(audit["items"][0]["target"], "alipay", "{audit}");

        // The CLI switches WeChat Pay off too: no channel takes qr payments now.
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_arbiter"));
        cmd.args([
            "channels",
            "disable",
            "wechat",
            "--reason",
            "maintenance",
            "--data-dir",
        ])
        .arg(s.db().data_dir())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "error");
        if let Some(url) = &s.db().database_url {
            cmd.args(["--database-url", url]);
        }
        let out = cmd.output().await.expect("run arbiter");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let view: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(view["enabled"], false);
        let a = s.start_paying(&key, "none", json!({"method": "qr"})).await;
        assert_eq!(a.status, 422, "{}", a.body);
        assert!(
            a.body["detail"].as_str().unwrap_or_default().contains("qr"),
            "{}",
            a.body
        );

        // Back on: the channel asked for is the one again.
        let on = s
            .call(
                Method::POST,
                "/v1/channels/alipay/enable",
                &s.admin_key,
                None,
                Some(&json!({"reason": "outage over"})),
            )
            .await;
        assert_eq!(on.status, 200, "{}", on.body);
        let a = s
            .start_paying(&key, "back", json!({"channel": "alipay"}))
            .await;
        assert_eq!(
            (a.status, a.body["channel"].as_str()),
            (201, Some("alipay")),
            "{}",
            a.body
        );

        // Bad switches are refused by name.
        let bad = s
            .call(
                Method::POST,
                "/v1/channels/paypal/disable",
                &s.admin_key,
                None,
                Some(&json!({"reason": "x"})),
            )
            .await;
        assert_eq!(bad.status, 404, "{}", bad.body);
        let bad = s
            .call(
                Method::POST,
                "/v1/channels/alipay/disable",
                &s.admin_key,
                None,
                Some(&json!({"reason": " "})),
            )
            .await;
        assert_eq!(
            (bad.status, bad.body["code"].as_str()),
            (422, Some("invalid_value")),
            "{}",
            bad.body
        );
        // The bound is on the reason as sent, padding included (as the schema says), not on
        // what is left after trimming (Schemathesis found that one).
        let padded = format!("outage{}", "\t".repeat(495));
        let bad = s
            .call(
                Method::POST,
                "/v1/channels/alipay/enable",
                &s.admin_key,
                None,
                Some(&json!({ "reason": padded })),
            )
            .await;
        assert_eq!(
            (bad.status, bad.body["code"].as_str()),
            (422, Some("invalid_value")),
            "{}",
            bad.body
        );
        let checkout = s
            .call(
                Method::POST,
                "/v1/channels/alipay/disable",
                &key,
                None,
                Some(&json!({"reason": "x"})),
            )
            .await;
        assert_eq!(checkout.status, 403);
        s.finish().await;
    }
}
