//! What the backtest stories share: a payment generator with planted fraud, starting a run
//! and waiting for its end, and reading one cell of a report's matrix.

use std::time::Duration;

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::harness::{TestServer, decision_body};

/// One payment of the history and whether it is fraud. A third are risky (a days-old
/// account paying a large amount through a proxy, from another country than the card's), and
/// mostly fraud; the rest mostly legitimate.
pub(super) fn payment(i: usize, rng: &mut StdRng) -> (Value, bool) {
    let risky = rng.random_bool(0.33);
    let mut v = decision_body(&format!("bt-{i}"));
    let user = format!("bt-user-{i}");
    v["user"]["id"] = json!(user);
    v["user"]["email"] = json!(format!("{user}@example.com"));
    v["device"]["id"] = json!(format!("bt-dev-{i}"));
    v["device"]["ip"] = json!(format!("198.51.{}.{}", i / 250, i % 250 + 1));
    v["payment"]["card_fingerprint"] = json!(format!("bt-card-{i}"));
    v["shipping"]["address"] = json!(format!("{i} History Lane"));
    v["order_id"] = json!(format!("bt-order-{i}"));
    let (age, amount, proxy, ip_country) = if risky {
        (
            rng.random_range(0..3),
            rng.random_range(300..1500),
            rng.random_bool(0.8),
            "DE",
        )
    } else {
        (
            rng.random_range(30..900),
            rng.random_range(5..400),
            false,
            "US",
        )
    };
    v["user"]["account_age_days"] = json!(age);
    v["amount"] = json!({"value": format!("{amount}.{:02}", i % 100), "currency": "USD"});
    v["device"]["is_proxy"] = json!(proxy);
    v["device"]["ip_country"] = json!(ip_country);
    let fraud = risky != rng.random_bool(0.05);
    (v, fraud)
}

/// Starts a backtest, waits for it to end, and returns the run.
pub(crate) async fn backtest(s: &TestServer, key: &str, body: &Value) -> Value {
    let r = s.post("/v1/backtests", key, body).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    let run: Value = r.json().await.expect("json");
    assert_eq!(run["status"], "running");
    let id = run["backtest_id"].as_str().expect("id").to_owned();
    for _ in 0..1200 {
        let run: Value = s
            .get(&format!("/v1/backtests/{id}"), key)
            .await
            .json()
            .await
            .expect("json");
        if run["status"] != "running" {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("backtest {id} did not finish");
}

pub(super) fn cell<'a>(result: &'a Value, baseline: &str, candidate: &str) -> &'a Value {
    result["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .find(|t| t["baseline"] == baseline && t["candidate"] == candidate)
        .expect("every cell is reported")
}
