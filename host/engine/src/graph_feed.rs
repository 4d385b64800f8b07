//! The feed replicas follow to see each other's decisions and labels (issue 18).
//!
//! Each replica's link graph learns from the decisions it serves itself; with several replicas
//! behind a load balancer it must also learn from the others', or a ring split across N
//! replicas shows each of them a fraction of its sharing. A backend that can hold several
//! replicas (PostgreSQL) keeps, in the decision's own transaction, a narrow row of the
//! entities it names, and hands those rows out in commit order from a position, never passing
//! a row that commits late. A replica folds the rows of the others (skipping its own by
//! [`GraphFeed::replica`]) into its graph, and the labels too, so a fraud mark reaches every
//! replica, also one that was down when it was made.
//!
//! A position is the writing transaction's id and the row's id within it: rows are handed out
//! only once every transaction below their own has finished, so any row that commits later
//! lands ahead of a follower's position, never behind it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::feedback::LabelKind;
use crate::store::{DecisionEntities, StoreError};

/// Where a follower stands in a feed: after the row `id` of transaction `txid`. The default
/// is the start.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedPosition {
    pub txid: u64,
    pub id: String,
}

impl FeedPosition {
    /// Before every row of transaction `txid` and after every row of older ones.
    pub fn at(txid: u64) -> FeedPosition {
        FeedPosition {
            txid,
            id: String::new(),
        }
    }
}

/// Which rows a page of decisions reads, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedRead {
    /// Below this transaction only (a start-up build's upper bound); the live horizon if
    /// `None`.
    pub until: Option<u64>,
    /// Made at or after this instant only (the graph's window).
    pub since: Option<DateTime<Utc>>,
    /// Rows this process wrote ([`GraphFeed::replica`]) with their id and instant only: a
    /// follower skips them (they are in its graph already), and a single replica reads
    /// nothing but them.
    pub own_as_positions: bool,
}

impl FeedRead {
    /// What a running replica reads: everything new, its own rows as positions.
    pub fn following() -> FeedRead {
        FeedRead {
            own_as_positions: true,
            ..FeedRead::default()
        }
    }

    /// What a replica builds its graph from at start: every row of the window below `until`.
    pub fn building(until: u64, since: DateTime<Utc>) -> FeedRead {
        FeedRead {
            until: Some(until),
            since: Some(since),
            own_as_positions: false,
        }
    }
}

/// A committed decision's entities, as the feed hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct FedDecision {
    pub position: FeedPosition,
    /// The replica that made it ([`GraphFeed::replica`] of its process).
    pub replica: String,
    pub entities: DecisionEntities,
}

/// A committed label, as the feed hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct FedLabel {
    pub position: FeedPosition,
    pub decision_id: String,
    pub kind: LabelKind,
}

#[async_trait]
pub trait GraphFeed: Send + Sync {
    /// This process's name in the feed: the decisions it writes carry it.
    fn replica(&self) -> &str;

    /// The position every row below which is final: where a replica that starts now begins
    /// following, after it has built its graph from what lies below.
    async fn horizon(&self) -> Result<FeedPosition, StoreError>;

    /// Up to `limit` final decisions after `after`, in feed order, as `read` says.
    async fn decisions_after(
        &self,
        after: &FeedPosition,
        read: FeedRead,
        limit: u32,
    ) -> Result<Vec<FedDecision>, StoreError>;

    /// Up to `limit` final labels after `after`, in feed order.
    async fn labels_after(
        &self,
        after: &FeedPosition,
        limit: u32,
    ) -> Result<Vec<FedLabel>, StoreError>;

    /// Deletes up to `limit` of the oldest decision rows made before `before` (they have aged
    /// out of every graph); returns how many went.
    async fn prune_decisions(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError>;
}
