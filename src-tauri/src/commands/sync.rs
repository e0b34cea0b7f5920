//! Commands of sync and consolidation: the Sync screen (laptops, export,
//! import with a preview, backups), the Conflicts and Duplicates screens.

use super::files::Files;
use super::{jobs, with_store};
use crate::AppState;
use serde::Deserialize;
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use uuid::Uuid;
use wafira_core::progress::Step;
use wafira_core::sync::backup::Restored;
use wafira_core::sync::devices::SyncStatus;
use wafira_core::sync::merge::{Decision, MergePreview};
use wafira_core::sync::{
    Approval, Choice, ConflictView, DuplicatePair, ExportSummary, ImportOptions, ImportReport, KeysView,
    RecipientExport, RecipientFile, TrustedRecipient,
};
use wafira_core::{Error, Result};

#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus> {
    with_store(&state, |s| s.sync_status())
}

/// Writes a bundle to `path`, the file a person chose (Save as, or the USB
/// stick), or without one into `bundles/` beside the database; gives where
/// and what it carries. Nothing new since the last export: `nothing_new`.
#[tauri::command]
pub fn export_bundle(
    state: State<'_, AppState>,
    files: State<'_, Files>,
    full: bool,
    path: Option<PathBuf>,
) -> Result<ExportSummary> {
    let summary = with_store(&state, |s| match &path {
        Some(p) => s.export_bundle_to(p, full),
        None => s.export_bundle_to_folder(full),
    })?;
    files.remember(&summary.path);
    Ok(summary)
}

/// [`import_bundles`] on files chosen in the open dialog (or the bundle
/// the app was opened with), read here rather than in the window.
#[tauri::command]
pub async fn import_bundle_files(
    app: AppHandle,
    paths: Vec<PathBuf>,
    preview: bool,
    accept_future: Option<bool>,
    approve_new: Option<bool>,
    job: String,
    on_progress: Channel<Step>,
) -> Result<ImportReport> {
    let options = import_options(preview, accept_future, approve_new);
    jobs::run(&app, job, on_progress, move |s, p| s.import_bundles_progress(read_bundles(paths)?, options, p)).await
}

/// The bundle files at `paths`, named by their file name. A file larger
/// than a bundle can be is refused before it is read whole.
fn read_bundles(paths: Vec<PathBuf>) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let named = |e: std::io::Error| Error::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display())));
        let mut bytes = Vec::new();
        // A sealed bundle is its content plus a little: anything past the
        // bound is refused by the core's own check on the size.
        std::fs::File::open(&path)
            .and_then(|f| f.take(wafira_core::sync::bundle::MAX_CONTENT + (1 << 20)).read_to_end(&mut bytes))
            .map_err(named)?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().to_string());
        files.push((name, bytes));
    }
    Ok(files)
}

fn import_options(preview: bool, accept_future: Option<bool>, approve_new: Option<bool>) -> ImportOptions {
    ImportOptions {
        dry_run: preview,
        accept_future: accept_future.unwrap_or(false),
        approve_new: approve_new.unwrap_or(false),
    }
}

/// A file chosen in the window, with its bytes.
#[derive(Deserialize)]
pub struct BundleFile {
    name: String,
    bytes: Vec<u8>,
}

/// Imports the files (each all or nothing), or with `preview` only says
/// what they would bring; `accept_future` takes changes dated more than a
/// day ahead (a person checked that laptop's date); `approve_new` approves
/// a computer never seen here (a person checked its fingerprint). Each
/// bundle's step goes to `on_progress`; `cancel_job(job)` stops before the
/// next bundle.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn import_bundles(
    app: AppHandle,
    files: Vec<BundleFile>,
    preview: bool,
    accept_future: Option<bool>,
    approve_new: Option<bool>,
    job: String,
    on_progress: Channel<Step>,
) -> Result<ImportReport> {
    let options = import_options(preview, accept_future, approve_new);
    let files = files.into_iter().map(|f| (f.name, f.bytes)).collect();
    jobs::run(&app, job, on_progress, move |s, p| s.import_bundles_progress(files, options, p)).await
}

