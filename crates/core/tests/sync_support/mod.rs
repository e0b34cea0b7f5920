//! What the sync tests share: laptops and stations on real SQLite files,
//! bundles passed between them, and canonical dumps of a database to
//! compare before and after.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use uuid::Uuid;
use wafira_core::store::log::Change;
use wafira_core::sync::bundle::{self, Manifest};
use wafira_core::Store;

pub struct Machine {
    pub store: Store,
    pub path: PathBuf,
    pub _dir: tempfile::TempDir,
}

pub fn machine(name: &str) -> Machine {
    let dir = scratch_dir();
    let path = dir.path().join(format!("{name}.sqlite"));
    let mut store = Store::open(&path).unwrap();
    store.init_device(name, &format!("Coordinator of {name}")).unwrap();
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

    pub fn export_with(&mut self, full: bool) -> Vec<u8> {
        let out = self.path.with_extension(format!("{}.wafira", Uuid::now_v7()));
        self.store.export_bundle_to(&out, full).unwrap();
        std::fs::read(out).unwrap()
    }

    pub fn import(&mut self, bytes: &[u8]) -> wafira_core::sync::ImportSummary {
        self.store.import_bundle(bytes.to_vec()).unwrap()
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

fn rows(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let mut out: Vec<String> = stmt
        .query_map([], |r| {
            let mut cells = Vec::new();
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i)?;
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

/// Every table of the file, every row, sorted: equal dumps, equal databases.
pub fn dump(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables = rows(&conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
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
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut out = String::new();
    for sql in [
        "SELECT device_id, seq, hlc, entity, record_id, op, fields, old, base FROM change",
        "SELECT id, doc, clocks, archived_at, merged_into, stage, last_visit_date, next_visit_date, visit_count FROM beneficiary",
        "SELECT id, beneficiary_id, doc, clocks FROM visit",
        "SELECT id, beneficiary_id, doc, clocks FROM milestone",
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

/// Decodes a bundle, lets `f` change its changes, and writes it again with
/// good checksums: what a forger with the format in hand could make.
pub fn rewrite(bytes: &[u8], f: impl FnOnce(&mut Manifest, &mut Vec<Change>)) -> Vec<u8> {
    let mut b = bundle::decode(bytes).unwrap();
    f(&mut b.manifest, &mut b.changes);
    let mut content = Vec::new();
    for c in &b.changes {
        bundle::content_line(&mut content, c).unwrap();
    }
    bundle::encode(b.manifest, &content).unwrap().0
}
