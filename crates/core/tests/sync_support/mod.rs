//! What the sync tests share: laptops and stations on real SQLite files,
//! bundles passed between them, and canonical dumps of a database to
//! compare before and after.
//!
//! Bundles are encrypted and signed. The machines of a test trust each
//! other through a shared test key registry: every machine made by
//! [`machine`] is listed (per thread, while its file exists), each export
//! is encrypted to every listed machine, and each import through
//! [`Machine::import`] approves a computer never seen (as
//! `wafira bundle import --approve-new` does). Tests of refusals import
//! with `store.import_bundle` and so meet the real checks.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use uuid::Uuid;
use wafira_core::store::log::Change;
use wafira_core::sync::bundle::{self, Manifest};
use wafira_core::sync::{ImportOptions, OwnKeys};
use wafira_core::Store;

/// A machine of the registry: its file, name and secret keys.
struct Registered {
    path: PathBuf,
    name: String,
    keys: OwnKeys,
}

thread_local! {
    static REGISTRY: RefCell<Vec<Registered>> = const { RefCell::new(Vec::new()) };
}

/// Every machine's keys ever made by [`machine`], in any thread, by
/// signing key: [`rewrite`] signs again as the bundle's maker (even one
/// gone, as the fixture of a fuzz test), [`plain`] decrypts with them.
static EVERY_KEY: std::sync::Mutex<Vec<OwnKeys>> = std::sync::Mutex::new(Vec::new());

fn every_key() -> Vec<OwnKeys> {
    EVERY_KEY.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The keys of the machines of this test (their files still exist).
fn registered() -> Vec<(String, OwnKeys)> {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.retain(|m| m.path.exists());
        r.iter().map(|m| (m.name.clone(), m.keys.clone())).collect()
    })
}

/// Lists a machine in the test key registry.
pub fn register_keys(name: &str, path: &Path, store: &Store) {
    let keys = store.own_keys().unwrap();
    EVERY_KEY.lock().unwrap_or_else(|e| e.into_inner()).push(keys.clone());
    REGISTRY.with(|r| r.borrow_mut().push(Registered { path: path.to_path_buf(), name: name.to_string(), keys }));
}

/// Makes `store` trust every machine of the registry.
pub fn trust_registered(store: &mut Store) {
    let mine = store.own_keys().unwrap().recipient().to_string();
    for (name, k) in registered() {
        let r = k.recipient().to_string();
        if r != mine {
            store.trust_recipient(&name, &r).unwrap();
        }
    }
}

/// The plaintext of a bundle made by a machine of the registry.
pub fn plain(bytes: &[u8]) -> Vec<u8> {
    if !bundle::is_sealed(bytes) {
        return bytes.to_vec();
    }
    let live = registered().into_iter().map(|(_, k)| k);
    for k in live.chain(every_key()) {
        if let Ok(p) = bundle::unseal(bytes, &k.identity) {
            return p;
        }
    }
    panic!("no machine of the tests can decrypt this bundle")
}

/// A plaintext encrypted to every machine of the registry.
pub fn seal_for_all(plain: &[u8]) -> Vec<u8> {
    let recipients: Vec<_> = registered().iter().map(|(_, k)| k.recipient()).collect();
    bundle::seal(plain, &recipients).unwrap()
}

/// The bundle decoded (decrypted first).
pub fn decode(bytes: &[u8]) -> bundle::Bundle {
    bundle::decode(&plain(bytes)).unwrap()
}

/// Its manifest (decrypted first).
pub fn read_manifest(bytes: &[u8]) -> Manifest {
    bundle::read_manifest(&plain(bytes)).unwrap()
}

pub struct Machine {
    pub store: Store,
    pub path: PathBuf,
    pub _dir: tempfile::TempDir,
}

/// The key the test databases are encrypted with.
pub fn key() -> wafira_core::accounts::DbKey {
    wafira_core::accounts::DbKey::from_bytes([7; 32])
}

/// A bare connection to a test database: encrypted with [`key`], or a
/// plain file of an older version.
pub fn conn(path: &Path) -> rusqlite::Connection {
    wafira_core::store::connect(path, &key()).unwrap_or_else(|_| rusqlite::Connection::open(path).unwrap())
}

