//! The open database and its lock. The store exists only between an
//! unlock and a lock: while locked, the key is out of memory and every
//! command but the session's own is refused with `locked`. The lock
//! comes after the minutes of inactivity set in Paramètres, counted here
//! (not only in the window), from the last command or the last key press
//! or click the window reports.
//!
//! Long work (an import, a PDF, an export: commands/jobs.rs) holds the
//! store on a thread of its own. Meanwhile the window's other commands,
//! which run on its own thread, are answered `busy` at once rather than
//! waiting for it (the window would freeze), and a lock asked for stops
//! the work at its next safe point, then locks.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wafira_core::progress::Cancel;
use wafira_core::{Error, Result, Store};

pub struct Session {
    pub path: PathBuf,
    open: Mutex<Open>,
    /// The long work running, by the window's id for it.
    jobs: Mutex<HashMap<String, Cancel>>,
    /// A lock asked for while work ran: done when it ends.
    lock_when_done: AtomicBool,
}

struct Open {
    store: Option<Store>,
    last_used: Instant,
    lock_after: Duration,
}

impl Session {
    pub fn new(path: PathBuf) -> Session {
        Session {
            path,
            open: Mutex::new(Open { store: None, last_used: Instant::now(), lock_after: Duration::MAX }),
            jobs: Mutex::new(HashMap::new()),
            lock_when_done: AtomicBool::new(false),
        }
    }

    fn open(&self) -> Result<std::sync::MutexGuard<'_, Open>> {
        self.open.lock().map_err(|_| Error::Other("the database lock was poisoned".into()))
    }

    fn jobs(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cancel>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether long work holds the store.
    fn busy(&self) -> bool {
        !self.jobs().is_empty()
    }

    /// Runs `f` with the open store, the lock held for the command's
    /// length; `locked` if the store is locked or has been idle too long,
    /// `busy` while long work holds it.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        if self.busy() {
            return Err(Error::Busy);
        }
        let mut open = self.open()?;
        if open.last_used.elapsed() > open.lock_after {
            open.store = None;
        }
        open.last_used = Instant::now();
        let store = open.store.as_mut().ok_or(Error::Locked)?;
        f(store)
    }

    /// Runs long work `f` with the open store (on the caller's thread, not
    /// the window's), `job` naming it for [`Session::cancel_job`] with the
    /// token `cancel`; `busy` if other work runs. The idle time starts
    /// again when it ends.
    pub fn run_job<T>(&self, job: &str, cancel: Cancel, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        {
            let mut jobs = self.jobs();
            if !jobs.is_empty() {
                return Err(Error::Busy);
            }
            jobs.insert(job.to_string(), cancel);
        }
        let result = self.open().and_then(|mut open| {
            let result = open.store.as_mut().ok_or(Error::Locked).and_then(f);
            open.last_used = Instant::now();
            if self.lock_when_done.swap(false, Ordering::SeqCst) {
                open.store = None;
            }
            result
        });
        self.jobs().remove(job);
        result
    }

    /// Asks the work `job` to stop at its next safe point.
    pub fn cancel_job(&self, job: &str) {
        if let Some(cancel) = self.jobs().get(job) {
            cancel.cancel();
        }
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
        if self.busy() {
            return Err(Error::Busy);
        }
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
        self.busy() || self.open().map(|o| o.store.is_some()).unwrap_or(false)
    }

    /// Drops the store, and with it the key; while work runs, stops it at
    /// its next safe point and drops the store then.
    pub fn lock(&self) {
        if self.busy() {
            self.lock_when_done.store(true, Ordering::SeqCst);
            self.jobs().values().for_each(Cancel::cancel);
            return;
        }
        if let Ok(mut open) = self.open() {
            open.store = None;
        }
    }

    /// The person is at the keyboard: the idle time starts again.
    pub fn touch(&self) {
        // Work running counts as activity: its end starts the idle time.
        if self.busy() {
            return;
        }
        if let Ok(mut open) = self.open() {
            if open.store.is_some() {
                open.last_used = Instant::now();
            }
        }
    }

    /// Locks if idle too long; whether it just did.
    pub fn lock_if_idle(&self) -> bool {
        if self.busy() {
            return false;
        }
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
