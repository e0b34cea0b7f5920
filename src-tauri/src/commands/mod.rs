//! The window's command surface, declared once: `handler()` lists every
//! command; `ui/js/api.js` mirrors this list, and screens call only it.
//! Each command is a few lines that call the core; errors reach the window
//! as `{code, message, fields}`.

mod audit;
pub(crate) mod files;
mod jobs;
pub(crate) mod measure;
mod programme;
mod records;
mod report;
mod session;
mod sync;

use crate::AppState;
use wafira_core::{Error, Result, Store};

/// Runs `f` with the open store, the lock held for the command's length
/// (`locked` while the database is locked).
pub(crate) fn with_store<T>(state: &tauri::State<'_, AppState>, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
    state.session.with_store(f)
}

/// One locale file of the window, read from the assets embedded in the
/// binary: WebKitGTK cannot `fetch` the app's own `tauri://` scheme.
#[tauri::command]
fn locale(app: tauri::AppHandle, lang: String, namespace: String) -> Result<serde_json::Value> {
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    if !matches!(lang.as_str(), "fr" | "ar" | "en") || !plain(&namespace) {
        return Err(Error::NotFound { entity: "locale", id: format!("{lang}/{namespace}") });
    }
    let asset = app
        .asset_resolver()
        .get(format!("locales/{lang}/{namespace}.json"))
        .ok_or_else(|| Error::NotFound { entity: "locale", id: format!("{lang}/{namespace}") })?;
    Ok(serde_json::from_slice(&asset.bytes)?)
}

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        locale,
        session::session_status,
        session::setup_database,
        session::unlock,
        session::unlock_with_recovery_key,
        session::lock,
        session::touch,
        session::set_lock_minutes,
        session::list_accounts,
        session::put_account,
        session::change_passphrase,
        session::open_practice,
        session::leave_practice,
        records::app_info,
        records::load_demo,
        records::set_followup_days,
        records::list_beneficiaries,
        records::add_beneficiary,
        records::update_beneficiary,
        records::archive_beneficiary,
        records::erase_beneficiary,
        records::profile,
        records::possible_duplicates,
        records::check_beneficiary,
        records::add_visit,
        records::add_milestone,
        records::archive_record,
        records::update_visit,
        records::update_milestone,
        records::void_visit,
        records::void_milestone,
        records::restore_beneficiary,
        records::rename_coordinator,
        records::followups,
        programme::record_kinds,
        programme::records,
        programme::add_record,
        programme::add_partner,
        programme::update_record,
        programme::void_record,
        programme::restore_record,
        programme::take_attendance,
        programme::partners,
        sync::sync_status,
        sync::export_bundle,
        sync::import_bundles,
        sync::import_bundle_files,
        sync::keys_show,
        sync::trust_recipient,
        sync::read_recipient_file,
        sync::export_recipient,
        sync::approve_device,
        sync::restore_backup,
        sync::dismiss_identity_notice,
        sync::list_conflicts,
        sync::resolve_conflict,
        sync::list_duplicates,
        sync::merge_preview,
        sync::merge_persons,
        sync::unmerge_persons,
        sync::dismiss_duplicate,
        report::indicators,
        report::list_targets,
        report::set_target,
        report::print_report,
        report::export_data,
        jobs::cancel_job,
        audit::audit_list,
        audit::audit_facets,
        audit::audit_verify,
        audit::audit_export,
        files::save_places,
        files::removable_drives,
        files::open_saved,
        files::reveal_saved,
        files::take_pending_bundle,
        measure::ready,
    ]
}
