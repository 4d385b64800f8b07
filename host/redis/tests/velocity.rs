//! `RedisVelocity` against the real Redis: exact shared counts across replicas, the same
//! answers as the in-process store, and a TTL on every key.

mod support;

use std::sync::Arc;

use arbiter_engine::velocity::{
    InProcessVelocity, VelocityEvent, VelocityKind, VelocityStore, WindowStats,
};
use arbiter_redis::{RedisVelocity, RedisVelocityConfig};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn event(user: &str, card: &str, minor: i64, currency: &str) -> VelocityEvent {
    VelocityEvent {
        subjects: vec![
            (VelocityKind::User, user.into()),
            (VelocityKind::Device, format!("d-{user}")),
            (VelocityKind::Card, card.into()),
            (VelocityKind::Ip, "10.0.0.7".into()),
            (VelocityKind::Email, format!("{user}@example.com")),
        ],
        amount: Some((minor, currency.into(), 2)),
    }
}

async fn store(url: &str, prefix: &str) -> RedisVelocity {
    let v = RedisVelocity::connect(RedisVelocityConfig::new(url, prefix))
        .await
        .expect("valid url");
    assert!(
        !v.is_degraded(),
        "redis at `{url}` must be up for this test"
    );
    v
}

/// Three replicas record 3 x 40 events for one card concurrently; every replica then reads
/// the exact count and the exact sum, and a decision's own request is not in its features.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_count_one_card_exactly() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("three-replicas");
    let replicas = [
        store(&url, &prefix).await,
        store(&url, &prefix).await,
        store(&url, &prefix).await,
    ];
    let mut tasks = Vec::new();
    for (r, replica) in replicas.iter().enumerate() {
        for i in 0..40 {
            let replica = replica.clone();
            tasks.push(tokio::spawn(async move {
                let e = event(&format!("u{r}-{i}"), "card-1", 1234, "USD");
                replica.record(&e, t0()).await.expect("record");
            }));
        }
    }
    for task in tasks {
        task.await.expect("task");
    }
    let probe = event("u-new", "card-1", 999, "USD");
    for replica in &replicas {
        let reading = replica.read(&probe, t0()).await.expect("read");
        assert!(!reading.degraded);
        let card = reading.features.card.expect("card named");
        assert_eq!(card.count_1h, 120);
        assert_eq!(card.count_24h, 120);
        // Minor units are summed as integers: 120 x 12.34 exactly.
        assert_eq!((card.sum_1h * 100.0).round() as i64, 120 * 1234);
        assert_eq!(reading.features.ip.map(|ip| ip.count_1h), Some(120));
        assert_eq!(reading.features.user, WindowStats::default());
    }
    replicas[1].record(&probe, t0()).await.expect("record");
    let after = replicas[2].features(&probe, t0()).await.expect("read");
    assert_eq!(after.card.map(|c| c.count_1h), Some(121));
    assert_eq!(after.user.count_1h, 1);
    support::cleanup(&url, &prefix).await;
}

/// The same random event stream (several entities, three currencies, times spread over two
/// days, some out of order) gives identical features from Redis and from the in-process store.
#[tokio::test]
async fn answers_match_the_in_process_store() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("parity");
    let shared = store(&url, &prefix).await;
    let local = InProcessVelocity::new(16 << 20);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let currencies = ["USD", "EUR", "GBP"];
    let mut t = t0();
    for _ in 0..400 {
        // Mostly forward in time, sometimes a little back (replicas' clocks differ).
        t += Duration::seconds(rng.random_range(-120..600));
        let e = event(
            &format!("u{}", rng.random_range(0..4)),
            &format!("c{}", rng.random_range(0..3)),
            rng.random_range(1..100_000),
            currencies[rng.random_range(0..3)],
        );
        local.record_now(&e, t);
        shared.record(&e, t).await.expect("record");
        if rng.random_range(0..10) == 0 {
            for cur in currencies {
                let q = event("u1", "c1", 0, cur);
                let at = t + Duration::seconds(rng.random_range(0..3600));
                let got = shared.read(&q, at).await.expect("read");
                assert!(!got.degraded);
                assert_eq!(got.features, local.features_now(&q, at), "at {at} in {cur}");
            }
        }
    }
    support::cleanup(&url, &prefix).await;
}

/// Every key the store writes lives under its prefix and has a TTL of at most 25 h.
#[tokio::test]
async fn every_key_has_a_ttl() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("ttl");
    let v = Arc::new(store(&url, &prefix).await);
    for i in 0..20 {
        let e = event(&format!("u{i}"), &format!("c{}", i % 3), 100, "USD");
        v.record(&e, t0() + Duration::minutes(i))
            .await
            .expect("record");
    }
    let mut conn = support::raw(&url).await.expect("connection");
    let keys = support::keys(&mut conn, &prefix).await;
    assert_eq!(
        keys.len(),
        20 + 20 + 3 + 1 + 20,
        "user, device, card, ip, email keys"
    );
    for key in keys {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("pttl");
        assert!(ttl > 0 && ttl <= 25 * 3600 * 1000, "{key} has TTL {ttl} ms");
    }
    support::cleanup(&url, &prefix).await;
}

/// An event recorded a whole window late (a replica with a stale clock, a replay) never
/// erases the newer counts sharing its ring position; it still counts where it fits.
#[tokio::test]
async fn a_late_event_never_erases_newer_counts() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("late");
    let v = store(&url, &prefix).await;
    let e = event("u1", "c1", 100, "USD");
    v.record(&e, t0()).await.expect("record");
    // Exactly one hour earlier: the same five-minute ring position, an older period.
    v.record(&e, t0() - Duration::hours(1))
        .await
        .expect("record");
    let f = v.features(&e, t0()).await.expect("read");
    assert_eq!(f.card.map(|c| (c.count_1h, c.count_24h)), Some((1, 2)));
    support::cleanup(&url, &prefix).await;
}

/// A person's erasure deletes their shared counters (and no one else's): their next event
/// counts from nothing, and no key names them any more.
#[tokio::test]
async fn forgetting_deletes_the_entities_keys_and_only_theirs() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("forget");
    let v = store(&url, &prefix).await;
    for i in 0..3 {
        v.record(
            &event("erased-u", "card-1", 100, "USD"),
            t0() + Duration::minutes(i),
        )
        .await
        .expect("record");
        v.record(
            &event("kept-u", "card-1", 100, "USD"),
            t0() + Duration::minutes(i),
        )
        .await
        .expect("record");
    }
    v.forget(&[
        (VelocityKind::User, "erased-u".into()),
        (VelocityKind::Email, "erased-u@example.com".into()),
        (VelocityKind::Device, "d-erased-u".into()),
    ])
    .await
    .expect("forget");
    let at = t0() + Duration::minutes(5);
    let erased = v
        .features(&event("erased-u", "card-1", 100, "USD"), at)
        .await
        .expect("features");
    assert_eq!(erased.user.count_1h, 0);
    assert_eq!(erased.email.expect("email").count_1h, 0);
    assert_eq!(erased.device.expect("device").count_1h, 0);
    assert_eq!(
        erased.card.expect("card").count_1h,
        6,
        "the card was not erased"
    );
    let kept = v
        .features(&event("kept-u", "card-1", 100, "USD"), at)
        .await
        .expect("features");
    assert_eq!(kept.user.count_1h, 3);
    let mut conn = support::raw(&url).await.expect("connection");
    let keys = support::keys(&mut conn, &prefix).await;
    assert!(keys.iter().all(|k| !k.contains("erased-u")), "{keys:?}");
    support::cleanup(&url, &prefix).await;
}
