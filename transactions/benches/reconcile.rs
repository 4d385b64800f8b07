//! What a day of a busy channel costs to reconcile in the domain: a 1,000,000-row card
//! statement read from its CSV, and matched against 1,000,000 book entries (the target
//! is the whole run, storage included, in ≤ 30 s). Prints the process's peak RSS after.
//! `cargo bench -p arbiter-transactions --bench reconcile`.

use std::fmt::Write;

use arbiter_engine::money::Money;
use arbiter_transactions::reconciliation::card_csv;
use arbiter_transactions::reconciliation::matching::{BookEntry, BookKind, Run, reconcile};
use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use iso_currency::Currency;

const ROWS: usize = 1_000_000;

fn statement() -> String {
    let mut csv = String::from(
        "id,type,source,amount,fee,net,currency,created,reporting_category,payment_metadata[channel_payment_id]\n",
    );
    for i in 0..ROWS {
        let cents = 1_000 + (i % 9_000) as i64;
        let fee = cents * 29 / 1_000 + 30;
        let _ = writeln!(
            csv,
            "txn_{i},charge,ch_{i},{}.{:02},{}.{:02},{}.{:02},eur,2026-12-06 10:00:00,charge,pi_{i}",
            cents / 100,
            cents % 100,
            fee / 100,
            fee % 100,
            (cents - fee) / 100,
            (cents - fee) % 100
        );
    }
    csv
}

fn book() -> Vec<BookEntry> {
    let at: DateTime<Utc> = "2026-12-06T10:00:00Z".parse().expect("instant");
    (0..ROWS)
        .map(|i| BookEntry {
            kind: BookKind::Capture,
            our_ref: format!("pi_{i}"),
            channel_txn_id: None,
            amount: Money::from_minor_units(1_000 + (i % 9_000) as i64, Currency::EUR),
            done: true,
            at,
        })
        .collect()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let csv = statement();
    let book = book();
    let rows = card_csv::read(csv.as_bytes()).expect("reads");
    let until: DateTime<Utc> = "2026-12-07T00:00:00Z".parse().expect("instant");
    let mut group = c.benchmark_group("reconcile_1m");
    group.sample_size(10);
    group.bench_function("read_card_csv", |b| {
        b.iter(|| card_csv::read(csv.as_bytes()).expect("reads").len())
    });
    group.bench_function("match_against_book", |b| {
        b.iter(|| {
            let outcome = reconcile(&Run {
                rows: &rows,
                book: &book,
                until,
                settlement_delay: Duration::hours(2),
                fees: None,
            });
            assert_eq!(outcome.matched, ROWS);
            outcome.matched
        })
    });
    group.finish();
    eprintln!("peak RSS: {} MiB", peak_rss_kib() / 1024);
}

criterion_group!(benches, bench);
criterion_main!(benches);
