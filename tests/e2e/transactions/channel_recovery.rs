//! What the channels fail to tell us, recovered: a notification lost on the way is made good
//! by the compensation worker's query; an order whose reservation runs out closes its payment
//! at the channel first — and when the buyer paid at the last second, ends paid, not
//! cancelled. Against the simulated card (Stripe API), Alipay and WeChat Pay, on both
//! backends.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::calls::config;
use crate::harness::{Backend, TestServer, backends};

const CHANNELS: [&str; 3] = ["card", "alipay", "wechat"];

/// How the channel writes a paid payment's status.
fn paid_word(channel: &str) -> &'static str {
    match channel {
        "alipay" => "TRADE_SUCCESS",
        "wechat" => "SUCCESS",
        _ => "succeeded",
    }
}

/// What the buyer is given to pay with.
fn action_kind(channel: &str) -> &'static str {
    if channel == "card" {
        "client_secret"
    } else {
        "qr_code"
    }
}

async fn start(backend: &Backend, query_after_secs: u64, order_ttl: Duration) -> TestServer {
    TestServer::start_configured(
        backend,
        |c| {
            c.channels.channel_simulator = true;
            c.channels.channel_query_after_secs = query_after_secs;
            c.channels.channel_query_interval_ms = 100;
        },
        arbiter_host::wiring_transactions::TransactionsConfig {
            order_ttl,
            ..config()
        },
    )
    .await
}

