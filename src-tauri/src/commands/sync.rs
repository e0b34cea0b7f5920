//! Commands of sync and consolidation: the Sync screen (laptops, export,
//! import with a preview, backups), the Conflicts and Duplicates screens.

use super::with_store;
use crate::AppState;
use serde::Deserialize;
use serde_json::Value;
use tauri::State;
use uuid::Uuid;
use wafira_core::sync::backup::Restored;
use wafira_core::sync::devices::SyncStatus;
use wafira_core::sync::merge::Decision;
use wafira_core::sync::{
    Approval, Choice, ConflictView, DuplicatePair, ExportSummary, ImportOptions, ImportReport, KeysView,
    TrustedRecipient,
};
use wafira_core::{Error, Result};

#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus> {
    with_store(&state, |s| s.sync_status())
}

/// Writes a bundle into `bundles/` beside the database; gives its path.
#[tauri::command]
pub fn export_bundle(state: State<'_, AppState>, full: bool) -> Result<ExportSummary> {
    with_store(&state, |s| s.export_bundle_to_folder(full))
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
/// a computer never seen here (a person checked its fingerprint).
#[tauri::command]
pub fn import_bundles(
    state: State<'_, AppState>,
    files: Vec<BundleFile>,
    preview: bool,
    accept_future: Option<bool>,
    approve_new: Option<bool>,
) -> Result<ImportReport> {
    let options = ImportOptions {
        dry_run: preview,
        accept_future: accept_future.unwrap_or(false),
        approve_new: approve_new.unwrap_or(false),
    };
    with_store(&state, |s| s.import_bundles_with(files.into_iter().map(|f| (f.name, f.bytes)).collect(), options))
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

#[tauri::command]
pub fn merge_persons(state: State<'_, AppState>, kept: Uuid, other: Uuid) -> Result<Decision> {
    with_store(&state, |s| s.merge_persons(kept, other))
}

#[tauri::command]
pub fn unmerge_persons(state: State<'_, AppState>, a: Uuid, b: Uuid) -> Result<Decision> {
    with_store(&state, |s| s.unmerge_persons(a, b))
}

#[tauri::command]
pub fn dismiss_duplicate(state: State<'_, AppState>, a: Uuid, b: Uuid) -> Result<Decision> {
    with_store(&state, |s| s.dismiss_duplicate(a, b))
}
