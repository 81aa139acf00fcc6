//! The data dir: private to the server's user (0700, files 0600: the
//! database holds password hashes, sealed TOTP seeds and e-mail addresses),
//! and what it holds tells whether an instance lived here before.
//!
//! Modes are set explicitly rather than with a process umask: the umask
//! needs `unsafe` libc calls and would also apply to files other code
//! creates. SQLite creates `-wal` and `-shm` with the mode of the database
//! file, so creating that file 0600 first covers them; files of earlier
//! versions are tightened at every start.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Creates `dir` with mode 0700, or takes group and other access away from
/// an existing one that holds nothing but Twofold's files (a shared
/// directory such as /tmp given by mistake is left alone, with a warning).
pub fn prepare(dir: &Path) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating data dir {}", dir.display()))?;
    let ours = |name: &str| name.starts_with("twofold.db") || name == "masterkey" || name == "admin.pat";
    let only_ours = std::fs::read_dir(dir)
        .with_context(|| format!("reading data dir {}", dir.display()))?
        .all(|e| e.is_ok_and(|e| e.file_name().to_str().is_some_and(ours)));
    if only_ours {
        return tighten(dir, 0o700);
    }
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %dir.display(), mode = format!("{:o}", mode & 0o777),
            "the data dir holds other files and is open to other users; give Twofold a directory of its own");
    }
    Ok(())
}

/// The file of a `sqlite:` URL; None for other databases and in-memory ones.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// The files among `candidates` that exist: signs of an earlier start.
pub fn earlier_use(candidates: &[PathBuf]) -> Vec<PathBuf> {
    candidates.iter().filter(|p| p.exists()).cloned().collect()
}

/// Refuses an empty or missing database file when `markers` (files an
/// earlier start left) exist: the database was lost or truncated, and
/// starting would create a new instance over it. Creates a missing file
/// with mode 0600.
pub fn prepare_sqlite_file(file: &Path, markers: &[PathBuf]) -> anyhow::Result<()> {
    let lost = |what: &str| {
        let shown: Vec<String> = markers.iter().map(|p| p.display().to_string()).collect();
        anyhow::anyhow!(
            "the database file {} is {what}, but {} show that this data dir was used before: \
             restore the database from a backup, or move the data dir away to start a new \
             instance; nothing was changed",
            file.display(),
            shown.join(" and ")
        )
    };
    match std::fs::metadata(file) {
        Ok(meta) if meta.len() == 0 && !markers.is_empty() => Err(lost("empty")),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !markers.is_empty() => Err(lost("missing")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file)
                .with_context(|| format!("creating the database file {}", file.display()))?;
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", file.display())),
    }
}

/// Gives the database file and SQLite's `-wal` and `-shm` files mode 0600.
pub fn tighten_sqlite_files(file: &Path) -> anyhow::Result<()> {
    let mut name = file.as_os_str().to_owned();
    tighten(file, 0o600)?;
    for suffix in ["-wal", "-shm"] {
        name.push(suffix);
        let companion = PathBuf::from(&name);
        if companion.exists() {
            tighten(&companion, 0o600)?;
        }
        name = file.as_os_str().to_owned();
    }
    Ok(())
}

/// Clears the mode bits of `path` that `mode` does not allow.
pub fn tighten(path: &Path, mode: u32) -> anyhow::Result<()> {
    let current = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .permissions()
        .mode();
    if current & 0o777 & !mode != 0 {
        std::fs::set_permissions(path, Permissions::from_mode(current & 0o777 & mode))
            .with_context(|| format!("restricting access to {}", path.display()))?;
        tracing::info!(path = %path.display(), mode = format!("{:o}", current & 0o777 & mode),
            "restricted access to the owner");
    }
    Ok(())
}
