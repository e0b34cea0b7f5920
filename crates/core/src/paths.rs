//! Where the data lives: the one rule shared by the app and the CLI.
//! `--db PATH` wins, then `WAFIRA_DB`, then the per-OS data folder
//! (`~/.local/share/wafira-field/wafira.sqlite` on Linux).

use crate::error::{Error, Result};
use std::path::PathBuf;

pub const DB_ENV: &str = "WAFIRA_DB";
pub const DB_FILE: &str = "wafira.sqlite";

/// The per-OS data folder of the app.
pub fn data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("org", "Wafira", "wafira-field")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| Error::Other("no home folder: set WAFIRA_DB to the database path".into()))
}

/// The database to open, from an explicit path, the environment or the
/// default.
pub fn database_path(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p);
    }
    match std::env::var_os(DB_ENV) {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Ok(data_dir()?.join(DB_FILE)),
    }
}

/// The practice database beside a real one: `wafira.sqlite` →
/// `wafira.practice.sqlite`.
pub fn practice_path(real: &std::path::Path) -> PathBuf {
    let stem = real.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "wafira".into());
    real.with_file_name(format!("{stem}.practice.sqlite"))
}
