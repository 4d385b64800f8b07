//! Reconciling a busy channel's day end to end through the store (issue 20: "reconcile a
//! 1,000,000-row statement against 1,000,000 payments in ≤ 30 s, bounded memory"). Seeds `N`
//! card payments that succeeded in one UTC day (bulk SQL: one order, `N` payments and their
//! status history), writes the day's balance-transactions statement with one charge per
//! payment at the schedule's fee, then times
//! - the import: the file read whole and archived with its rows (`prepare` +
//!   `import_statement`), and
//! - the run: the statement's rows and the day's book read, matched, and recorded with its
//!   settlement (`reconcile_day`),
//!
//! and prints the peak RSS of each (the high-water mark is reset between them).
//!
//! Run (release): `cargo run --release -p arbiter-host --example reconcile_day -- [URL] [N]`.
//! `URL` is a `postgres:` URL of a server whose user may create databases (a database of its
//! own is created and dropped), or empty for SQLite in a temporary directory; `N` defaults to
//! 1 000 000.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use arbiter_engine::audit::Actor;
use arbiter_engine::money::Money;
use arbiter_host::services::reconciliation::reconcile_day;
use arbiter_transactions::reconciliation::archive::prepare;
use arbiter_transactions::reconciliation::matching::FeeSchedule;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use iso_currency::Currency;
use sqlx::Connection;

const DAY: (i32, u32, u32) = (2026, 11, 2);

/// A memory figure of this process from `/proc/self/status` (`VmHWM`, `VmRSS`), in MiB.
fn status_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

/// The kernel's high-water mark of this process's resident memory, in MiB.
fn peak_rss_mib() -> u64 {
    status_mib("VmHWM:")
}

/// Starts a new high-water mark from the current resident memory.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn amount_minor(i: u64) -> i64 {
    1_000 + (i % 5_000) as i64
}

/// The seed: one order holding `n` card payments that succeeded across the day.
fn seed_statements(n: u64, postgres: bool) -> Vec<String> {
    let day = format!("{:04}-{:02}-{:02}", DAY.0, DAY.1, DAY.2);
    let start = format!("{day}T00:00:00.000000Z");
    // Spread over the day's first 23 hours: nothing inside the settlement grace.
    let step = 82_800.0 / n as f64;
    let (series, at) = if postgres {
        (
            format!("SELECT i FROM generate_series(1, {n}) AS i"),
            format!("TIMESTAMPTZ '{start}' + (i * {step}) * INTERVAL '1 second'"),
        )
    } else {
        (
            format!(
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) \
                 SELECT i FROM s"
            ),
            format!(
                "strftime('%Y-%m-%dT%H:%M:%S', '{day}', '+' || CAST(i * {step} AS INTEGER) || \
                 ' seconds') || '.000000Z'"
            ),
        )
    };
    let now = if postgres {
        format!("TIMESTAMPTZ '{start}'")
    } else {
        format!("'{start}'")
    };
    let pad = |column: &str| {
        if postgres {
            format!("lpad({column}::text, 8, '0')")
        } else {
            format!("printf('%08d', {column})")
        }
    };
    vec![
        format!(
            "INSERT INTO reservations (id, status, expires_at, created_at, updated_at) \
             VALUES ('res_bench', 'confirmed', {now}, {now}, {now})"
        ),
        format!(
            "INSERT INTO orders (id, idempotency_key, body_hash, status, user_id, request, \
             total_minor, currency, reservation_id, expires_at, created_at, updated_at) VALUES \
             ('ord_bench', 'bench', 'h', 'PAID', 'u', '{{}}', 0, 'USD', 'res_bench', {now}, \
             {now}, {now})"
        ),
        format!(
            "INSERT INTO payments (id, order_id, idempotency_key, body_hash, channel, \
             channel_payment_id, status, amount_minor, currency, created_at, updated_at) \
             SELECT 'pay_' || {p}, 'ord_bench', 'ik_' || {p}, 'h', 'card', 'cp_' || {p}, \
             'SUCCEEDED', 1000 + (i % 5000), 'USD', {at}, {at} FROM ({series}) AS n",
            p = pad("i"),
        ),
        "INSERT INTO status_history (entity, entity_id, from_status, to_status, note, at) \
         SELECT 'payment', id, 'PROCESSING', 'SUCCEEDED', 'bench', created_at FROM payments"
            .to_owned(),
    ]
}

