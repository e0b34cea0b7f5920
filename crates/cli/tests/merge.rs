//! `wafira duplicates merge --keep K --other O [--take FIELD]…`: the
//! person kept takes the other's values where she has none, and the
//! other's value of each field named with `--take`. Real process, real file.

mod common;

use common::{ok_json, wafira};
use serde_json::{json, Value};
use std::path::Path;

fn add(db: &Path, person: Value) -> String {
    let mut input = json!({ "first_name": "Fatima", "last_name": "El Idrissi", "sex": "F",
        "birth_date": "1990-03-14", "region": "04", "consent": true });
    for (k, v) in person.as_object().unwrap() {
        input[k] = v.clone();
    }
    let added = ok_json(wafira(db, &["beneficiary", "add"], Some(&input.to_string())));
    added["id"].as_str().unwrap().to_string()
}

fn field(db: &Path, id: &str, field: &str) -> Value {
    let conn = common::conn(db);
    let doc: String = conn.query_row("SELECT doc FROM beneficiary WHERE id = ?1", [id], |r| r.get(0)).unwrap();
    serde_json::from_str::<Value>(&doc).unwrap()[field].clone()
}

#[test]
fn merge_fills_the_empty_fields_and_take_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok_json(wafira(&db, &["init", "--device", "Station", "--coordinator", "Samira"], None));
    let kept = add(&db, json!({ "phone": "0611111111", "commune": "Larache" }));
    let other = add(&db, json!({ "first_name": "Fatma", "cin": "BK123456", "phone": "0622222222", "commune": "Ksar" }));

    let decision = ok_json(wafira(
        &db,
        &["duplicates", "merge", "--keep", &kept, "--other", &other, "--take", "phone", "--take", "commune"],
        None,
    ));
    assert_eq!(decision["status"], "merged");
    assert_eq!(decision["taken"], json!(["cin", "phone", "commune"]));
    assert_eq!(field(&db, &kept, "cin"), "BK123456", "the empty CIN took the other's");
    assert_eq!(field(&db, &kept, "phone"), "+212622222222");
    assert_eq!(field(&db, &kept, "commune"), "Ksar");
    assert_eq!(field(&db, &kept, "first_name"), "Fatima", "a field not taken stays");

    let found = ok_json(wafira(&db, &["beneficiary", "list", "--search", "BK123456"], None));
    let ids: Vec<&str> = found.as_array().unwrap().iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, vec![kept.as_str()], "a search on the CIN finds the person kept");
}

#[test]
fn an_unknown_field_to_take_is_one_line_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok_json(wafira(&db, &["init", "--device", "Station", "--coordinator", "Samira"], None));
    let kept = add(&db, json!({}));
    let other = add(&db, json!({ "cin": "BK123456" }));
    let out = wafira(&db, &["duplicates", "merge", "--keep", &kept, "--other", &other, "--take", "nickname"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("take"), "{err}");
    assert_eq!(field(&db, &kept, "cin"), Value::Null);
    let merges: i64 = common::conn(&db).query_row("SELECT count(*) FROM merge", [], |r| r.get(0)).unwrap();
    assert_eq!(merges, 0);
}
