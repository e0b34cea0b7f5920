//! The SQLite store: opening and migrating the file, the device identity,
//! and the one write path through which every change is logged and folded.

mod body;
pub mod log;
mod query;
mod rebuild;
pub mod records;
pub mod schema;
mod write;

pub use query::*;
pub(crate) use write::edited_beneficiary;

use crate::access::{Actor, Role};
use crate::accounts::{Credentials, DbKey};
use crate::audit::{Act, Note};
use crate::clock::Hlc;
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};
use uuid::Uuid;
use zeroize::Zeroizing;

pub const DEFAULT_FOLLOWUP_DAYS: i64 = 60;
pub const DEFAULT_LOCK_MINUTES: i64 = 10;

/// The page cache of a store's connection, in KiB (`PRAGMA cache_size`
/// takes KiB when negative): 32 MiB, the pages a search at 100,000 people
/// reads, within the app's memory budget (docs/performance.md).
const PAGE_CACHE_KIB: i64 = -32 * 1024;

/// This database's own identity: the laptop (or station) that writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub id: Uuid,
    pub name: String,
    pub coordinator: String,
    /// The identity this database had before it was restored or copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub successor_of: Option<Uuid>,
}

/// Why this database took a new device identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Renewal {
    /// A backup was restored: the changes made since it will come back
    /// from the station's next bundle, where they exist.
    Restored,
    /// The file is a copy (another file, or another machine): the original
    /// may still be writing under the old identity.
    Copied,
    /// A bundle brought changes made under this very identity that this
    /// database does not have: a copy of it writes elsewhere.
    SeenElsewhere,
}

/// A new identity taken, as told to the person once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityRenewed {
    pub reason: Renewal,
    pub previous: Uuid,
    pub device: Uuid,
    pub at: String,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    device: Option<Device>,
    /// The account that unlocked the store (see [`crate::access`]).
    pub(crate) actor: crate::access::Actor,
    /// The key the file is encrypted with, held while the store is open.
    key: DbKey,
    new_recovery_key: Option<Zeroizing<String>>,
}

