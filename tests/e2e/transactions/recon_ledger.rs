//! A reconciled day in the ledger, end to end on both backends (issue 20): real card payments
//! and a refund through the simulated Stripe API, the day's statement with the schedule's fees
//! and the payout of what is left; the run is clean, the fees and payout are posted, the day's
//! P&L reads back from the ledger and its clearing account is zero, and `arbiter ledger check`
//! agrees. A corrected statement whose payout is a cent short replaces the settlement, and the
//! check then names the day.

use chrono::Utc;
use reqwest::Method;
use serde_json::json;

use super::reconciliation::{
    CARD_HEADER, card_fees, import, line, major, paid_through, recon_server, refunded, run,
    stay_inside_a_day,
};
use crate::harness::backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_day_settles_to_zero_and_shows_its_profit() {
    stay_inside_a_day(&[0]).await;
    for backend in backends() {
        let s = recon_server(&backend, vec![card_fees()]).await;
        let key = s.checkout_key().await;
        s.sku("CLEAN-1", "12.00", 10).await;
        let mut paid = Vec::new();
        for tag in ["p", "q"] {
            let tag = format!("clean-{tag}");
            paid.push(paid_through(&s, &key, "card", &tag, "CLEAN-1", true).await);
        }
        let (_, refund_ours) = refunded(&s, &key, &paid[0].0, "clean-refund", "2.00", "USD").await;

        // 12.00 twice at 0.65 each, the refund of 2.00 (the card keeps its fee), and the payout
        // of the rest: 11.35 + 11.35 - 2.00 = 20.70.
        let statement = |payout_cents: i64| {
            let mut csv = String::from(CARD_HEADER);
            csv.push_str(&line("txn_p", "charge", 1200, &paid[0].1, "ch_p"));
            csv.push_str(&line("txn_q", "charge", 1200, &paid[1].1, "ch_q"));
            csv.push_str(&line("txn_r", "refund", -200, &refund_ours, "re_p"));
            csv.push_str(&format!(
                "txn_po,payout,po_1,{0},0.00,{0},usd,{1},payout,,\n",
                major(-payout_cents),
                Utc::now().format("%Y-%m-%d %H:%M:%S")
            ));
            csv
        };
        let date = Utc::now().date_naive();
        import(&s, "card", date, statement(2_070)).await;
        let (status, report) = run(&s, "card", date).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(
            (&report["clean"], &report["settled"], &report["matched"]),
            (&json!(true), &json!(true), &json!(3)),
            "{report}"
        );

        let days = format!("/v1/reconciliation/days?channel=card&from={date}&to={date}");
        let read = s.call(Method::GET, &days, &s.admin_key, None, None).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(
            read.body["items"],
            json!([{
                "channel": "card", "date": date.to_string(), "currency": "USD",
                "captured": "24.00", "refunded": "2.00", "fees": "1.30",
                "net_revenue": "20.70", "paid_out": "20.70", "clearing": "0.00",
            }]),
            "{}",
            read.body
        );
        let fees = s
            .call(
                Method::GET,
                "/v1/ledger/accounts/channel_fees",
                &s.admin_key,
                None,
                None,
            )
            .await;
        assert_eq!(fees.status, 200, "{}", fees.body);
        assert!(fees.body.to_string().contains("\"1.30\""), "{}", fees.body);
        let (sound, check, stderr) = super::ledger_cli::ledger_check(s.db()).await;
        assert!(sound, "{check} {stderr}");
        assert_eq!(check["uncleared_days"], json!([]), "{check}");

        // The acquirer corrects the statement: its payout is a cent short. The day is settled
        // from the corrected one; nothing the matcher reads changed, so the run is clean, and
        // the check names the cent the channel still owes.
        import(&s, "card", date, statement(2_069)).await;
        let (status, report) = run(&s, "card", date).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(
            (&report["clean"], &report["settled"]),
            (&json!(true), &json!(true))
        );
        let read = s.call(Method::GET, &days, &s.admin_key, None, None).await;
        assert_eq!(read.body["items"][0]["clearing"], "0.01", "{}", read.body);
        assert_eq!(read.body["items"][0]["paid_out"], "20.69");
        let (sound, check, _) = super::ledger_cli::ledger_check(s.db()).await;
        assert!(!sound, "{check}");
        assert_eq!(
            check["uncleared_days"],
            json!([{"channel": "card", "date": date.to_string(), "currency": "USD",
                    "clearing": "0.01"}]),
            "{check}"
        );

        for bad in [
            format!("from={date}&to={}", date - chrono::Duration::days(1)),
            format!("from={date}&to={}", date + chrono::Duration::days(31)),
            format!("channel=paypal&from={date}&to={date}"),
            "from=today&to=tomorrow".to_owned(),
        ] {
            let refused = s
                .call(
                    Method::GET,
                    &format!("/v1/reconciliation/days?{bad}"),
                    &s.admin_key,
                    None,
                    None,
                )
                .await;
            assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        }
        s.finish().await;
    }
}