/// An order of one `sku` paid through `channel`: (order id, payment id, channel payment id).
async fn paying(
    s: &TestServer,
    key: &str,
    channel: &str,
    tag: &str,
    sku: &str,
) -> (String, String, String) {
    let order = s
        .order(
            key,
            &format!("o-{tag}-{channel}"),
            &format!("u-{tag}-{channel}"),
            sku,
            1,
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.body);
    let order_id = order.body["id"].as_str().expect("id").to_owned();
    let a = s
        .call(
            Method::POST,
            &format!("/v1/orders/{order_id}/payments"),
            key,
            Some(&format!("pay-{tag}-{channel}")),
            Some(&json!({"channel": channel})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = |k: &str| a.body[k].as_str().expect("id").to_owned();
    (order_id, id("id"), id("channel_payment_id"))
}

/// The buyer pays (or not) at the simulated channel, which notifies `times` times.
async fn buyer(
    s: &TestServer,
    channel: &str,
    channel_payment_id: &str,
    paid: bool,
    times: u32,
) -> Value {
    let a = s
        .call(
            Method::POST,
            &format!("/v1/channels/{channel}/payments/{channel_payment_id}/events"),
            &s.admin_key,
            None,
            Some(&json!({"outcome": if paid { "succeeded" } else { "failed" }, "times": times})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

/// Waits until `path` shows `status`.
pub(super) async fn until_status(s: &TestServer, path: &str, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let v = s.admin_get(path).await;
        if v["status"] == status {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{path} never became {status}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_notification_is_made_good_by_the_query_worker() {
    for backend in backends() {
        let s = start(&backend, 1, Duration::from_secs(900)).await;
        let key = s.checkout_key().await;
        s.cny_sku("LOST-1", "12.34", 10).await;
        for channel in CHANNELS {
            let (order_id, payment_id, channel_id) =
                paying(&s, &key, channel, "lost", "LOST-1").await;
            // Paid at the channel; the notification never arrives.
            let sent = buyer(&s, channel, &channel_id, true, 0).await;
            assert_eq!(sent["attempts"].as_array().map(Vec::len), Some(0));
            until_status(&s, &format!("/v1/payments/{payment_id}"), "SUCCEEDED").await;
            let order = s.admin_get(&format!("/v1/orders/{order_id}")).await;
            assert_eq!(order["status"], "PAID", "{order}");
            assert_eq!(
                s.cny_balance(&format!("channel_clearing:{channel}")).await,
                "12.34",
                "one capture"
            );
            // The notification arriving after all changes nothing.
            let late = buyer(&s, channel, &channel_id, true, 1).await;
            assert_eq!(
                late["attempts"][0]["status"].as_u64().map(|c| c < 300),
                Some(true),
                "{late}"
            );
            assert_eq!(
                s.cny_balance(&format!("channel_clearing:{channel}")).await,
                "12.34"
            );
        }
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_order_closes_its_payment_first_and_a_last_second_payment_wins() {
    for backend in backends() {
        // The query worker waits a day: only the expiry asks the channels here. Orders hold
        // their stock 4 s: time for the buyer to pay first, also on a loaded machine.
        let s = start(&backend, 86_400, Duration::from_secs(4)).await;
        let key = s.checkout_key().await;
        s.cny_sku("LATE-1", "50.00", 10).await;
        for channel in CHANNELS {
            // Paid at the last second, its notification lost: the expiry's close is refused
            // (paid), the query says paid, and the order ends PAID.
            let (paid_order, paid_payment, paid_channel_id) =
                paying(&s, &key, channel, "last", "LATE-1").await;
            buyer(&s, channel, &paid_channel_id, true, 0).await;
            // Never paid: closed at the channel, then cancelled.
            let (open_order, open_payment, open_channel_id) =
                paying(&s, &key, channel, "open", "LATE-1").await;

            let order = until_status(&s, &format!("/v1/orders/{paid_order}"), "PAID").await;
            assert_eq!(order["status"], "PAID");
            let payment = s.admin_get(&format!("/v1/payments/{paid_payment}")).await;
            assert_eq!(payment["status"], "SUCCEEDED", "{payment}");

            until_status(&s, &format!("/v1/orders/{open_order}"), "CANCELLED").await;
            let payment = s.admin_get(&format!("/v1/payments/{open_payment}")).await;
            assert_eq!(
                payment["status"], "FAILED",
                "closed at the channel: {payment}"
            );
            // The buyer scanning the closed code pays nothing: the channel closed the trade.
            let late = buyer(&s, channel, &open_channel_id, true, 1).await;
            assert_ne!(late["status"], paid_word(channel), "{late}");
            assert_eq!(
                s.cny_balance(&format!("channel_clearing:{channel}")).await,
                "50.00",
                "only the paid order was captured"
            );
        }
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_costs_a_retry_and_a_refund_it_lost_is_sent_again() {
    for backend in backends() {
        let s = start(&backend, 1, Duration::from_secs(900)).await;
        let key = s.checkout_key().await;
        s.cny_sku("DOWN-1", "30.00", 10).await;
        for channel in CHANNELS {
            let outage = |calls: u32| {
                let s = &s;
                async move {
                    let a = s
                        .call(
                            Method::POST,
                            &format!("/v1/channels/{channel}/faults"),
                            &s.admin_key,
                            None,
                            Some(&json!({"fail_next": calls})),
                        )
                        .await;
                    assert_eq!(a.status, 200, "{}", a.body);
                }
            };
            // The channel is down when the payment starts: 502, and the same key again
            // creates it once the channel is back.
            let order = s
                .order(
                    &key,
                    &format!("o-down-{channel}"),
                    &format!("u-down-{channel}"),
                    "DOWN-1",
                    1,
                )
                .await;
            let order_id = order.body["id"].as_str().expect("id").to_owned();
            let pay = || {
                let (s, key, order_id) = (&s, &key, &order_id);
                async move {
                    s.call(
                        Method::POST,
                        &format!("/v1/orders/{order_id}/payments"),
                        key,
                        Some(&format!("pay-down-{channel}")),
                        Some(&json!({"channel": channel})),
                    )
                    .await
                }
            };
            outage(1).await;
            let a = pay().await;
            assert_eq!(a.status, 502, "{}", a.body);
            let a = pay().await;
            assert_eq!(a.status, 201, "{}", a.body);
            assert_eq!(
                a.body["client_action"]["kind"],
                action_kind(channel),
                "{}",
                a.body
            );
            let payment_id = a.body["id"].as_str().expect("id").to_owned();
            let channel_id = a.body["channel_payment_id"]
                .as_str()
                .expect("id")
                .to_owned();
            buyer(&s, channel, &channel_id, true, 1).await;
            until_status(&s, &format!("/v1/payments/{payment_id}"), "SUCCEEDED").await;

            // Down again when the refund is asked for: 502, the refund stays PROCESSING, and
            // the worker finds the channel never got it and sends it again.
            outage(1).await;
            let a = s
                .call(
                    Method::POST,
                    "/v1/refunds",
                    &key,
                    Some(&format!("refund-down-{channel}")),
                    Some(
                        &json!({"payment_id": payment_id, "reason": "lost in the outage",
                                 "amount": {"value": "30.00", "currency": "CNY"}}),
                    ),
                )
                .await;
            assert_eq!(a.status, 502, "{}", a.body);
            let payment = s.admin_get(&format!("/v1/payments/{payment_id}")).await;
            let refund_id = payment["refunds"][0]["id"]
                .as_str()
                .expect("refund")
                .to_owned();
            assert_eq!(payment["refunds"][0]["status"], "PROCESSING", "{payment}");
            until_status(&s, &format!("/v1/refunds/{refund_id}"), "SUCCEEDED").await;
            assert_eq!(
                s.cny_balance(&format!("channel_clearing:{channel}")).await,
                "0.00",
                "captured once, refunded once"
            );
        }
        let (sound, report, stderr) = super::ledger_cli::ledger_check(s.db()).await;
        assert!(sound, "{report} {stderr}");
        s.finish().await;
    }
}
