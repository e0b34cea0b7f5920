//! `wafira beneficiary erase ID --reason R`: consent withdrawn, as a script
//! runs it.

mod common;

use common::{command, ok_json, wafira};
use std::path::Path;

const ZOUBIDA: &str = r#"{"first_name":"Zoubida","last_name":"Benkirane","sex":"F","birth_date":"1986-09-23",
  "region":"04","province":"Kénitra","commune":"Ouled Bourahma","cin":"BK123456","phone":"06 12 34 56 78",
  "cohort":"2026-A","notes":"mari violent","consent":true}"#;

/// Every text value of every table but the audit trail (each command run
/// signs in to it).
fn texts(db: &Path) -> Vec<String> {
    let conn = common::conn(db);
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'audit'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..n {
                if let Ok(rusqlite::types::ValueRef::Text(b)) = row.get_ref(i) {
                    out.push(format!("{t}: {}", String::from_utf8_lossy(b)));
                }
            }
        }
    }
    out.sort();
    out
}

fn failed(out: std::process::Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn erase_prints_what_it_erased_in_counts_and_her_data_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("field.sqlite");
    ok_json(wafira(&db, &["init", "--device", "Portable Kénitra", "--coordinator", "Samira"], None));
    let id = ok_json(wafira(&db, &["beneficiary", "add"], Some(ZOUBIDA)))["id"].as_str().unwrap().to_string();
    let visit = format!(
        r#"{{"beneficiary_id":"{id}","date":"{}","kind":"follow_up","notes":"Zoubida a peur"}}"#,
        wafira_core::Store::today()
    );
    ok_json(wafira(&db, &["visit", "add"], Some(&visit)));

    let erased = ok_json(wafira(&db, &["beneficiary", "erase", &id, "--reason", "retrait du consentement"], None));
    assert_eq!(erased["id"], id.as_str());
    assert_eq!(erased["people"], 1);
    assert_eq!(erased["records"]["beneficiaries"], 1);
    assert_eq!(erased["records"]["visits"], 1);
    assert!(erased["changes_scrubbed"].as_u64().unwrap() >= 2, "{erased}");
    assert!(!erased.to_string().contains("Zoubida"), "counts, not values: {erased}");

    let shown = ok_json(wafira(&db, &["beneficiary", "show", &id], None));
    assert_eq!(shown["erased"], true);
    assert_eq!(shown["beneficiary"]["first_name"], "");
    assert_eq!(shown["beneficiary"]["birth_date"], "1986-01-01");
    assert_eq!(shown["erasure"]["reason"], "retrait du consentement");
    for value in texts(&db) {
        for needle in ["Zoubida", "zoubida", "Benkirane", "BK123456", "612345678", "Bourahma", "mari violent"] {
            assert!(!value.contains(needle), "{needle} still in {value}");
        }
    }
    let bytes = std::fs::read(&db).unwrap();
    assert!(!bytes.windows(7).any(|w| w == b"Zoubida"));

    let again = failed(wafira(&db, &["beneficiary", "erase", &id, "--reason", "encore"], None));
    assert!(again.contains("already erased"), "{again}");
    let edit = failed(wafira(&db, &["beneficiary", "update", &id], Some(r#"{"phone":"0611111111"}"#)));
    assert!(edit.contains("phone") && edit.contains("erased"), "{edit}");
}

#[test]
fn a_refused_erase_names_why_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("field.sqlite");
    ok_json(wafira(&db, &["init", "--device", "Portable Kénitra", "--coordinator", "Samira"], None));
    let id = ok_json(wafira(&db, &["beneficiary", "add"], Some(ZOUBIDA)))["id"].as_str().unwrap().to_string();
    let added = command()
        .arg("--db")
        .arg(&db)
        .args(["user", "add", "--name", "Amal", "--role", "coordinator"])
        .env("WAFIRA_NEW_PASSPHRASE", "phrase de la coordinatrice")
        .output()
        .unwrap();
    ok_json(added);
    let before = texts(&db);

    let blank = failed(wafira(&db, &["beneficiary", "erase", &id, "--reason", " "], None));
    assert!(blank.contains("reason"), "{blank}");
    let unknown =
        failed(wafira(&db, &["beneficiary", "erase", &uuid::Uuid::now_v7().to_string(), "--reason", "r"], None));
    assert!(unknown.contains("not found"), "{unknown}");
    let missing = command().arg("--db").arg(&db).args(["beneficiary", "erase", &id]).output().unwrap();
    assert!(!missing.status.success(), "--reason is required");
    let coordinator = command()
        .arg("--db")
        .arg(&db)
        .args(["beneficiary", "erase", &id, "--reason", "retrait du consentement"])
        .env("WAFIRA_USER", "Amal")
        .env("WAFIRA_PASSPHRASE", "phrase de la coordinatrice")
        .output()
        .unwrap();
    let forbidden = failed(coordinator);
    assert!(forbidden.contains("assistant"), "names the role it needs: {forbidden}");
    assert_eq!(texts(&db), before, "nothing was written");
}