pub fn machine(name: &str) -> Machine {
    let dir = scratch_dir();
    let path = dir.path().join(format!("{name}.sqlite"));
    let mut store = Store::open_with_key(&path, &key()).unwrap();
    store.init_device(name, &format!("Coordinator of {name}")).unwrap();
    register_keys(name, &path, &store);
    Machine { store, path, _dir: dir }
}

/// A folder for one machine's files: in memory (`/dev/shm`) where there is
/// one, so that the thousands of imports of the property tests, each with
/// its backup, do not wait on the disk; a real SQLite file all the same.
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}

impl Machine {
    /// Registers a woman from a few fields over a valid default.
    pub fn register(&mut self, fields: Value) -> Uuid {
        let mut input = json!({
            "first_name": "Fatima", "last_name": "El Idrissi", "sex": "F", "birth_date": "1990-03-14",
            "region": "04", "consent": true
        });
        for (k, v) in fields.as_object().unwrap() {
            input[k] = v.clone();
        }
        self.store.add_beneficiary_json(input).unwrap().id
    }

    pub fn visit(&mut self, person: Uuid, date: &str) -> Uuid {
        self.store
            .add_visit_json(json!({ "beneficiary_id": person.to_string(), "date": date, "kind": "follow_up" }))
            .unwrap()
            .id
    }

    pub fn edit(&mut self, person: Uuid, patch: Value) {
        self.store.update_beneficiary(person, patch).unwrap();
    }

    /// A bundle of what is new since its last export.
    pub fn export(&mut self) -> Vec<u8> {
        self.export_with(false)
    }

    /// A bundle (everything with `full`), encrypted to every machine of
    /// this test.
    pub fn export_with(&mut self, full: bool) -> Vec<u8> {
        self.export_if_new(full).expect("an export with nothing new since the last one (use export_if_new)")
    }

    /// A bundle, or `None` when nothing is new since the last export (the
    /// core then writes none).
    pub fn export_if_new(&mut self, full: bool) -> Option<Vec<u8>> {
        trust_registered(&mut self.store);
        let out = self.path.with_extension(format!("{}.wafira", Uuid::now_v7()));
        match self.store.export_bundle_to(&out, full) {
            Err(wafira_core::Error::NothingNew { .. }) => {
                assert!(!out.exists(), "nothing new writes no file");
                None
            }
            other => {
                other.unwrap();
                Some(std::fs::read(out).unwrap())
            }
        }
    }

    /// Imports a bundle, approving its computer if never seen. A bundle
    /// made before this machine existed (so not addressed to it) is
    /// encrypted again for it, as its maker would for a new station.
    pub fn import(&mut self, bytes: &[u8]) -> wafira_core::sync::ImportSummary {
        let own = self.store.own_keys().unwrap();
        let bytes = match bundle::unseal(bytes, &own.identity) {
            Err(wafira_core::Error::Refused(bundle::Refusal::NotAddressed)) => {
                bundle::seal(&plain(bytes), &[own.recipient()]).unwrap()
            }
            _ => bytes.to_vec(),
        };
        let options = ImportOptions { approve_new: true, ..ImportOptions::default() };
        let mut report = self.store.import_bundles_with(vec![(String::new(), bytes)], options).unwrap();
        let f = report.files.remove(0);
        match (f.summary, f.error) {
            (Some(s), _) => s,
            (None, e) => panic!("import refused: {e:?}"),
        }
    }

    /// The plaintext of a bundle addressed to this machine.
    pub fn open(&self, bytes: &[u8]) -> Vec<u8> {
        bundle::unseal(bytes, &self.store.own_keys().unwrap().identity).unwrap()
    }

    pub fn field(&self, person: Uuid, field: &str) -> Value {
        serde_json::to_value(self.store.beneficiary(person).unwrap()).unwrap()[field].clone()
    }

    pub fn dump(&self) -> String {
        dump(&self.path)
    }

    pub fn state(&self) -> String {
        state(&self.path)
    }
}