/// This computer's recipient, signing key fingerprint, and the computers
/// it encrypts its bundles to.
#[tauri::command]
pub fn keys_show(state: State<'_, AppState>) -> Result<KeysView> {
    with_store(&state, |s| s.keys())
}

/// Encrypts this computer's bundles to `recipient` (age1…) too.
#[tauri::command]
pub fn trust_recipient(state: State<'_, AppState>, name: String, recipient: String) -> Result<TrustedRecipient> {
    with_store(&state, |s| s.trust_recipient(&name, &recipient))
}

/// The recipient (and the computer's name) in the file chosen in the open
/// dialog, for a person to confirm before `trust_recipient`; the core
/// reads it (a secret key refused), not the window.
#[tauri::command]
pub fn read_recipient_file(state: State<'_, AppState>, path: PathBuf) -> Result<RecipientFile> {
    with_store(&state, |s| s.read_recipient_file(&path))
}

/// Writes this computer's recipient to `path`, the file a person chose
/// (Save as, or the USB stick), for the computers that send bundles here.
#[tauri::command]
pub fn export_recipient(state: State<'_, AppState>, files: State<'_, Files>, path: PathBuf) -> Result<RecipientExport> {
    let written = with_store(&state, |s| s.write_recipient_file(&path))?;
    files.remember(&written.path);
    Ok(written)
}

/// Approves computer `device` (for the key of `fingerprint`, when given).
#[tauri::command]
pub fn approve_device(
    state: State<'_, AppState>,
    device: Uuid,
    fingerprint: Option<String>,
    reenrol: Option<bool>,
) -> Result<Approval> {
    with_store(&state, |s| s.approve_device(device, fingerprint.as_deref(), reenrol.unwrap_or(false)))
}

#[tauri::command]
pub fn restore_backup(state: State<'_, AppState>, name: String) -> Result<Restored> {
    with_store(&state, |s| s.restore_backup(&name))
}

/// The person read the notice that this database took a new identity.
#[tauri::command]
pub fn dismiss_identity_notice(state: State<'_, AppState>) -> Result<()> {
    with_store(&state, |s| s.dismiss_identity_notice())
}

#[tauri::command]
pub fn list_conflicts(state: State<'_, AppState>, all: bool) -> Result<Vec<ConflictView>> {
    with_store(&state, |s| s.conflicts(all))
}

/// Keeps the side stamped `keep`, or sets `value`.
#[tauri::command]
pub fn resolve_conflict(
    state: State<'_, AppState>,
    id: String,
    keep: Option<String>,
    value: Option<Value>,
) -> Result<ConflictView> {
    let choice = match (keep, value) {
        (Some(stamp), _) => Choice::Keep(stamp),
        (None, Some(v)) => Choice::Value(v),
        (None, None) => return Err(Error::field("value", "required")),
    };
    with_store(&state, |s| s.resolve_conflict(&id, choice))
}

#[tauri::command]
pub fn list_duplicates(state: State<'_, AppState>, all: bool) -> Result<Vec<DuplicatePair>> {
    with_store(&state, |s| s.duplicates(all))
}

/// Both people side by side before a merge, with the fields that differ.
#[tauri::command]
pub fn merge_preview(state: State<'_, AppState>, kept: Uuid, other: Uuid) -> Result<MergePreview> {
    with_store(&state, |s| s.merge_preview(kept, other))
}

/// Merges `other` into `kept`; `take`, when given, is exactly the fields
/// that take the other's value (the window's choice); without it, the
/// fields `kept` lacks do.
#[tauri::command]
pub fn merge_persons(
    state: State<'_, AppState>,
    kept: Uuid,
    other: Uuid,
    take: Option<Vec<String>>,
) -> Result<Decision> {
    with_store(&state, |s| match take {
        Some(take) => s.merge_persons_taking(kept, other, &take, false),
        None => s.merge_persons(kept, other),
    })
}

#[tauri::command]
pub fn unmerge_persons(state: State<'_, AppState>, a: Uuid, b: Uuid) -> Result<Decision> {
    with_store(&state, |s| s.unmerge_persons(a, b))
}

#[tauri::command]
pub fn dismiss_duplicate(state: State<'_, AppState>, a: Uuid, b: Uuid) -> Result<Decision> {
    with_store(&state, |s| s.dismiss_duplicate(a, b))
}
