//! What the `wafira` binary writes is personal data: every file readable by
//! its owner only, a file for outsiders without names, laptops or exact
//! dates, and never a file written over the database.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

fn wafira(db: &Path, args: &[&str], stdin: &str) -> Output {
    common::wafira(db, args, Some(stdin))
}

fn ok(out: Output) -> serde_json::Value {
    common::ok_json(out)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// A database with one person and a visit, in its own folder.
fn field() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/field.sqlite");
    ok(wafira(&db, &["init", "--device", "Portable Kénitra", "--coordinator", "Samira Berrada"], ""));
    let person = ok(wafira(
        &db,
        &["beneficiary", "add"],
        r#"{"first_name":"Fatima","last_name":"El Idrissi","sex":"F","birth_date":"1990-03-14",
            "region":"04","phone":"0612345678","cin":"BK123456","consent":true,"consent_date":"2025-02-17"}"#,
    ));
    let id = person["id"].as_str().unwrap().to_string();
    ok(wafira(
        &db,
        &["visit", "add"],
        &format!(r#"{{"beneficiary_id":"{id}","date":"2025-03-21","kind":"follow_up"}}"#),
    ));
    (dir, db)
}

#[test]
fn every_file_written_is_readable_by_its_owner_only() {
    let (dir, db) = field();
    let out = dir.path().join("out");
    ok(wafira(&db, &["report", "pdf", "--out", out.join("synthese.pdf").to_str().unwrap()], ""));
    ok(wafira(&db, &["export", "xlsx", "--out", out.join("donnees.xlsx").to_str().unwrap()], ""));
    ok(wafira(&db, &["export", "csv", "--out", out.join("csv").to_str().unwrap()], ""));
    let bundle = wafira(&db, &["bundle", "export", "--out", out.join("paquet.wafira").to_str().unwrap()], "");
    let mut files =
        vec![db.clone(), out.join("synthese.pdf"), out.join("donnees.xlsx"), out.join("csv/beneficiaries.csv")];
    if bundle.status.success() {
        files.push(out.join("paquet.wafira"));
    }
    for f in &files {
        assert_eq!(mode(f), 0o600, "{} is {:o}", f.display(), mode(f));
    }
    for d in [db.parent().unwrap(), out.as_path(), &out.join("csv")] {
        assert_eq!(mode(d), 0o700, "{} is {:o}", d.display(), mode(d));
    }
}

#[test]
fn a_pseudonymised_workbook_names_no_laptop_and_dates_only_months() {
    let (dir, db) = field();
    let path = dir.path().join("anon.csv.d");
    ok(wafira(&db, &["export", "csv", "--pseudonymise", "--out", path.to_str().unwrap()], ""));
    let mut all = String::new();
    for e in std::fs::read_dir(&path).unwrap() {
        all.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    for secret in ["Fatima", "Idrissi", "BK123456", "612345678", "Kénitra", "Samira", "2025-03-21", "2025-02-17"] {
        assert!(!all.contains(secret), "{secret} in a pseudonymised export:\n{all}");
    }
    assert!(all.contains("2025-03") && all.contains("2025-02"), "months kept:\n{all}");
    let xlsx = dir.path().join("anon.xlsx");
    ok(wafira(&db, &["export", "xlsx", "--pseudonymise", "--out", xlsx.to_str().unwrap()], ""));
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet).unwrap();
        for cell in range.cells() {
            let text = cell.2.to_string();
            for secret in ["Portable Kénitra", "Samira", "Fatima"] {
                assert!(!text.contains(secret), "{secret} in sheet {sheet}: {text}");
            }
        }
    }
}

#[test]
fn an_output_that_is_the_database_is_refused_and_the_database_stays() {
    let (_dir, db) = field();
    let before = std::fs::read(&db).unwrap().len();
    let wal = format!("{}-wal", db.display());
    let db_text = db.to_str().unwrap().to_string();
    for (args, target) in [
        (vec!["bundle", "export", "--out"], db_text.clone()),
        (vec!["export", "xlsx", "--out"], db_text.clone()),
        (vec!["report", "pdf", "--out"], db_text.clone()),
        (vec!["report", "pdf", "--out"], wal.clone()),
    ] {
        let mut args = args.clone();
        args.push(&target);
        let out = wafira(&db, &args, "");
        assert!(!out.status.success(), "{args:?} replaced the database");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("out") && err.lines().count() == 1, "{args:?}: {err}");
    }
    assert!(std::fs::read(&db).unwrap().len() >= before);
    let list = ok(wafira(&db, &["beneficiary", "list"], ""));
    assert_eq!(list.as_array().map(Vec::len), Some(1), "the database still holds her");
}

#[test]
fn another_programs_database_is_refused_without_a_byte_changed() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("contacts.sqlite");
    {
        let conn = rusqlite::Connection::open(&other).unwrap();
        conn.execute_batch("CREATE TABLE contact (name TEXT); INSERT INTO contact VALUES ('Zineb');").unwrap();
    }
    let before = std::fs::read(&other).unwrap();
    let out = wafira(&other, &["beneficiary", "list"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a Wafira Field database") && err.lines().count() == 1, "{err}");
    assert_eq!(std::fs::read(&other).unwrap(), before, "not one byte changed");
    assert!(!dir.path().join("contacts.sqlite-wal").exists(), "not switched to WAL");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database at all").unwrap();
    let out = wafira(&text, &["info"], "");
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(&text).unwrap(), "not a database at all");
}
