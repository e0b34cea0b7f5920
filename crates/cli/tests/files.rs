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

/// Every file and folder under `dir`, with its permission bits.
fn modes(dir: &Path) -> Vec<(PathBuf, u32, bool)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push((p.strip_prefix(dir).unwrap().to_path_buf(), mode(&p), p.is_dir()));
        }
    }
    out.sort();
    out
}

#[test]
fn every_file_written_is_readable_by_its_owner_only() {
    let (dir, db) = field();
    // A station, to which this laptop sends its bundles; its import takes a
    // backup first.
    let station = dir.path().join("station/station.sqlite");
    ok(wafira(&station, &["init", "--device", "Station Rabat", "--coordinator", "Assia"], ""));
    let recipient = ok(wafira(&station, &["keys", "show"], ""))["recipient"].as_str().unwrap().to_string();
    ok(wafira(&db, &["keys", "trust", "--name", "Station Rabat", &recipient], ""));
    let person = ok(wafira(&db, &["beneficiary", "list"], ""))[0]["id"].as_str().unwrap().to_string();
    let out = dir.path().join("out");
    let at = |name: &str| out.join(name).to_str().unwrap().to_string();
    ok(wafira(&db, &["report", "pdf", "--out", &at("synthese.pdf")], ""));
    ok(wafira(&db, &["report", "profile", &person, "--out", &at("fiche.pdf")], ""));
    ok(wafira(&db, &["report", "followups", "--out", &at("suivis.pdf")], ""));
    ok(wafira(&db, &["export", "xlsx", "--out", &at("donnees.xlsx")], ""));
    ok(wafira(&db, &["export", "xlsx", "--pseudonymise", "--out", &at("anonyme.xlsx")], ""));
    ok(wafira(&db, &["export", "csv", "--out", &at("csv")], ""));
    ok(wafira(&db, &["export", "csv", "--pseudonymise", "--out", &at("csv-anonyme")], ""));
    ok(wafira(&db, &["audit", "export", "--out", &at("journal.csv")], ""));
    ok(wafira(&db, &["keys", "export-identity", "--out", &at("identite.txt")], ""));
    ok(wafira(&db, &["bundle", "export", "--out", &at("paquet.wafira")], ""));
    ok(wafira(&station, &["bundle", "import", "--approve-new", &at("paquet.wafira")], ""));
    // The database's log and shared memory, kept while a connection is open.
    let open = common::conn(&db);
    open.query_row("SELECT count(*) FROM beneficiary", [], |r| r.get::<_, i64>(0)).unwrap();
    ok(wafira(&db, &["beneficiary", "update", &person], r#"{"cohort":"2025-B"}"#));

    let found = modes(dir.path());
    let names: Vec<String> = found.iter().map(|(p, ..)| p.display().to_string()).collect();
    for expected in [
        "data/field.sqlite",
        "data/field.sqlite-wal",
        "data/field.sqlite-shm",
        "data/field.sqlite.accounts",
        "station/station.sqlite",
        "station/station.sqlite.accounts",
        "out/synthese.pdf",
        "out/fiche.pdf",
        "out/suivis.pdf",
        "out/donnees.xlsx",
        "out/anonyme.xlsx",
        "out/csv/beneficiaries.csv",
        "out/csv-anonyme/beneficiaries.csv",
        "out/journal.csv",
        "out/identite.txt",
        "out/paquet.wafira",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} was written: {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("station/backups/")), "the import took a backup: {names:?}");
    for (path, mode, is_dir) in &found {
        let want = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{} is {mode:o}", path.display());
    }
    drop(open);
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
