//! Arbiter's storage: the SQLite and PostgreSQL implementations of the engine's store traits
//! ([`arbiter_engine::store`]), the choice between them ([`connect`]), the migrations, and the
//! group-commit [`DecisionLog`] that sits in front of either.
//!
//! It owns SQL and nothing else: no decision logic, no HTTP. Domain types carry no sqlx
//! derives; each backend maps them through row types of its own (`rows`). Which backend runs is
//! decided once, from the database URL, in [`connect`].
//!
//! Where a query goes (issue 14, in progress): a statement that is the same on both databases
//! is written once in `sql/` and stamped for both stores (`sql/lists.rs` is the model to copy;
//! `dialect` says why a macro and what a body may ask of its backend). Only what truly differs
//! stays in `sqlite/` and `postgres/` — pools and pragmas, the decision insert (row by row vs
//! `UNNEST`), the one-statement order creation (`postgres/create_order.rs`), lock statements.
//! Files still in both folders that are not of that kind are twins waiting to move.

// The workspace denies unsafe code; only the policy runtime may override that, once.
#![forbid(unsafe_code)]

mod batch;
mod columns;
mod connect;
mod decision_log;
mod dialect;
mod error;
mod feedback_rows;
mod group_commit;
mod payment_rows;
mod postgres;
mod rows;
mod sql;
mod sqlite;
mod transaction_rows;

pub use connect::{Backend, DEFAULT_SQLITE_FILE, Stores, connect, connect_stores, migrate};
pub use decision_log::{DecisionLog, DecisionLogConfig, LogError, PendingAppend};
pub use error::StorageError;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
