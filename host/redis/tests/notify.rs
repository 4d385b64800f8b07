//! `RedisNotifier` against the real Redis: a change published on one replica reaches the
//! others, and a subscriber whose connection is killed resubscribes and asks for a re-check.

mod support;

use std::time::Duration;

use arbiter_redis::{ChangeKind, Notification, NotifyCause, RedisNotifier, RedisNotifierConfig};
use tokio::sync::broadcast;

fn notifier(url: &str, prefix: &str, origin: &str) -> RedisNotifier {
    let mut config = RedisNotifierConfig::new(url, prefix, origin);
    config.ping_interval = Duration::from_millis(200);
    RedisNotifier::start(config).expect("valid url")
}

async fn next(rx: &mut broadcast::Receiver<Notification>) -> Notification {
    tokio::time::timeout(Duration::from_secs(1), rx.recv())
        .await
        .expect("delivered within one second")
        .expect("channel open")
}

/// Published on replica 1, delivered to replicas 2 and 3 (and back to 1) within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reaches_two_subscribers() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("notify");
    let r1 = notifier(&url, &prefix, "r1");
    let r2 = notifier(&url, &prefix, "r2");
    let r3 = notifier(&url, &prefix, "r3");
    for r in [&r1, &r2, &r3] {
        assert!(
            r.wait_subscribed(Duration::from_secs(2)).await,
            "subscribed"
        );
    }
    let (mut rx2, mut rx3) = (r2.subscribe(), r3.subscribe());
    let receivers = r1
        .publish(ChangeKind::Policy, Some(7), None)
        .await
        .expect("publish");
    assert_eq!(receivers, 3, "three subscribed replicas");
    for rx in [&mut rx2, &mut rx3] {
        let note = next(rx).await;
        assert_eq!(note.kind, ChangeKind::Policy);
        assert_eq!(note.version, Some(7));
        assert_eq!(note.origin, "r1");
        assert_eq!(note.cause, NotifyCause::Published);
    }
    r2.publish(ChangeKind::Lists, None, Some("n-1".into()))
        .await
        .expect("publish");
    let note = next(&mut rx3).await;
    assert_eq!(
        (note.kind, note.nonce.as_deref()),
        (ChangeKind::Lists, Some("n-1"))
    );
}

/// The subscriber's connection is killed server-side: it resubscribes, delivers one
/// `Reconnected` signal per kind (messages may have been missed), then delivers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_subscription_resubscribes_and_asks_for_a_recheck() {
    let Some(url) = support::redis_url().await else {
        return;
    };
    let prefix = support::prefix("resub");
    let sub = notifier(&url, &prefix, "r2");
    let publisher = notifier(&url, &prefix, "r1");
    assert!(sub.wait_subscribed(Duration::from_secs(2)).await);
    let mut rx = sub.subscribe();

    let mut conn = support::raw(&url).await.expect("connection");
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("USER")
        .arg("default")
        .arg("SKIPME")
        .arg("yes")
        .arg("ID")
        .arg(subscriber_id(&mut conn, &format!("{prefix}notify:r2")).await)
        .query_async(&mut conn)
        .await
        .expect("client kill");
    assert_eq!(killed, 1);

    let mut rechecks = Vec::new();
    while rechecks.len() < ChangeKind::ALL.len() {
        let note = tokio::time::timeout(Duration::from_secs(3), rx.recv())
            .await
            .expect("resubscribed within 3 s")
            .expect("open");
        assert_eq!(note.cause, NotifyCause::Reconnected);
        rechecks.push(note.kind);
    }
    assert!(sub.is_subscribed());
    publisher
        .publish(ChangeKind::Model, Some(3), None)
        .await
        .expect("publish");
    loop {
        let note = next(&mut rx).await;
        if note.cause == NotifyCause::Published {
            assert_eq!((note.kind, note.version), (ChangeKind::Model, Some(3)));
            break;
        }
    }
}

/// The id of the subscriber connection named `name` (only this test uses its prefix).
async fn subscriber_id(conn: &mut redis::aio::MultiplexedConnection, name: &str) -> i64 {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(conn)
        .await
        .expect("client list");
    let ids: Vec<i64> = list
        .lines()
        .filter(|line| line.split(' ').any(|f| f == format!("name={name}")))
        .filter_map(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
        .filter_map(|id| id.parse().ok())
        .collect();
    assert_eq!(ids.len(), 1, "one subscriber named `{name}`: {list}");
    ids[0]
}
