//! `DueQueue` against the real Redis: concurrent claimers take each item once, an expired
//! lease is delivered again with a new token, and a stale holder cannot complete.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use arbiter_redis::DueQueue;
use chrono::{DateTime, TimeZone, Utc};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .expect("valid time")
}

async fn queue(url: &str, prefix: &str) -> DueQueue {
    DueQueue::connect(url, prefix, "order-timeout", Duration::from_secs(1))
        .await
        .expect("redis up")
}

/// 300 due items, 4 claimers (separate connections, like 4 replicas) racing in batches of 7:
/// every item is claimed and completed exactly once; items not yet due are left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_claimers_take_each_item_once() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("due-once");
    let q = queue(&url, &prefix).await;
    for i in 0..300 {
        q.schedule(&format!("order-{i}"), t0() - chrono::Duration::seconds(i))
            .await
            .expect("schedule");
    }
    q.schedule("later", t0() + chrono::Duration::hours(1))
        .await
        .expect("schedule");

    let mut workers = Vec::new();
    for _ in 0..4 {
        let q = queue(&url, &prefix).await;
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let claims = q
                    .claim(t0(), 7, Duration::from_secs(30))
                    .await
                    .expect("claim");
                if claims.is_empty() {
                    return done;
                }
                for claim in claims {
                    assert!(q.complete(&claim).await.expect("complete"), "{claim:?}");
                    done.push(claim.item);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("worker"));
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 300, "claims in total");
    assert_eq!(unique.len(), 300, "no item claimed twice");
    assert!(!unique.contains(&"later".to_owned()));
    assert_eq!(q.len().await.expect("len"), (1, 0), "only `later` remains");
    support::cleanup(&url, &prefix).await;
}

/// A worker claims and "crashes": after its lease runs out the item is delivered again with
/// a new token; the crashed worker's late `complete` is refused, the new holder's accepted.
#[tokio::test]
async fn an_expired_lease_is_delivered_again() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("due-lease");
    let q = queue(&url, &prefix).await;
    q.schedule("pay-1", t0()).await.expect("schedule");
    let lease = Duration::from_secs(10);

    let first = q.claim(t0(), 10, lease).await.expect("claim");
    assert_eq!(first.len(), 1);
    let during = t0() + chrono::Duration::seconds(5);
    assert!(
        q.claim(during, 10, lease).await.expect("claim").is_empty(),
        "leased"
    );

    let after = t0() + chrono::Duration::seconds(11);
    let second = q.claim(after, 10, lease).await.expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].item, "pay-1");
    assert!(second[0].token > first[0].token);

    assert!(
        !q.complete(&first[0]).await.expect("complete"),
        "stale holder refused"
    );
    assert!(q.complete(&second[0]).await.expect("complete"));
    assert_eq!(q.len().await.expect("len"), (0, 0));
    let much_later = t0() + chrono::Duration::hours(1);
    assert!(
        q.claim(much_later, 10, lease)
            .await
            .expect("claim")
            .is_empty(),
        "never again"
    );
    support::cleanup(&url, &prefix).await;
}

/// A failed attempt is rescheduled by its holder and comes back at the new due time only.
#[tokio::test]
async fn a_holder_can_reschedule() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("due-retry");
    let q = queue(&url, &prefix).await;
    q.schedule("query-1", t0()).await.expect("schedule");
    let claim = q
        .claim(t0(), 1, Duration::from_secs(30))
        .await
        .expect("claim")
        .remove(0);
    let retry_at = t0() + chrono::Duration::minutes(5);
    assert!(q.reschedule(&claim, retry_at).await.expect("reschedule"));
    let early = t0() + chrono::Duration::minutes(4);
    assert!(
        q.claim(early, 1, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_empty()
    );
    let again = q
        .claim(retry_at, 1, Duration::from_secs(30))
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert!(
        !q.complete(&claim).await.expect("complete"),
        "old token is stale"
    );
    assert!(q.complete(&again[0]).await.expect("complete"));
    support::cleanup(&url, &prefix).await;
}
