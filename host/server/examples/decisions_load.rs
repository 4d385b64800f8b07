//! Decision load at a fixed arrival rate over loopback: `POST /v1/decisions` with the request
//! mix of `benches/load/decisions.lua` (users, devices, cards and IPs rotating over bounded
//! pools; every request id new, so every request takes the durable path). Open loop — request
//! `i` is due at `start + i / rate` whether or not earlier ones have finished — and latency is
//! measured from the due time, so a stall counts against every request it delays (no
//! coordinated omission). Prints the whole run's percentiles and, with `--window`, each
//! window's, to see what a background job (retention) does to the endpoint while it runs.
//!
//! Run against a release server (BENCHMARKS.md, "Retention"):
//! `ARBITER_KEY=$(cat data/admin.key) cargo run --release -p arbiter-host --example decisions_load -- --base http://127.0.0.1:18080 --rate 2000 --seconds 30`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;

#[path = "load_support/latency.rs"]
mod latency;

use latency::{Sample, print_stalls, summary};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:18080")]
    base: String,
    /// A key with the `decide` scope.
    #[arg(long, env = "ARBITER_KEY")]
    key: String,
    /// Decisions per second.
    #[arg(long, default_value_t = 2000)]
    rate: u32,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 30)]
    seconds: u32,
    /// Unmeasured seconds at the same rate first.
    #[arg(long, default_value_t = 3)]
    warmup: u32,
    /// Also report every window of this many seconds (0: the whole run only).
    #[arg(long, default_value_t = 0)]
    window: u32,
    /// Requests slower than this are listed as stalls.
    #[arg(long, default_value_t = 50)]
    stall_ms: u64,
}

fn body(run: &str, i: u64) -> serde_json::Value {
    // The same pools as decisions.lua: 5,000 users, 3,000 devices, 250 IPs, 4,000 addresses.
    let u = (i.wrapping_mul(2_654_435_761) % 5_000) + 1;
    json!({"request_id": format!("dl-{run}-{i}"), "event": "payment.authorize",
        "amount": {"value": format!("{}.99", i % 500 + 1), "currency": "USD"},
        "user": {"id": format!("u-{u}"), "account_age_days": i % 900, "email": format!("user{u}@example.com")},
        "device": {"id": format!("dev-{}", u % 3_000), "ip": format!("203.0.{}.{}", u % 250, u % 250),
            "ip_country": "US", "is_proxy": false},
        "payment": {"method": "card", "card_fingerprint": format!("fp_{u}"), "card_bin": "411111",
            "card_country": "US"},
        "shipping": {"address": format!("{} Main St, Springfield, US", u % 4_000), "country": "US"}})
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()?;
    let run = format!("{}-{}", std::process::id(), chrono::Utc::now().timestamp());
    let total = u64::from(args.rate) * u64::from(args.warmup + args.seconds);
    let warm = u64::from(args.rate) * u64::from(args.warmup);
    let samples = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        // Finished requests are reaped as we go: a soak of millions would otherwise hold every
        // finished task until the end.
        while tasks.try_join_next().is_some() {}
        let (http, url, key) = (
            http.clone(),
            format!("{}/v1/decisions", args.base),
            args.key.clone(),
        );
        let (samples, errors) = (samples.clone(), errors.clone());
        let body = body(&run, i);
        tasks.spawn(async move {
            let send_lag = due.elapsed();
            let sent = http.post(url).bearer_auth(key).json(&body).send().await;
            let latency = due.elapsed();
            let ok = match sent {
                Ok(r) if r.status() == 200 => true,
                Ok(r) => {
                    errors
                        .lock()
                        .map(|mut e| e.push(r.status().to_string()))
                        .ok();
                    false
                }
                Err(e) => {
                    errors.lock().map(|mut v| v.push(e.to_string())).ok();
                    false
                }
            };
            if ok && i >= warm {
                let due_s = (due - start).as_secs_f64();
                samples
                    .lock()
                    .map(|mut l| {
                        l.push(Sample {
                            due_s,
                            send_lag,
                            latency,
                        })
                    })
                    .ok();
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let wall = start.elapsed();
    let samples = samples.lock().map(|l| l.clone()).unwrap_or_default();
    let errors = errors.lock().map(|e| e.clone()).unwrap_or_default();
    println!(
        "decisions: {} sent at {}/s over {:.1} s ({} warm-up), {} measured ok, {} errors",
        total,
        args.rate,
        wall.as_secs_f64(),
        warm,
        samples.len(),
        errors.len()
    );
    println!("latency ms: {}", summary(&samples));
    if args.window > 0 {
        let w = f64::from(args.window);
        let warm_s = f64::from(args.warmup);
        let mut from = warm_s;
        while from < warm_s + f64::from(args.seconds) {
            let part: Vec<Sample> = samples
                .iter()
                .filter(|s| s.due_s >= from && s.due_s < from + w)
                .copied()
                .collect();
            println!(
                "  {:>4.0}-{:<4.0} s: {} ok, {}",
                from - warm_s,
                from - warm_s + w,
                part.len(),
                summary(&part)
            );
            from += w;
        }
    }
    if let Some(first) = errors.first() {
        println!("first error: {first}");
    }
    print_stalls(&samples, Duration::from_millis(args.stall_ms));
    Ok(())
}
