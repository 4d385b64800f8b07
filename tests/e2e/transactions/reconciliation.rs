//! Reconciliation end to end on both backends (issue 20, the card channel): real payments and
//! a refund through the simulated Stripe API, a balance-transactions statement of the day with
//! planted differences imported, and a run that finds exactly the planted ones.

use std::time::Duration;

use arbiter_transactions::reconciliation::matching::FeeSchedule;
use chrono::{NaiveDate, Timelike, Utc};
use reqwest::Method;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

use super::calls::config;
use super::channel_recovery::until_status;
use crate::harness::{Backend, TestServer, backends};

/// Imports `body` as `channel`'s statement of `date`.
pub(super) async fn import(s: &TestServer, channel: &str, date: NaiveDate, body: String) {
    let imported = s
        .client
        .post(s.url(&format!(
            "/v1/reconciliation/statements?channel={channel}&date={date}"
        )))
        .bearer_auth(&s.admin_key)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(imported.status().as_u16(), 201);
}

/// Runs the reconciliation of `channel`'s `date`; its status and report.
pub(super) async fn run(s: &TestServer, channel: &str, date: NaiveDate) -> (u16, Value) {
    let run = s
        .call(
            Method::POST,
            "/v1/reconciliation/runs",
            &s.admin_key,
            None,
            Some(&json!({"channel": channel, "date": date.to_string()})),
        )
        .await;
    (run.status, run.body)
}

/// When a statement day turns (at one of `turns`, UTC hours) within ten minutes, waits until
/// just past it: a test's traffic and its statement stay inside one day.
pub(super) async fn stay_inside_a_day(turns: &[u32]) {
    let now = Utc::now();
    if turns.contains(&((now.hour() + 1) % 24)) && now.minute() >= 50 {
        let left = 60 * (60 - u64::from(now.minute())) - u64::from(now.second()) + 5;
        tokio::time::sleep(Duration::from_secs(left)).await;
    }
}

/// A server paying through the simulated channels, checking statements' fees against `fees`.
pub(super) async fn recon_server(
    backend: &Backend,
    fees: Vec<(String, FeeSchedule)>,
) -> TestServer {
    TestServer::start_configured(
        backend,
        |c| {
            c.channels.channel_simulator = true;
            c.recon.fees.fee_schedules = fees;
        },
        config(),
    )
    .await
}

