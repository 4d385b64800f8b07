//! `RedisDueDispatch` (the transaction core's `DueDispatch` on Redis) against the real Redis:
//! an offer never disturbs a key Redis holds, the repair sweep puts back exactly what Redis
//! lost (after its keys are deleted), and a lost Redis fails fast and recovers on its own.

mod support;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arbiter_redis::{RedisDueDispatch, RedisDueDispatchConfig};
use arbiter_transactions::TxError;
use arbiter_transactions::due::{
    DispatchError, DueDispatch, DueItem, DueQueue, SweepReport, restore_missing,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

const KIND: &str = "order.expire";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

fn dispatcher(url: &str, prefix: &str) -> RedisDueDispatch {
    RedisDueDispatch::new(RedisDueDispatchConfig::new(url, prefix, KIND)).expect("valid url")
}

/// The database side, in memory: the sweep only reads it.
#[derive(Default)]
struct Rows(Mutex<Vec<DueItem>>);

#[async_trait]
impl DueQueue for Rows {
    async fn schedule(&self, item: &DueItem) -> Result<(), TxError> {
        self.0.lock().expect("rows").push(item.clone());
        Ok(())
    }
    async fn claim_due(
        &self,
        _: DateTime<Utc>,
        _: u32,
        _: chrono::Duration,
    ) -> Result<Vec<DueItem>, TxError> {
        unreachable!("with a dispatcher nothing claims from the database")
    }
    async fn complete(&self, _: &str, _: &str) -> Result<(), TxError> {
        unreachable!("the sweep completes nothing")
    }
    async fn pending_due(
        &self,
        kind: &str,
        now: DateTime<Utc>,
        after: Option<&DueItem>,
        limit: u32,
    ) -> Result<Vec<DueItem>, TxError> {
        let mut rows: Vec<DueItem> = self
            .0
            .lock()
            .expect("rows")
            .iter()
            .filter(|i| i.kind == kind && i.due_at <= now)
            .filter(|i| after.is_none_or(|a| (i.due_at, &i.key) > (a.due_at, &a.key)))
            .cloned()
            .collect();
        rows.sort_by(|a, b| (a.due_at, &a.key).cmp(&(b.due_at, &b.key)));
        rows.truncate(limit as usize);
        Ok(rows)
    }
}

async fn del(url: &str, keys: &[String]) {
    let mut conn = support::raw(url).await.expect("raw connection");
    let _: i64 = redis::cmd("DEL")
        .arg(keys)
        .query_async(&mut conn)
        .await
        .expect("del");
}

/// An offer adds only keys Redis holds neither waiting nor leased: a claimed key is not
/// handed to a second claimer, and a waiting key keeps its due time.
#[tokio::test]
async fn an_offer_never_disturbs_a_key_redis_holds() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("dispatch-offer");
    let d = dispatcher(&url, &prefix);
    let offered = d
        .offer(&[("a".into(), t0()), ("b".into(), t0() + secs(60))])
        .await
        .expect("offer");
    assert_eq!(offered, 2);
    let claims = d.claim(t0(), 10, secs(30)).await.expect("claim");
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].key, "a");

    // `a` leased, `b` waiting for a later time, `c` new: only `c` is added, and `b` is not
    // moved to an earlier time.
    let again = d
        .offer(&[("a".into(), t0()), ("b".into(), t0()), ("c".into(), t0())])
        .await
        .expect("offer");
    assert_eq!(again, 1);
    let next = d.claim(t0() + secs(1), 10, secs(30)).await.expect("claim");
    let keys: Vec<&str> = next.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["c"], "a is still leased, b not yet due");

    assert!(d.complete(&claims[0]).await.expect("complete"));
    assert!(d.retry(&next[0], t0() + secs(120)).await.expect("retry"));
    let later = d
        .claim(t0() + secs(120), 10, secs(30))
        .await
        .expect("claim");
    let keys: HashSet<&str> = later.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, HashSet::from(["b", "c"]));
    assert!(
        !d.complete(&next[0]).await.expect("complete"),
        "the retried claim's token is stale"
    );
    support::cleanup(&url, &prefix).await;
}

