//! What the queries written once (`sql/`) need to know about the backend they run on, and
//! nothing more: how a timestamp is bound and read back, where reads go and how a write
//! transaction begins, and how a writer excludes the others from a table ([`Serialized`]).
//! Each backend's store implements it; the per-backend folders
//! (`sqlite/`, `postgres/`) keep only what truly differs (pools and pragmas, the decision
//! insert, the one-statement order creation, lock statements).
//!
//! Why a stamping macro per file and not a generic `impl<D: Dialect> Store for D`: the store
//! traits are the engine's, so a blanket impl over a local trait breaks the orphan rule, and a
//! generic `SqlStore<D: sqlx::Database>` needs higher-ranked `Executor`/`Encode` bounds whose
//! futures the compiler cannot prove `Send` for every lifetime inside `async_trait` (the same
//! wall `group_commit::BatchStatements` met). A `macro_rules!` that stamps one body for
//! `SqliteStore` and `PgStore` compiles each against concrete sqlx types, so the code is
//! written once and checked twice. SQL is written with `$N` placeholders, which SQLite also
//! takes.

use chrono::{DateTime, SubsecRound, Utc};

use crate::columns::timestamp_text;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;

/// The backend facts a query written once needs.
pub(crate) trait Dialect {
    /// How a timestamp is stored: fixed-width RFC 3339 text on SQLite (it has no time type;
    /// text order is time order), `TIMESTAMPTZ` on PostgreSQL.
    type Time: StoredTime + Send;

    /// `t` as this backend binds it.
    fn time(t: DateTime<Utc>) -> Self::Time;

    /// Most parameters one multi-row `INSERT` binds. sqlx's SQLite driver looks each
    /// parameter's name up among all of the statement's (`sqlite3_bind_parameter_name`), a cost
    /// quadratic in their number: 5,500 made a million-row statement import take 74 s, 440
    /// takes it under 10 (BENCHMARKS.md, "Reconciliation"). PostgreSQL binds by position.
    const MAX_INSERT_PARAMS: usize;

    /// Rows of `columns` values per multi-row `INSERT`.
    fn rows_per_insert(columns: usize) -> usize {
        (Self::MAX_INSERT_PARAMS / columns).max(1)
    }
}

impl Dialect for SqliteStore {
    type Time = String;
    const MAX_INSERT_PARAMS: usize = 440;

    fn time(t: DateTime<Utc>) -> String {
        timestamp_text(t)
    }
}

impl Dialect for PgStore {
    type Time = DateTime<Utc>;
    const MAX_INSERT_PARAMS: usize = 5_500;

    /// Cut to the microsecond PostgreSQL keeps (it would round), as SQLite's text is.
    fn time(t: DateTime<Utc>) -> DateTime<Utc> {
        t.trunc_subsecs(6)
    }
}

/// A table whose writers an invariant needs one at a time: a dense `max + 1` numbering, or an
/// at-most-one-active check followed by an insert. Each backend's `begin_serialized` opens a
/// write transaction in which no other writer inserts into or updates the table until commit
/// (`sqlite.rs`, `postgres.rs` say how, with their `// INVARIANT:`). Each maps to a static
/// lock statement, so no SQL is assembled from input.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Serialized {
    PolicySets,
    PolicyModules,
    Rollouts,
    RateTables,
    /// Retention's record of where the outbox feed starts: one pruner at a time.
    OutboxHorizon,
}
