//! How long a decision one replica acknowledged stays unknown to the others' link graphs
//! (issue 18): every `--every-ms` a tracer decision with entities never seen before goes to
//! replica `n mod N`, and once it is acknowledged the next replica is asked for the tracer's
//! device (`GET /v1/graph/entities/device/…`) every `--poll-ms` until it knows it. The lag is
//! from the acknowledgment to the first answer that knows the device: the window in which a
//! decision on another replica is scored without this one's links. Run it beside a load (see
//! `benches/load/graph_follow.sh`), against release servers.
//!
//! `ARBITER_KEY=… cargo run --release -p arbiter-host --example graph_follow_lag -- --bases http://127.0.0.1:18181,http://127.0.0.1:18182,http://127.0.0.1:18183 --seconds 60`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// The replicas, comma-separated.
    #[arg(long, value_delimiter = ',')]
    bases: Vec<String>,
    /// A key with `decide` and `decisions:read`.
    #[arg(long, env = "ARBITER_KEY")]
    key: String,
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// A tracer every this many milliseconds.
    #[arg(long, default_value_t = 100)]
    every_ms: u64,
    /// How often the next replica is asked.
    #[arg(long, default_value_t = 2)]
    poll_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.bases.len() >= 2, "give at least two replicas");
    let http = reqwest::Client::new();
    let run = std::process::id();
    let lags = Arc::new(Mutex::new(Vec::new()));
    let lost = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut n = 0usize;
    while start.elapsed() < Duration::from_secs(args.seconds) {
        tokio::time::sleep_until((start + Duration::from_millis(args.every_ms * n as u64)).into())
            .await;
        let writer = args.bases[n % args.bases.len()].clone();
        let reader = args.bases[(n + 1) % args.bases.len()].clone();
        let (http, key, lags, lost) = (http.clone(), args.key.clone(), lags.clone(), lost.clone());
        let poll = Duration::from_millis(args.poll_ms);
        tasks.spawn(async move {
            let device = format!("lag-{run}-{n}");
            let body = json!({"request_id": format!("lag-{run}-{n}"), "event": "account.login",
                "user": {"id": format!("lag-user-{run}-{n}")},
                "device": {"id": device, "ip": "198.51.100.77"}});
            let r = http
                .post(format!("{writer}/v1/decisions"))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await;
            if !matches!(&r, Ok(r) if r.status() == 200) {
                lost.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            let acknowledged = Instant::now();
            let url = format!("{reader}/v1/graph/entities/device/{device}");
            while acknowledged.elapsed() < Duration::from_secs(30) {
                let r = http.get(&url).bearer_auth(&key).send().await;
                if matches!(&r, Ok(r) if r.status() == 200) {
                    let lag = acknowledged.elapsed();
                    lags.lock().map(|mut l| l.push(lag)).ok();
                    return;
                }
                tokio::time::sleep(poll).await;
            }
            lost.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        n += 1;
    }
    while tasks.join_next().await.is_some() {}
    let mut l = lags.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort();
    let pct = |p: f64| -> f64 {
        if l.is_empty() {
            return f64::NAN;
        }
        let idx = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
        l[idx].as_secs_f64() * 1e3
    };
    println!(
        "tracers: {n} sent, {} seen on the next replica, {} not (failed or unseen after 30 s)",
        l.len(),
        lost.load(std::sync::atomic::Ordering::Relaxed)
    );
    println!(
        "lag ms (acknowledged on one replica -> linked on the next): p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
