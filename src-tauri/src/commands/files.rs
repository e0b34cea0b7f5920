//! Files to and from people: where a Save-as dialog opens and the name it
//! offers (a USB stick when one is plugged in), opening or showing a file
//! the app saved, and a `.wafira` bundle the app was opened with (a
//! double-click on it, or a second launch handing it over).
//!
//! The dialogs themselves are the window's (tauri-plugin-dialog): it passes
//! the path chosen to the command that writes (sync.rs, report.rs), which
//! the core checks (never the database, its keys or a backup).

use super::with_store;
use crate::AppState;
use serde::Serialize;
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_opener::OpenerExt;
use wafira_core::drives::{self, Drive};
use wafira_core::{Error, Result};

/// Replaces the detection of removable drives with these folders
/// (separated as in `PATH`): for the end-to-end tests, which cannot plug a
/// stick in, and for a kiosk that always saves to one place.
pub const DRIVES_ENV: &str = "WAFIRA_REMOVABLE_DRIVES";

/// What the shell keeps about files between commands.
#[derive(Default)]
pub struct Files {
    /// The files saved since the app started: the only ones "Ouvrir" and
    /// "Afficher dans le dossier" will open, whatever path the window sends.
    saved: Mutex<HashSet<PathBuf>>,
    /// A bundle the app was asked to open, until the window takes it.
    pending: Mutex<Option<PathBuf>>,
}

impl Files {
    pub fn remember(&self, path: &Path) {
        if let Ok(mut saved) = self.saved.lock() {
            saved.insert(path.to_path_buf());
        }
    }

    fn was_saved(&self, path: &Path) -> bool {
        self.saved.lock().is_ok_and(|s| s.contains(path))
    }

    /// Keeps `path` for the window to show its import preview.
    pub fn open_later(&self, path: PathBuf) {
        if let Ok(mut pending) = self.pending.lock() {
            *pending = Some(path);
        }
    }
}

/// Keeps the web view's own `alert` and `confirm`. tauri-plugin-dialog's
/// script replaces them with native dialogs whose `confirm` answers a
/// promise: every `if (!window.confirm(…)) return;` of the screens would
/// go on without asking (restoring a backup, approving a computer). This
/// plugin, registered before it, makes them ignore being replaced.
pub fn keep_web_dialogs<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("keep-web-dialogs")
        .js_init_script(
            "(function () { for (const k of ['alert', 'confirm', 'prompt']) { const f = window[k]; \
             Object.defineProperty(window, k, { get: () => f, set: () => {}, configurable: false }); } })();"
                .to_string(),
        )
        .build()
}

/// The first `.wafira` file among command-line arguments (after the
/// program's name), skipping the value of `--db`.
pub fn bundle_arg(args: impl IntoIterator<Item = OsString>, cwd: Option<&Path>) -> Option<PathBuf> {
    let mut args = args.into_iter().skip(1);
    while let Some(a) = args.next() {
        if a == "--db" {
            args.next();
            continue;
        }
        let p = PathBuf::from(&a);
        if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wafira")) {
            return Some(match cwd {
                Some(dir) if p.is_relative() => dir.join(p),
                _ => p,
            });
        }
    }
    None
}

/// A second launch of the app on the same database: the first window comes
/// to the front, and shows the preview of the bundle it was given, if any.
pub fn second_launch(app: &AppHandle, args: Vec<String>, cwd: String) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
    let cwd = PathBuf::from(cwd);
    if let Some(bundle) = bundle_arg(args.into_iter().map(OsString::from), Some(&cwd)) {
        app.state::<Files>().open_later(bundle);
        let _ = app.emit("open-bundle", ());
    }
}

/// Files the system asks the running app to open (macOS: a double-click in
/// the Finder arrives as an event): a `.wafira` among them is previewed,
/// once the database is open.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub fn opened(app: &AppHandle, urls: Vec<tauri::Url>) {
    let bundle = urls
        .into_iter()
        .filter_map(|u| u.to_file_path().ok())
        .find(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wafira")));
    if let Some(bundle) = bundle {
        app.state::<Files>().open_later(bundle);
        let _ = app.emit("open-bundle", ());
    }
}

/// The name D-Bus knows the running app by: one per database (its path
/// hashed), so that a second window on the same database is refused while
/// another database may be open beside it. Linux only: on Windows and
/// macOS the plugin allows one instance of the app, whatever the database.
pub fn instance_id(db: &Path) -> String {
    let path = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    // FNV-1a: stable from one run and one build to the next.
    let hash = path
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("org.wafira.field.db{hash:016x}")
}

