//! Commands of the Audit log screen: the entries (filtered), what the
//! filters offer, the verification of every chain, and the CSV export to
//! the file a person chose (Save as, or the USB stick).

use super::files::Files;
use super::with_store;
use crate::AppState;
use serde_json::Value;
use std::path::PathBuf;
use tauri::State;
use wafira_core::audit::{AuditExport, AuditFacets, AuditPage, Verification};
use wafira_core::Result;

/// `filter`: {machine, action, who, since, until, limit, offset}, each optional.
#[tauri::command]
pub fn audit_list(state: State<'_, AppState>, filter: Value) -> Result<AuditPage> {
    with_store(&state, |s| s.audit_list_json(filter))
}

#[tauri::command]
pub fn audit_facets(state: State<'_, AppState>) -> Result<AuditFacets> {
    with_store(&state, |s| s.audit_facets())
}

#[tauri::command]
pub fn audit_verify(state: State<'_, AppState>) -> Result<Verification> {
    with_store(&state, |s| s.audit_verify())
}

/// Writes the log as CSV to `path`, the file a person chose (the core
/// refuses the database, its companions and backups; the window then
/// offers to open it): the entries `filter` selects, as `audit_list`'s
/// without its page, or all of them. Without a path, the whole log into
/// `reports/`. Gives where.
#[tauri::command]
pub fn audit_export(
    state: State<'_, AppState>,
    files: State<'_, Files>,
    path: Option<PathBuf>,
    filter: Option<Value>,
) -> Result<AuditExport> {
    let done = with_store(&state, |s| match &path {
        Some(path) => s.audit_export_json(path, filter.unwrap_or_else(|| Value::Object(Default::default()))),
        None => s.audit_export_to_folder(),
    })?;
    files.remember(&done.path);
    Ok(done)
}
