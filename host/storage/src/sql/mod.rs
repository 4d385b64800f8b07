//! Queries written once for both databases. Each file holds one store trait's impl as a
//! `macro_rules!` body and stamps it for [`SqliteStore`](crate::SqliteStore) and
//! [`PgStore`](crate::PgStore); the body reaches the backend only through
//! [`Dialect`](crate::dialect::Dialect) (timestamps) and the stores' `reader()`, `writer()`,
//! `begin_write()` and `begin_serialized()`, and takes SQL fragments that differ (a `::jsonb`
//! cast) as macro arguments. See `crate::dialect` for why a macro and not a generic impl.
//!
//! Where a new query goes, and what stays per backend: the crate doc (`lib.rs`).

mod audit;
mod backtests;
mod catalogue;
mod changes;
mod channel_routes;
mod decisions;
mod due_queue;
mod entity_history;
mod erasure;
mod keys;
mod labels;
mod ledger;
mod lists;
mod models;
mod modules;
mod orders;
pub(crate) mod outbox;
mod outbox_relay;
mod payments;
mod policy_sets;
mod rates;
mod recon_runs;
mod reports;
pub(crate) mod retention;
mod review_claims;
mod reviews;
mod rollouts;
mod sessions;
mod snoozes;
mod statements;

pub(crate) use changes::StatusMove;