impl Store {
    /// Opens the database at `path` with `credentials` (an account's
    /// passphrase, the recovery key, or the key itself), and migrates it.
    /// A plain database of an older version is encrypted on the way (see
    /// [`Store::encrypt_plain`]); a file that is not one of ours, or that
    /// these credentials do not open, is left exactly as it was.
    pub fn open(path: impl AsRef<Path>, credentials: &Credentials) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) == 0 {
            return Err(Error::NoDatabase(path.display().to_string()));
        }
        if is_plain_sqlite(&path)? {
            check_ours(&path)?;
            return Store::encrypt_plain(path, credentials);
        }
        let (key, actor) = crate::accounts::unlock(&path, credentials)?;
        let wrong = || match credentials {
            Credentials::RecoveryKey(_) => Error::field("recovery_key", "wrong_recovery_key"),
            _ => Error::NotOurs(path.display().to_string()),
        };
        let conn = connect(&path, &key).map_err(|_| wrong())?;
        Store::finish_open(conn, path, key, actor)
    }

    /// Creates an encrypted database at `path` (which must not hold one)
    /// with its first account, a manager, and its device identity. Returns
    /// the store and the recovery key, to be shown once. Nothing is left
    /// behind when any part of it is refused.
    pub fn create_device(
        path: impl AsRef<Path>,
        account: &str,
        passphrase: &str,
        device: &str,
        coordinator: &str,
    ) -> Result<(Store, Zeroizing<String>)> {
        let path = path.as_ref();
        refuse_existing(path)?;
        crate::accounts::check_new(account, passphrase)?;
        check_device_names(device, coordinator)?;
        let made = Store::create(path, account, passphrase)
            .and_then(|(mut store, recovery)| store.init_device(device, coordinator).map(|_| (store, recovery)));
        // Only what this call made is removed: the path held nothing.
        if made.is_err() {
            for suffix in ["", "-wal", "-shm", ".accounts", ".numbered"] {
                let mut p = path.as_os_str().to_owned();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
        }
        made
    }

    /// Creates an encrypted database at `path` (which must not hold one)
    /// with its first account, a manager. Returns the store and the
    /// recovery key, to be shown once.
    pub fn create(path: impl AsRef<Path>, account: &str, passphrase: &str) -> Result<(Store, Zeroizing<String>)> {
        let path = path.as_ref().to_path_buf();
        refuse_existing(&path)?;
        let key = DbKey::random();
        // The account first: its checks (name, passphrase length) refuse
        // before any file is made.
        let actor = Actor { name: account.trim().to_string(), role: Role::Manager };
        crate::accounts::check_new(account, passphrase)?;
        let store = Store::create_with_key(&path, key)?;
        crate::accounts::put(&path, &store.key, account, Role::Manager, passphrase)?;
        let recovery = store.key.recovery_text();
        let mut store = store;
        store.actor = actor;
        Ok((store, recovery))
    }

    /// Opens the database at `path` with its key itself, creating it if
    /// there is none: for tests, benchmarks and tools that hold the key.
    /// Acts as the key holder.
    pub fn open_with_key(path: impl AsRef<Path>, key: &DbKey) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) == 0 {
            return Store::create_with_key(&path, key.clone());
        }
        Store::open(path, &Credentials::Key(key.clone()))
    }

    fn create_with_key(path: &Path, key: DbKey) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::private_dir(dir)?;
        }
        // Personal data of vulnerable people: only this user may read the
        // file (SQLite gives its -wal and -shm files the same mode).
        crate::files::write_private(path, b"")?;
        let conn = connect(path, &key)?;
        Store::finish_open(conn, path.to_path_buf(), key, Actor::key_holder())
    }

    fn finish_open(mut conn: Connection, path: PathBuf, key: DbKey, actor: Actor) -> Result<Store> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Every page read from the file is decrypted and its MAC checked,
        // which costs far more than the read: SQLite's default cache
        // (2 MiB) holds less than the people of a 3,000-person station, so
        // a search decrypted the same pages again at every keystroke (a
        // search of 530 people among 10,000: 11 ms, 1.4 ms with this cache).
        // Pages are kept only once read, so a station that reads little
        // holds little (docs/performance.md, *Search and lists*).
        conn.pragma_update(None, "cache_size", PAGE_CACHE_KIB)?;
        // Every statement of the write path and an import stays prepared:
        // those on the change log expand its view, and inserts into a record
        // table compile its triggers (schema V8), so preparing one again
        // costs more than running it. rusqlite keeps 16 by default, fewer
        // than one write uses, and was preparing most of them every time.
        conn.set_prepared_statement_cache_capacity(256);
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > schema::current_version() {
            return Err(Error::SchemaTooNew {
                path: path.display().to_string(),
                found,
                known: schema::current_version(),
            });
        }
        schema::migrate(&mut conn)?;
        // This computer's key pair, made once (a database of an older schema
        // gets its pair at its first open).
        crate::sync::keys::ensure(&conn)?;
        let mut store = Store { conn, path, device: None, actor, key, new_recovery_key: None };
        store.device = store.load_device()?;
        store.check_same_file()?;
        store.upgrade_records()?;
        Ok(store)
    }

    /// A database left unencrypted by an older version is encrypted under
    /// a new key: copied whole into an encrypted file (SQLCipher's
    /// export), which then replaces it; its backups likewise. The person
    /// who opened it with a passphrase becomes its first manager; the
    /// recovery key is kept for [`Store::take_new_recovery_key`].
    fn encrypt_plain(path: PathBuf, credentials: &Credentials) -> Result<Store> {
        let (key, actor, account) = match credentials {
            Credentials::Key(k) => (k.clone(), Actor::key_holder(), None),
            Credentials::RecoveryKey(_) => return Err(Error::field("recovery_key", "wrong_recovery_key")),
            Credentials::Passphrase { user, passphrase } => {
                let name = user.clone().unwrap_or_else(|| "admin".into());
                crate::accounts::check_new(&name, passphrase)?;
                (DbKey::random(), Actor { name: name.trim().to_string(), role: Role::Manager }, Some(passphrase))
            }
        };
        encrypt_file_in_place(&path, &key)?;
        let backups = path.parent().map(|d| d.join("backups")).unwrap_or_default();
        if let Ok(entries) = std::fs::read_dir(&backups) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().ends_with(".sqlite") && is_plain_sqlite(&e.path()).unwrap_or(false) {
                    encrypt_file_in_place(&e.path(), &key)?;
                }
            }
        }
        if let Some(passphrase) = account {
            crate::accounts::put(&path, &key, &actor.name, Role::Manager, passphrase)?;
        }
        let conn = connect(&path, &key)?;
        let mut store = Store::finish_open(conn, path, key, actor)?;
        if account.is_some() {
            store.new_recovery_key = Some(store.key.recovery_text());
        }
        Ok(store)
    }

    /// The recovery key made when this open encrypted an older plain
    /// database, once.
    pub fn take_new_recovery_key(&mut self) -> Option<Zeroizing<String>> {
        self.new_recovery_key.take()
    }

    /// The database key, for the modules that open its backups.
    pub(crate) fn key(&self) -> &DbKey {
        &self.key
    }

    /// Adds an account to this database (or gives an existing one a new
    /// passphrase and role).
    pub fn put_account(&mut self, name: &str, role: Role, passphrase: &str) -> Result<crate::accounts::Account> {
        self.require(crate::access::Action::ManageAccounts)?;
        let account = crate::accounts::put(&self.path, &self.key, name, role, passphrase)?;
        self.log(Note::new(Act::AccountPut, &account.name).detail(account.role.as_str()))?;
        Ok(account)
    }

    /// The accounts that open this database.
    pub fn accounts(&self) -> Result<Vec<crate::accounts::Account>> {
        self.require(crate::access::Action::ManageAccounts)?;
        crate::accounts::list(&self.path)
    }

    /// Removes an account (never the last manager).
    pub fn remove_account(&mut self, name: &str) -> Result<bool> {
        self.require(crate::access::Action::ManageAccounts)?;
        let removed = crate::accounts::remove(&self.path, name)?;
        if removed {
            self.log(Note::new(Act::AccountRemove, name.trim()))?;
        }
        Ok(removed)
    }

    /// Changes the passphrase of the account that unlocked the store, which
    /// any account may do for itself.
    pub fn change_own_passphrase(&mut self, passphrase: &str) -> Result<crate::accounts::Account> {
        // Opened with the recovery key, there is no account of one's own:
        // an account is named with `put_account` instead.
        if self.actor == Actor::key_holder() {
            return Err(Error::field("account", "no_own_account"));
        }
        let Actor { name, role } = self.actor.clone();
        let account = crate::accounts::put(&self.path, &self.key, &name, role, passphrase)?;
        self.log(Note::new(Act::AccountPassphrase, &account.name))?;
        Ok(account)
    }

    /// A database copied to another file (or restored by hand from a copy)
    /// must not go on writing under the identity of the one it was copied
    /// from: both would number different changes alike. The file's identity
    /// (device and inode, on Unix) is kept in the database; a database
    /// that finds itself in another file takes a new device identity. A file
    /// only moved within its disk keeps its inode; one moved to another
    /// disk takes a new identity, which costs nothing but a name in the
    /// devices list.
    ///
    /// An older copy put back over the file by hand keeps the inode; the
    /// number of this device's last change, kept beside the database
    /// ([`Store::numbered_path`]), tells it: the database holds fewer of its
    /// own changes than it had made.
    fn check_same_file(&mut self) -> Result<()> {
        let Some(here) = file_identity(&self.path) else { return Ok(()) };
        let recorded = meta_get(&self.conn, FILE_KEY)?;
        match recorded {
            Some(r) if r == here => {}
            Some(_) if self.device.is_some() => {
                self.renew_identity(Renewal::Copied)?;
                return Ok(());
            }
            _ => meta_set(&self.conn, FILE_KEY, &here)?,
        }
        let Some(me) = self.device.as_ref().map(|d| d.id) else { return Ok(()) };
        let made = std::fs::read_to_string(self.numbered_path()).unwrap_or_default();
        let made: Option<(Uuid, i64)> = made
            .split_once(' ')
            .and_then(|(id, seq)| Some((Uuid::parse_str(id.trim()).ok()?, seq.trim().parse().ok()?)));
        if let Some((id, seq)) = made {
            if id == me && seq > self.own_last_seq()? {
                self.renew_identity(Renewal::Restored)?;
            }
        }
        Ok(())
    }

    /// Beside the database: this device's id and the number of its last
    /// change, written after each write (see [`Store::check_same_file`]).
    pub fn numbered_path(&self) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(".numbered");
        PathBuf::from(p)
    }

    fn own_last_seq(&self) -> Result<i64> {
        last_seq_of(&self.conn, self.device()?.id)
    }

    /// Continues under a new device identity, linked to the current one:
    /// same name and coordinator, new id, the same keys (the same
    /// computer's secrets: a station that approved the old identity knows
    /// the new one by its signing key), bundle numbers from 1 again, and
    /// a request for a full bundle from the next machine that imports this
    /// one's (what a restore rolled back may be held there).
    pub fn renew_identity(&mut self, reason: Renewal) -> Result<IdentityRenewed> {
        let old = self.device()?.clone();
        let new = Device { id: Uuid::now_v7(), successor_of: Some(old.id), ..old.clone() };
        let renewed = IdentityRenewed { reason, previous: old.id, device: new.id, at: crate::now_utc() };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        register_device(&tx, &new)?;
        meta_set(&tx, "device_id", &new.id.to_string())?;
        // Bundle numbers start again, and the first bundle carries all this
        // database holds: a machine that takes it knows all this one does.
        tx.execute("DELETE FROM meta WHERE key IN ('sync.export_number', 'sync.exported_rcv')", [])?;
        meta_set(&tx, crate::sync::export::WANT_FULL_KEY, &Uuid::now_v7().to_string())?;
        meta_set(&tx, RENEWED_KEY, &serde_json::to_string(&renewed)?)?;
        if let Some(here) = file_identity(&self.path) {
            meta_set(&tx, FILE_KEY, &here)?;
        }
        tx.commit()?;
        note_numbered(&self.numbered_path(), new.id, 0);
        self.device = Some(new);
        Ok(renewed)
    }

    /// The last identity renewal, until a person has read it
    /// ([`Store::dismiss_identity_notice`]).
    pub fn identity_notice(&self) -> Result<Option<IdentityRenewed>> {
        let Some(text) = meta_get(&self.conn, RENEWED_KEY)? else { return Ok(None) };
        let v: serde_json::Value = serde_json::from_str(&text)?;
        let id = |k: &str| v.get(k).and_then(|s| s.as_str()).and_then(|s| Uuid::parse_str(s).ok());
        let reason = match v.get("reason").and_then(|r| r.as_str()) {
            Some("restored") => Renewal::Restored,
            Some("copied") => Renewal::Copied,
            _ => Renewal::SeenElsewhere,
        };
        Ok(match (id("previous"), id("device")) {
            (Some(previous), Some(device)) => Some(IdentityRenewed {
                reason,
                previous,
                device,
                at: v.get("at").and_then(|s| s.as_str()).unwrap_or_default().to_string(),
            }),
            _ => None,
        })
    }

    /// A person read the notice: any account may say so.
    pub fn dismiss_identity_notice(&mut self) -> Result<()> {
        self.require(crate::access::Action::Read)?;
        self.conn.execute("DELETE FROM meta WHERE key = ?1", params![RENEWED_KEY])?;
        Ok(())
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

    /// Reads this device's name and coordinator again (after a rename).
    pub(crate) fn reload_device(&mut self) -> Result<()> {
        self.device = self.load_device()?;
        Ok(())
    }

    fn load_device(&self) -> Result<Option<Device>> {
        let id: Option<String> = meta_get(&self.conn, "device_id")?;
        let Some(id) = id else { return Ok(None) };
        let id = Uuid::parse_str(&id).map_err(|_| Error::Other(format!("corrupt device id {id:?}")))?;
        let (name, coordinator, successor_of): (String, String, Option<String>) = self.conn.query_row(
            "SELECT name, coordinator, successor_of FROM device WHERE id = ?1",
            params![id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let successor_of = successor_of.and_then(|s| Uuid::parse_str(&s).ok());
        Ok(Some(Device { id, name, coordinator, successor_of }))
    }

    /// Gives this database its identity, once: a new device id, its name and
    /// the coordinator who uses it.
    pub fn init_device(&mut self, name: &str, coordinator: &str) -> Result<Device> {
        if let Some(d) = &self.device {
            return Err(Error::AlreadyInitialised(d.name.clone()));
        }
        let (name, coordinator) = check_device_names(name, coordinator)?;
        let device = Device { id: Uuid::now_v7(), name, coordinator, successor_of: None };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        crate::sync::keys::ensure(&tx)?;
        register_device(&tx, &device)?;
        meta_set(&tx, "device_id", &device.id.to_string())?;
        if let Some(here) = file_identity(&self.path) {
            meta_set(&tx, FILE_KEY, &here)?;
        }
        // A new database has no milestone of an older version to upgrade,
        // so its opens have nothing to check and write.
        meta_set(&tx, MILESTONES_UPGRADED, "1")?;
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
        let numbered = self.numbered_path();
        let tx = self.transaction()?;
        let last = clock_get(&tx)?;
        let mut w = Writer { tx, device, last };
        let out = f(&mut w)?;
        let Writer { tx, last, device } = w;
        clock_set(&tx, last)?;
        let seq = last_seq_of(&tx, device.id)?;
        tx.commit()?;
        note_numbered(&numbered, device.id, seq);
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
    /// The database then continues under a new device identity: the copy
    /// holds fewer changes of this device than others may have received,
    /// and its next ones must not take the same numbers.
    pub(crate) fn restore_from(&mut self, path: &Path) -> Result<IdentityRenewed> {
        // The copy is encrypted under the same key: opened with it, then
        // copied page by page over this database.
        let copy = connect(path, &self.key)?;
        rusqlite::backup::Backup::new(&copy, &mut self.conn)?.run_to_completion(
            256,
            std::time::Duration::ZERO,
            None,
        )?;
        drop(copy);
        // A copy made by an older version is brought up to this one's schema
        // (one made before keys existed gets a key pair, a new one).
        schema::migrate(&mut self.conn)?;
        crate::sync::keys::ensure(&self.conn)?;
        self.device = self.load_device()?;
        self.renew_identity(Renewal::Restored)
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

    /// Whether this is a practice database: made-up people for learning
    /// the app, marked on every screen, whose bundles a real database
    /// never takes (and which takes none from a real one).
    pub fn is_practice(&self) -> Result<bool> {
        is_practice(&self.conn)
    }

    /// Marks a database that holds nothing yet as a practice database.
    pub fn mark_practice(&mut self) -> Result<()> {
        if !self.is_practice()? && self.holds_records()? {
            return Err(Error::RealData(self.path.display().to_string()));
        }
        meta_set(&self.conn, PRACTICE_KEY, "1")
    }

    /// Whether any change was ever written or received here.
    pub(crate) fn holds_records(&self) -> Result<bool> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM change)", [], |r| r.get(0))?)
    }

    /// The practice database that goes with this real one: beside it
    /// (`<name>.practice.sqlite`), encrypted under its own key kept in this
    /// database (so the real passphrase opens both), with this laptop's
    /// name and coordinator; made at its first use. The account keeps its
    /// role there.
    pub fn open_practice(&mut self) -> Result<Store> {
        self.require(crate::access::Action::Record)?;
        if self.is_practice()? {
            return Err(Error::Other("this is already the practice database".into()));
        }
        let key = match meta_get(&self.conn, PRACTICE_DB_KEY)? {
            Some(hex) => DbKey::from_hex(&hex).ok_or_else(|| Error::Other("the practice key is damaged".into()))?,
            None => {
                let key = DbKey::random();
                meta_set(&self.conn, PRACTICE_DB_KEY, &key.to_hex())?;
                key
            }
        };
        let path = crate::paths::practice_path(&self.path);
        let mut practice = Store::open_with_key(&path, &key)?;
        practice.mark_practice()?;
        if !practice.is_initialised() {
            let me = self.device()?.clone();
            practice.init_device(&format!("{} (entraînement)", me.name), &me.coordinator)?;
        }
        practice.actor = self.actor.clone();
        Ok(practice)
    }

    /// Minutes without use after which the window locks (drops the key
    /// from memory and asks for a passphrase again).
    pub fn lock_minutes(&self) -> Result<i64> {
        let stored = meta_get(&self.conn, "setting.lock_minutes")?;
        Ok(stored.and_then(|d| d.parse().ok()).unwrap_or(DEFAULT_LOCK_MINUTES))
    }

    /// Sets the lock delay, 1 to 120 minutes: a rule of the machine, the
    /// manager's to set, so that nobody turns the lock off.
    pub fn set_lock_minutes(&mut self, minutes: i64) -> Result<()> {
        self.require(crate::access::Action::ManageAccounts)?;
        crate::validate::in_range("lock_minutes", minutes, 1, 120).map_err(|e| Error::invalid(vec![e]))?;
        self.with_note(|conn| {
            meta_set(conn, "setting.lock_minutes", &minutes.to_string())?;
            Ok(((), Some(Note::new(Act::SettingChange, "lock_minutes").detail(minutes.to_string()))))
        })
    }

    /// A working setting of this laptop's follow-up plan, the
    /// coordinator's as her records are (docs/access.md): it changes no
    /// record and travels nowhere.
    pub fn set_followup_days(&mut self, days: i64) -> Result<()> {
        self.require(crate::access::Action::Record)?;
        crate::validate::in_range("followup_days", days, 1, 365).map_err(|e| Error::invalid(vec![e]))?;
        self.with_note(|conn| {
            meta_set(conn, "setting.followup_days", &days.to_string())?;
            Ok(((), Some(Note::new(Act::SettingChange, "followup_days").detail(days.to_string()))))
        })
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

    /// The next stamp of this device; none is left only after a stamp from
    /// the year 33658 was accepted, and then nothing more is written.
    pub fn tick(&mut self) -> Result<Hlc> {
        self.last = Hlc::checked_tick(self.last, Hlc::now_millis(), self.device.id).ok_or_else(|| {
            Error::Other(
                "this computer's clock has no stamp left: a change dated far in the future was accepted".into(),
            )
        })?;
        Ok(self.last)
    }

    /// Moves this device's clock past a stamp received from elsewhere.
    pub fn observe(&mut self, remote: Hlc) {
        self.last = Hlc::observe(self.last, remote);
    }
}

pub(crate) fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
}

/// Whether the database on `conn` is a practice one ([`Store::is_practice`]),
/// for the export that marks its bundles and the import that checks them.
pub(crate) fn is_practice(conn: &Connection) -> Result<bool> {
    Ok(meta_get(conn, PRACTICE_KEY)?.as_deref() == Some("1"))
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
        "INSERT INTO device (id, name, coordinator, first_seen, successor_of) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET successor_of = coalesce(successor_of, excluded.successor_of)",
        params![d.id.to_string(), d.name, d.coordinator, crate::now_utc(), d.successor_of.map(|s| s.to_string())],
    )?;
    Ok(())
}

/// A device's name and its coordinator's, checked together.
fn check_device_names(name: &str, coordinator: &str) -> Result<(String, String)> {
    let mut c = crate::error::Checker::default();
    let name = c.take(crate::validate::req_text("device", &Some(name.to_string()), 100));
    let coordinator = c.take(crate::validate::req_text("coordinator", &Some(coordinator.to_string()), 100));
    c.finish(|| Some((name?, coordinator?)))
}

/// A bare connection to an encrypted database file (or a backup of it),
/// opened with its key: for the modules that read copies, and for tools
/// and tests that read the file directly. An error if the key does not
/// open it (SQLCipher cannot tell a wrong key from a file that is not a
/// database). Nothing is migrated or checked.
pub fn connect(path: &Path, key: &DbKey) -> Result<Connection> {
    let conn = open_file(path)?;
    // A wrong key is our error to tell, in one line: SQLCipher's own log
    // would print to the terminal too.
    conn.execute_batch("PRAGMA cipher_log_level = NONE")?;
    conn.pragma_update(None, "key", &*key.pragma_value())?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    Ok(conn)
}

/// Opens the file with SQLite, once SQLite and SQLCipher are ready.
fn open_file(path: &Path) -> Result<Connection> {
    sqlite_ready()?;
    Ok(Connection::open(path)?)
}

/// Initialises SQLite, with SQLCipher, once, before any connection opens.
///
/// SQLite marks itself initialised before it runs SQLCipher's start-up
/// (`SQLITE_EXTRA_INIT`), outside its lock: a second thread opening its
/// first connection in that moment would see SQLCipher unready, and its
/// `PRAGMA key` fail ("An error occurred with PRAGMA key or rekey"). Seen
/// once in CI, with four tests opening their first stores together.
/// Initialising here, once, behind a lock, closes that window.
pub fn sqlite_ready() -> Result<()> {
    static READY: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    // SAFETY: sqlite3_initialize takes no arguments and may be called at
    // any time; OnceLock makes every other caller wait until it returns.
    let rc = *READY.get_or_init(|| unsafe { rusqlite::ffi::sqlite3_initialize() });
    if rc == rusqlite::ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rc), Some("SQLite could not start".into())).into())
    }
}

