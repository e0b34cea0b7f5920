//! A database made by the previous schema (version 1) opens with this
//! program: its changes get receipt numbers, its records are what its log
//! folds to, and its next bundle carries everything once (the old export
//! marks could have held changes back).

mod sync_support;

use rusqlite::Connection;
use serde_json::json;
use sync_support::*;
use wafira_core::store::schema;

/// The rows of `table` in `from`, copied into `to` column by column,
/// leaving out the columns `to` does not have.
fn copy_rows(from: &Connection, to: &Connection, table: &str, columns: &str) {
    let sql = format!("SELECT {columns} FROM {table}");
    let mut stmt = from.prepare(&sql).unwrap();
    let n = stmt.column_count();
    let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    let insert = format!("INSERT INTO {table} ({columns}) VALUES ({})", marks.join(", "));
    let mut rows = stmt.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let values: Vec<rusqlite::types::Value> = (0..n).map(|i| r.get(i).unwrap()).collect();
        to.execute(&insert, rusqlite::params_from_iter(values)).unwrap();
    }
}

#[test]
fn a_version_1_database_is_migrated_and_sends_everything_once() {
    // Records made by today's program, laid into a file of schema 1.
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    a.visit(fatima, "2025-01-10");
    a.edit(fatima, json!({ "cohort": "2024-A" }));
    a.store.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v1.sqlite");
    {
        let mut conn = Connection::open(&old).unwrap();
        schema::migrations().to_version(&mut conn, 1).unwrap();
        let src = sync_support::conn(&a.path);
        copy_rows(&src, &conn, "meta", "key, value");
        copy_rows(&src, &conn, "device", "id, name, coordinator, first_seen");
        copy_rows(
            &src,
            &conn,
            "change",
            "device_id, seq, hlc, entity, record_id, op, fields, old, base, at, coordinator",
        );
        // Schema 1's export marks, which schema 2 drops.
        let me = a.store.device().unwrap().id;
        conn.execute("INSERT INTO meta (key, value) VALUES (?1, '3')", [format!("sync.exported.{me}")]).unwrap();
        assert_eq!(conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap(), 1);
    }
    let mut migrated = wafira_core::Store::open_with_key(&old, &sync_support::key()).unwrap();
    assert_eq!(migrated.schema_version().unwrap(), schema::current_version());
    // The record tables came empty: fold them from the log.
    migrated.rebuild().unwrap();
    let conn = sync_support::conn(&old);
    let rcv: Vec<i64> = conn
        .prepare("SELECT rcv FROM change ORDER BY hlc")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rcv, vec![1, 2, 3], "receipt numbers in clock order");
    let path = old.clone();
    let m = Machine { store: migrated, path, _dir: dir };
    assert_eq!(m.state(), a.state(), "the same records as the program that made them");
    // Its next bundle carries all three changes, whatever the old marks said.
    let mut m = m;
    let bytes = m.export();
    let manifest = read_manifest(&bytes);
    assert_eq!(manifest.changes, 3);
}

#[test]
fn a_version_7_database_keeps_every_change_as_it_was_in_the_compact_log() {
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    let aicha = a.register(json!({ "first_name": "Aïcha", "cin": "K123456" }));
    a.visit(fatima, "2025-01-10");
    a.visit(aicha, "2025-02-11");
    a.edit(fatima, json!({ "cohort": "2024-A" }));
    let before = a.state();
    let log = |m: &Machine| dump(&m.path).split("## ").find(|t| t.starts_with("change\n")).unwrap_or("").to_string();
    let before_log = log(&a);
    assert!(before_log.lines().count() > 5, "{before_log}");
    let kept_in_rows = |m: &Machine| -> i64 {
        conn(&m.path).query_row("SELECT count(*) FROM change_log WHERE fields IS NULL", [], |r| r.get(0)).unwrap()
    };
    // Aïcha and both visits are as created: their content is in their rows
    // only; Fatima was edited, so her create's content is back in the log.
    assert_eq!(kept_in_rows(&a), 3);
    let Machine { store, path, _dir } = a;
    drop(store);
    as_version_7(&conn(&path));
    assert!(
        conn(&path).query_row("SELECT count(*) FROM change WHERE fields IS NULL", [], |r| r.get::<_, i64>(0)).unwrap()
            == 0
    );
    let store = wafira_core::Store::open_with_key(&path, &sync_support::key()).unwrap();
    assert_eq!(store.schema_version().unwrap(), schema::current_version());
    // Schema 9 writes every table anew: the file is rebuilt after, not
    // left holding the old pages.
    let free: i64 = store.conn().pragma_query_value(None, "freelist_count", |r| r.get(0)).unwrap();
    assert_eq!(free, 0);
    let mut m = Machine { store, path, _dir };
    assert_eq!(m.state(), before, "the same log and records, as text");
    assert_eq!(log(&m), before_log);
    assert_eq!(kept_in_rows(&m), 3);
    // And it goes on: an edit puts Aïcha's content back in the log first.
    m.edit(aicha, json!({ "cohort": "2025-B" }));
    assert_eq!(kept_in_rows(&m), 2);
    let first: String = conn(&m.path)
        .query_row("SELECT fields FROM change_log WHERE record_id = ?1 AND op = 'create'", [aicha.to_string()], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(first.contains("K123456") && !first.contains("2025-B"), "{first}");
}
