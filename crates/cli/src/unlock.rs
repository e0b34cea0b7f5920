//! How the command line opens the database: the passphrase from
//! `WAFIRA_PASSPHRASE` (the account from `WAFIRA_USER`, else the only
//! one), else the recovery key from `WAFIRA_RECOVERY_KEY`, else asked on
//! the terminal. A script with none of these gets one line saying which
//! variable to set.

use std::io::IsTerminal;
use std::path::Path;
use wafira_core::accounts::Credentials;
use wafira_core::{Error, Result, Store};
use zeroize::Zeroizing;

pub const PASSPHRASE_ENV: &str = "WAFIRA_PASSPHRASE";
pub const USER_ENV: &str = "WAFIRA_USER";
pub const RECOVERY_ENV: &str = "WAFIRA_RECOVERY_KEY";
pub const NEW_PASSPHRASE_ENV: &str = "WAFIRA_NEW_PASSPHRASE";

fn env(name: &str) -> Option<Zeroizing<String>> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).map(Zeroizing::new)
}

fn ask(prompt: &str) -> Result<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Other(format!("no passphrase: set {PASSPHRASE_ENV} (or {RECOVERY_ENV})")));
    }
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|e| Error::Other(format!("cannot read the passphrase: {e}")))
}

/// The account named for this run, if any.
pub fn user() -> Option<String> {
    env(USER_ENV).map(|u| u.to_string())
}

/// Opens the existing database at `path`.
pub fn open(path: &Path) -> Result<Store> {
    let credentials = if let Some(passphrase) = env(PASSPHRASE_ENV) {
        Credentials::Passphrase { user: user(), passphrase }
    } else if let Some(key) = env(RECOVERY_ENV) {
        Credentials::RecoveryKey(key)
    } else {
        if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
            return Err(Error::NoDatabase(path.display().to_string()));
        }
        let who = user().map(|u| format!(" of {u}")).unwrap_or_default();
        Credentials::Passphrase { user: user(), passphrase: ask(&format!("Passphrase{who}: "))? }
    };
    let mut store = Store::open(path, &credentials)?;
    if let Some(recovery) = store.take_new_recovery_key() {
        eprintln!(
            "note: this database was not encrypted; it is now. Its recovery key, shown once \
             (print it and keep it locked away): {}",
            recovery.as_str()
        );
    }
    Ok(store)
}

/// The passphrase of a new account (or a new passphrase): from `var`, or
/// asked twice on the terminal.
pub fn new_passphrase(var: &str) -> Result<Zeroizing<String>> {
    if let Some(p) = env(var) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Other(format!("no passphrase for the new account: set {var}")));
    }
    let first = ask("New passphrase: ")?;
    let again = ask("The same passphrase again: ")?;
    if first != again {
        return Err(Error::Other("the two passphrases differ: nothing was changed".into()));
    }
    Ok(first)
}