/// The removable drives mounted now (or those of `WAFIRA_REMOVABLE_DRIVES`).
fn removable() -> Vec<Drive> {
    match std::env::var_os(DRIVES_ENV) {
        Some(list) => std::env::split_paths(&list)
            .filter(|p| p.is_dir())
            .map(|path| {
                let label = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                Drive { path, label }
            })
            .collect(),
        None => drives::removable(),
    }
}

/// Where to save a file: the name offered, the removable drives, and the
/// path the Save-as dialog opens on (the name on the stick when there is
/// one); `usb` is that path when exactly one stick is plugged in, for the
/// one-click button.
#[derive(Serialize)]
pub struct SavePlaces {
    pub name: String,
    pub drives: Vec<Drive>,
    pub suggested: PathBuf,
    pub usb: Option<PathBuf>,
}

/// `what`: `bundle` (named after this computer and the bundle's number),
/// `recipient` (this computer's public key, named after it), or a report's
/// kind with its extension (`summary`/`pdf`, `export`/`xlsx`, `export`/``
/// for a folder of CSV files).
#[tauri::command]
pub fn save_places(state: State<'_, AppState>, what: String, ext: Option<String>) -> Result<SavePlaces> {
    let plain = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let ext = ext.filter(|e| !e.is_empty());
    if what.is_empty() || !plain(&what) || !ext.as_deref().is_none_or(plain) {
        return Err(Error::field("what", "invalid_type"));
    }
    let name = if what == "bundle" {
        with_store(&state, |s| s.bundle_file_name())?
    } else if what == "recipient" {
        with_store(&state, |s| s.recipient_file_name())?
    } else {
        let stamp = wafira_core::report::output_path(Path::new(""), &what, ext.as_deref());
        stamp.display().to_string()
    };
    let drives = removable();
    let suggested = drives.first().map_or_else(|| PathBuf::from(&name), |d| d.path.join(&name));
    let usb = (drives.len() == 1).then(|| drives[0].path.join(&name));
    Ok(SavePlaces { name, drives, suggested, usb })
}

/// The folder an open dialog starts in: the stick's, when one is plugged in.
#[tauri::command]
pub fn removable_drives() -> Vec<Drive> {
    removable()
}

/// Opens a file the app saved with the system's viewer (a PDF reader, a
/// spreadsheet, the file manager for a folder of CSV files).
#[tauri::command]
pub fn open_saved(app: AppHandle, files: State<'_, Files>, path: PathBuf) -> Result<()> {
    if !files.was_saved(&path) {
        return Err(Error::NotFound { entity: "saved file", id: path.display().to_string() });
    }
    if std::env::var_os("WAFIRA_NO_OPEN").is_some() {
        return Ok(());
    }
    app.opener().open_path(path.display().to_string(), None::<&str>).map_err(|e| Error::Other(e.to_string()))
}

/// Shows a file the app saved in its folder, selected.
#[tauri::command]
pub fn reveal_saved(app: AppHandle, files: State<'_, Files>, path: PathBuf) -> Result<()> {
    if !files.was_saved(&path) {
        return Err(Error::NotFound { entity: "saved file", id: path.display().to_string() });
    }
    if std::env::var_os("WAFIRA_NO_OPEN").is_some() {
        return Ok(());
    }
    app.opener().reveal_item_in_dir(&path).map_err(|e| Error::Other(e.to_string()))
}

/// The bundle the app was opened with, once: the window shows its preview
/// (after the unlock).
#[tauri::command]
pub fn take_pending_bundle(files: State<'_, Files>) -> Option<PathBuf> {
    files.pending.lock().ok().and_then(|mut p| p.take())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_bundle_among_the_arguments_is_found_but_not_the_database() {
        let found = bundle_arg(args(&["wafira-field", "--db", "x.wafira", "/media/k/agadir-0002.WAFIRA"]), None);
        assert_eq!(found, Some(PathBuf::from("/media/k/agadir-0002.WAFIRA")));
        assert_eq!(bundle_arg(args(&["wafira-field", "--db", "a.sqlite"]), None), None);
        let relative = bundle_arg(args(&["wafira-field", "b.wafira"]), Some(Path::new("/home/s")));
        assert_eq!(relative, Some(PathBuf::from("/home/s/b.wafira")));
    }

    #[test]
    fn one_database_one_instance_name() {
        let a = instance_id(Path::new("/tmp/nowhere/a.sqlite"));
        assert_eq!(a, instance_id(Path::new("/tmp/nowhere/a.sqlite")));
        assert_ne!(a, instance_id(Path::new("/tmp/nowhere/b.sqlite")));
        assert!(a.split('.').all(|part| part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())));
    }
}
