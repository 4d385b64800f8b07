//! The outbox feed: every [`Change`](crate::change::Change) writes its events to the `outbox`
//! table in the same transaction as the state they announce, and consumers pull them, the way
//! Stripe's `/v1/events` works — `GET /v1/events?after=<id>&limit=<n>`. A consumer keeps the
//! `next_after` of the last page and asks for what follows; it sees every committed event
//! exactly once, an event never before the change that caused it has committed, and each
//! order's events in the order its steps happened.
//!
//! Nothing is marked: a pull feed keeps its position with the consumer (`next_after`), so
//! `outbox.published_at` stays NULL and several consumers can read the same feed
//! independently. What "the order of the feed" means per backend is the store's to keep (see
//! [`OutboxStore::events_after`]); this module owns the paging rules.
//!
//! Retention deletes the feed's oldest events once they are old enough (and relayed, when a
//! relay runs): always a prefix of the feed, recorded as where the feed now starts
//! (`starts_after`). A consumer at that position goes on as before; one behind it is told
//! that its next events expired ([`TxError::EventsExpired`]) rather than silently skipped.

use chrono::{DateTime, Utc};

use crate::error::TxError;
use crate::store::OutboxStore;

/// Events per page when the consumer does not say.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most events one page may hold.
pub const MAX_LIMIT: u32 = 1000;

/// An event as the feed hands it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Unique and positive; the consumer's position (`after`) is the id of the last event seen.
    pub id: i64,
    /// `order.paid`, `payment.succeeded`, `refund.succeeded`, …
    pub topic: String,
    pub payload: serde_json::Value,
    /// When the change that wrote it was decided.
    pub created_at: DateTime<Utc>,
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<OutboxEvent>,
    /// Where the next page starts: the last event's id, or the `after` asked for when the page
    /// is empty.
    pub next_after: i64,
    /// Where the feed starts: the last event retention deleted (0: none was).
    pub starts_after: i64,
}

/// What the store finds after a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedRead {
    /// The committed events that follow it, in feed order.
    Events(Vec<OutboxEvent>),
    /// It is neither 0, an event, nor where the feed starts.
    Unknown,
    /// Its event was deleted by retention, and others after it: resuming would skip them.
    Expired,
}

/// The page after `after` (default 0) of at most `limit` events (default [`DEFAULT_LIMIT`],
/// 1 to [`MAX_LIMIT`]). An `after` below 0 or naming no event, and a `limit` out of range, are
/// invalid and name the parameter.
pub async fn page<S: OutboxStore + ?Sized>(
    store: &S,
    after: Option<i64>,
    limit: Option<u32>,
) -> Result<EventPage, TxError> {
    let after = after.unwrap_or(0);
    if after < 0 {
        return Err(TxError::invalid("after", "must be 0 or an event id"));
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(TxError::invalid(
            "limit",
            format!("must be 1 to {MAX_LIMIT}"),
        ));
    }
    let read = store.events_after(after, limit).await?;
    let starts_after = store.feed_start().await?;
    let events = match read {
        FeedRead::Events(events) => events,
        FeedRead::Unknown => {
            return Err(TxError::invalid(
                "after",
                format!("no event `{after}`: use 0 or the `next_after` of a page"),
            ));
        }
        FeedRead::Expired => {
            return Err(TxError::EventsExpired {
                after,
                starts_after,
            });
        }
    };
    let next_after = events.last().map_or(after, |e| e.id);
    Ok(EventPage {
        events,
        next_after,
        starts_after,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;

    /// A feed of events `1..=n` in id order, recording what it was asked.
    struct Feed {
        n: i64,
        /// Events up to this one were deleted.
        start: i64,
        asked: Mutex<Vec<(i64, u32)>>,
    }

    #[async_trait]
    impl OutboxStore for Feed {
        async fn events_after(&self, after: i64, limit: u32) -> Result<FeedRead, TxError> {
            self.asked.lock().expect("lock").push((after, limit));
            if after > self.n {
                return Ok(FeedRead::Unknown);
            }
            if after < self.start {
                return Ok(FeedRead::Expired);
            }
            Ok(FeedRead::Events(
                (after + 1..=self.n)
                    .take(limit as usize)
                    .map(|id| OutboxEvent {
                        id,
                        topic: "order.paid".into(),
                        payload: serde_json::json!({"n": id}),
                        created_at: Utc::now(),
                    })
                    .collect(),
            ))
        }

        async fn feed_start(&self) -> Result<i64, TxError> {
            Ok(self.start)
        }

        async fn prune_outbox(
            &self,
            _before: DateTime<Utc>,
            _up_to: Option<i64>,
            _limit: u32,
        ) -> Result<u64, TxError> {
            Ok(0)
        }
    }

    fn feed(n: i64) -> Feed {
        Feed {
            n,
            start: 0,
            asked: Mutex::new(Vec::new()),
        }
    }

    #[tokio::test]
    async fn defaults_are_the_start_and_a_hundred() {
        let f = feed(150);
        let p = page(&f, None, None).await.expect("page");
        assert_eq!(p.events.len(), 100);
        assert_eq!(p.next_after, 100);
        assert_eq!(f.asked.lock().expect("lock").as_slice(), &[(0, 100)]);
    }

    #[tokio::test]
    async fn paging_by_next_after_sees_every_event_once() {
        let f = feed(25);
        let (mut after, mut seen) = (None, Vec::new());
        loop {
            let p = page(&f, after, Some(7)).await.expect("page");
            if p.events.is_empty() {
                assert_eq!(p.next_after, 25, "an empty page keeps the position");
                break;
            }
            seen.extend(p.events.iter().map(|e| e.id));
            after = Some(p.next_after);
        }
        assert_eq!(seen, (1..=25).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn bad_parameters_are_named() {
        let f = feed(3);
        for (after, limit, field) in [
            (Some(-1), None, "after"),
            (None, Some(0), "limit"),
            (None, Some(MAX_LIMIT + 1), "limit"),
            (Some(4), None, "after"),
        ] {
            match page(&f, after, limit).await {
                Err(TxError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{after:?} {limit:?}: {other:?}"),
            }
        }
        assert!(page(&f, None, Some(MAX_LIMIT)).await.is_ok());
    }

    #[tokio::test]
    async fn a_position_behind_the_feeds_start_is_told_its_events_expired() {
        let f = Feed {
            start: 10,
            ..feed(25)
        };
        let p = page(&f, Some(10), Some(5)).await.expect("from the start");
        assert_eq!((p.starts_after, p.events[0].id), (10, 11));
        match page(&f, Some(4), None).await {
            Err(TxError::EventsExpired {
                after: 4,
                starts_after: 10,
            }) => {}
            other => panic!("{other:?}"),
        }
    }
}
