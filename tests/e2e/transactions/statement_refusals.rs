//! Malformed statements over HTTP, on both backends (issue 20): each way a channel's file can
//! be wrong — the wrong encoding, a truncated zip, a missing column, an id twice, an amount
//! with the wrong number of decimals, a bill cut short — is refused `422
//! statement_unreadable` naming its line (or the file as a whole), and nothing is stored.

use arbiter_engine::money::Money;
use arbiter_host::simulator::statements::{Movement, MovementKind, alipay_bill, wechat_bill};
use chrono::Utc;
use iso_currency::Currency;

use super::calls::config;
use crate::harness::{TestServer, backends};

const CARD: &str = "id,type,source,amount,fee,net,currency,created,reporting_category\n\
    txn_1,charge,ch_1,42.50,1.53,40.97,eur,2026-12-06 10:00:00,charge\n\
    txn_2,refund,re_1,-10.00,0.00,-10.00,eur,2026-12-06 11:00:00,refund\n";

fn lines() -> Vec<Movement> {
    let cny = |fen| Money::from_minor_units(fen, Currency::CNY);
    ["a", "b"]
        .iter()
        .map(|tag| Movement {
            kind: MovementKind::Payment,
            payment: format!("pay_{tag}"),
            refund: None,
            trade_no: format!("2026120622001{tag}"),
            theirs: format!("2026120622001{tag}"),
            gross: cny(8_880),
            fee: cny(53),
            at: Utc::now(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_malformed_statement_is_refused_naming_its_line() {
    let wechat = String::from_utf8(wechat_bill(&lines(), "1900000000")).expect("utf-8");
    let alipay = alipay_bill(&lines(), "20880000000000000156");
    let mut cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "card",
            "missing column",
            CARD.replacen("fee,", "", 1).into_bytes(),
            "line 1",
        ),
        (
            "card",
            "duplicated id",
            CARD.replace("txn_2", "txn_1").into_bytes(),
            "line 3",
        ),
        (
            "card",
            "wrong decimals",
            CARD.replace("42.50,1.53,40.97", "42.5,1.53,40.97")
                .into_bytes(),
            "line 2",
        ),
        (
            "wechat",
            "wrong decimals",
            wechat.replacen("`88.80", "`88.8", 1).into_bytes(),
            "line 2",
        ),
        (
            "wechat",
            "cut short",
            wechat
                .lines()
                .take(3)
                .collect::<Vec<_>>()
                .join("\r\n")
                .into_bytes(),
            "the file",
        ),
        (
            "alipay",
            "truncated zip",
            alipay[..alipay.len() / 2].to_vec(),
            "the file",
        ),
    ];
    // WeChat's bill is UTF-8: a GBK one (the wrong encoding) names its first bad line.
    let mut gbk = wechat.clone().into_bytes();
    let at = gbk.len() / 2;
    gbk[at] = 0xb5;
    gbk[at + 1] = 0xff;
    cases.push(("wechat", "wrong encoding", gbk, "line "));
    for backend in backends() {
        let s = TestServer::start_with_transactions(&backend, config()).await;
        let admin = s.admin_key.clone();
        for (channel, what, body, named) in &cases {
            let (status, problem) = s
                .post_statement(
                    &admin,
                    &format!("channel={channel}&date=2026-12-06"),
                    "application/octet-stream",
                    body,
                )
                .await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (422, Some("statement_unreadable")),
                "{channel} {what}: {problem}"
            );
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(named), "{channel} {what}: {detail}");
        }
        assert_eq!(s.statement_imports().await, 0, "nothing stored");
        // The good files themselves import.
        for (channel, body) in [
            ("wechat", wechat.clone().into_bytes()),
            ("alipay", alipay.clone()),
        ] {
            let (status, view) = s
                .post_statement(
                    &admin,
                    &format!("channel={channel}&date=2026-12-06"),
                    "application/octet-stream",
                    &body,
                )
                .await;
            assert_eq!(
                (status, view["row_count"].as_u64()),
                (201, Some(2)),
                "{view}"
            );
        }
        s.finish().await;
    }
}