/// Like [`connect`], with an account's passphrase or the recovery key.
pub fn connect_with(path: &Path, credentials: &Credentials) -> Result<Connection> {
    let (key, _) = crate::accounts::unlock(path, credentials)?;
    connect(path, &key)
}

/// Whether the file begins as an unencrypted SQLite database does.
fn is_plain_sqlite(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path)?;
    let n = f.read(&mut head)?;
    Ok(n == 16 && &head == b"SQLite format 3\0")
}

/// Refuses to create a database where a file with content already is.
fn refuse_existing(path: &Path) -> Result<()> {
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) > 0 {
        return Err(Error::DatabaseExists(path.display().to_string()));
    }
    Ok(())
}

/// Replaces a plain SQLite file by an encrypted copy of it under `key`,
/// written beside it and renamed over it when whole.
fn encrypt_file_in_place(path: &Path, key: &DbKey) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".encrypting");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    crate::files::write_private(&tmp, b"")?;
    let done = (|| -> Result<()> {
        let plain = open_file(path)?;
        plain.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
        let version: i64 = plain.pragma_query_value(None, "user_version", |r| r.get(0))?;
        export_encrypted(&plain, &tmp, key)?;
        // The export copies tables, not the schema version.
        let enc = connect(&tmp, key)?;
        enc.pragma_update(None, "user_version", version)?;
        plain.pragma_update(None, "journal_mode", "DELETE")?;
        Ok(())
    })();
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    Ok(())
}

