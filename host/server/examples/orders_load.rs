//! Order-creation load at a fixed arrival rate over loopback: every `POST /v1/orders` prices
//! from the catalogue, reserves stock and asks the risk host (`order.create`) before it
//! answers. Open loop — request `i` is due at `start + i / rate` whether or not earlier ones
//! have finished — and latency is measured from the due time, so a stall counts against every
//! request it delays (no coordinated omission).
//!
//! Run against a release server (see BENCHMARKS.md, "Orders"):
//! `ARBITER_KEY=$(cat data/admin.key) cargo run --release -p arbiter-host --example orders_load -- --base http://127.0.0.1:18080 --rate 500 --seconds 30`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};

#[path = "orders_load/disk_probe.rs"]
mod disk_probe;
#[path = "load_support/latency.rs"]
mod latency;

use latency::{Sample, print_stalls, summary};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:18080")]
    base: String,
    /// An admin key: creates the SKU and a storefront key (`orders:write`) for the orders.
    #[arg(long, env = "ARBITER_KEY")]
    key: String,
    /// Orders per second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 30)]
    seconds: u32,
    /// Unmeasured seconds at the same rate first.
    #[arg(long, default_value_t = 3)]
    warmup: u32,
    /// Distinct users (and devices) the orders rotate through.
    #[arg(long, default_value_t = 5000)]
    users: u32,
    /// Orders slower than this are listed as stalls: when they were due (seconds into the
    /// run) and how late the client itself sent them, which tells a client-side stall from a
    /// server-side one.
    #[arg(long, default_value_t = 50)]
    stall_ms: u64,
    /// A directory on the server's disk (its data directory) to probe with one `fdatasync`
    /// every 10 ms during the run (`disk_probe`).
    #[arg(long)]
    disk_probe: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let run = format!("{}", std::process::id());
    let sku = format!("LOAD-{run}");
    let admin = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{}{path}", args.base))
            .bearer_auth(&args.key)
            .json(&body)
            .send()
    };
    let r = admin(
        reqwest::Method::POST,
        "/v1/skus",
        json!({"sku": sku, "title": "Load item", "price": {"value": "10.00", "currency": "USD"}}),
    )
    .await?;
    anyhow::ensure!(r.status() == 201, "create SKU: {}", r.text().await?);
    let r = admin(
        reqwest::Method::PUT,
        &format!("/v1/skus/{sku}/stock"),
        json!({"total": 100_000_000}),
    )
    .await?;
    anyhow::ensure!(r.status() == 200, "set stock: {}", r.text().await?);
    let r = admin(
        reqwest::Method::POST,
        "/v1/keys",
        json!({"name": "orders_load", "scopes": ["orders:write"]}),
    )
    .await?;
    let storefront = r.json::<Value>().await?["key"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no key minted"))?;

    let total = u64::from(args.rate) * u64::from(args.warmup + args.seconds);
    let warm = u64::from(args.rate) * u64::from(args.warmup);
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let errors = Arc::new(Mutex::new(Vec::new()));
    // Orders created while the risk host timed out (the fail mode decided): not counted as
    // measured, reported apart.
    let faults = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    let start = Instant::now();
    let probe = args
        .disk_probe
        .clone()
        .map(|dir| disk_probe::DiskProbe::start(dir, start));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let (http, base, storefront, sku) = (
            http.clone(),
            args.base.clone(),
            storefront.clone(),
            sku.clone(),
        );
        let (latencies, errors, faults) = (latencies.clone(), errors.clone(), faults.clone());
        let user = i % u64::from(args.users);
        tasks.spawn(async move {
            let body = json!({"items": [{"sku": sku, "qty": 1}], "user": format!("load-u-{user}"),
                "device": format!("load-d-{user}"), "ip": "203.0.113.7",
                "shipping": {"address": format!("{user} Main St, Springfield"), "country": "US"},
                "payment_method": "card"});
            let send_lag = due.elapsed();
            let sent = http
                .post(format!("{base}/v1/orders"))
                .bearer_auth(&storefront)
                .header("Idempotency-Key", format!("load-{i}"))
                .json(&body)
                .send()
                .await;
            let elapsed = due.elapsed();
            let ok = match sent {
                Ok(r) if r.status() == 201 => {
                    let v: Value = r.json().await.unwrap_or_default();
                    let decided = v["risk"]["decision_id"].is_string();
                    if !decided {
                        faults.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    decided
                }
                Ok(r) => {
                    errors
                        .lock()
                        .map(|mut e| e.push(format!("{}", r.status())))
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
                let sample = Sample {
                    due_s,
                    send_lag,
                    latency: elapsed,
                };
                latencies.lock().map(|mut l| l.push(sample)).ok();
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let wall = start.elapsed();
    let samples = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    let errors = errors.lock().map(|e| e.clone()).unwrap_or_default();
    println!(
        "orders: {} sent at {}/s over {:.1} s ({} warm-up), {} measured ok, {} risk faults, {} errors",
        total,
        args.rate,
        wall.as_secs_f64(),
        warm,
        samples.len(),
        faults.load(std::sync::atomic::Ordering::Relaxed),
        errors.len()
    );
    println!("latency ms: {}", summary(&samples));
    if let Some(first) = errors.first() {
        println!("first error: {first}");
    }
    print_stalls(&samples, Duration::from_millis(args.stall_ms));
    if let Some(probe) = probe {
        probe.finish();
    }
    Ok(())
}