/// The day's statement: one charge per payment at the schedule's fee, in payment order.
fn statement(n: u64, fees: &FeeSchedule) -> Vec<u8> {
    let day = Utc
        .with_ymd_and_hms(DAY.0, DAY.1, DAY.2, 0, 0, 0)
        .single()
        .expect("day");
    let step = 82_800.0 / n as f64;
    let mut csv = String::with_capacity(n as usize * 110);
    csv.push_str(
        "id,type,source,amount,fee,net,currency,created,reporting_category,\
         payment_metadata[channel_payment_id]\n",
    );
    for i in 1..=n {
        let gross = Money::from_minor_units(amount_minor(i), Currency::USD);
        let fee = fees.fee(&gross);
        let net = gross.checked_sub(&fee).expect("net");
        let at = day + Duration::seconds((i as f64 * step) as i64);
        csv.push_str(&format!(
            "txn_{i:08},charge,ch_{i:08},{},{},{},usd,{},charge,cp_{i:08}\n",
            gross.amount,
            fee.amount,
            net.amount,
            at.format("%Y-%m-%d %H:%M:%S")
        ));
    }
    csv.into_bytes()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let admin_url = args.next().filter(|a| !a.is_empty());
    let n: u64 = args.next().map_or(Ok(1_000_000), |n| n.parse())?;
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let (url, database) = match &admin_url {
        Some(admin) => {
            let name = format!("recon_bench_{}", std::process::id());
            let mut conn = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await?;
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            (Some(format!("{base}/{name}")), Some((conn, name)))
        }
        None => (None, None),
    };
    let stores = arbiter_storage::Backend::from_url(url.as_deref(), dir.path())?
        .connect_stores()
        .await
        .context("connecting to the store")?;
    let started = Instant::now();
    let seed = seed_statements(n, url.is_some());
    match &url {
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            for sql in &seed {
                sqlx::query(sql).execute(&mut conn).await?;
            }
        }
        None => {
            let file = dir.path().join(arbiter_storage::DEFAULT_SQLITE_FILE);
            let mut conn = sqlx::SqliteConnection::connect(&format!(
                "sqlite://{}",
                Path::new(&file).display()
            ))
            .await?;
            for sql in &seed {
                sqlx::query(sql).execute(&mut conn).await?;
            }
        }
    }
    println!("seeded {n} payments in {:.1?}", started.elapsed());

    let fees = FeeSchedule::parse("card", "0.029+0.30").expect("schedule");
    let content = statement(n, &fees);
    let date = NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).expect("day");
    reset_peak_rss();
    let started = Instant::now();
    let size = content.len();
    let prepared =
        tokio::task::spawn_blocking(move || prepare("card", date, content, "bench", Utc::now()))
            .await?
            .context("reading the statement")?;
    let read = started.elapsed();
    stores
        .transactions
        .import_statement(&prepared, &Actor::cli())
        .await?;
    drop(prepared);
    println!(
        "import: {size} bytes, {n} rows: read {read:.1?}, archived in {:.1?} total; peak RSS {} MiB",
        started.elapsed(),
        peak_rss_mib()
    );

    reset_peak_rss();
    // What the process holds before the run (the store, memory the import freed but the
    // allocator kept): the run's own use is the peak above it.
    let before = status_mib("VmRSS:");
    let started = Instant::now();
    let schedules = [("card".to_owned(), fees)].into_iter().collect();
    let day = reconcile_day(
        &stores.transactions,
        &schedules,
        "card",
        date,
        &Actor::cli(),
    )
    .await?;
    println!(
        "run: {} rows, {} matched, {} differences, {} pending, opened {}, settled {}: {:.1?}; \
         peak RSS {} MiB ({before} MiB held before it)",
        day.run.outcome.rows,
        day.run.outcome.matched,
        day.run.outcome.differences.len(),
        day.run.outcome.pending,
        day.recorded.opened,
        day.recorded.settled,
        started.elapsed(),
        peak_rss_mib()
    );
    anyhow::ensure!(
        day.run.outcome.matched as u64 == n && day.run.outcome.differences.is_empty(),
        "every row should match"
    );
    drop(stores);
    if let Some((mut conn, name)) = database {
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}
