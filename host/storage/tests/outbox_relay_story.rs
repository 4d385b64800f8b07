//! The outbox relay's lease and position over real storage (SQLite; PostgreSQL when
//! `DATABASE_URL` is set): one holder at a time, renewed by its holder, taken over once lapsed,
//! and a holder that lost it can no longer move the position.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_transactions::store::TransactionStore;
use chrono::{Duration, Utc};

on_every_backend!(one_replica_relays_at_a_time_and_a_lapsed_lease_is_taken_over);

mod stories {
    use super::*;

    pub async fn one_replica_relays_at_a_time_and_a_lapsed_lease_is_taken_over(
        store: Arc<dyn TransactionStore>,
    ) {
        let name = format!(
            "relay-{}",
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        let now = Utc::now();
        let lease = Duration::seconds(10);
        assert_eq!(store.relay_position(&name).await.expect("read"), None);

        let (a, b) = tokio::join!(
            store.take_relay(&name, "replica-a", now + lease, now),
            store.take_relay(&name, "replica-b", now + lease, now)
        );
        let (a, b) = (a.expect("a"), b.expect("b"));
        assert_eq!(
            [a, b].iter().filter(|t| t.is_some()).count(),
            1,
            "one holder of two asking at once: {a:?} {b:?}"
        );
        let (holder, other) = if a.is_some() {
            ("replica-a", "replica-b")
        } else {
            ("replica-b", "replica-a")
        };
        assert_eq!(a.or(b), Some(0), "a new relay starts at the feed's start");

        // The holder records its position and renews; the other is refused while it holds.
        let at = now + Duration::seconds(5);
        assert!(
            store
                .record_relayed(&name, holder, 42, at + lease, at)
                .await
                .expect("record")
        );
        assert_eq!(
            store
                .take_relay(&name, other, at + lease, now + Duration::seconds(12))
                .await
                .expect("held"),
            None,
            "renewed at +5 s, the lease holds at +12 s"
        );
        assert!(
            !store
                .record_relayed(&name, other, 99, at + lease, at)
                .await
                .expect("not the holder"),
            "only the holder moves the position"
        );
        assert_eq!(
            store
                .take_relay(&name, holder, at + lease, at)
                .await
                .expect("renew"),
            Some(42),
            "the holder takes it again where it stood"
        );
        let stored = store
            .relay_position(&name)
            .await
            .expect("read")
            .expect("row");
        assert_eq!((stored.holder.as_str(), stored.after), (holder, 42));
        assert_eq!(
            stored.relayed_at.map(|t| t.timestamp()),
            Some(at.timestamp())
        );

        // The holder died: once its lease lapses the other takes over from its position, and
        // the old holder can no longer record.
        let later = at + lease + Duration::seconds(1);
        assert_eq!(
            store
                .take_relay(&name, other, later + lease, later)
                .await
                .expect("takeover"),
            Some(42)
        );
        assert!(
            !store
                .record_relayed(&name, holder, 50, later + lease, later)
                .await
                .expect("old holder"),
            "a holder whose lease was taken stops"
        );
        assert!(
            store
                .record_relayed(&name, other, 50, later + lease, later)
                .await
                .expect("new holder")
        );
        let stored = store
            .relay_position(&name)
            .await
            .expect("read")
            .expect("row");
        assert_eq!((stored.holder.as_str(), stored.after), (other, 50));
    }
}
