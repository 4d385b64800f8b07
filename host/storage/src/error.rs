//! Storage errors: [`StorageError`] for opening and migrating a database, the one mapping
//! from sqlx's errors to the engine's [`StoreError`] that every query goes through, and the
//! refusals both backends give before a bad argument reaches a constraint (so the message names
//! the value instead of quoting the database).

use std::path::PathBuf;

use arbiter_engine::registry::RolloutStatus;
use arbiter_engine::store::StoreError;
use sqlx::migrate::MigrateError;
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

/// Why a database could not be opened or migrated. Messages never contain the database URL:
/// it may carry a password.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(
        "unsupported database URL scheme `{scheme}`: expected `sqlite:` or `postgres://` (or none for the data directory)"
    )]
    UnsupportedScheme { scheme: String },
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("while creating the directory `{path}`: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("while making `{path}` readable by its owner only: {source}")]
    FileMode {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("while connecting to {backend}: {source}")]
    Connect {
        backend: String,
        source: sqlx::Error,
    },
    #[error("while migrating {backend}: {source}")]
    Migrate {
        backend: String,
        source: MigrateError,
    },
    #[error("no SQLite database at `{path}` to back up")]
    BackupSource { path: PathBuf },
    #[error("cannot create the backup `{to}` (it must not exist yet): {source}")]
    BackupTarget { to: PathBuf, source: std::io::Error },
    #[error("while copying the database to `{to}`: {source}")]
    Backup { to: PathBuf, source: sqlx::Error },
}

/// Maps a sqlx error to the engine's error: the database being unreachable, overloaded or out of
/// disk is [`StoreError::Unavailable`] (the caller answers 503 and retries later), a row that
/// does not decode is [`StoreError::Corrupt`], anything else is [`StoreError::Backend`].
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    let unavailable = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(sqlite) = db.try_downcast_ref::<SqliteError>() {
                sqlite_unavailable(sqlite)
            } else if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                pg_unavailable(pg.code())
            } else {
                false
            }
        }
        _ => false,
    };
    match e {
        _ if unavailable => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// [`store_error`], but a foreign-key violation on activating a policy set names the version
/// that does not exist.
pub(crate) fn missing_policy_set(e: sqlx::Error, version: i64) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Backend(format!("policy set version `{version}` does not exist"))
        }
        _ => store_error(e),
    }
}

/// Refuses a rollout naming a policy set version that is not among `found` (the versions of
/// `wanted` that exist), naming the first missing one.
pub(crate) fn require_policy_sets(found: &[i64], wanted: &[i64]) -> Result<(), StoreError> {
    match wanted.iter().find(|v| !found.contains(v)) {
        Some(missing) => Err(StoreError::Backend(format!(
            "policy set version `{missing}` does not exist"
        ))),
        None => Ok(()),
    }
}

/// Refuses a rollout share above 100 % before it reaches the database's CHECK constraint, with
/// a message that names it.
pub(crate) fn require_percent(percent: u8) -> Result<(), StoreError> {
    if percent > 100 {
        return Err(StoreError::Backend(format!(
            "rollout percent `{percent}` is above 100"
        )));
    }
    Ok(())
}

/// Refuses to "end" a rollout as `active`: it ends promoted or rolled back.
pub(crate) fn require_ending(status: RolloutStatus) -> Result<(), StoreError> {
    if status == RolloutStatus::Active {
        return Err(StoreError::Backend(
            "a rollout ends as `promoted` or `rolled_back`, not `active`".into(),
        ));
    }
    Ok(())
}

/// SQLite primary result codes (the low byte of the extended code) that mean "not now":
/// BUSY and LOCKED (after the 5 s busy timeout), IOERR, FULL (disk full), CANTOPEN.
fn sqlite_unavailable(e: &SqliteError) -> bool {
    use sqlx::error::DatabaseError;
    let primary = e
        .code()
        .and_then(|c| c.parse::<i32>().ok())
        .map(|c| c & 0xff);
    matches!(primary, Some(5 | 6 | 10 | 13 | 14))
}

/// PostgreSQL SQLSTATEs that mean "not now": class 08 (connection exception), 53 (insufficient
/// resources: too many connections, disk full, out of memory), 57P01..57P03 (shutting down,
/// cannot connect now) and the transient transaction conflicts 40001 and 40P01.
fn pg_unavailable(code: &str) -> bool {
    // 40001 / 40P01: a serialization failure or a deadlock victim (group-commit batches of two
    // replicas can lock the same SKUs in opposite orders). Transient and nothing was written:
    // the client retries with the same idempotency key.
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeouts_are_unavailable_and_decode_errors_corrupt() {
        assert!(matches!(
            store_error(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            store_error(sqlx::Error::Decode("bad".into())),
            StoreError::Corrupt(_)
        ));
        assert!(matches!(
            store_error(sqlx::Error::RowNotFound),
            StoreError::Backend(_)
        ));
    }

    #[test]
    fn pg_connection_classes_are_unavailable() {
        assert!(pg_unavailable("08006"));
        assert!(pg_unavailable("53300"));
        assert!(pg_unavailable("57P03"));
        assert!(!pg_unavailable("23505"));
    }
}
