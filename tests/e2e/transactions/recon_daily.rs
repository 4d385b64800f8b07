//! The daily reconciliation job through the real binary (issue 20): `arbiter serve
//! --channel-simulator --recon-at 00:00` fetches each channel's last complete days from the
//! simulated channels and runs them once — with two replicas on one PostgreSQL, still once
//! per channel and day.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{TestDb, backends, start_arbiter};

/// Channels × the days a tick looks back.
const DAYS: usize = 3 * 3;

async fn runs(base: &str, key: &str) -> Vec<Value> {
    let page: Value = reqwest::Client::new()
        .get(format!(
            "{base}/v1/audit?action=reconciliation.run&limit=100"
        ))
        .bearer_auth(key)
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    page["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_job_runs_each_channels_day_once_across_replicas() {
    for backend in backends() {
        let db = TestDb::new(&backend).await;
        let replicas = if db.database_url.is_some() { 2 } else { 1 };
        let args = [
            "--channel-simulator",
            "--recon-at",
            "00:00",
            "--fee-schedule",
            "card=0.029+0.30,alipay=0.006,wechat=0.006",
        ];
        let mut running = Vec::new();
        for _ in 0..replicas {
            running.push(start_arbiter(&db, &args, &[]).await);
        }
        let key = db.admin_key();
        let base = running[0].base.clone();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while runs(&base, &key).await.len() < DAYS {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} runs: {}",
                runs(&base, &key).await.len(),
                running[0].output()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Every replica has ticked by now; give a late one time to run a day twice.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let done = runs(&base, &key).await;
        assert_eq!(done.len(), DAYS, "once per channel and day: {done:?}");
        let days: BTreeSet<(String, String)> = done
            .iter()
            .map(|r| {
                assert_eq!(r["actor"], "system", "{r}");
                assert_eq!(r["detail"]["differences"], 0, "{r}");
                (
                    r["detail"]["channel"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    r["detail"]["date"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        assert_eq!(days.len(), DAYS, "{days:?}");
        for arbiter in running {
            arbiter.kill().await;
        }
        db.drop_db().await;
    }
}
