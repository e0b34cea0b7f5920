//! `wafira visit|milestone update|void` and `wafira beneficiary restore`:
//! corrections from the command line, on a real file, each refusal one
//! line that changes nothing.

mod common;

use common::{ok_json, wafira};
use std::path::Path;

const FATIMA: &str = r#"{"first_name":"Fatima","last_name":"El Idrissi","sex":"F","birth_date":"1990-03-14",
  "region":"04","cin":"AB123456","consent":true}"#;

fn days_ago(n: u64) -> String {
    (0..n).fold(wafira_core::Store::today(), |d, _| d.pred_opt().unwrap()).to_string()
}

fn changes(db: &Path) -> i64 {
    common::conn(db).query_row("SELECT count(*) FROM change", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_visit_and_a_milestone_are_corrected_voided_and_entered_again_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("field.sqlite");
    ok_json(wafira(&db, &["init", "--device", "Portable Kénitra", "--coordinator", "Samira"], None));
    let person = ok_json(wafira(&db, &["beneficiary", "add"], Some(FATIMA)))["id"].as_str().unwrap().to_string();
    let visit = format!(r#"{{"beneficiary_id":"{person}","date":"{}","kind":"follow_up"}}"#, days_ago(3));
    let visit = ok_json(wafira(&db, &["visit", "add"], Some(&visit)))["id"].as_str().unwrap().to_string();
    let fixed = ok_json(wafira(&db, &["visit", "update", &visit], Some(&format!(r#"{{"date":"{}"}}"#, days_ago(5)))));
    assert_eq!(fixed["date"], days_ago(5));

    let plan = format!(r#"{{"beneficiary_id":"{person}","kind":"business_plan","date":"{}"}}"#, days_ago(30));
    let m = ok_json(wafira(&db, &["milestone", "add"], Some(&plan)))["id"].as_str().unwrap().to_string();
    let fixed = ok_json(wafira(&db, &["milestone", "update", &m], Some(r#"{"amount":"2500"}"#)));
    assert_eq!(fixed["amount"], "2500.00");

    // Refused in one line, nothing written: a field a correction may not change.
    let before = changes(&db);
    let out = wafira(&db, &["milestone", "update", &m], Some(r#"{"kind":"iga_launched"}"#));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("kind"), "{err}");
    // Entering it again is refused until it is withdrawn.
    assert!(!wafira(&db, &["milestone", "add"], Some(&plan)).status.success());
    assert_eq!(changes(&db), before);

    let voided = ok_json(wafira(&db, &["milestone", "void", &m, "--reason", "saisie en double"], None));
    assert_eq!(voided["archive_reason"], "saisie en double");
    ok_json(wafira(&db, &["milestone", "add"], Some(&plan)));
    let voided = ok_json(wafira(&db, &["visit", "void", &visit, "--reason", "pas eu lieu"], None));
    assert!(voided["archived_at"].is_string());

    // An archived person is listed, then restored.
    ok_json(wafira(&db, &["beneficiary", "archive", &person, "--reason", "erreur"], None));
    let listed = ok_json(wafira(&db, &["beneficiary", "list", "--archived"], None));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let back = ok_json(wafira(&db, &["beneficiary", "restore", &person], None));
    assert!(back["archived_at"].is_null());
}

#[test]
fn restoring_a_person_whose_cin_was_given_meanwhile_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("field.sqlite");
    ok_json(wafira(&db, &["init", "--device", "Portable Kénitra", "--coordinator", "Samira"], None));
    let first = ok_json(wafira(&db, &["beneficiary", "add"], Some(FATIMA)))["id"].as_str().unwrap().to_string();
    ok_json(wafira(&db, &["beneficiary", "archive", &first, "--reason", "partie"], None));
    let naima = FATIMA.replace("Fatima", "Naima");
    let naima = ok_json(wafira(&db, &["beneficiary", "add"], Some(&naima)))["id"].as_str().unwrap().to_string();
    let before = changes(&db);
    let out = wafira(&db, &["beneficiary", "restore", &first], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cin") && err.contains(&naima), "names whose CIN it is: {err}");
    assert_eq!(changes(&db), before, "nothing written");
}