/// The rows a query gives, each as text, sorted. A record's `clocks` are
/// given in full: a row names a stamp's device by its number in that file,
/// which another machine numbers otherwise.
fn rows(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let clocks = stmt.column_names().iter().position(|c| *c == "clocks");
    let mut out: Vec<String> = stmt
        .query_map([], |r| {
            let mut cells = Vec::new();
            for i in 0..n {
                let mut v: rusqlite::types::Value = r.get(i)?;
                if let (Some(c), rusqlite::types::Value::Text(t)) = (clocks, &v) {
                    if c == i {
                        v = rusqlite::types::Value::Text(wafira_core::store::log::full_clocks(conn, t).unwrap());
                    }
                }
                cells.push(format!("{v:?}"));
            }
            Ok(cells.join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out.sort();
    out
}

/// Every table of the file, every row, sorted, and the views (the change
/// log as text, each create's content wherever it is kept): equal dumps,
/// equal databases.
pub fn dump(path: &Path) -> String {
    let conn = conn(path);
    let tables =
        rows(&conn, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'");
    let mut out = String::new();
    for t in tables {
        let t = t.trim_start_matches("Text(\"").trim_end_matches("\")").to_string();
        out.push_str(&format!("## {t}\n"));
        for r in rows(&conn, &format!("SELECT * FROM \"{t}\"")) {
            out.push_str(&r);
            out.push('\n');
        }
    }
    out
}

/// What must be the same on every machine that has the same changes: the
/// log, the records as folded, the conflicts, the decisions.
pub fn state(path: &Path) -> String {
    let conn = conn(path);
    let mut out = String::new();
    for sql in [
        "SELECT device_id, seq, hlc, entity, record_id, op, fields, old, base FROM change",
        "SELECT id, doc, clocks, archived_at, merged_into, stage, last_visit_date, next_visit_date, visit_count FROM beneficiary",
        "SELECT id, beneficiary_id, doc, clocks FROM visit",
        "SELECT id, beneficiary_id, iga_id, doc, clocks FROM milestone",
        "SELECT id, doc, clocks FROM iga",
        "SELECT id, doc, clocks FROM iga_followup",
        "SELECT id, doc, clocks FROM season",
        "SELECT id, doc, clocks FROM referral",
        "SELECT id, doc, clocks FROM partner",
        "SELECT id, doc, clocks FROM session",
        "SELECT id, doc, clocks FROM attendance",
        "SELECT id, doc, clocks FROM target",
        "SELECT id, entity, record_id, field, base FROM conflict",
        "SELECT id, doc FROM resolution",
        "SELECT id, doc FROM merge",
        "SELECT entity, record_id, parent_id FROM waiting",
        "SELECT rowid IS NOT NULL, text FROM beneficiary_fts",
    ] {
        out.push_str(&format!("## {sql}\n"));
        for r in rows(&conn, sql) {
            out.push_str(&r);
            out.push('\n');
        }
    }
    out
}

/// Decrypts a bundle, lets `f` change its changes, and writes it again with
/// good checksums, signed with the key of the machine that made it and
/// encrypted to every machine of the test (a plaintext stays one): what a
/// laptop whose program is broken, or whose keys are in a forger's hands,
/// could make.
pub fn rewrite(bytes: &[u8], f: impl FnOnce(&mut Manifest, &mut Vec<Change>)) -> Vec<u8> {
    let mut b = decode(bytes);
    let signer = b.manifest.keys.clone().expect("a signed bundle").signing_key;
    f(&mut b.manifest, &mut b.changes);
    let mut content = Vec::new();
    for c in &b.changes {
        bundle::content_line(&mut content, c).unwrap();
    }
    let keys = every_key().into_iter().find(|k| k.signing_key() == signer).expect("its maker");
    let plain = bundle::encode_signed(b.manifest, &content, &keys).unwrap().0;
    if bundle::is_sealed(bytes) {
        seal_for_all(&plain)
    } else {
        plain
    }
}

/// Lays the file out as schema 7 left it (before the compact log of V8):
/// one `change` table holding every change in full, with its text device
/// ids and stamps; no `device_no`, no view, no triggers; record tables as
/// before V9 (see [`records_as_version_8`]). For the tests that make an
/// older version's database from a new one.
pub fn as_version_7(conn: &rusqlite::Connection) {
    wafira_core::store::log::keep_all_content(conn).unwrap();
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in triggers {
        conn.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
    }
    conn.execute_batch(
        "CREATE TABLE change_v7 (
            device_id   TEXT NOT NULL REFERENCES device(id),
            seq         INTEGER NOT NULL CHECK (seq > 0),
            hlc         TEXT NOT NULL UNIQUE,
            entity      TEXT NOT NULL,
            record_id   TEXT NOT NULL,
            op          TEXT NOT NULL CHECK (op IN ('create', 'update', 'archive')),
            fields      TEXT NOT NULL,
            old         TEXT NOT NULL DEFAULT '{}',
            base        TEXT NOT NULL DEFAULT '{}',
            at          TEXT NOT NULL,
            coordinator TEXT NOT NULL,
            rcv         INTEGER NOT NULL UNIQUE CHECK (rcv > 0),
            PRIMARY KEY (device_id, seq)
         ) WITHOUT ROWID;
         INSERT INTO change_v7 SELECT device_id, seq, hlc, entity, record_id, op, fields, old, base, at, coordinator, rcv
            FROM change;
         DROP VIEW change;",
    )
    .unwrap();
    records_as_version_8(conn);
    conn.execute_batch(
        "DROP TABLE change_log;
         DROP TABLE device_no;
         ALTER TABLE change_v7 RENAME TO change;
         CREATE INDEX change_record ON change(entity, record_id, hlc);
         DELETE FROM meta WHERE key = 'milestones_upgraded';
         PRAGMA user_version = 7;",
    )
    .unwrap();
}

/// Lays the record tables out as schema 8 left them (before V9): the
/// record's canonical JSON in `doc` (id included, keys sorted), its query
/// columns stored, its clocks with full stamps. Needs `device_no`; run
/// with the `change` view dropped (the constraints of the columns are not
/// kept: the migrations make the tables again).
fn records_as_version_8(conn: &rusqlite::Connection) {
    use wafira_core::store::log::Entity;
    let enforced: i64 = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
    for entity in Entity::ALL {
        let t = entity.as_str();
        let columns: Vec<(String, String)> = conn
            .prepare(&format!("SELECT name, type FROM pragma_table_xinfo('{t}') ORDER BY cid"))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .filter(|(n, _): &(String, String)| !["id", "body", "doc", "clocks"].contains(&n.as_str()))
            .collect();
        let indexes: Vec<String> = conn
            .prepare(&format!(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '{t}' AND sql IS NOT NULL"
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let defs: Vec<String> = columns.iter().map(|(n, ty)| format!("{n} {ty}")).collect();
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        conn.execute_batch(&format!(
            "CREATE TABLE {t}_v8 (id TEXT PRIMARY KEY, {defs}, doc TEXT NOT NULL, clocks TEXT NOT NULL);
             INSERT INTO {t}_v8 (rowid, id, {names}, doc, clocks) SELECT rowid, id, {names}, doc, clocks FROM {t};",
            defs = defs.join(", "),
            names = names.join(", "),
        ))
        .unwrap();
        let rows: Vec<(String, String, String)> = conn
            .prepare(&format!("SELECT id, doc, clocks FROM {t}_v8"))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (id, doc, clocks) in rows {
            // Keys sorted, as the fold wrote them.
            let doc: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&doc).unwrap();
            let clocks = wafira_core::store::log::full_clocks(conn, &clocks).unwrap();
            conn.execute(
                &format!("UPDATE {t}_v8 SET doc = ?2, clocks = ?3 WHERE id = ?1"),
                rusqlite::params![id, serde_json::Value::Object(doc).to_string(), clocks],
            )
            .unwrap();
        }
        conn.execute_batch(&format!("DROP TABLE {t}; ALTER TABLE {t}_v8 RENAME TO {t};")).unwrap();
        for sql in indexes {
            conn.execute_batch(&sql).unwrap();
        }
    }
    conn.pragma_update(None, "foreign_keys", enforced).unwrap();
}
