//! The outbox relay's throughput and latency (issue 21: "events/s the relay sustains and the
//! added latency from commit to stream, p50/p99"), against a real store and a real NATS.
//!
//! - **Drain**: `N` events already in the outbox (bulk SQL), a relay started on them; the time
//!   until the stream holds all `N` gives the events per second it sustains, for each page
//!   size asked (`1` publishes one event per round trip; larger pages are pipelined); then the
//!   same with two relays on two copies of the outbox publishing the same events to one stream
//!   (every replica publishing, the stream's de-duplication doing the rest), with the NATS
//!   server's CPU per event beside each.
//! - **Latency**: with the relay caught up, events committed one per change through the
//!   store's real write path at `RATE`/s for 20 s; an ordered consumer of the stream notes
//!   when each arrives: from the commit's return to the consumer, p50/p99/max.
//!
//! Run (release): `cargo run --release -p arbiter-host --example relay_throughput -- [URL]
//! [NATS] [N] [PAGES] [RATE]`: `URL` a `postgres:` URL whose user may create databases (one of
//! its own is created and dropped), or empty for SQLite in a temporary directory; `NATS` a
//! server with JetStream (default `nats://127.0.0.1:4222`; a stream of the run's own is made
//! and deleted); `N` 100 000; `PAGES` the page sizes to drain with, comma-separated, each
//! run in turn twice (A B A B), default `1,256`; `RATE` 1 000.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use arbiter_host::config::RelayArgs;
use arbiter_host::services::outbox_relay::OutboxRelay;
use arbiter_transactions::change::{Change, OutboxMessage};
use arbiter_transactions::store::TransactionStore;
use async_nats::jetstream;
use chrono::Utc;
use futures_util::StreamExt;
use sqlx::Connection;

/// `n` events in the outbox, written in one statement.
fn seed(n: u64, postgres: bool) -> String {
    if postgres {
        format!(
            "INSERT INTO outbox (topic, payload, created_at) SELECT 'order.paid', \
             '{{\"order_id\":\"ord_' || i || '\",\"status\":\"PAID\"}}', now() \
             FROM generate_series(1, {n}) AS i"
        )
    } else {
        format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) \
             INSERT INTO outbox (topic, payload, created_at) SELECT 'order.paid', \
             '{{\"order_id\":\"ord_' || i || '\",\"status\":\"PAID\"}}', \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM s"
        )
    }
}

fn relay_args(nats: &str, prefix: &str, batch: u32) -> RelayArgs {
    RelayArgs {
        nats_url: Some(nats.to_owned()),
        nats_prefix: prefix.to_owned(),
        nats_stream: prefix.to_uppercase(),
        relay_batch: batch,
        ..RelayArgs::default()
    }
}

/// Messages the stream holds.
async fn stored(js: &jetstream::Context, stream: &str) -> anyhow::Result<u64> {
    Ok(js.get_stream(stream).await?.info().await?.state.messages)
}

/// A fresh database (PostgreSQL: created on the admin URL's server) with the store on it.
async fn fresh_store(
    admin: Option<&str>,
    dir: &Path,
    tag: &str,
) -> anyhow::Result<(Arc<dyn TransactionStore>, Option<String>)> {
    let url = match admin {
        Some(admin) => {
            let name = format!("relay_bench_{}_{tag}", std::process::id());
            let mut conn = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await?;
            let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
            Some((format!("{base}/{name}"), name))
        }
        None => None,
    };
    let dir = dir.join(tag);
    std::fs::create_dir_all(&dir)?;
    let stores = arbiter_storage::Backend::from_url(url.as_ref().map(|u| u.0.as_str()), &dir)?
        .connect_stores()
        .await
        .context("connecting to the store")?;
    let seed_conn = match &url {
        Some((u, _)) => u.clone(),
        None => format!(
            "sqlite://{}",
            dir.join(arbiter_storage::DEFAULT_SQLITE_FILE).display()
        ),
    };
    Ok((stores.transactions, url.map(|_| seed_conn)))
}

