//! `wafira backup list|restore` with restore points kept as one full copy
//! and deltas (crates/core/src/sync/backup.rs): the same commands as when
//! every point was a copy.

mod common;

use common::{ok_json, wafira};
use serde_json::Value;

fn people(db: &std::path::Path) -> usize {
    ok_json(wafira(db, &["beneficiary", "list"], None)).as_array().map_or(0, Vec::len)
}

#[test]
fn points_are_listed_and_restored_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let station = dir.path().join("station/station.sqlite");
    let laptop = dir.path().join("laptop/laptop.sqlite");
    ok_json(wafira(&station, &["init", "--device", "Station", "--coordinator", "Nadia"], None));
    ok_json(wafira(&laptop, &["init", "--device", "Portable Larache", "--coordinator", "Naïma"], None));
    // Practice data on both sides; the station's file big enough that an
    // import changes a small part of it.
    ok_json(wafira(&station, &["demo", "--beneficiaries", "200"], None));
    ok_json(wafira(&laptop, &["demo", "--beneficiaries", "0"], None));
    let recipient = ok_json(wafira(&station, &["keys", "show"], None))["recipient"].as_str().unwrap().to_string();
    ok_json(wafira(&laptop, &["keys", "trust", "--name", "Station", &recipient], None));
    for i in 0..3 {
        let person = format!(
            r#"{{"first_name":"Khadija","last_name":"Bench {i}","sex":"F","birth_date":"1990-03-14","region":"04","consent":true}}"#
        );
        ok_json(wafira(&laptop, &["beneficiary", "add"], Some(&person)));
        let bundle = dir.path().join(format!("b{i}.wafira"));
        ok_json(wafira(&laptop, &["bundle", "export", "--out", bundle.to_str().unwrap()], None));
        ok_json(wafira(&station, &["bundle", "import", "--approve-new", bundle.to_str().unwrap()], None));
    }
    assert_eq!(people(&station), 203);

    let list = ok_json(wafira(&station, &["backup", "list"], None));
    let points = list.as_array().unwrap();
    assert_eq!(points.len(), 3);
    let full: Vec<bool> = points.iter().map(|p| p["full"].as_bool().unwrap()).collect();
    assert_eq!(full, [false, false, true], "newest first; the oldest is the full copy");
    assert!(points.iter().all(|p| p["reason"] == "before-import" && p["bytes"].as_u64().unwrap() > 0));

    // The point before the second import: 201 people.
    let name = points[1]["name"].as_str().unwrap();
    let restored = ok_json(wafira(&station, &["backup", "restore", name], None));
    assert_eq!(restored["backup"]["name"], Value::from(name));
    assert_eq!(people(&station), 201);
    // Undone in turn: the point the restore took first.
    let list = ok_json(wafira(&station, &["backup", "list"], None));
    let newest = &list.as_array().unwrap()[0];
    assert_eq!(newest["reason"], "before-restore");
    ok_json(wafira(&station, &["backup", "restore", newest["name"].as_str().unwrap()], None));
    assert_eq!(people(&station), 203);

    // A name no point has: refused, one line.
    let out = wafira(&station, &["backup", "restore", "station-20000101T000000000Z-before-import.delta"], None);
    assert!(!out.status.success());
}
