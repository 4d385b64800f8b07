//! Per-decision velocity cost: `features` before the decision plus `record` after it, against
//! the real Redis (`REDIS_URL`, default redis://127.0.0.1:6379), batched as shipped (one
//! pipelined read and one script per decision: 2 round trips) and unbatched (one call per
//! entity: 10 round trips), against the in-process store. Also prints the memory one entity costs in Redis with these
//! bucketed counters and with a sorted-set sliding window, for the trade-off in BENCHMARKS.md.
//! Run: `cargo bench -p arbiter-redis --bench velocity`.

use std::hint::black_box;
use std::time::Duration;

use arbiter_engine::velocity::{InProcessVelocity, VelocityEvent, VelocityKind, VelocityStore};
use arbiter_redis::{RedisVelocity, RedisVelocityConfig};
use chrono::{DateTime, Utc};
use criterion::Criterion;
use tokio::runtime::Runtime;

fn event() -> VelocityEvent {
    VelocityEvent {
        subjects: vec![
            (VelocityKind::User, "u-1".into()),
            (VelocityKind::Device, "dev-9".into()),
            (VelocityKind::Card, "fp_7Hc".into()),
            (VelocityKind::Ip, "203.0.113.7".into()),
            (VelocityKind::Email, "ann@example.com".into()),
        ],
        amount: Some((12_999, "USD".into(), 2)),
    }
}

/// The event split into one single-entity event per subject (the unpipelined baseline).
fn per_entity(e: &VelocityEvent) -> Vec<VelocityEvent> {
    e.subjects
        .iter()
        .map(|s| VelocityEvent {
            subjects: vec![s.clone()],
            amount: e.amount.clone(),
        })
        .collect()
}

fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn connect(prefix: &str) -> RedisVelocity {
    let mut config = RedisVelocityConfig::new(url(), prefix);
    // Measure Redis alone; the mirror's cost is the in-process row.
    config.mirror_locally = false;
    let v = RedisVelocity::connect(config).await.expect("valid url");
    assert!(!v.is_degraded(), "the bench needs Redis at `{}`", url());
    v
}

/// A day of history (one event every 10 minutes) so every entity has all 36 buckets filled:
/// the read parses the worst case.
async fn fill(v: &RedisVelocity, e: &VelocityEvent, now: DateTime<Utc>) {
    for i in 0..144 {
        let at = now - chrono::Duration::minutes(10 * i);
        v.record(e, at).await.expect("record");
    }
}

async fn memory_report(prefix: &str, now: DateTime<Utc>) {
    let client = redis::Client::open(url()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let key = format!("{prefix}v:card:fp_7Hc");
    let bytes: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("memory usage");
    println!("memory: bucketed entity (36 buckets, any traffic): {bytes} bytes");
    for n in [10_i64, 100, 1_000, 10_000] {
        let zkey = format!("{prefix}zset:{n}");
        let mut pipe = redis::pipe();
        for i in 0..n {
            // What a sliding window must keep per event: time, a unique id, the amount.
            let t = now.timestamp_millis() - i * 86_400_000 / n;
            pipe.cmd("ZADD")
                .arg(&zkey)
                .arg(t)
                .arg(format!("{t}:{i}:USD:12999"))
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await.expect("zadd");
        let bytes: i64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(&zkey)
            .query_async(&mut conn)
            .await
            .expect("memory usage");
        println!("memory: sorted-set window, {n} events/day: {bytes} bytes");
    }
    // The bench's own keys only (known by name; no KEYS or SCAN on a shared server).
    let mut del = redis::cmd("DEL");
    for (kind, id) in event().subjects {
        let kind = format!("{kind:?}").to_lowercase();
        del.arg(format!("{prefix}v:{kind}:{id}"));
    }
    for n in [10, 100, 1_000, 10_000] {
        del.arg(format!("{prefix}zset:{n}"));
    }
    let removed: i64 = del.query_async(&mut conn).await.expect("del");
    assert_eq!(removed, 9, "five entity keys and four sorted sets");
}

fn main() {
    let rt = Runtime::new().expect("runtime");
    let prefix = format!("arbiter-bench:{:016x}:", rand::random::<u64>());
    let now = Utc::now();
    let e = event();
    let split = per_entity(&e);
    let redis = rt.block_on(async {
        let v = connect(&prefix).await;
        fill(&v, &e, now).await;
        v
    });
    let local = InProcessVelocity::new(256 << 20);
    for i in 0..144 {
        local.record_now(&e, now - chrono::Duration::minutes(10 * i));
    }

    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut g = c.benchmark_group("velocity_per_decision");
    g.bench_function("in_process", |b| {
        b.iter(|| {
            black_box(local.features_now(&e, now));
            local.record_now(&e, now);
        })
    });
    g.bench_function("redis_script_2_round_trips", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(redis.read(&e, now).await.expect("read"));
                redis.record(&e, now).await.expect("record");
            })
        })
    });
    g.bench_function("redis_per_entity_10_round_trips", |b| {
        b.iter(|| {
            rt.block_on(async {
                for one in &split {
                    black_box(redis.read(one, now).await.expect("read"));
                }
                for one in &split {
                    redis.record(one, now).await.expect("record");
                }
            })
        })
    });
    g.bench_function("redis_features_only", |b| {
        b.iter(|| rt.block_on(async { black_box(redis.read(&e, now).await.expect("read")) }))
    });
    g.bench_function("redis_record_only", |b| {
        b.iter(|| rt.block_on(async { redis.record(&e, now).await.expect("record") }))
    });
    g.finish();
    assert!(!redis.is_degraded(), "Redis fell over during the bench");
    rt.block_on(memory_report(&prefix, now));
    c.final_summary();
}