async fn drop_database(admin: Option<&str>, tag: &str) -> anyhow::Result<()> {
    if let Some(admin) = admin {
        let name = format!("relay_bench_{}_{tag}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(admin).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// CPU seconds (user + system) the `nats-server` process has used, when there is one to read.
fn nats_cpu_seconds() -> Option<f64> {
    let pid = std::process::Command::new("pidof")
        .arg("nats-server")
        .output()
        .ok()?;
    let pid = String::from_utf8_lossy(&pid.stdout)
        .split_whitespace()
        .next()?
        .to_owned();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// What one drain measured.
struct Drained {
    events_per_second: f64,
    /// NATS's CPU per event, in microseconds.
    nats_cpu_us: Option<f64>,
}

/// Seeds `n` events into `publishers` databases alike (the same ids), starts a relay on each,
/// all publishing to one stream with pages of `batch`, and times until every relay has the
/// stream holding all `n` (one publisher: the lease's design; several: every replica
/// publishing, de-duplication doing the rest).
#[allow(clippy::too_many_arguments)]
async fn drain(
    admin: Option<&str>,
    dir: &Path,
    js: &jetstream::Context,
    nats: &str,
    n: u64,
    batch: u32,
    publishers: usize,
    round: usize,
) -> anyhow::Result<Drained> {
    let prefix = format!("bench_{}_d{round}_{batch}_{publishers}", std::process::id());
    let stream = prefix.to_uppercase();
    let mut stores = Vec::new();
    for p in 0..publishers {
        let tag = format!("d{round}_{batch}_{publishers}_{p}");
        let (store, pg) = fresh_store(admin, dir, &tag).await?;
        let sql = seed(n, pg.is_some());
        match &pg {
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await?;
                sqlx::query(&sql).execute(&mut conn).await?;
            }
            None => {
                let file = dir.join(&tag).join(arbiter_storage::DEFAULT_SQLITE_FILE);
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
                        .await?;
                sqlx::query(&sql).execute(&mut conn).await?;
            }
        }
        stores.push((store, tag));
    }
    let cpu_before = nats_cpu_seconds();
    let started = Instant::now();
    let mut relays = Vec::new();
    for (store, _) in &stores {
        relays.push(
            OutboxRelay::start(store.clone(), &relay_args(nats, &prefix, batch))
                .await?
                .context("a relay")?,
        );
    }
    let done = |relays: &[OutboxRelay]| {
        relays.iter().all(|r| {
            let report = r.report();
            report.active && report.lag_seconds == 0.0 && !report.failing
        })
    };
    while stored(js, &stream).await.unwrap_or(0) < n || !done(&relays) {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(900),
            "the stream did not fill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events_per_second = n as f64 / started.elapsed().as_secs_f64();
    let nats_cpu_us = cpu_before
        .zip(nats_cpu_seconds())
        .map(|(a, b)| (b - a) * 1e6 / n as f64);
    anyhow::ensure!(
        stored(js, &stream).await? == n,
        "the stream holds each event once"
    );
    drop(relays);
    js.delete_stream(&stream).await?;
    for (_, tag) in &stores {
        drop_database(admin, tag).await?;
    }
    Ok(Drained {
        events_per_second,
        nats_cpu_us,
    })
}

/// Commits events at `rate`/s for `secs` through the store's write path and measures each one's
/// arrival at a consumer of the stream; sorted latencies in milliseconds.
async fn latency(
    admin: Option<&str>,
    dir: &Path,
    js: &jetstream::Context,
    nats: &str,
    rate: u64,
    secs: u64,
) -> anyhow::Result<Vec<f64>> {
    let (store, _) = fresh_store(admin, dir, "lat").await?;
    let prefix = format!("bench_{}_lat", std::process::id());
    let stream = prefix.to_uppercase();
    let relay = OutboxRelay::start(store.clone(), &relay_args(nats, &prefix, 256))
        .await?
        .context("a relay")?;
    // The relay declares the stream once it holds the lease.
    let started = Instant::now();
    while js.get_stream(&stream).await.is_err() {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "no stream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = (rate * secs) as usize;
    let committed: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; total]));
    let consumer = js
        .get_stream(&stream)
        .await?
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await?;
    let mut messages = consumer.messages().await?;
    let seen = committed.clone();
    let reader = tokio::spawn(async move {
        let mut out = Vec::with_capacity(total);
        while out.len() < total {
            let Ok(Some(Ok(m))) =
                tokio::time::timeout(Duration::from_secs(30), messages.next()).await
            else {
                break;
            };
            let arrived = Instant::now();
            let body: serde_json::Value = serde_json::from_slice(&m.payload).unwrap_or_default();
            let seq = body["payload"]["seq"].as_u64().unwrap_or(0) as usize;
            if let Some(Some(at)) = seen.lock().ok().and_then(|c| c.get(seq).copied()) {
                out.push(arrived.duration_since(at).as_secs_f64() * 1_000.0);
            }
        }
        out
    });
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for seq in 0..total {
        tick.tick().await;
        let change = Change {
            outbox: vec![OutboxMessage {
                topic: "order.paid".into(),
                payload: serde_json::json!({"seq": seq, "order_id": format!("ord_{seq}")}),
            }],
            at: Utc::now(),
            ..Change::default()
        };
        store.apply(&change).await?;
        if let Ok(mut c) = committed.lock() {
            c[seq] = Some(Instant::now());
        }
    }
    let mut lat = reader.await?;
    drop(relay);
    js.delete_stream(&stream).await?;
    drop_database(admin, "lat").await?;
    anyhow::ensure!(lat.len() == total, "{} of {total} arrived", lat.len());
    lat.sort_by(f64::total_cmp);
    Ok(lat)
}

fn at(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let admin = args.next().filter(|a| !a.is_empty());
    let nats = args
        .next()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let n: u64 = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let pages: Vec<u32> = args
        .next()
        .unwrap_or_else(|| "1,256".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let rate: u64 = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let js = jetstream::new(async_nats::connect(&nats).await?);
    let backend = if admin.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    for round in 0..2 {
        for &batch in &pages {
            for publishers in [1, 2] {
                let d = drain(
                    admin.as_deref(),
                    dir.path(),
                    &js,
                    &nats,
                    n,
                    batch,
                    publishers,
                    round,
                )
                .await?;
                println!(
                    "{backend} drain, pages of {batch}, {publishers} publisher(s): {n} events at \
                     {:.0} events/s, NATS CPU {} µs/event (round {})",
                    d.events_per_second,
                    d.nats_cpu_us.map_or("?".into(), |c| format!("{c:.1}")),
                    round + 1
                );
            }
        }
    }
    let lat = latency(admin.as_deref(), dir.path(), &js, &nats, rate, 20).await?;
    println!(
        "{backend} commit to consumer at {rate} events/s for 20 s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} events)",
        at(&lat, 0.5),
        at(&lat, 0.99),
        at(&lat, 1.0),
        lat.len()
    );
    Ok(())
}
