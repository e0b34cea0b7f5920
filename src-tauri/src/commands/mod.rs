//! The window's command surface, declared once: `handler()` lists every
//! command; `ui/js/api.js` mirrors this list, and screens call only it.
//! Each command is a few lines that call the core; errors reach the window
//! as `{code, message, fields}`.

mod records;

use crate::AppState;
use wafira_core::{Error, Result, Store};

/// Runs `f` with the store, the lock held for the command's length.
pub(crate) fn with_store<T>(state: &tauri::State<'_, AppState>, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
    let mut store = state.store.lock().map_err(|_| Error::Other("the database lock was poisoned".into()))?;
    f(&mut store)
}

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        records::app_info,
        records::init_device,
        records::load_demo,
        records::set_followup_days,
        records::list_beneficiaries,
        records::add_beneficiary,
        records::update_beneficiary,
        records::archive_beneficiary,
        records::profile,
        records::possible_duplicates,
        records::add_visit,
        records::add_milestone,
        records::archive_record,
        records::followups,
    ]
}
