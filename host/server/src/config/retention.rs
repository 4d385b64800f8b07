//! How long each kind of stored row is kept (issue 22). 0 keeps it forever, the default:
//! deleting is an operator's choice. What an expiry keeps whatever the age is
//! `arbiter_engine::retention`'s module doc; the outbox's own flag is `RelayArgs`.

use std::time::Duration;

use arbiter_engine::retention::Expiring;
use clap::Args;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Args, Default)]
pub struct RetentionArgs {
    /// Decisions older than this many seconds are deleted, except those with a label, with a
    /// review, or that an order or a payment names; 0 keeps them all.
    #[arg(long, env = "ARBITER_DECISION_RETENTION_SECS", default_value_t = 0)]
    pub decision_retention_secs: u64,
    /// Payment channels' callbacks (raw bodies as received) older than this are deleted; 0
    /// keeps them all.
    #[arg(long, env = "ARBITER_CALLBACK_RETENTION_SECS", default_value_t = 0)]
    pub callback_retention_secs: u64,
    /// Audit entries older than this are deleted; 0 keeps them all.
    #[arg(long, env = "ARBITER_AUDIT_RETENTION_SECS", default_value_t = 0)]
    pub audit_retention_secs: u64,
    /// Channel statements imported longer ago than this lose their file and parsed rows (the
    /// record stays; a day with an open ticket keeps them); 0 keeps them all.
    #[arg(long, env = "ARBITER_STATEMENT_RETENTION_SECS", default_value_t = 0)]
    pub statement_retention_secs: u64,
    /// PostgreSQL: the time one partition of decisions covers (they expire a partition at a
    /// time, so up to this much later than their age says). A day by default; 0 means a day.
    #[arg(long, env = "ARBITER_DECISION_PARTITION_SECS", default_value_t = DAY)]
    pub decision_partition_secs: u64,
}

const DAY: u64 = 86_400;

impl RetentionArgs {
    /// How long `kind` is kept; `None`: forever.
    pub fn keep(&self, kind: Expiring) -> Option<Duration> {
        let secs = match kind {
            Expiring::Decisions => self.decision_retention_secs,
            Expiring::Callbacks => self.callback_retention_secs,
            Expiring::Audit => self.audit_retention_secs,
            Expiring::Statements => self.statement_retention_secs,
        };
        (secs > 0).then(|| Duration::from_secs(secs))
    }

    /// The time one partition of decisions covers (PostgreSQL).
    pub fn partition_span(&self) -> Duration {
        Duration::from_secs(match self.decision_partition_secs {
            0 => DAY,
            secs => secs,
        })
    }
}
