//! The open database and its lock. The store exists only between an
//! unlock and a lock: while locked, the key is out of memory and every
//! command but the session's own is refused with `locked`. The lock
//! comes after the minutes of inactivity set in Paramètres, counted here
//! (not only in the window), from the last command or the last key press
//! or click the window reports.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wafira_core::{Error, Result, Store};

pub struct Session {
    pub path: PathBuf,
    open: Mutex<Open>,
}

struct Open {
    store: Option<Store>,
    last_used: Instant,
    lock_after: Duration,
}

impl Session {
    pub fn new(path: PathBuf) -> Session {
        Session { path, open: Mutex::new(Open { store: None, last_used: Instant::now(), lock_after: Duration::MAX }) }
    }

    fn open(&self) -> Result<std::sync::MutexGuard<'_, Open>> {
        self.open.lock().map_err(|_| Error::Other("the database lock was poisoned".into()))
    }

    /// Runs `f` with the open store, the lock held for the command's
    /// length; `locked` if the store is locked or has been idle too long.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut open = self.open()?;
        if open.last_used.elapsed() > open.lock_after {
            open.store = None;
        }
        open.last_used = Instant::now();
        let store = open.store.as_mut().ok_or(Error::Locked)?;
        f(store)
    }

    /// Sets the lock delay in the open database, and here at once.
    pub fn set_lock_minutes(&self, minutes: i64) -> Result<()> {
        self.with_store(|s| s.set_lock_minutes(minutes))?;
        let mut open = self.open()?;
        if let Some(store) = open.store.as_ref() {
            open.lock_after = lock_after(store);
        }
        Ok(())
    }

    /// Replaces the open store with the one `f` makes from it (the
    /// practice database, opened from the real one).
    pub fn switch(&self, f: impl FnOnce(&mut Store) -> Result<Store>) -> Result<()> {
        let mut open = self.open()?;
        let store = open.store.as_mut().ok_or(Error::Locked)?;
        let next = f(store)?;
        open.lock_after = lock_after(&next);
        open.store = Some(next);
        open.last_used = Instant::now();
        Ok(())
    }

    /// Holds `store` as the open database, the account's sign-in logged
    /// in the audit trail.
    pub fn unlocked(&self, mut store: Store) -> Result<()> {
        store.log_sign_in("window")?;
        let mut open = self.open()?;
        open.lock_after = lock_after(&store);
        open.store = Some(store);
        open.last_used = Instant::now();
        Ok(())
    }

    pub fn is_open(&self) -> bool {
        self.open().map(|o| o.store.is_some()).unwrap_or(false)
    }

    /// Drops the store, and with it the key.
    pub fn lock(&self) {
        if let Ok(mut open) = self.open() {
            open.store = None;
        }
    }

    /// The person is at the keyboard: the idle time starts again.
    pub fn touch(&self) {
        if let Ok(mut open) = self.open() {
            if open.store.is_some() {
                open.last_used = Instant::now();
            }
        }
    }

    /// Locks if idle too long; whether it just did.
    pub fn lock_if_idle(&self) -> bool {
        let Ok(mut open) = self.open() else { return false };
        if open.store.is_some() && open.last_used.elapsed() > open.lock_after {
            open.store = None;
            return true;
        }
        false
    }
}

/// The idle time after which `store` locks: its setting, read when it is
/// opened and when the setting changes (it changes nowhere else: it does
/// not travel), not at every command.
fn lock_after(store: &Store) -> Duration {
    let minutes = store.lock_minutes().unwrap_or(wafira_core::store::DEFAULT_LOCK_MINUTES);
    Duration::from_secs(minutes.max(1) as u64 * 60)
}
