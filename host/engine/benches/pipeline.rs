//! The in-process pipeline (enrich + velocity + lists + score bands) on one core.
//! Run: `cargo bench -p arbiter-engine --bench pipeline`.

use std::hint::black_box;
use std::sync::Arc;

use arbiter_engine::DecisionRequest;
use arbiter_engine::clock::SystemClock;
use arbiter_engine::lists::{ListEntry, ListKind, ListName, ListSnapshot};
use arbiter_engine::money::RateTable;
use arbiter_engine::pipeline::{ActivePolicy, Pipeline, PipelineState};
use arbiter_engine::policy_set::PolicySet;
use arbiter_engine::routing::PolicyRouting;
use arbiter_engine::stages::NoModules;
use arbiter_engine::velocity::InProcessVelocity;
use arc_swap::{ArcSwap, ArcSwapOption};
use criterion::{Criterion, criterion_group, criterion_main};

const BODY: &str = r#"{"request_id": "chk-0001", "event": "payment.authorize",
 "amount": {"value": "129.99", "currency": "USD"},
 "user": {"id": "u-1", "account_age_days": 12, "email": "ann@example.com", "phone": "+15551234567"},
 "device": {"id": "dev-9", "ip": "203.0.113.7", "ip_country": "US", "is_proxy": false},
 "payment": {"method": "card", "card_fingerprint": "fp_7Hc", "card_bin": "411111", "card_country": "US"},
 "shipping": {"address": "1 Main St, Springfield, US", "country": "US"},
 "order_id": "o-42", "attributes": {"promo_code": "WELCOME10"}}"#;

fn lists(n: usize) -> ListSnapshot {
    ListSnapshot::new((0..n).map(|i| ListEntry {
        id: format!("le_{i}"),
        list: if i % 3 == 0 {
            ListName::Block
        } else {
            ListName::Watch
        },
        kind: ListKind::ALL[i % ListKind::ALL.len()],
        value: format!("value-{i}"),
        reason: String::new(),
        expires_at: None,
        created_at: chrono::Utc::now(),
        created_by: "bench".into(),
    }))
}

/// About 60 KB of the digit-heavy values real requests carry (request ids with timestamps,
/// ISO dates, phone numbers, hex ids), none of them a card number: the scan's worst ordinary
/// case, every byte inside or next to a digit run.
fn digit_heavy_body() -> Vec<u8> {
    let mut out = String::from("{\"attributes\": {\"log\": \"");
    let mut i: u64 = 0;
    while out.len() < 60_000 {
        out.push_str(&format!(
            "chk-{i}-{} 2026-12-03T10:{:02}:{:02}Z +4915112{:06} dec_019ae4c1{:024x} ",
            1_764_787_915 + i,
            i % 60,
            (i * 7) % 60,
            i % 1_000_000,
            i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ));
        i += 1;
    }
    out.push_str("\"}}");
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let velocity = Arc::new(InProcessVelocity::new(256 << 20));
    let state = PipelineState {
        lists: Arc::new(ArcSwap::from_pointee(lists(10_000))),
        policy: Arc::new(ArcSwap::from_pointee(PolicyRouting::stable_only(Arc::new(
            ActivePolicy {
                set: PolicySet {
                    version: 1,
                    thresholds: Default::default(),
                    weights: Default::default(),
                    policies: vec![],
                },
                rules: Arc::new(NoModules),
            },
        )))),
        model: Arc::new(ArcSwapOption::empty()),
        shadow_model: Arc::new(ArcSwapOption::empty()),
        rates: Arc::new(ArcSwap::from_pointee(RateTable::default())),
        snoozes: Arc::default(),
    };
    let pipeline = Pipeline::new(state, velocity, None, Arc::new(SystemClock));

    c.bench_function("validate request body", |b| {
        b.iter(|| DecisionRequest::from_slice(black_box(BODY.as_bytes())).expect("valid"))
    });
    c.bench_function("card scan (request body)", |b| {
        b.iter(|| arbiter_engine::card_scan::contains_card_number(black_box(BODY.as_bytes())))
    });
    let digits = digit_heavy_body();
    c.bench_function("card scan (60 KB of ids, dates and phone numbers)", |b| {
        b.iter(|| arbiter_engine::card_scan::contains_card_number(black_box(&digits)))
    });
    let req = DecisionRequest::from_slice(BODY.as_bytes()).expect("valid");
    c.bench_function("pipeline decide (lists + velocity + bands)", |b| {
        b.iter(|| {
            rt.block_on(pipeline.decide(black_box(&req)))
                .expect("decides")
        })
    });
    let d = rt.block_on(pipeline.decide(&req)).expect("decides");
    c.bench_function("pipeline after_commit (velocity record)", |b| {
        b.iter(|| {
            rt.block_on(pipeline.after_commit(black_box(&d)))
                .expect("records")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