/// Writes the whole of the database open on `conn` into the empty file at
/// `dest`, encrypted under `key` (SQLCipher's `sqlcipher_export`).
pub(crate) fn export_encrypted(conn: &Connection, dest: &Path, key: &DbKey) -> Result<()> {
    conn.execute("ATTACH DATABASE ?1 AS wafira_export KEY ?2", params![dest.to_string_lossy(), &*key.pragma_value()])?;
    let exported = conn.query_row("SELECT sqlcipher_export('wafira_export')", [], |_| Ok(()));
    let version: rusqlite::Result<i64> = conn.pragma_query_value(None, "user_version", |r| r.get(0));
    let versioned = version.and_then(|v| conn.execute_batch(&format!("PRAGMA wafira_export.user_version = {v}")));
    conn.execute("DETACH DATABASE wafira_export", [])?;
    exported?;
    versioned?;
    Ok(())
}

/// Refuses, before changing anything in it, a file that is not one of our
/// databases: another program's SQLite file (tables, but no schema version
/// of ours) or not SQLite at all. Read-only, so the file stays as it was.
fn check_ours(path: &Path) -> Result<()> {
    let not_ours = || Error::NotOurs(path.display().to_string());
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        return Ok(());
    }
    sqlite_ready()?;
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|_| not_ours())?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|_| not_ours())?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(|_| not_ours())?;
    let has_change_log: bool = conn
        .query_row("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = 'change'", [], |_| Ok(true))
        .optional()
        .map_err(|_| not_ours())?
        .unwrap_or(false);
    if tables > 0 && (version == 0 || !has_change_log) {
        return Err(not_ours());
    }
    Ok(())
}