/// The sweep after Redis lost its keys: first only the waiting set (a partial loss: leased
/// keys survive and are not duplicated), then everything. Each time exactly the missing due
/// rows come back, and every due row is then claimable once.
#[tokio::test]
async fn the_sweep_puts_back_exactly_what_redis_lost() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("dispatch-sweep");
    let d = dispatcher(&url, &prefix);
    let rows = Rows::default();
    for i in 0..40 {
        rows.schedule(&DueItem {
            kind: KIND.into(),
            key: format!("o-{i:02}"),
            due_at: t0() - secs(i % 7),
        })
        .await
        .expect("row");
    }
    rows.schedule(&DueItem {
        kind: KIND.into(),
        key: "not-yet".into(),
        due_at: t0() + secs(600),
    })
    .await
    .expect("row");
    let all: Vec<(String, DateTime<Utc>)> = rows
        .0
        .lock()
        .expect("rows")
        .iter()
        .map(|i| (i.key.clone(), i.due_at))
        .collect();
    assert_eq!(d.offer(&all).await.expect("offer"), 41);
    let leased = d.claim(t0(), 5, secs(300)).await.expect("claim");
    assert_eq!(leased.len(), 5);

    let queue = |part: &str| format!("{prefix}q:{KIND}:{part}");
    del(&url, &[queue("due")]).await;
    let report = restore_missing(&rows, &d, KIND, t0(), 16)
        .await
        .expect("sweep");
    assert_eq!(
        report,
        SweepReport {
            due: 40,
            restored: 35
        },
        "the five leased keys are still held"
    );

    del(&url, &[queue("due"), queue("lease"), queue("token")]).await;
    let report = restore_missing(&rows, &d, KIND, t0(), 16)
        .await
        .expect("sweep");
    assert_eq!(report.restored, 40, "everything due, nothing early");
    let mut claimed = HashSet::new();
    loop {
        let batch = d.claim(t0(), 7, secs(300)).await.expect("claim");
        if batch.is_empty() {
            break;
        }
        for c in batch {
            assert!(claimed.insert(c.key.clone()), "{} claimed twice", c.key);
            assert!(d.complete(&c).await.expect("complete"));
        }
    }
    assert_eq!(claimed.len(), 40);
    assert!(
        !d.complete(&leased[0]).await.expect("complete"),
        "a claim from before the loss is stale"
    );
    support::cleanup(&url, &prefix).await;
}

/// Redis down at start is not an error, and a lost Redis fails fast: after the first failure
/// offers are refused without a round trip until the retry interval passes, while the
/// background calls keep trying; once Redis is back the first success brings everything back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_redis_fails_fast_and_recovers() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let never = dispatcher("redis://127.0.0.1:1", "arbiter-test:nowhere:");
    assert!(matches!(
        never.offer(&[("x".into(), t0())]).await,
        Err(DispatchError::Unavailable { op: "offer", .. })
    ));
    assert!(never.is_down());
    assert!(matches!(
        never.offer(&[("x".into(), t0())]).await,
        Err(DispatchError::Down)
    ));

    let prefix = support::prefix("dispatch-outage");
    let proxy = support::proxy::Proxy::start(&url).await;
    let mut config = RedisDueDispatchConfig::new(proxy.url.clone(), prefix.clone(), KIND);
    config.retry_interval = Duration::from_secs(5);
    let d = RedisDueDispatch::new(config).expect("valid url");
    assert_eq!(d.offer(&[("a".into(), t0())]).await.expect("offer"), 1);

    proxy.cut();
    assert!(d.claim(t0(), 10, secs(30)).await.is_err(), "Redis is gone");
    assert!(d.is_down());
    // `Down`, not `Unavailable`: refused without a round trip.
    assert!(matches!(
        d.offer(&[("b".into(), t0())]).await,
        Err(DispatchError::Down)
    ));

    proxy.pass();
    let deadline = Instant::now() + Duration::from_secs(10);
    let claims = loop {
        match d.claim(t0(), 10, secs(30)).await {
            Ok(claims) => break claims,
            Err(e) => {
                assert!(Instant::now() < deadline, "never recovered: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert!(!d.is_down());
    let keys: Vec<&str> = claims.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        ["a"],
        "what Redis held survived; `b` was never written"
    );
    assert_eq!(d.offer(&[("b".into(), t0())]).await.expect("offer"), 1);
    support::cleanup(&url, &prefix).await;
}
