//! `RedisVelocity` when Redis is missing at start, lost mid-traffic, hanging, and back:
//! decisions never fail, answers are marked degraded, and shared counting resumes.

mod support;

use std::time::{Duration, Instant};

use arbiter_engine::velocity::{VelocityEvent, VelocityKind, VelocityStore};
use arbiter_redis::{RedisVelocity, RedisVelocityConfig};
use chrono::Utc;
use support::proxy::Proxy;

fn event(card: &str) -> VelocityEvent {
    VelocityEvent {
        subjects: vec![
            (VelocityKind::User, "u-1".into()),
            (VelocityKind::Card, card.into()),
        ],
        amount: Some((500, "USD".into(), 2)),
    }
}

/// Pointed at a closed port: the store starts, answers from in-process counters within
/// milliseconds, and marks every answer degraded.
#[tokio::test]
async fn closed_port_falls_back_quickly_and_marks_degraded() {
    let started = Instant::now();
    let v = RedisVelocity::connect(RedisVelocityConfig::new("redis://127.0.0.1:1", "t:"))
        .await
        .expect("a valid url is enough to start");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(v.is_degraded());
    let now = Utc::now();
    for _ in 0..3 {
        v.record(&event("c1"), now)
            .await
            .expect("record never fails");
    }
    let t = Instant::now();
    let reading = v.read(&event("c1"), now).await.expect("read never fails");
    let took = t.elapsed();
    assert!(reading.degraded);
    assert_eq!(reading.features.card.map(|c| c.count_1h), Some(3));
    assert!(
        took < Duration::from_millis(20),
        "fallback answer took {took:?}"
    );
    assert_eq!(v.replay_backlog(), (3, 0), "kept for replay");
}

/// Lost mid-traffic (connections dropped, new ones refused), then back: no call fails, answers
/// are degraded while down, and after the probe the events recorded while down are in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_and_back_resumes_and_replays() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("lost");
    let proxy = Proxy::start(&url).await;
    let mut config = RedisVelocityConfig::new(&proxy.url, &prefix);
    config.retry_interval = Duration::from_millis(50);
    let v = RedisVelocity::connect(config).await.expect("valid url");
    assert!(!v.is_degraded());
    let now = Utc::now();
    v.record(&event("c1"), now).await.expect("record");

    proxy.cut();
    let mut degraded_seen = false;
    for _ in 0..5 {
        let t = Instant::now();
        let reading = v.read(&event("c1"), now).await.expect("never fails");
        assert!(
            t.elapsed() < Duration::from_millis(200),
            "{:?}",
            t.elapsed()
        );
        degraded_seen |= reading.degraded;
        v.record(&event("c1"), now).await.expect("never fails");
    }
    assert!(degraded_seen && v.is_degraded());

    proxy.pass();
    // Background probes start from traffic; probe_now is what readiness calls.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !v.probe_now().await {
        assert!(Instant::now() < deadline, "redis did not come back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reading = v.read(&event("c1"), now).await.expect("read");
    assert!(!reading.degraded);
    // 1 before the cut and the 5 recorded while down (the cut was noticed by a read, so no
    // record was in flight when the line broke): all replayed.
    assert_eq!(reading.features.card.map(|c| c.count_1h), Some(6));
    assert_eq!(v.replay_backlog().0, 0);
    support::cleanup(&url, &prefix).await;
}

/// Hanging (bytes stop flowing): a call waits at most one op timeout, then the store answers
/// from the fallback without waiting again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_redis_costs_one_timeout_then_nothing() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("hang");
    let proxy = Proxy::start(&url).await;
    let config = RedisVelocityConfig::new(&proxy.url, &prefix);
    let v = RedisVelocity::connect(config).await.expect("valid url");
    assert!(!v.is_degraded());
    proxy.stall();
    let now = Utc::now();
    let t = Instant::now();
    let first = v.read(&event("c1"), now).await.expect("never fails");
    let first_took = t.elapsed();
    assert!(first.degraded);
    assert!(
        first_took >= Duration::from_millis(45) && first_took < Duration::from_millis(250),
        "first call took {first_took:?}"
    );
    let t = Instant::now();
    let second = v.read(&event("c1"), now).await.expect("never fails");
    assert!(second.degraded);
    assert!(t.elapsed() < Duration::from_millis(20), "{:?}", t.elapsed());
    proxy.pass();
    support::cleanup(&url, &prefix).await;
}
