//! The outbox relay's place in the feed (issue 21). A relay pushes the outbox feed
//! ([`crate::outbox`]) to an event bus in feed order; what it must remember across restarts
//! and replicas is where it stands (the last event the bus acknowledged) and who runs it.
//!
//! One replica relays at a time: it holds a lease in the database, renews it with every
//! position it records, and another replica takes the relay over once the lease has lapsed
//! (its holder died or lost the database). A holder that finds its lease taken stops. The bus
//! de-duplicates by event id, so the events between the last recorded position and a crash
//! are published again without being stored twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::TxError;

/// A relay as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayPosition {
    /// The replica that runs it.
    pub holder: String,
    /// Until when, unless renewed.
    pub expires_at: DateTime<Utc>,
    /// The last event the bus acknowledged (a feed `after`; 0: none yet).
    pub after: i64,
    /// When a position was last recorded.
    pub relayed_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait RelayStore: Send + Sync + 'static {
    /// Takes relay `name` for `holder` until `until` — new, already `holder`'s, or lapsed at
    /// `now` — and returns where it stands; `None` while another replica holds it. Of several
    /// replicas asking at once, one gets it.
    async fn take_relay(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, TxError>;

    /// Records that every event up to `after` is on the bus and renews `holder`'s lease until
    /// `until`; false when another replica has taken the relay over (the caller stops).
    async fn record_relayed(
        &self,
        name: &str,
        holder: &str,
        after: i64,
        until: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool, TxError>;

    /// Relay `name` as stored, if it ever ran.
    async fn relay_position(&self, name: &str) -> Result<Option<RelayPosition>, TxError>;
}
