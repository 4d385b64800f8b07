//! Application services: one method per use case, called by exactly one handler each.
//! They speak domain types and their own errors; the HTTP edge maps those in `http::problem`.

pub mod backtests;
pub mod console_sessions;
pub mod decisions;
pub mod entity_history;
pub mod erasure;
pub mod feedback;
pub mod gauges;
pub mod graph;
pub mod keys;
pub mod lists;
pub mod outbox_relay;
pub mod outbox_retention;
pub mod policies;
pub mod rates;
pub mod reconciliation;
pub mod replication;
pub mod retention;
pub mod snoozes;
pub mod subject_export;
pub mod transactions;
