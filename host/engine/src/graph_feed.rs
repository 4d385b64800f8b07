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

    /// Up to `limit` final decisions after `after`, in feed order: made at or after `since`,
    /// and, with `until`, below that transaction (a rebuild's upper bound). A decision this
    /// process wrote ([`GraphFeed::replica`]) comes with its id and instant only: its
    /// position counts, its entities are already in this process's graph.
    async fn decisions_after(
        &self,
        after: &FeedPosition,
        until: Option<u64>,
        since: Option<DateTime<Utc>>,
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
