//! Commands of the session: first set-up, unlock (passphrase or recovery
//! key), lock, and the window's report that a person is at the keyboard.

use crate::AppState;
use serde_json::{json, Value};
use tauri::State;
use wafira_core::accounts::{self, Credentials};
use wafira_core::{Error, FieldError, Result, Store};
use zeroize::Zeroizing;

/// Where the window starts: `new` (no database yet: set-up), `locked`
/// (the unlock screen, with the accounts' names to choose from) or `open`.
#[tauri::command]
pub fn session_status(state: State<'_, AppState>) -> Result<Value> {
    let s = &state.session;
    let exists = std::fs::metadata(&s.path).map(|m| m.len() > 0).unwrap_or(false);
    let status = if s.is_open() {
        "open"
    } else if exists {
        "locked"
    } else {
        "new"
    };
    let names: Vec<String> = accounts::list(&s.path).unwrap_or_default().into_iter().map(|a| a.name).collect();
    Ok(json!({ "state": status, "database": s.path, "accounts": names }))
}

fn same_twice(field: &str, a: &str, b: &str) -> Result<()> {
    if a != b {
        return Err(Error::invalid(vec![FieldError::new(field, "passphrases_differ")]));
    }
    Ok(())
}

/// First run: creates the encrypted database, its first account (a
/// manager) and this laptop's identity; gives the recovery key, once.
#[tauri::command]
pub fn setup_database(
    state: State<'_, AppState>,
    device: String,
    coordinator: String,
    account: String,
    passphrase: Zeroizing<String>,
    passphrase_again: Zeroizing<String>,
) -> Result<Value> {
    same_twice("passphrase_again", &passphrase, &passphrase_again)?;
    let (store, recovery) = Store::create_device(&state.session.path, &account, &passphrase, &device, &coordinator)?;
    state.session.unlocked(store)?;
    Ok(json!({ "recovery_key": recovery.as_str() }))
}

/// Opens the database with an account's passphrase.
#[tauri::command]
pub fn unlock(state: State<'_, AppState>, user: Option<String>, passphrase: Zeroizing<String>) -> Result<()> {
    let store = Store::open(&state.session.path, &Credentials::Passphrase { user, passphrase })?;
    state.session.unlocked(store)
}

/// The passphrase is lost: the recovery key opens the database and the
/// account gets a new passphrase (its role kept; a manager where the
/// accounts file itself was lost).
#[tauri::command]
pub fn unlock_with_recovery_key(
    state: State<'_, AppState>,
    recovery_key: Zeroizing<String>,
    user: String,
    passphrase: Zeroizing<String>,
    passphrase_again: Zeroizing<String>,
) -> Result<()> {
    same_twice("passphrase_again", &passphrase, &passphrase_again)?;
    let path = &state.session.path;
    let role = accounts::list(path)?
        .into_iter()
        .find(|a| a.name.eq_ignore_ascii_case(user.trim()))
        .map(|a| a.role)
        .unwrap_or(wafira_core::access::Role::Manager);
    let mut store = Store::open(path, &Credentials::RecoveryKey(recovery_key))?;
    let account = store.put_account(&user, role, &passphrase)?;
    store.set_actor(wafira_core::access::Actor { name: account.name, role: account.role });
    state.session.unlocked(store)
}

#[tauri::command]
pub fn lock(state: State<'_, AppState>) {
    state.session.lock();
}

/// A key press or a click in the window (sent at most every few seconds).
#[tauri::command]
pub fn touch(state: State<'_, AppState>) {
    state.session.touch();
}

#[tauri::command]
pub fn set_lock_minutes(state: State<'_, AppState>, minutes: i64) -> Result<()> {
    state.session.set_lock_minutes(minutes)
}

/// The accounts of this computer (a manager's view).
#[tauri::command]
pub fn list_accounts(state: State<'_, AppState>) -> Result<Vec<accounts::Account>> {
    state.session.with_store(|s| s.accounts())
}

/// Adds an account, or gives one a new passphrase and role (a manager).
#[tauri::command]
pub fn put_account(
    state: State<'_, AppState>,
    name: String,
    role: String,
    passphrase: Zeroizing<String>,
    passphrase_again: Zeroizing<String>,
) -> Result<accounts::Account> {
    same_twice("passphrase_again", &passphrase, &passphrase_again)?;
    let role = wafira_core::access::Role::parse("role", &role)?;
    state.session.with_store(|s| s.put_account(&name, role, &passphrase))
}

/// The account signed in changes its own passphrase.
#[tauri::command]
pub fn change_passphrase(
    state: State<'_, AppState>,
    passphrase: Zeroizing<String>,
    passphrase_again: Zeroizing<String>,
) -> Result<accounts::Account> {
    same_twice("passphrase_again", &passphrase, &passphrase_again)?;
    state.session.with_store(|s| s.change_own_passphrase(&passphrase))
}

/// Leaves the real data for the practice database (made-up people, a
/// banner on every screen); its key comes from the real database.
#[tauri::command]
pub fn open_practice(state: State<'_, AppState>) -> Result<()> {
    state.session.switch(|real| real.open_practice())
}

/// Back to the real data: the practice database is closed and the real
/// one asks for its passphrase again.
#[tauri::command]
pub fn leave_practice(state: State<'_, AppState>) {
    state.session.lock();
}
