//! The `wafira` binary as a script would use it: real process, real file.

mod common;

use common::{ok_json, wafira};
use std::path::{Path, PathBuf};

struct Db {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("field.sqlite");
    Db { _dir: dir, path }
}

fn init(db: &Path) {
    ok_json(wafira(db, &["init", "--device", "Portable Kénitra", "--coordinator", "Samira"], None));
}

const FATIMA: &str = r#"{"first_name":"Fatima","last_name":"El Idrissi","sex":"F","birth_date":"1990-03-14",
  "region":"04","phone":"06 12 34 56 78","consent":true}"#;

fn count(db: &Path, table: &str) -> i64 {
    let conn = common::conn(db);
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

#[test]
fn add_prints_the_stored_record_with_its_id_and_list_finds_it() {
    let db = db();
    init(&db.path);
    let added = ok_json(wafira(&db.path, &["beneficiary", "add"], Some(FATIMA)));
    let id = added["id"].as_str().unwrap();
    assert_eq!(added["phone"], "+212612345678");
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7, "ids are UUIDv7");
    let list = ok_json(wafira(&db.path, &["beneficiary", "list"], None));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id);
    let shown = ok_json(wafira(&db.path, &["beneficiary", "show", id], None));
    assert_eq!(shown["beneficiary"]["first_name"], "Fatima");
}

#[test]
fn a_bad_sex_fails_names_the_field_and_stores_nothing() {
    let db = db();
    init(&db.path);
    let out = wafira(&db.path, &["beneficiary", "add"], Some(&FATIMA.replace(r#""sex":"F""#, r#""sex":"X""#)));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("sex"), "names the field: {err}");
    assert_eq!(count(&db.path, "beneficiary"), 0);
    assert_eq!(count(&db.path, "change"), 0);
}

#[test]
fn a_birth_date_in_the_future_fails_names_the_field_and_stores_nothing() {
    let db = db();
    init(&db.path);
    let out = wafira(&db.path, &["beneficiary", "add"], Some(&FATIMA.replace("1990-03-14", "2099-01-01")));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("birth_date") && err.contains("future"), "{err}");
    assert_eq!(count(&db.path, "beneficiary"), 0);
}

#[test]
fn writing_before_init_says_how_to_init() {
    let db = db();
    let out = wafira(&db.path, &["beneficiary", "add"], Some(FATIMA));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wafira init"));
}

#[test]
fn demo_with_the_same_seed_gives_the_same_people() {
    let (a, b) = (db(), db());
    init(&a.path);
    init(&b.path);
    let summary = ok_json(wafira(&a.path, &["demo", "--beneficiaries", "40", "--seed", "9"], None));
    assert_eq!(summary["beneficiaries"], 40);
    ok_json(wafira(&b.path, &["demo", "--beneficiaries", "40", "--seed", "9"], None));
    let names = |p: &Path| -> Vec<(String, String, String, String)> {
        let list = ok_json(wafira(p, &["beneficiary", "list"], None));
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
                (s("first_name"), s("last_name"), s("region"), s("cin"))
            })
            .collect()
    };
    let people = names(&a.path);
    assert_eq!(people.len(), 40);
    assert_eq!(people, names(&b.path));
    let women =
        people.len() - ok_json(wafira(&a.path, &["beneficiary", "list", "--sex", "M"], None)).as_array().unwrap().len();
    assert!(women * 100 / people.len() >= 60, "mostly women: {women} of {}", people.len());
}

#[test]
fn the_database_path_comes_from_wafira_db_when_no_flag_is_given() {
    let db = db();
    init(&db.path);
    let out = common::command().arg("info").env("WAFIRA_DB", &db.path).output().unwrap();
    let info = ok_json(out);
    assert_eq!(info["database"], db.path.to_str().unwrap());
    assert_eq!(info["schema_version"], wafira_core::store::schema::current_version());
    assert!(db.path.exists());
}

#[cfg(unix)]
#[test]
fn a_new_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private/field.sqlite");
    init(&path);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&wafira_core::accounts::accounts_path(&path)), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
}

#[test]
fn a_mistyped_command_is_one_line_that_names_the_problem() {
    let db = db();
    for (args, names) in [
        (&["--bogus"][..], "--bogus"),
        (&["beneficiary", "list", "--sex", "X"][..], "sex"),
        (&["beneficiary", "frobnicate"][..], "frobnicate"),
    ] {
        let out = wafira(&db.path, args, None);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("error: ") && err.contains(names), "{err}");
    }
    assert!(!db.path.exists(), "nothing made");
}
