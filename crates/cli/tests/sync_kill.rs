//! An import killed with SIGKILL in the middle (the real `wafira` process,
//! a big bundle) leaves the station's database exactly as before, and the
//! next import succeeds.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
mod common;

use wafira_core::{demo, Store};

/// Every table, every row, sorted.
fn dump(path: &Path) -> String {
    let conn = common::conn(path);
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = String::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap()
            .map(|r| r.unwrap().join("|"))
            .collect();
        rows.sort();
        out.push_str(&format!("## {t}\n{}\n", rows.join("\n")));
    }
    out
}

#[test]
fn an_import_killed_midway_leaves_the_database_as_before_and_the_next_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let station_dir = dir.path().join("station");
    let station = station_dir.join("station.sqlite");
    let (mut s, _) = Store::create_device(&station, "Assia", common::PASSPHRASE, "Station", "Assia").unwrap();
    // The laptop's people are made up: a practice station takes them.
    s.mark_practice().unwrap();
    let station_key = s.keys().unwrap().recipient;
    drop(s);

    let laptop_db = dir.path().join("laptop.sqlite");
    let (mut laptop, _) =
        Store::create_device(&laptop_db, "Samira", common::PASSPHRASE, "Portable A", "Samira").unwrap();
    laptop.trust_recipient("Station", &station_key).unwrap();
    demo::generate(&mut laptop, 2_000, 7).unwrap();
    let bundle = dir.path().join("big.wafira");
    laptop.export_bundle_to(&bundle, true).unwrap();
    let before = dump(&station);

    let mut child = common::command()
        .arg("--db")
        .arg(&station)
        .args(["bundle", "import", "--approve-new"])
        .arg(&bundle)
        .env_remove("WAFIRA_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The backup is taken just before the import's transaction begins.
    let started = Instant::now();
    while std::fs::read_dir(station_dir.join("backups")).map_or(true, |mut d| d.next().is_none()) {
        assert!(started.elapsed() < Duration::from_secs(60), "the import never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "the import ended before it could be killed: use a bigger bundle");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    assert_eq!(dump(&station), before, "the database is as it was before the import");
    let out = common::command()
        .arg("--db")
        .arg(&station)
        .args(["bundle", "import", "--approve-new"])
        .arg(&bundle)
        .env_remove("WAFIRA_DB")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["totals"]["added"]["beneficiaries"], 2_000);
}
