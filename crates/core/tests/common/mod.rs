//! What the core's integration tests share: a fresh store on a real SQLite
//! file, dates relative to today, a valid person to start from, and the
//! checks that a refusal named the right field and stored nothing.
#![allow(dead_code)] // each test file uses its own part of this module

use chrono::{Days, Months, NaiveDate};
use serde_json::{json, Value};
use tempfile::TempDir;
use uuid::Uuid;
use wafira_core::{Error, Store};

/// A store on a new file in its own folder, with this laptop's identity.
pub fn store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        Store::open_with_key(dir.path().join("wafira.sqlite"), &wafira_core::accounts::DbKey::from_bytes([7; 32]))
            .unwrap();
    store.init_device("Portable Kénitra", "Samira").unwrap();
    (dir, store)
}

pub fn today() -> NaiveDate {
    Store::today()
}

pub fn days_ago(n: u64) -> String {
    (today() - Days::new(n)).to_string()
}

pub fn days_ahead(n: u64) -> String {
    (today() + Days::new(n)).to_string()
}

pub fn months_ago(n: u32) -> NaiveDate {
    today().checked_sub_months(Months::new(n)).unwrap()
}

/// A registration that passes every rule, changed by `extra` (a `null`
/// removes a field).
pub fn person(extra: Value) -> Value {
    let mut p = json!({
        "first_name": "Khadija",
        "last_name": "Ouazzani",
        "sex": "F",
        "birth_date": "1988-04-12",
        "region": "04",
        "province": "Kénitra",
        "commune": "Mnasra",
        "phase": "returned",
        "consent": true,
    });
    merge(&mut p, extra);
    p
}

pub fn merge(base: &mut Value, extra: Value) {
    if let (Value::Object(b), Value::Object(e)) = (base, extra) {
        for (k, v) in e {
            if v.is_null() {
                b.remove(&k);
            } else {
                b.insert(k, v);
            }
        }
    }
}

/// Registers a person and gives her id.
pub fn register(store: &mut Store, extra: Value) -> Uuid {
    store.add_beneficiary_json(person(extra)).unwrap().id
}

pub fn visit(id: Uuid, extra: Value) -> Value {
    let mut v = json!({ "beneficiary_id": id.to_string(), "date": days_ago(3), "kind": "individual_coaching" });
    merge(&mut v, extra);
    v
}

pub fn milestone(id: Uuid, kind: &str, date: &str, extra: Value) -> Value {
    let mut m = json!({ "beneficiary_id": id.to_string(), "kind": kind, "date": date });
    merge(&mut m, extra);
    m
}

/// Rows of the change log and of each record table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub changes: i64,
    pub beneficiaries: i64,
    pub visits: i64,
    pub milestones: i64,
}

pub fn counts(store: &Store) -> Counts {
    let n = |sql: &str| store.conn().query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    Counts {
        changes: n("SELECT count(*) FROM change"),
        beneficiaries: n("SELECT count(*) FROM beneficiary"),
        visits: n("SELECT count(*) FROM visit"),
        milestones: n("SELECT count(*) FROM milestone"),
    }
}

/// The (field, code) pairs of a refusal, in the order the core gave them.
pub fn field_errors<T: std::fmt::Debug>(result: Result<T, Error>) -> Vec<(String, String)> {
    match result {
        Err(Error::Invalid(invalid)) => invalid.0.into_iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("expected a refusal naming fields, got {other:?}"),
    }
}

/// Runs `write`, asserts it was refused with exactly `expected` and that
/// neither the change log nor any record table gained a row.
pub fn assert_refused<T: std::fmt::Debug>(
    store: &mut Store,
    expected: &[(&str, &str)],
    write: impl FnOnce(&mut Store) -> Result<T, Error>,
) {
    let before = counts(store);
    let got = field_errors(write(store));
    let want: Vec<(String, String)> = expected.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
    assert_eq!(got, want, "the refusal names these fields and codes");
    assert_eq!(counts(store), before, "a refused record leaves the log and the tables as they were");
}

/// The parameters of the only error of a refusal.
pub fn only_error_params<T: std::fmt::Debug>(result: Result<T, Error>) -> std::collections::BTreeMap<String, String> {
    match result {
        Err(Error::Invalid(mut invalid)) if invalid.0.len() == 1 => invalid.0.remove(0).params,
        other => panic!("expected exactly one field error, got {other:?}"),
    }
}
