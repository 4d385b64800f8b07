//! Queries written once for both databases. Each file holds one store trait's impl as a
//! `macro_rules!` body and stamps it for [`SqliteStore`](crate::SqliteStore) and
//! [`PgStore`](crate::PgStore); the body reaches the backend only through
//! [`Dialect`](crate::dialect::Dialect) (timestamps), `reader()` and `begin_write()`, and
//! takes SQL fragments that differ (a `::jsonb` cast) as macro arguments. See
//! `crate::dialect` for why a macro and not a generic impl.
//!
//! Where a new query goes: here, unless it cannot be the same statement on both databases —
//! then in `sqlite/` and `postgres/`, with a comment saying what differs (the decision insert,
//! row by row vs `UNNEST`; the one-statement order creation; lock statements).

mod audit;
mod catalogue;
mod changes;
mod decisions;
mod due_queue;
mod feedback;
mod keys;
mod ledger;
mod lists;
mod models;
mod modules;
mod orders;
mod outbox;
mod payments;
mod policy_sets;
mod reports;
mod rollouts;

pub(crate) use changes::StatusMove;
