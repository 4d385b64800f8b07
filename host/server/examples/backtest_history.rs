//! The backtest benchmark (issue 16: "1 M stored decisions backtested in ≤ 60 s on SQLite and
//! on PostgreSQL"). Fills a database with a realistic history made by the real service — the
//! bundled six example policies, the link graph, velocity, the decision log — and labels a
//! share of it, then times backtests of it through the same service the API calls.
//!
//! Run (release):
//! `cargo run --release -p arbiter-host --example backtest_history -- [URL] [N] [WORKERS] [DUTY]`.
//! `URL` is a `sqlite:` or `postgres:` URL, or empty for a SQLite file under
//! `target/backtest-history/` (a URL's secrets go to `target/backtest-history-pg/`); `N` defaults to 1 000 000; `WORKERS` (replay threads) to the
//! server's default, half the cores; `DUTY` (`--backtest-duty`, the share of the time a run
//! is busy) to the server's default, 25 %. A database that already holds `N` decisions is reused,
//! so a second run only times the backtests. Two runs are timed: the deciding set against
//! itself (the exactness check over the whole history) and a stricter candidate.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use arbiter_engine::DecisionRequest;
use arbiter_engine::audit::Actor;
use arbiter_engine::backtest::{BacktestSpec, BacktestStatus};
use arbiter_engine::feedback::{LabelKind, LabelSource, NewLabel};
use arbiter_engine::policy_set::Thresholds;
use arbiter_host::app_state::AppState;
use arbiter_host::config::{ServeConfig, StorageArgs};
use arbiter_host::services::policies::NewPolicySet;
use chrono::Utc;

/// The `arbiter` binary's allocator (see `src/main.rs`): a replay allocates its decoded input
/// and every module's result, so timing it under glibc malloc would not time the server.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// splitmix64: a tiny deterministic mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Payment `n` of a history of `total`: a quarter as many users as payments, a device and
/// card or two each, IPs from a shared pool; one user in twelve is risky (a days-old account,
/// large amounts, often through a proxy, an IP abroad). Returns the request body and whether
/// the payment is fraud.
fn payment(n: u64, total: u64) -> (serde_json::Value, bool) {
    let users = (total / 4).max(1);
    let u = mix(n) % users;
    let h = mix(u ^ 0x5eed);
    let risky = h.is_multiple_of(12);
    let r = mix(n ^ 0xface);
    let (age, amount, proxy, ip_country) = if risky {
        (h % 4, 200 + r % 1_300, !r.is_multiple_of(5), "DE")
    } else {
        (30 + h % 2_000, 5 + r % 400, r.is_multiple_of(40), "US")
    };
    let body = serde_json::json!({
        "request_id": format!("hist-{n}"),
        "event": if r % 10 < 7 { "payment.authorize" } else { "order.create" },
        "amount": {"value": format!("{amount}.{:02}", r % 100), "currency": "USD"},
        "user": {"id": format!("u-{u}"), "account_age_days": age,
                 "email": format!("user{u}@example.com")},
        "device": {"id": format!("dev-{}", u + r.is_multiple_of(7) as u64 * users),
                   "ip": format!("10.{}.{}.{}", h % 20, (r >> 8) % 250, (r >> 16) % 250 + 1),
                   "ip_country": ip_country, "is_proxy": proxy},
        "payment": {"method": "card", "card_fingerprint": format!("fp-{}", u + h.is_multiple_of(9) as u64),
                    "card_bin": "424242", "card_country": "US"},
        "shipping": {"address": format!("{} Main St", h % (users / 2 + 1)), "country": "US"},
        "attributes": {"items": 1 + r % 5}
    });
    // Most risky payments turn out fraud; a few ordinary ones too.
    let fraud = if risky {
        r % 10 < 8
    } else {
        r.is_multiple_of(500)
    };
    (body, fraud)
}

