//! Every file the app or the CLI writes (bundles, PDFs, spreadsheets, CSV,
//! backups) goes through here: readable by its owner only (0600, folders
//! 0700) on Linux and macOS, since they hold personal data; written whole
//! under a temporary name, then renamed; and never over the database, its
//! `-wal`/`-shm` files or a backup of it.
//!
//! On Windows, files inherit the permissions of the user's profile folder
//! (`%APPDATA%`, readable by that user and administrators only); the
//! database and its backups live there.

use crate::error::{Error, FieldError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Creates `dir` (and its parents) if needed; a folder this creates is
/// readable by its owner only.
pub fn private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        // Every folder it creates, not only the last.
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    Ok(())
}

/// Makes an existing file or folder readable by its owner only.
#[cfg(unix)]
pub fn restrict(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

#[cfg(not(unix))]
pub fn restrict(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` whole (a temporary name, synced, renamed), the
/// file readable by its owner only from its first byte.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    let written = (|| -> Result<()> {
        let mut f = create_private(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    })();
    if let Err(e) = written.and_then(|()| Ok(std::fs::rename(&tmp, path)?)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(unix)]
fn create_private(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    Ok(std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> Result<std::fs::File> {
    Ok(std::fs::File::create(path)?)
}

/// Refuses an output path that is the database `db`, one of its `-wal`,
/// `-shm` or `-journal` files, its `.accounts` file (the keys that open
/// it), or a file of its `backups/` folder: a mistyped `--out`, or a file
/// chosen in a Save-as dialog, must never replace the data.
pub fn check_output(db: &Path, out: &Path) -> Result<()> {
    let canon = |p: &Path| -> PathBuf {
        // The file may not exist yet: resolve its folder, keep its name.
        match (p.parent(), p.file_name()) {
            (Some(dir), Some(name)) => {
                let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
                std::fs::canonicalize(dir).map(|d| d.join(name)).unwrap_or_else(|_| p.to_path_buf())
            }
            _ => p.to_path_buf(),
        }
    };
    let out = canon(out);
    let db = canon(db);
    let mut forbidden = vec![db.clone()];
    for suffix in ["-wal", "-shm", "-journal", ".accounts"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        forbidden.push(PathBuf::from(p));
    }
    let in_backups = db.parent().is_some_and(|d| out.starts_with(d.join("backups")));
    if forbidden.contains(&out) || in_backups {
        return Err(Error::invalid(vec![FieldError::new("out", "is_the_database").with("path", out.display())]));
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_and_new_folders_are_the_owners_only() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/folder/file.pdf");
        write_private(&out, b"%PDF").unwrap();
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
        let folder = dir.path().join("new");
        assert_eq!(std::fs::metadata(folder).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn the_database_and_its_companions_are_never_an_output() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("wafira.sqlite");
        std::fs::write(&db, b"x").unwrap();
        for bad in
            ["wafira.sqlite", "wafira.sqlite-wal", "wafira.sqlite-shm", "wafira.sqlite.accounts", "backups/copy.sqlite"]
        {
            let err = check_output(&db, &dir.path().join(bad)).unwrap_err();
            assert!(err.as_invalid().is_some_and(|i| i.has("out", "is_the_database")), "{bad}");
        }
        assert!(check_output(&db, &dir.path().join("report.pdf")).is_ok());
        // Through another spelling of the same folder.
        let sneaky = dir.path().join(".").join("wafira.sqlite");
        assert!(check_output(&db, &sneaky).is_err());
    }
}
