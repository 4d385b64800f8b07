//! Arbiter's storage: the SQLite and PostgreSQL implementations of the engine's store traits
//! ([`arbiter_engine::store`]), the choice between them ([`connect`]), the migrations, and the
//! group-commit [`DecisionLog`] that sits in front of either.
//!
//! It owns SQL and nothing else: no decision logic, no HTTP. Domain types carry no sqlx
//! derives; both backends map them through the same row types (`rows`, `*_rows`), generic over
//! how a backend stores a timestamp. Which backend runs is decided once, from the database
//! URL, in [`connect`].
//!
//! Where a query goes:
//!
//! - **Once, in `sql/`**, when it can be the same statement on both databases — nearly always.
//!   Each file there is one store trait's impl as a `macro_rules!` body stamped for
//!   [`SqliteStore`] and [`PgStore`]; it reaches the backend only through `dialect::Dialect`
//!   (how a timestamp binds), `reader()`, `writer()`, `begin_write()`, `begin_serialized()`
//!   and the group-commit writers, and takes SQL fragments that differ (`"::jsonb"`) as macro
//!   arguments. Example: `sql/lists.rs`, the model to copy for a new table. `dialect` says why
//!   a macro and not a generic impl.
//! - **Per backend, in `sqlite/` and `postgres/`**, only when the statement itself must differ,
//!   as an inherent method the shared body calls, with a comment saying what differs. Example:
//!   `write_decisions` (`sqlite/decisions.rs`: row by row inside the single writer's group
//!   commit; `postgres/decisions.rs`: one `UNNEST` insert), called by `sql/decisions.rs`. The
//!   others of that kind: the one-statement order creation (`create_order.rs`), the change
//!   steps PostgreSQL writes as one data-modifying CTE (`changes.rs`), the outbox feed's page
//!   (`outbox.rs`), pools and pragmas (`sqlite.rs`, `postgres.rs`), and the lock statements
//!   behind `begin_serialized` with their `// INVARIANT:`.
//!
//! Migrations are never edited: a schema change is a new migration with the same name in
//! `migrations/sqlite` and `migrations/postgres`.

// The workspace denies unsafe code; only the policy runtime may override that, once.
#![forbid(unsafe_code)]

mod backtest_rows;
mod backup;
mod batch;
mod columns;
mod connect;
mod decision_events;
mod decision_log;
mod dialect;
mod erasure_columns;
mod error;
mod feedback_rows;
mod group_commit;
mod payment_rows;
mod postgres;
mod rows;
mod sql;
mod sqlite;
mod stored_decision;
mod transaction_rows;

pub use backup::backup_sqlite;
pub use connect::{Backend, DEFAULT_SQLITE_FILE, Stores, connect, connect_stores, migrate};
pub use decision_events::DecisionEvents;
pub use decision_log::{DecisionLog, DecisionLogConfig, LogError, PendingAppend};
pub use error::StorageError;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
/// The JSON a stored decision packs: what its compression dictionary is trained on
/// (`examples/decision_samples.rs`).
pub use stored_decision::body_json as decision_dictionary_sample;
/// The JSON a `decisions.packed` value holds, for what reads the database directly (the erasure
/// test's search of every column).
pub use stored_decision::unpack as unpack_decision;