/// The kinds and references of `items` (a run's differences, tickets), sorted.
pub(super) fn kinds_and_references(items: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = items
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().expect("kind").to_owned(),
                d["reference"].as_str().expect("reference").to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

/// An order of one `sku` paid (or only started) through `channel`: (payment id, our id at
/// the channel).
pub(super) async fn paid_through(
    s: &TestServer,
    key: &str,
    channel: &str,
    tag: &str,
    sku: &str,
    pay: bool,
) -> (String, String) {
    let order = s
        .order(key, &format!("o-{tag}"), &format!("u-{tag}"), sku, 1)
        .await;
    assert_eq!(order.status, 201, "{}", order.body);
    let order_id = order.body["id"].as_str().expect("id");
    let started = s
        .call(
            Method::POST,
            &format!("/v1/orders/{order_id}/payments"),
            key,
            Some(&format!("pay-{tag}")),
            Some(&json!({"channel": channel})),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.body["id"].as_str().expect("id").to_owned();
    let ours = started.body["channel_payment_id"]
        .as_str()
        .expect("channel id")
        .to_owned();
    if pay {
        let sent = s
            .call(
                Method::POST,
                &format!("/v1/channels/{channel}/payments/{ours}/events"),
                &s.admin_key,
                None,
                Some(&json!({"outcome": "succeeded"})),
            )
            .await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        until_status(s, &format!("/v1/payments/{id}"), "SUCCEEDED").await;
    }
    (id, ours)
}

/// A refund of `value` of `payment`, taken and succeeded at its channel: (refund id, our
/// refund id at the channel).
pub(super) async fn refunded(
    s: &TestServer,
    key: &str,
    payment: &str,
    tag: &str,
    value: &str,
    currency: &str,
) -> (String, String) {
    let refund = s
        .call(
            Method::POST,
            "/v1/refunds",
            key,
            Some(tag),
            Some(&json!({"payment_id": payment, "reason": "one broken",
                         "amount": {"value": value, "currency": currency}})),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    let id = refund.body["id"].as_str().expect("id").to_owned();
    let ours = refund.body["channel_refund_id"]
        .as_str()
        .expect("channel id")
        .to_owned();
    until_status(s, &format!("/v1/refunds/{id}"), "SUCCEEDED").await;
    (id, ours)
}

/// The card statement's header, with our ids' metadata columns.
pub(super) const CARD_HEADER: &str = "id,type,source,amount,fee,net,currency,created,\
     reporting_category,payment_metadata[channel_payment_id],refund_metadata[channel_refund_id]\n";

/// The card's fee schedule the servers here are configured with: 2.9 % + 0.30.
pub(super) fn card_fees() -> (String, FeeSchedule) {
    let schedule = FeeSchedule::parse("card", "0.029+0.30").expect("schedule");
    ("card".to_owned(), schedule)
}

/// `cents` as the statement writes it.
pub(super) fn major(cents: i64) -> String {
    format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        cents.abs() / 100,
        cents.abs() % 100
    )
}

/// A statement line with the schedule's fee (none on a refund).
pub(super) fn line(id: &str, kind: &str, cents: i64, ours: &str, theirs: &str) -> String {
    let fee = if cents > 0 {
        (Decimal::from(cents) * Decimal::new(29, 3))
            .round()
            .to_i64()
            .expect("fee")
            + 30
    } else {
        0
    };
    line_with_fee(id, kind, cents, fee, ours, theirs)
}

pub(super) fn line_with_fee(
    id: &str,
    kind: &str,
    cents: i64,
    fee: i64,
    ours: &str,
    theirs: &str,
) -> String {
    let (payment, refund) = if kind == "refund" {
        ("", ours)
    } else {
        (ours, "")
    };
    format!(
        "{id},{kind},{theirs},{},{},{},usd,{},{kind},{payment},{refund}\n",
        major(cents),
        major(fee),
        major(cents - fee),
        Utc::now().format("%Y-%m-%d %H:%M:%S")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_days_run_finds_exactly_the_planted_differences() {
    // A day's window ends at midnight UTC.
    stay_inside_a_day(&[0]).await;
    for backend in backends() {
        let s = recon_server(&backend, vec![card_fees()]).await;
        let key = s.checkout_key().await;
        s.sku("RECON-1", "12.00", 10).await;
        let mut paid = Vec::new();
        for tag in ["a", "b", "c"] {
            let tag = format!("recon-{tag}");
            paid.push(paid_through(&s, &key, "card", &tag, "RECON-1", true).await);
        }
        let (_, refund_ours) = refunded(&s, &key, &paid[0].0, "recon-refund", "2.00", "USD").await;
        // Started, never paid.
        let (_, open_id) = paid_through(&s, &key, "card", "recon-open", "RECON-1", false).await;

        // The day's statement: a with a fee off the schedule, the refund as we hold it; b for
        // another amount; c missing; a charge we never made; and the open payment charged.
        let mut csv = String::from(CARD_HEADER);
        csv.push_str(&line_with_fee(
            "txn_a", "charge", 1200, 70, &paid[0].1, "ch_a",
        ));
        csv.push_str(&line("txn_r", "refund", -200, &refund_ours, "re_a"));
        csv.push_str(&line("txn_b", "charge", 1100, &paid[1].1, "ch_b"));
        csv.push_str(&line("txn_x", "charge", 999, "pi_stranger", "ch_x"));
        csv.push_str(&line("txn_o", "charge", 1200, &open_id, "ch_o"));
        let date = Utc::now().date_naive();
        import(&s, "card", date, csv).await;
        let (status, report) = run(&s, "card", date).await;
        assert_eq!(status, 200, "{report}");
        let found = kinds_and_references(&report["differences"]);
        let mut planted = vec![
            ("fee_unexpected".to_owned(), paid[0].1.clone()),
            ("amount_mismatch".to_owned(), paid[1].1.clone()),
            ("missing_channel".to_owned(), paid[2].1.clone()),
            ("missing_local".to_owned(), "pi_stranger".to_owned()),
            ("status_mismatch".to_owned(), open_id.clone()),
        ];
        planted.sort();
        assert_eq!(found, planted, "{report}");
        assert_eq!(
            (report["rows"].as_u64(), report["matched"].as_u64()),
            (Some(5), Some(1)),
            "{report}"
        );
        assert_eq!(report["opened"], 5, "a ticket per difference: {report}");
        assert_eq!(report["fees_checked"], true);
        assert_eq!(report["clean"], false);
        super::recon_tickets::work_the_tickets(&s, date, &planted).await;
        // Unknown day: nothing imported for it.
        let (status, none) = run(&s, "alipay", date).await;
        assert_eq!(status, 404, "{none}");
        let (sound, report, stderr) = super::ledger_cli::ledger_check(s.db()).await;
        assert!(sound, "{report} {stderr}");
        s.finish().await;
    }
}

const WECHAT_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

fn wechat_row(at: &str, transaction: &str, ours: &str, yuan: &str) -> String {
    format!(
        "`{at},`wxsim,`1900000000,`0,`,`{transaction},`{ours},`oUser,`NATIVE,`SUCCESS,`OTHERS,`CNY,`{yuan},`0.00,`0,`0,`0.00,`0.00,`,`,`Order,`,`0.00000,`0.60%,`{yuan},`0.00,`\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wechat_day_is_a_beijing_day() {
    // A Beijing day turns at 16:00 UTC.
    stay_inside_a_day(&[16]).await;
    for backend in backends() {
        let s = recon_server(&backend, Vec::new()).await;
        let key = s.checkout_key().await;
        s.cny_sku("RECON-W", "88.80", 10).await;
        let mut paid = Vec::new();
        for tag in ["w1", "w2"] {
            paid.push(
                paid_through(&s, &key, "wechat", tag, "RECON-W", true)
                    .await
                    .1,
            );
        }
        let beijing = Utc::now().with_timezone(&arbiter_transactions::channels::BEIJING);
        let at = beijing.format("%Y-%m-%d %H:%M:%S").to_string();
        let mut bill = format!("{WECHAT_HEADER}\r\n");
        bill.push_str(&wechat_row(&at, "4200000001", &paid[0], "88.80"));
        bill.push_str(&wechat_row(&at, "4200000002", &paid[1], "8.88"));
        bill.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n`2,`97.68,`0.00,`0.00,`0.00000,`97.68,`0.00\r\n");
        let date = beijing.date_naive();
        import(&s, "wechat", date, bill).await;
        let (status, report) = run(&s, "wechat", date).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(
            (report["rows"].as_u64(), report["matched"].as_u64()),
            (Some(2), Some(1)),
            "{report}"
        );
        let differences = report["differences"].as_array().expect("differences");
        assert_eq!(differences.len(), 1, "{report}");
        assert_eq!(
            (
                differences[0]["kind"].as_str(),
                differences[0]["reference"].as_str()
            ),
            (Some("amount_mismatch"), Some(paid[1].as_str()))
        );
        s.finish().await;
    }
}
