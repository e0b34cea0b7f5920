//! The SQLite store: opening and migrating the file, the device identity,
//! and the one write path through which every change is logged and folded.

pub mod log;
mod query;
pub mod schema;
mod write;

pub use query::*;

use crate::clock::Hlc;
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};
use uuid::Uuid;

pub const DEFAULT_FOLLOWUP_DAYS: i64 = 60;

/// This database's own identity: the laptop (or station) that writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub id: Uuid,
    pub name: String,
    pub coordinator: String,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    device: Option<Device>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let is_new = !path.exists();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::create_dir_all(dir)?;
                restrict_to_owner(dir, 0o700)?;
            }
        }
        let mut conn = Connection::open(&path)?;
        if is_new {
            // Personal data of vulnerable people: only this user may read the
            // file (SQLite gives its -wal and -shm files the same mode).
            restrict_to_owner(&path, 0o600)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > schema::current_version() {
            return Err(Error::SchemaTooNew {
                path: path.display().to_string(),
                found,
                known: schema::current_version(),
            });
        }
        schema::migrations().to_latest(&mut conn)?;
        let mut store = Store { conn, path, device: None };
        store.device = store.load_device()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Read access for modules that only query (reports, exports).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn device(&self) -> Result<&Device> {
        self.device.as_ref().ok_or(Error::NotInitialised)
    }

    pub fn is_initialised(&self) -> bool {
        self.device.is_some()
    }

    fn load_device(&self) -> Result<Option<Device>> {
        let id: Option<String> = meta_get(&self.conn, "device_id")?;
        let Some(id) = id else { return Ok(None) };
        let id = Uuid::parse_str(&id).map_err(|_| Error::Other(format!("corrupt device id {id:?}")))?;
        let (name, coordinator) = self.conn.query_row(
            "SELECT name, coordinator FROM device WHERE id = ?1",
            params![id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Some(Device { id, name, coordinator }))
    }

    /// Gives this database its identity, once: a new device id, its name and
    /// the coordinator who uses it.
    pub fn init_device(&mut self, name: &str, coordinator: &str) -> Result<Device> {
        if let Some(d) = &self.device {
            return Err(Error::AlreadyInitialised(d.name.clone()));
        }
        let mut c = crate::error::Checker::default();
        let name = c.take(crate::validate::req_text("device", &Some(name.to_string()), 100));
        let coordinator = c.take(crate::validate::req_text("coordinator", &Some(coordinator.to_string()), 100));
        let device = c.finish(|| Some(Device { id: Uuid::now_v7(), name: name?, coordinator: coordinator? }))?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        register_device(&tx, &device)?;
        meta_set(&tx, "device_id", &device.id.to_string())?;
        tx.commit()?;
        self.device = Some(device.clone());
        Ok(device)
    }

    /// A write transaction: takes the write lock at once, so that two
    /// windows or a CLI never interleave.
    pub(crate) fn transaction(&mut self) -> Result<Transaction<'_>> {
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// Runs `f` in one write transaction with the device and its clock;
    /// nothing is written unless `f` succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let device = self.device()?.clone();
        let tx = self.transaction()?;
        let last = clock_get(&tx)?;
        let mut w = Writer { tx, device, last };
        let out = f(&mut w)?;
        clock_set(&w.tx, w.last)?;
        w.tx.commit()?;
        Ok(out)
    }

    /// Like [`Store::write`], but rolls everything back: what `f` would do,
    /// without doing it (the preview of an import).
    pub fn preview<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let device = self.device()?.clone();
        let tx = self.transaction()?;
        let last = clock_get(&tx)?;
        let mut w = Writer { tx, device, last };
        let out = f(&mut w)?;
        w.tx.rollback()?;
        Ok(out)
    }

    /// Replaces the whole database with the copy at `path` (a backup taken
    /// by sync) and reads its device again.
    pub(crate) fn restore_from(&mut self, path: &Path) -> Result<()> {
        self.conn.restore(rusqlite::MAIN_DB, path, None::<fn(rusqlite::backup::Progress)>)?;
        self.device = self.load_device()?;
        Ok(())
    }

    /// Today's date where the laptop is.
    pub fn today() -> chrono::NaiveDate {
        chrono::Local::now().date_naive()
    }

    /// Days without a visit that put a person on the follow-up plan.
    pub fn followup_days(&self) -> Result<i64> {
        let stored = meta_get(&self.conn, "setting.followup_days")?;
        Ok(stored.and_then(|d| d.parse().ok()).unwrap_or(DEFAULT_FOLLOWUP_DAYS))
    }

    pub fn set_followup_days(&mut self, days: i64) -> Result<()> {
        crate::validate::in_range("followup_days", days, 1, 365).map_err(|e| Error::invalid(vec![e]))?;
        meta_set(&self.conn, "setting.followup_days", &days.to_string())
    }
}

/// An open write transaction of this device.
pub struct Writer<'a> {
    pub(crate) tx: Transaction<'a>,
    pub device: Device,
    pub(crate) last: Hlc,
}

impl Writer<'_> {
    pub fn tx(&self) -> &Transaction<'_> {
        &self.tx
    }

    /// The next stamp of this device.
    pub fn tick(&mut self) -> Hlc {
        self.last = Hlc::tick(self.last, Hlc::now_millis(), self.device.id);
        self.last
    }

    /// Moves this device's clock past a stamp received from elsewhere.
    pub fn observe(&mut self, remote: Hlc) {
        self.last = Hlc::observe(self.last, remote);
    }
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path, _mode: u32) -> Result<()> {
    // On Windows the per-user AppData folder is already private.
    Ok(())
}

pub(crate) fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
}

pub(crate) fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Records a device the first time its changes are seen (or at init).
pub fn register_device(conn: &Connection, d: &Device) -> Result<()> {
    conn.execute(
        "INSERT INTO device (id, name, coordinator, first_seen) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO NOTHING",
        params![d.id.to_string(), d.name, d.coordinator, crate::now_utc()],
    )?;
    Ok(())
}

fn clock_get(conn: &Connection) -> Result<Hlc> {
    match meta_get(conn, "hlc")? {
        Some(s) => s.parse().map_err(Error::Other),
        None => Ok(Hlc::ZERO),
    }
}

fn clock_set(conn: &Connection, hlc: Hlc) -> Result<()> {
    meta_set(conn, "hlc", &hlc.to_string())
}