/// The number of `device`'s last change here.
fn last_seq_of(conn: &Connection, device: Uuid) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(max(seq), 0) FROM change_log WHERE device = (SELECT no FROM device_no WHERE id = ?1)",
        )?
        .query_row(params![device.to_string()], |r| r.get(0))?)
}

/// Records the number of this device's last change beside the database
/// ([`Store::numbered_path`]). Not a write the data depends on: a failure
/// only loses a check.
fn note_numbered(path: &Path, device: Uuid, seq: i64) {
    let _ = crate::files::write_private(path, format!("{device} {seq}\n").as_bytes());
}

const FILE_KEY: &str = "file_identity";
/// Set once the milestones of an older version have their IGA
/// ([`Store::upgrade_records`]), or when the database is made.
pub(crate) const MILESTONES_UPGRADED: &str = "milestones_upgraded";
const PRACTICE_KEY: &str = "practice";
const PRACTICE_DB_KEY: &str = "practice.key";
const RENEWED_KEY: &str = "identity_renewed";

/// What tells this file from a copy of it: its device and inode.
#[cfg(unix)]
fn file_identity(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(format!("{}:{}", m.dev(), m.ino()))
}

/// Elsewhere, its full path: a copy lives at another path.
#[cfg(not(unix))]
fn file_identity(path: &Path) -> Option<String> {
    std::fs::canonicalize(path).ok().map(|p| p.display().to_string())
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
