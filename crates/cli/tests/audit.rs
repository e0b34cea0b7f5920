//! `wafira audit` as a script uses it: the trail of what was done, with
//! who and when; `audit verify` exits 0 on an untouched log and 1, naming
//! the entry, once an entry was changed in the database by hand.

mod common;

use common::{ok_json, wafira};
use std::path::PathBuf;

const FATIMA: &str = r#"{"first_name":"Fatima","last_name":"El Idrissi","sex":"F","birth_date":"1990-03-14",
  "region":"04","phone":"06 12 34 56 78","consent":true}"#;

/// A database made by `wafira init` where Fatima was registered and edited.
fn field() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("field.sqlite");
    ok_json(wafira(&db, &["init", "--device", "Portable Kénitra", "--coordinator", "Samira"], None));
    let added = ok_json(wafira(&db, &["beneficiary", "add"], Some(FATIMA)));
    let id = added["id"].as_str().unwrap().to_string();
    ok_json(wafira(&db, &["beneficiary", "update", &id], Some(r#"{"cohort":"2026-A"}"#)));
    (dir, db)
}

#[test]
fn the_log_lists_what_was_done_by_whom_and_each_command_signs_in() {
    let (dir, db) = field();
    let list = ok_json(wafira(&db, &["audit", "list"], None));
    let entries = list.as_array().unwrap();
    let actions: Vec<&str> = entries.iter().rev().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["person.add", "sign_in", "person.update", "sign_in"]);
    assert_eq!(entries[0]["subject"], "cli beneficiary update", "the command, not its arguments");
    assert!(entries.iter().all(|e| e["who"] == "Samira" && e["role"] == "manager"), "{list}");
    assert!(entries.iter().all(|e| e["machine_name"] == "Portable Kénitra"), "{list}");
    let updates = ok_json(wafira(&db, &["audit", "list", "--action", "person.update"], None));
    assert_eq!(updates.as_array().unwrap().len(), 1);
    assert_eq!(updates[0]["detail"], "cohort");
    let bad = wafira(&db, &["audit", "list", "--since", "yesterday"], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("since"));
    // The export takes the same filters: the lines the list gave.
    let csv = dir.path().join("updates.csv");
    let done =
        ok_json(wafira(&db, &["audit", "export", "--action", "person.update", "--out", csv.to_str().unwrap()], None));
    assert_eq!(done["entries"], 1);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().nth(1).unwrap().contains(",person.update,"), "{text}");
}

#[test]
fn verify_exits_non_zero_once_an_entry_was_changed_by_hand() {
    let (dir, db) = field();
    let out = ok_json(wafira(&db, &["audit", "verify"], None));
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["machines"], 1);
    assert!(out["first_broken"].is_null());

    // Someone with the database open changes who registered Fatima.
    let conn = common::conn(&db);
    conn.execute("UPDATE audit SET who = 'Quelqu''un' WHERE seq = 1", []).unwrap();
    drop(conn);
    let out = wafira(&db, &["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains("Portable Kénitra") && err.contains("entry 1"), "{err}");
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["ok"], false);
    assert_eq!(found["first_broken"]["seq"], 1);
    assert_eq!(found["first_broken"]["problem"], "altered");

    // The export still writes the log as it is, for whoever investigates.
    let csv = dir.path().join("audit.csv");
    let done = ok_json(wafira(&db, &["audit", "export", "--out", csv.to_str().unwrap()], None));
    assert!(done["entries"].as_u64().unwrap() >= 5);
    assert!(std::fs::read_to_string(&csv).unwrap().contains("Quelqu'un"));
    let over = wafira(&db, &["audit", "export", "--out", db.to_str().unwrap()], None);
    assert!(!over.status.success(), "never over the database");
}
