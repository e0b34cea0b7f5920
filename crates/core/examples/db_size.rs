//! Bytes on disk per record, printed, not a test (issue 12: "database at
//! most 800 bytes per record on average for the demo data"). Writes the
//! demo's people through the write path into a fresh database,
//! checkpoints and vacuums it, then prints the file's size per record
//! (rows of the record tables), how much of it is the records' own copy of
//! their content (`body`, `clocks`) and the change log's, and SQLite's
//! account of where the pages go (`dbstat`: each table and index).
//!
//! ```text
//! cargo run --release -p wafira-core --example db_size
//! cargo run --release -p wafira-core --example db_size -- --people 3000
//! WAFIRA_PASSPHRASE=… cargo run --release -p wafira-core --example db_size -- --file DB
//! ```
//!
//! `--file` reads a database as the app left it (not vacuumed).

use rusqlite::Connection;
use wafira_core::{demo, store::log::Entity, Store};

fn sum(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0)).expect("sum").unwrap_or(0)
}

fn usage() -> ! {
    eprintln!("usage: db_size [--people N | --file DB (WAFIRA_PASSPHRASE, WAFIRA_USER)]");
    std::process::exit(2)
}

fn main() {
    let mut people = 3_000usize;
    let mut file: Option<std::path::PathBuf> = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--people", Some(n)) => match n.parse() {
                Ok(n) => people = n,
                Err(_) => usage(),
            },
            ("--file", Some(f)) => file = Some(f.into()),
            _ => usage(),
        }
    }
    let dir = tempfile::tempdir().expect("scratch folder");
    let (store, path) = match file {
        // A database as it is on disk, written by the app over time: not
        // vacuumed, so its free space shows.
        Some(path) => {
            let pass = std::env::var("WAFIRA_PASSPHRASE").expect("WAFIRA_PASSPHRASE");
            let user = std::env::var("WAFIRA_USER").ok();
            let credentials = wafira_core::accounts::Credentials::passphrase(user.as_deref(), &pass);
            (Store::open(&path, &credentials).expect("open"), path)
        }
        None => {
            let path = dir.path().join("size.sqlite");
            let key = wafira_core::accounts::DbKey::from_bytes([7; 32]);
            let mut store = Store::open_with_key(&path, &key).expect("open");
            store.init_device("Size", "Bench").expect("init");
            let made = demo::generate(&mut store, people, 1).expect("demo");
            println!("{people} people written ({} visits, {} milestones)", made.visits, made.milestones);
            store
                .conn()
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
                .expect("vacuum");
            (store, path)
        }
    };
    let conn = store.conn();
    let free = sum(conn, "SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size");

    let (mut records, mut docs, mut kinds) = (0i64, 0i64, Vec::new());
    for entity in Entity::ALL {
        let t = entity.as_str();
        let n = sum(conn, &format!("SELECT count(*) FROM {t}"));
        records += n;
        docs += sum(conn, &format!("SELECT sum(length(body) + length(clocks)) FROM {t}"));
        if n > 0 {
            kinds.push(format!("{t} {n}"));
        }
    }
    let changes = sum(conn, "SELECT count(*) FROM change_log");
    // What the log itself stores: a create whose record's row holds its
    // content has none here (schema V8).
    let content = sum(
        conn,
        "SELECT sum(length(CAST(coalesce(fields, '') AS BLOB)) + coalesce(length(old), 0) + coalesce(length(base), 0))
         FROM change_log",
    );
    let in_rows = sum(conn, "SELECT count(*) FROM change_log WHERE fields IS NULL");
    let file = std::fs::metadata(&path).expect("size").len() as f64;
    let per = |bytes: f64| bytes / records as f64;
    println!("{records} records, {changes} changes");
    println!("  {}", kinds.join(", "));
    println!("  {in_rows} of the {changes} changes keep their content in their record's row only");
    println!(
        "file {:.1} MB: {:.0} bytes per record (target: at most 800); free pages {:.1} MB",
        file / 1e6,
        per(file),
        free as f64 / 1e6
    );
    println!(
        "  the records' copy of their content (body, clocks) {:.0} B/record; the change log's (fields, old, base) {:.0}",
        per(docs as f64),
        per(content as f64)
    );
    let mut stmt = conn
        .prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY sum(pgsize) DESC LIMIT 16")
        .expect("dbstat");
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).expect("dbstat rows");
    println!("  {:<30} {:>10} {:>8}", "table or index", "bytes", "/record");
    for row in rows {
        let (name, bytes) = row.expect("row");
        println!("  {name:<30} {bytes:>10} {:>8.0}", per(bytes as f64));
    }
}
