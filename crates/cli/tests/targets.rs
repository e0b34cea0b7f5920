//! Targets per year and per sex on the command line: set from options or
//! from JSON, listed, refused naming the field, and set against the period
//! or the cumulative figure by `wafira report indicators`.

mod common;

use common::{ok_json, wafira};
use serde_json::{json, Value};
use std::path::Path;

fn targets_in(db: &Path) -> i64 {
    common::conn(db).query_row("SELECT count(*) FROM target", [], |r| r.get(0)).unwrap()
}

#[test]
fn yearly_and_sex_targets_are_set_listed_and_measured_against_the_right_figure() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok_json(wafira(&db, &["init", "--device", "Station Rabat", "--coordinator", "Nadia"], None));
    // Fatima registered in 2025, Youssef in 2024.
    for person in [
        json!({"first_name": "Fatima", "last_name": "El Idrissi", "sex": "F", "birth_date": "1990-03-14",
               "region": "04", "consent": true, "consent_date": "2025-03-01"}),
        json!({"first_name": "Youssef", "last_name": "Amrani", "sex": "M", "birth_date": "1988-07-02",
               "region": "04", "consent": true, "consent_date": "2024-05-01"}),
    ] {
        ok_json(wafira(&db, &["beneficiary", "add"], Some(&person.to_string())));
    }
    let set = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["report", "targets", "set"];
        all.extend(args);
        ok_json(wafira(&db, &all, stdin))
    };
    let yearly = set(&["--indicator", "beneficiaries_registered", "--target", "2", "--year", "2025"], None);
    assert_eq!((yearly["year"].clone(), yearly["sex"].clone()), (json!(2025), Value::Null));
    set(&["--indicator", "beneficiaries_registered", "--target", "1", "--year", "2025", "--sex", "F"], None);
    set(&[], Some(r#"{"indicator": "beneficiaries_registered", "target": "10"}"#));
    // Options over the JSON read from stdin.
    let men = set(&["--sex", "M"], Some(r#"{"indicator": "beneficiaries_registered", "target": "5"}"#));
    assert_eq!(men["sex"], "M");

    // A wrong year: one line naming the field, nothing stored.
    let out = wafira(
        &db,
        &["report", "targets", "set", "--indicator", "iga_launched", "--target", "3", "--year", "1999"],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("year") && err.contains("2020") && err.contains("2100"), "{err}");
    assert_eq!(targets_in(&db), 4);

    // The list shows each target's year and sex.
    let list = ok_json(wafira(&db, &["report", "targets", "list"], None));
    let keys: Vec<(Value, Value, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["year"].clone(), t["sex"].clone(), t["target"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        keys,
        vec![
            (Value::Null, Value::Null, "10".into()),
            (Value::Null, json!("M"), "5".into()),
            (json!(2025), Value::Null, "2".into()),
            (json!(2025), json!("F"), "1".into()),
        ]
    );

    // 2025: Fatima alone (1 of 2025's 2, of women's 1); since the start
    // both (2 of 10, Youssef 1 of men's 5).
    let i = ok_json(wafira(&db, &["report", "indicators", "--from", "2025-01-01", "--to", "2025-12-31"], None));
    assert_eq!(i["period_year"], 2025);
    let k = i["key_figures"].as_array().unwrap().iter().find(|k| k["indicator"] == "beneficiaries_registered").unwrap();
    assert_eq!(
        (&k["period"]["value"], &k["period"]["target"]["target"], &k["period"]["progress"]),
        (&json!("1"), &json!("2"), &json!("50"))
    );
    assert_eq!(k["period"]["women"]["progress"], "100");
    assert_eq!(k["period"]["men"]["target"], Value::Null, "no men's target for 2025");
    assert_eq!((&k["cumulative"]["value"], &k["cumulative"]["progress"]), (&json!("2"), &json!("20")));
    assert_eq!(k["cumulative"]["men"]["progress"], "20");

    // A period over two years has no target of its own.
    let i = ok_json(wafira(&db, &["report", "indicators", "--from", "2024-01-01", "--to", "2025-06-30"], None));
    assert_eq!(i["period_year"], Value::Null);
    let k = i["key_figures"].as_array().unwrap().iter().find(|k| k["indicator"] == "beneficiaries_registered").unwrap();
    assert_eq!((&k["period"]["value"], &k["period"]["target"]), (&json!("2"), &Value::Null));
    assert_eq!(k["cumulative"]["target"]["target"], "10");
}
