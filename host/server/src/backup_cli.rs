//! `arbiter backup --to FILE`: a consistent copy of the embedded SQLite database while the
//! service runs (`arbiter_storage::backup_sqlite`), and how to restore it. PostgreSQL is
//! backed up with `pg_dump` (README, "Backup").

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::config::StorageArgs;

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The copy to write; it must not exist.
    #[arg(long)]
    pub to: PathBuf,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(args: BackupArgs) -> anyhow::Result<()> {
    let backend = arbiter_storage::Backend::from_url(
        args.storage.database_url.as_deref(),
        &args.storage.data_dir,
    )?;
    let arbiter_storage::Backend::Sqlite(path) = &backend else {
        anyhow::bail!(
            "{backend} is backed up with PostgreSQL's own tools: `pg_dump --format=custom` \
             (README, \"Backup\"); `arbiter backup` copies the embedded SQLite database"
        );
    };
    let bytes = arbiter_storage::backup_sqlite(path, &args.to)
        .await
        .context("backing up")?;
    println!(
        "backed up {} to {} ({bytes} bytes).\nTo restore: stop the service, remove arbiter.db, \
         arbiter.db-wal and arbiter.db-shm from the data directory, copy the backup there as \
         arbiter.db, start it.",
        path.display(),
        args.to.display()
    );
    Ok(())
}