/// Decides payments `from..total` through the service, four at a time per core, labelling
/// what a chargeback feed and reviewers would: most fraud, a few legitimate payments.
async fn fill(app: &AppState, from: u64, total: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let tasks = 8;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let analyst = Actor::system();
            let mut n = from + t;
            while n < total {
                let (body, fraud) = payment(n, total);
                let req = DecisionRequest::from_slice(body.to_string().as_bytes())
                    .map_err(|e| anyhow::anyhow!("request {n}: {e}"))?;
                let d = app
                    .decisions
                    .decide(req)
                    .await
                    .map_err(|e| anyhow::anyhow!("decision {n}: {e:?}"))?
                    .decision;
                let r = mix(n ^ 0x1abe1);
                let label = if fraud && r % 10 < 7 {
                    Some(LabelKind::Chargeback)
                } else if !fraud && r.is_multiple_of(40) {
                    Some(LabelKind::Legit)
                } else {
                    None
                };
                if let Some(kind) = label {
                    let label = NewLabel {
                        decision_id: d.decision_id.0.clone(),
                        kind,
                        source: LabelSource::Analyst,
                        external_id: None,
                        note: None,
                    };
                    app.store.insert_label(&label, &analyst).await?;
                }
                n += tasks;
            }
            anyhow::Ok(())
        }));
    }
    for h in handles {
        h.await??;
    }
    println!(
        "filled {} decisions in {:.1?}",
        total - from,
        started.elapsed()
    );
    Ok(())
}

/// Starts a backtest of `spec` and waits for it; prints its figures.
async fn time(app: &AppState, label: &str, spec: BacktestSpec) -> anyhow::Result<()> {
    let started = Instant::now();
    let run = app.backtests.start(spec, &Actor::system()).await?;
    let run = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let run = app.backtests.get(&run.backtest_id).await?;
        if run.status != BacktestStatus::Running {
            break run;
        }
    };
    let elapsed = started.elapsed();
    let result = run
        .result
        .context(format!("{label}: {:?} {:?}", run.status, run.error))?;
    let r = &result.report;
    println!(
        "{label}: {} read, {} replayed in {:.2?} ({:.0} decisions/s; reader waited {} ms on \
         the database, {} ms on workers); changed {}, determinism {} checked / {} faults, \
         unlabelled {}",
        r.coverage.read,
        r.coverage.replayed,
        elapsed,
        r.coverage.read as f64 / elapsed.as_secs_f64(),
        result.reading_ms,
        result.waiting_ms,
        r.changed,
        r.determinism.checked,
        r.determinism.faults,
        r.coverage.unlabelled,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().filter(|a| !a.is_empty());
    let total: u64 = args.next().map_or(Ok(1_000_000), |n| n.parse())?;
    let workers: Option<u32> = args.next().map(|w| w.parse()).transpose()?;
    let duty: Option<u8> = args.next().map(|d| d.parse()).transpose()?;
    // Secrets and the admin key of a PostgreSQL run live apart from the SQLite file's.
    let dir = Path::new(if url.is_some() {
        "target/backtest-history-pg"
    } else {
        "target/backtest-history"
    });
    std::fs::create_dir_all(dir).context("creating the data directory")?;
    let mut config = ServeConfig::for_data_dir(dir.to_path_buf(), url.clone());
    config.storage = StorageArgs {
        data_dir: dir.to_path_buf(),
        database_url: url,
    };
    config.backtest_workers = workers;
    if let Some(duty) = duty {
        config.backtest_duty = duty;
    }
    config.velocity_memory_mib = 256;
    config.graph_memory_mib = 2048;
    let stores = arbiter_host::wiring::open_store(&config.storage).await?;
    let app = arbiter_host::wiring::build(&config, stores).await?;

    let have = app.store.count_decisions().await?;
    let from = Utc::now() - chrono::Duration::days(1);
    if have < total {
        fill(&app, have, total).await?;
    }
    let to = Utc::now();
    let active = app.policies.active_version();
    let set = app.policies.get_set(active).await?;
    let stricter = app
        .policies
        .create_set(
            NewPolicySet {
                policies: set.policies.clone(),
                thresholds: Thresholds {
                    challenge: set.thresholds.challenge / 2.0,
                    reject: set.thresholds.reject / 2.0,
                },
                weights: Some(set.weights),
            },
            &Actor::system(),
        )
        .await?;
    let spec = |candidate: i64| BacktestSpec {
        candidate,
        baseline: None,
        from: from - chrono::Duration::days(30),
        to,
        checkpoint: None,
        sample: None,
        candidate_model: None,
        lists: Default::default(),
        labels: Default::default(),
        thresholds: None,
    };
    time(&app, "deciding set (exactness)", spec(active)).await?;
    time(&app, "stricter candidate", spec(stricter.version)).await?;
    Arc::clone(&app.decisions).shutdown().await;
    Ok(())
}
