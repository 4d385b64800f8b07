//! An online copy of the embedded SQLite database (issue 22, `arbiter backup`). `VACUUM INTO`
//! writes the database as one read transaction sees it to a new file while the service goes on
//! writing: in WAL mode the copy's reader and the service's writer do not block each other, so
//! every decision acknowledged before the copy began is in it, and the ledger in it is whole.
//!
//! The copy is a plain, compacted database file (no `-wal` beside it). To restore: stop the
//! service, remove `arbiter.db`, `arbiter.db-wal` and `arbiter.db-shm` from the data directory,
//! put the copy there as `arbiter.db`, start. PostgreSQL is backed up with its own tools
//! (`pg_dump`); the README says which tables matter.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::error::StorageError;

/// Copies the SQLite database at `path` to `to`, which must not exist (it is created readable
/// by its owner only, as the database is). Returns the copy's size in bytes.
pub async fn backup_sqlite(path: &Path, to: &Path) -> Result<u64, StorageError> {
    let failed = |source| StorageError::Backup {
        to: to.to_path_buf(),
        source,
    };
    if !path.exists() {
        return Err(StorageError::BackupSource {
            path: path.to_path_buf(),
        });
    }
    // Created empty first (`VACUUM INTO` fills an empty file): never over an existing one,
    // and private from the start.
    create_private(to)?;
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await
        .map_err(|e| {
            let _ = std::fs::remove_file(to);
            failed(e)
        })?;
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(to.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    if let Err(e) = copied {
        let _ = std::fs::remove_file(to);
        return Err(failed(e));
    }
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|source| StorageError::FileMode {
            path: to.to_path_buf(),
            source,
        })
}

fn create_private(to: &Path) -> Result<(), StorageError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(to)
        .map(drop)
        .map_err(|source| StorageError::BackupTarget {
            to: to.to_path_buf(),
            source,
        })
}
