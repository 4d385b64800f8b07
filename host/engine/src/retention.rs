//! Retention: which kinds of stored rows expire by age, what an expiry keeps, and the store's
//! part (one small batch at a time). The server's job (`services::retention`) calls it.
//!
//! What is kept, whatever its age, and why:
//! - a decision with a label (training data and the model's evaluation need it), with a
//!   review (an open case is still worked; a resolved one carries its label), or named by an
//!   order or a payment as its risk record (a chargeback labelled by order reads it, and the
//!   order stays as long as the ledger does);
//! - nothing else holds callbacks or audit entries: they go by age alone. Orders, payments,
//!   refunds and the ledger never expire (the books are kept whole); the outbox has its own
//!   retention (`--outbox-retention-secs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreError;

/// A kind of row that expires by age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expiring {
    /// Decisions (with their projection `decision_features`), except the kept ones above.
    Decisions,
    /// Payment channels' callbacks as received (`channel_callbacks`).
    Callbacks,
    /// The audit log.
    Audit,
}

impl Expiring {
    pub const ALL: [Expiring; 3] = [Expiring::Decisions, Expiring::Callbacks, Expiring::Audit];

    pub fn as_str(self) -> &'static str {
        match self {
            Expiring::Decisions => "decisions",
            Expiring::Callbacks => "callbacks",
            Expiring::Audit => "audit",
        }
    }
}

#[async_trait]
pub trait RetentionStore: Send + Sync + 'static {
    /// Deletes at most `limit` rows of `kind` older than `before` (oldest first, never one
    /// that is kept), in one short transaction; returns how many went.
    async fn expire(
        &self,
        kind: Expiring,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;

    /// Gives at most `pages` free pages of the database file back to the file system (SQLite's
    /// incremental vacuum); 0 where the database manages its own space (PostgreSQL).
    async fn reclaim_space(&self, pages: u32) -> Result<u64, StoreError>;
}
