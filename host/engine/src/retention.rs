//! Retention: which kinds of stored rows expire by age, what an expiry keeps, and the store's
//! part (one small batch at a time). The server's job (`services::retention`) calls it.
//!
//! What is kept, whatever its age, and why:
//! - a decision with a label (training data and the model's evaluation need it), with a
//!   review (an open case is still worked; a resolved one carries its label), or named by an
//!   order or a payment as its risk record (a chargeback labelled by order reads it, and the
//!   order stays as long as the ledger does);
//! - on PostgreSQL decisions live in time partitions and expire a whole partition at a time,
//!   once its newest instant is older than the age (so up to one partition's span late): the
//!   kept ones are moved out first, into a partition that never expires
//!   ([`RetentionStore::expire_partition`]); decisions outside every time partition (made
//!   before the partitions existed, or dated oddly) expire by batches like SQLite's;
//! - a statement whose day has an open reconciliation ticket keeps its file and rows (the
//!   ticket is still worked against them);
//! - nothing else holds callbacks or audit entries: they go by age alone. Orders, payments,
//!   refunds and the ledger never expire (the books are kept whole); the outbox has its own
//!   retention (`--outbox-retention-secs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreError;

/// A kind of row that expires by age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expiring {
    /// Decisions, except the kept ones above.
    Decisions,
    /// Payment channels' callbacks as received (`channel_callbacks`).
    Callbacks,
    /// The audit log.
    Audit,
    /// Channel statements' files and parsed rows; the statement's record stays (runs, tickets
    /// and settlements name it), and a day whose statement expired is not reconciled again
    /// until its file is imported again.
    Statements,
}

impl Expiring {
    pub const ALL: [Expiring; 4] = [
        Expiring::Decisions,
        Expiring::Callbacks,
        Expiring::Audit,
        Expiring::Statements,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Expiring::Decisions => "decisions",
            Expiring::Callbacks => "callbacks",
            Expiring::Audit => "audit",
            Expiring::Statements => "statements",
        }
    }
}

/// What one step of [`RetentionStore::expire_partition`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionStep {
    /// No partition is due (or another replica is at it).
    Nothing,
    /// A page of the partition's decisions was looked at; `kept` of them moved out.
    Walked { partition: String, kept: u64 },
    /// The partition was detached (no query sees it any more); `kept` decisions labelled while
    /// it was walked moved out with it.
    Detached { partition: String, kept: u64 },
    /// A detached partition was dropped with its `deleted` decisions.
    Dropped { partition: String, deleted: u64 },
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

    /// Makes sure time partitions cover decisions made from `from` to `through` (PostgreSQL:
    /// `span` long each, on a grid from the epoch, continuing after the newest one); returns
    /// how many were made. Nothing where decisions live in one table (SQLite).
    async fn prepare_partitions(
        &self,
        _from: DateTime<Utc>,
        _through: DateTime<Utc>,
        _span: std::time::Duration,
    ) -> Result<u32, StoreError> {
        Ok(0)
    }

    /// One step of expiring the oldest time partition entirely older than `before`: first its
    /// kept decisions move out and it is detached, then (the next step) it is dropped.
    /// [`PartitionStep::Nothing`] when no partition is due (always, on SQLite).
    async fn expire_partition(&self, _before: DateTime<Utc>) -> Result<PartitionStep, StoreError> {
        Ok(PartitionStep::Nothing)
    }

    /// Gives at most `pages` free pages of the database file back to the file system (SQLite's
    /// incremental vacuum); 0 where the database manages its own space (PostgreSQL).
    async fn reclaim_space(&self, _pages: u32) -> Result<u64, StoreError> {
        Ok(0)
    }
}
