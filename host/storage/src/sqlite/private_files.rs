//! The embedded database's files are readable by their owner only: they hold every decision
//! with the customer's e-mail, phone, IP and device. SQLite creates a new database file with
//! the process's umask (0644 under the usual 022) and gives its `-wal` and `-shm` files the
//! database file's own mode, so creating the file 0600 before SQLite opens it, and tightening
//! files an older release left readable, keeps all three private.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::StorageError;

/// Owner read and write, nothing for anyone else.
const PRIVATE: u32 = 0o600;

/// Creates `db` with mode 0600 if it is missing and sets 0600 on it and its `-wal` / `-shm`
/// files where they exist.
pub(crate) fn make_private(db: &Path) -> Result<(), StorageError> {
    let failed = |path: &Path, source| StorageError::FileMode {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE)
        .open(db)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(failed(db, e)),
    }
    for path in [db.to_path_buf(), sibling(db, "-wal"), sibling(db, "-shm")] {
        match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(PRIVATE)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(failed(&path, e)),
        }
    }
    Ok(())
}

/// `arbiter.db` + `-wal` → `arbiter.db-wal`.
fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[tokio::test]
    async fn a_new_database_and_its_log_files_are_owner_only() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = dir.path().join("a.db");
        let store = crate::sqlite::SqliteStore::open(&db).await.expect("open");
        for path in [db.clone(), sibling(&db, "-wal"), sibling(&db, "-shm")] {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        store.close().await;
    }

    #[tokio::test]
    async fn files_an_older_release_left_readable_are_tightened() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = dir.path().join("a.db");
        let store = crate::sqlite::SqliteStore::open(&db).await.expect("open");
        store.close().await;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let store = crate::sqlite::SqliteStore::open(&db).await.expect("reopen");
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&sibling(&db, "-wal")), 0o600);
        store.close().await;
    }
}
