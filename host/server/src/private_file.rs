//! Files only the service's own user may read: the data directory (0700) and the secrets in it
//! (`admin.key`, `card-webhook.secret`, 0600). A secret file is created with `create_new`, so
//! an existing file — or a link planted where it should go — is never overwritten or
//! followed, and two processes starting on one data directory cannot both write one.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and its parents) if missing and makes it owner-only (0700), tightening a
/// directory an older release or an operator left open.
pub fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Creates `path` for a secret: fails if anything exists there; mode 0600 from the start.
pub fn create_secret_file(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Writes `secret` and a newline into a file from [`create_secret_file`] and syncs it.
pub fn write_secret(mut file: File, secret: &str) -> std::io::Result<()> {
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// The secret in `path` (trimmed), or a new one — `prefix` and 32 random bytes in hex —
/// written there owner-only when the file does not exist. `what` names it in errors and the
/// log line (never the secret itself).
pub fn read_or_generate_secret(path: &Path, what: &str, prefix: &str) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => anyhow::bail!("{} is empty", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let secret = format!("{prefix}{}", hex::encode(rand::random::<[u8; 32]>()));
    create_secret_file(path)
        .and_then(|file| write_secret(file, &secret))
        .with_context(|| format!("writing {what} to {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated {what}");
    Ok(secret.into_bytes())
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

    #[test]
    fn secrets_are_owner_only_and_never_overwrite() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        make_private_dir(&data).expect("dir");
        assert_eq!(mode(&data), 0o700);
        let key = data.join("admin.key");
        write_secret(create_secret_file(&key).expect("create"), "s3").expect("write");
        assert_eq!(mode(&key), 0o600);
        assert_eq!(std::fs::read_to_string(&key).expect("read"), "s3\n");
        let again = create_secret_file(&key).map(drop);
        assert_eq!(
            again.map_err(|e| e.kind()),
            Err(std::io::ErrorKind::AlreadyExists)
        );
        // A link planted where the secret goes is not followed.
        let target = dir.path().join("elsewhere");
        let link = data.join("card-webhook.secret");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(create_secret_file(&link).is_err());
        assert!(!target.exists(), "nothing written through the link");
    }

    #[test]
    fn an_open_data_directory_is_tightened() {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        make_private_dir(dir.path()).expect("tighten");
        assert_eq!(mode(dir.path()), 0o700);
    }
}
