//! The whole reconciliation loop on each channel, end to end on both backends (issue 20): a
//! day of real traffic through the simulated card acquirer, Alipay and WeChat Pay, each
//! channel's statement fetched from the channel by its own protocol with a difference of every
//! kind planted (the currency only on the card: the Chinese bills are CNY only), and a run
//! that finds exactly the planted ones. Without the plants the channel's next statement is
//! clean: the earlier tickets are cleared, the ledger balances and each channel's clearing
//! account for the day is zero.

use chrono::{NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use super::reconciliation::{
    kinds_and_references, paid_through, recon_server, refunded, run, stay_inside_a_day,
};
use crate::harness::{TestServer, backends};
use arbiter_host::simulator::statements::fee_schedule;

const CHANNELS: [&str; 3] = ["card", "alipay", "wechat"];

async fn post(s: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let r = s
        .call(Method::POST, path, &s.admin_key, None, Some(&body))
        .await;
    (r.status, r.body)
}

/// The day's statement of `channel` as the channel hands it out now.
async fn fetch(s: &TestServer, channel: &str, date: NaiveDate) -> Value {
    let (status, statement) = post(
        s,
        "/v1/reconciliation/statements/fetch",
        json!({"channel": channel, "date": date.to_string()}),
    )
    .await;
    assert_eq!(status, 201, "{channel}: {statement}");
    statement
}

/// A channel's day: what was paid, and the differences planted in its statement.
struct Day {
    channel: &'static str,
    planted: Vec<(String, String)>,
}

async fn traffic_with_plants(s: &TestServer, key: &str, channel: &'static str) -> Day {
    let sku = format!("RECON-{}", channel.to_uppercase());
    if channel == "card" {
        s.sku(&sku, "25.00", 20).await;
    } else {
        s.cny_sku(&sku, "66.60", 20).await;
    }
    let mut tags = vec!["ok", "drop", "amount", "fee"];
    if channel == "card" {
        tags.push("currency");
    }
    let mut ours = std::collections::BTreeMap::new();
    for tag in &tags {
        let (id, channel_id) =
            paid_through(s, key, channel, &format!("{channel}-{tag}"), &sku, true).await;
        ours.insert(*tag, (id, channel_id));
    }
    let (_, unpaid) =
        paid_through(s, key, channel, &format!("{channel}-unpaid"), &sku, false).await;
    // A refund of part of the good one.
    let currency = if channel == "card" { "USD" } else { "CNY" };
    refunded(
        s,
        key,
        &ours["ok"].0,
        &format!("{channel}-refund"),
        "5.00",
        currency,
    )
    .await;

    let reference = |tag: &str| ours[tag].1.clone();
    let mut plants = vec![
        json!({"kind": "drop", "reference": reference("drop")}),
        json!({"kind": "amount", "reference": reference("amount")}),
        json!({"kind": "fee", "reference": reference("fee")}),
        json!({"kind": "paid", "reference": unpaid}),
        json!({"kind": "extra"}),
    ];
    let mut planted = vec![
        ("missing_channel".to_owned(), reference("drop")),
        ("amount_mismatch".to_owned(), reference("amount")),
        ("fee_unexpected".to_owned(), reference("fee")),
        ("status_mismatch".to_owned(), unpaid),
    ];
    if channel == "card" {
        plants.push(
            json!({"kind": "currency", "reference": reference("currency"),
                           "currency": "EUR"}),
        );
        planted.push(("currency_mismatch".to_owned(), reference("currency")));
    }
    let (status, body) = post(
        s,
        &format!("/v1/channels/{channel}/statement-plants"),
        json!({"plants": plants}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for (bad, field) in [
        (json!({"kind": "drop"}), "plants[0].reference"),
        (
            json!({"kind": "currency", "reference": "x", "currency": "ZZZ"}),
            "plants[0].currency",
        ),
        (
            json!({"kind": "extra", "reference": "x"}),
            "plants[0].reference",
        ),
    ] {
        let (status, refused) = post(
            s,
            &format!("/v1/channels/{channel}/statement-plants"),
            json!({"plants": [bad]}),
        )
        .await;
        assert_eq!(status, 422, "{refused}");
        assert!(
            refused["detail"]
                .as_str()
                .is_some_and(|d| d.contains(field)),
            "{refused}"
        );
    }
    Day { channel, planted }
}

/// The statement day of `channel` that holds now.
fn today(channel: &str) -> NaiveDate {
    match channel {
        "card" => Utc::now().date_naive(),
        _ => Utc::now()
            .with_timezone(&arbiter_transactions::channels::BEIJING)
            .date_naive(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_channels_statement_is_fetched_and_every_planted_difference_found() {
    // Stay well inside both a UTC and a Beijing day (Beijing's turns at 16:00 UTC).
    stay_inside_a_day(&[0, 16]).await;
    for backend in backends() {
        let fees = CHANNELS
            .iter()
            .map(|c| ((*c).to_owned(), fee_schedule(c)))
            .collect();
        let s = recon_server(&backend, fees).await;
        let key = s.checkout_key().await;
        let mut days = Vec::new();
        for channel in CHANNELS {
            days.push(traffic_with_plants(&s, &key, channel).await);
        }
        for day in &days {
            let date = today(day.channel);
            let statement = fetch(&s, day.channel, date).await;
            assert_eq!(statement["channel"], day.channel);
            let (status, report) = run(&s, day.channel, date).await;
            assert_eq!(status, 200, "{report}");
            let mut planted = day.planted.clone();
            let found = kinds_and_references(&report["differences"]);
            // The stranger's id is the channel's own: any reference, once.
            let strangers: Vec<_> = found
                .iter()
                .filter(|(kind, _)| kind == "missing_local")
                .collect();
            assert_eq!(strangers.len(), 1, "{}: {report}", day.channel);
            planted.push(strangers[0].clone());
            planted.sort();
            assert_eq!(found, planted, "{}: {report}", day.channel);
            assert_eq!(report["opened"].as_u64(), Some(planted.len() as u64));
        }

        // The channels stop misbehaving: their next statements are clean, the tickets are
        // cleared, and each day settles to zero.
        for day in &days {
            let (status, _) = post(
                &s,
                &format!("/v1/channels/{}/statement-plants", day.channel),
                json!({"plants": []}),
            )
            .await;
            assert_eq!(status, 200);
            let date = today(day.channel);
            fetch(&s, day.channel, date).await;
            let (status, report) = run(&s, day.channel, date).await;
            assert_eq!(status, 200, "{report}");
            assert_eq!(
                report["differences"],
                json!([]),
                "{}: {report}",
                day.channel
            );
            assert_eq!(
                (&report["clean"], &report["settled"]),
                (&json!(true), &json!(true)),
                "{report}"
            );
            // The paid one that was only shown paid is still unpaid: not on the statement.
            assert_eq!(
                report["cleared"].as_u64(),
                Some(day.planted.len() as u64 + 1)
            );
            let days_view = s
                .call(
                    Method::GET,
                    &format!(
                        "/v1/reconciliation/days?channel={}&from={date}&to={date}",
                        day.channel
                    ),
                    &s.admin_key,
                    None,
                    None,
                )
                .await;
            let items = days_view.body["items"].as_array().expect("items");
            assert_eq!(items.len(), 1, "{}", days_view.body);
            assert_eq!(items[0]["clearing"], "0.00", "{}", days_view.body);
            assert_ne!(items[0]["fees"], "0.00", "{}", days_view.body);
        }
        let (sound, check, stderr) = super::ledger_cli::ledger_check(s.db()).await;
        assert!(sound, "{check} {stderr}");
        assert_eq!(check["uncleared_days"], json!([]), "{check}");

        // A day the channels have not written yet.
        let tomorrow = today("card") + chrono::Duration::days(2);
        for channel in CHANNELS {
            let (status, refused) = post(
                &s,
                "/v1/reconciliation/statements/fetch",
                json!({"channel": channel, "date": tomorrow.to_string()}),
            )
            .await;
            assert_eq!(status, 404, "{channel}: {refused}");
        }
        s.finish().await;
    }
}
