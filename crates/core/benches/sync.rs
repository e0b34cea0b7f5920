//! Sync figures, printed: `cargo bench -p wafira-core --bench sync`.
//!
//! A laptop with 3,000 beneficiaries, 60,000 visits and 20,000 milestones
//! (made through the write path): the time to export its bundle, the
//! bundle's size per record, the time to import it into an empty station
//! and into a station that already holds another laptop of the same size
//! (the backup copy and the search for duplicates included), and, in the
//! same run, two yardsticks for the import's throughput, each the rows the
//! import wrote into the empty station, read back and inserted into an
//! empty database of the same schema in one transaction with prepared
//! statements and the import's connection settings:
//!
//! - everything the import writes: the device rows, the 83,000 rows of the
//!   change log, the 83,000 record rows, the people's search-index rows;
//! - the 83,000 record rows alone (what an earlier version compared with).
//!
//! And what protecting a bundle costs: the export (build) and the import of
//! the same bundle encrypted (age) and signed (Ed25519), against the same
//! unencrypted and unsigned, as versions before signed bundles made them;
//! the ratio is printed.
//!
//! Each figure gives wall time and CPU time (all threads): the machines are
//! shared, and CPU time says how much was our work. Generating the laptops
//! takes longer than the figures; `WAFIRA_BENCH_CACHE=<folder>` keeps them
//! there between runs.

use rusqlite::types::Value as SqlValue;
use serde_json::json;
use std::time::Instant;
use wafira_core::beneficiary::BeneficiaryInput;
use wafira_core::milestone::MilestoneInput;
use wafira_core::visit::VisitInput;
use wafira_core::Store;

const PEOPLE: usize = 3_000;
const VISITS_EACH: usize = 20;
const MILESTONES: usize = 20_000;

const FIRST: &[&str] = &[
    "Fatima", "Khadija", "Aïcha", "Meryem", "Zineb", "Hanane", "Naïma", "Saïda", "Latifa", "Rachida", "Samira",
    "Nadia", "Malika", "Souad", "Bouchra", "Loubna", "Siham", "Houda", "Imane", "Asmae", "Ghizlane", "Hayat",
];
const LAST: &[&str] = &[
    "El Idrissi",
    "Benali",
    "Alaoui",
    "Bennani",
    "Tazi",
    "Chraïbi",
    "El Amrani",
    "Ouazzani",
    "Berrada",
    "Lahlou",
    "Benjelloun",
    "Boukhari",
    "Zerouali",
    "El Mansouri",
    "Haddad",
    "Sbaï",
    "Naciri",
    "Belhaj",
    "Bouzid",
    "Touzani",
];
const KINDS: [(&str, bool); 7] = [
    ("business_plan", false),
    ("training_completed", false),
    ("financing_requested", true),
    ("financing_obtained", true),
    ("equipment_acquired", false),
    ("iga_launched", false),
    ("first_sale", true),
];

/// Wall-clock and CPU time since a start: the machine is shared, so the CPU
/// time (all threads, from /proc; Linux only, else 0) says how much of the
/// wall time was work of ours rather than waiting for a core.
struct Span {
    wall: Instant,
    cpu: f64,
}

impl Span {
    fn start() -> Span {
        Span { wall: Instant::now(), cpu: cpu_seconds() }
    }

    fn secs(&self) -> f64 {
        self.wall.elapsed().as_secs_f64()
    }

    /// "1.234 s (cpu 1.100 s)".
    fn show(&self) -> String {
        format!("{:.3} s (cpu {:.2} s)", self.secs(), cpu_seconds() - self.cpu)
    }
}

/// User + system CPU time of this process so far.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may hold spaces): utime and
    // stime are the 14th and 15th fields, in clock ticks (100 per second).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().skip(11).take(2).filter_map(|x| x.parse().ok()).collect();
    f.iter().sum::<f64>() / 100.0
}

/// A laptop's worth of records, written as a coordinator would.
fn fill(store: &mut Store, seed: usize) {
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 2).unwrap_or_default();
    let mut milestones_left = MILESTONES;
    for chunk in 0..(PEOPLE / 300) {
        store
            .write(|w| {
                for i in chunk * 300..(chunk + 1) * 300 {
                    let k = i * 7 + seed * 13;
                    let registered = start + chrono::Days::new((i % 200) as u64);
                    let b = w.add_beneficiary(&BeneficiaryInput {
                        first_name: Some(FIRST[k % FIRST.len()].into()),
                        last_name: Some(LAST[(k / 3) % LAST.len()].into()),
                        sex: Some("F".into()),
                        birth_date: Some(format!("19{}-0{}-1{}", 60 + k % 40, 1 + k % 9, k % 10)),
                        phone: Some(format!("06{:08}", seed * 10_000_000 + i)),
                        region: Some("04".into()),
                        commune: Some(format!("Commune {}", k % 60)),
                        phase: Some("returned".into()),
                        consent: Some(true),
                        cohort: Some("2024-A".into()),
                        ..Default::default()
                    })?;
                    for v in 0..VISITS_EACH {
                        let date = registered + chrono::Days::new(15 * v as u64 + 1);
                        w.add_visit(&VisitInput {
                            beneficiary_id: Some(b.id.to_string()),
                            date: Some(date.to_string()),
                            kind: Some("follow_up".into()),
                            location: Some("domicile".into()),
                            duration_minutes: Some(45),
                            topics: Some(vec!["budget familial".into()]),
                            next_visit_date: Some((date + chrono::Days::new(15)).to_string()),
                            ..Default::default()
                        })?;
                    }
                    let n = milestones_left.min(if i % 3 == 2 { 6 } else { 7 });
                    milestones_left -= n;
                    for (m, (kind, amount)) in KINDS.iter().take(n).enumerate() {
                        let date = registered + chrono::Days::new(30 * m as u64 + 3);
                        w.add_milestone(&MilestoneInput {
                            beneficiary_id: Some(b.id.to_string()),
                            kind: Some(kind.to_string()),
                            date: Some(date.to_string()),
                            amount: amount.then(|| json!("12500.00")),
                            ..Default::default()
                        })?;
                    }
                }
                Ok(())
            })
            .expect("generate");
    }
}

/// The key of the bench's databases (no passphrase: the unlock is timed
/// apart, in `at_rest`).
fn key() -> wafira_core::accounts::DbKey {
    wafira_core::accounts::DbKey::from_bytes([7; 32])
}

fn machine(dir: &std::path::Path, name: &str) -> Store {
    let mut s = Store::open_with_key(dir.join(format!("{name}.sqlite")), &key()).expect("open");
    s.init_device(name, "Bench").expect("init");
    s
}

/// `laptop` encrypts its bundles to `station` too.
fn trust(laptop: &mut Store, station: &Store) {
    let name = station.device().expect("station").name.clone();
    laptop.trust_recipient(&name, &station.keys().expect("keys").recipient).expect("trust");
}

/// Imports a bundle, approving its laptop (never seen here).
fn import_approving(station: &mut Store, bytes: Vec<u8>) -> wafira_core::sync::ImportSummary {
    let options = wafira_core::sync::ImportOptions { approve_new: true, ..Default::default() };
    let mut report = station.import_bundles_with(vec![(String::new(), bytes)], options).expect("import");
    let f = report.files.remove(0);
    f.summary.unwrap_or_else(|| panic!("refused: {:?}", f.error))
}

/// A table's column names and rows.
type Rows = (Vec<String>, Vec<Vec<SqlValue>>);

/// The rows of a table (or the given columns of it), as they are stored:
/// `*` is the stored columns (not those generated from others).
fn rows(store: &Store, table: &str, columns: &str) -> Rows {
    let conn = store.conn();
    let stored: Vec<String> = conn
        .prepare(&format!("SELECT name FROM pragma_table_xinfo('{table}') WHERE hidden = 0"))
        .expect("columns")
        .query_map([], |r| r.get(0))
        .expect("columns")
        .collect::<rusqlite::Result<_>>()
        .expect("columns");
    let columns = if columns == "*" { stored.join(", ") } else { columns.to_string() };
    let mut stmt = conn.prepare(&format!("SELECT {columns} FROM {table}")).expect("select");
    let cols: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let n = cols.len();
    let rows = stmt
        .query_map([], |r| (0..n).map(|i| r.get::<_, SqlValue>(i)).collect::<rusqlite::Result<Vec<_>>>())
        .expect("rows")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("rows");
    (cols, rows)
}

/// Inserts rows into an empty database of the same schema (so the same
/// indexes) in one transaction, one prepared statement per table, with the
/// connection settings an import uses (statement journals in memory, a
/// 128 MiB page cache); gives the time it took, commit included.
fn plain_insert(path: &std::path::Path, tables: &[(&str, Rows)]) -> Span {
    let store = Store::open_with_key(path, &key()).expect("open plain");
    insert_rows(store.conn(), tables)
}

/// The same into an unencrypted file of the same schema.
fn plain_insert_unencrypted(path: &std::path::Path, tables: &[(&str, Rows)]) -> Span {
    let mut conn = rusqlite::Connection::open(path).expect("open unencrypted");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL").expect("settings");
    wafira_core::store::schema::migrations().to_latest(&mut conn).expect("schema");
    insert_rows(&conn, tables)
}

fn insert_rows(conn: &rusqlite::Connection, tables: &[(&str, Rows)]) -> Span {
    conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -131072").expect("settings");
    let t = Span::start();
    conn.execute_batch("BEGIN").expect("begin");
    for (table, (cols, rows)) in tables {
        let ph: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        let mut stmt = conn
            .prepare(&format!("INSERT INTO {table} ({}) VALUES ({})", cols.join(", "), ph.join(", ")))
            .expect("prepare");
        for r in rows {
            stmt.execute(rusqlite::params_from_iter(r.iter())).expect("insert");
        }
    }
    conn.execute_batch("COMMIT").expect("commit");
    t
}

/// A generated laptop; with `WAFIRA_BENCH_CACHE=<folder>` generated once and
/// copied from there on later runs (generating takes longer than the figures).
fn generated(dir: &std::path::Path, name: &str, seed: usize) -> Store {
    let cache = std::env::var_os("WAFIRA_BENCH_CACHE").map(std::path::PathBuf::from);
    let file = format!("{name}.sqlite");
    if let Some(cached) = cache.as_ref().map(|c| c.join(&file)).filter(|f| f.exists()) {
        std::fs::copy(cached, dir.join(&file)).expect("copy cached laptop");
        return Store::open_with_key(dir.join(&file), &key()).expect("open");
    }
    let mut s = machine(dir, name);
    fill(&mut s, seed);
    // On disk before anything is timed: generating writes about a gigabyte,
    // and an import's commit would otherwise wait behind its writeback.
    s.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
    std::fs::File::open(dir.join(&file)).and_then(|f| f.sync_all()).expect("sync");
    if let Some(cache) = cache {
        std::fs::create_dir_all(&cache).expect("cache folder");
        std::fs::copy(dir.join(&file), cache.join(&file)).expect("cache laptop");
    }
    s
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = Span::start();
    let mut laptop = generated(dir.path(), "laptop-a", 1);
    let mut other = generated(dir.path(), "laptop-b", 2);
    let mut empty = machine(dir.path(), "station-empty");
    let mut full = machine(dir.path(), "station-full");
    let plain_station = machine(dir.path(), "station-plain");
    for station in [&empty, &full, &plain_station] {
        trust(&mut laptop, station);
        trust(&mut other, station);
    }
    let count = |s: &Store, t: &str| -> i64 {
        s.conn().query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).unwrap_or(0)
    };
    let records = count(&laptop, "beneficiary") + count(&laptop, "visit") + count(&laptop, "milestone");
    println!(
        "generated 2 laptops of {} beneficiaries, {} visits, {} milestones each in {:.1} s",
        count(&laptop, "beneficiary"),
        count(&laptop, "visit"),
        count(&laptop, "milestone"),
        t.secs()
    );

    let t = Span::start();
    let out = dir.path().join("a.wafira");
    let exported = laptop.export_bundle_to(&out, true).expect("export");
    let export_s = t.secs();
    println!(
        "export: {} for {} changes; bundle {} bytes = {:.1} bytes per record (content {} bytes before compression)",
        t.show(),
        exported.manifest.changes,
        exported.bytes,
        exported.bytes as f64 / records as f64,
        exported.manifest.content_bytes
    );
    let bytes = std::fs::read(&out).expect("read bundle");
    let other_bytes = other.build_bundle(true).expect("export b").0;

    let t = Span::start();
    let opened = wafira_core::sync::bundle::unseal(&bytes, &empty.own_keys().expect("keys").identity).expect("unseal");
    let unseal_show = t.show();
    let t = Span::start();
    wafira_core::sync::bundle::unpack(&opened).expect("unpack");
    let verify_show = t.show();
    println!(
        "  decrypting the bundle: {unseal_show}; checking and unpacking it, its signature checked: {verify_show} \
         (both part of each import)"
    );

    let t = Span::start();
    let s = import_approving(&mut empty, bytes.clone());
    let import_empty = t.secs();
    println!(
        "import into an empty station: {} (+{} beneficiaries, +{} visits, +{} milestones)",
        t.show(),
        s.added.beneficiaries,
        s.added.visits,
        s.added.milestones
    );

    import_approving(&mut full, other_bytes);
    let t = Span::start();
    wafira_core::sync::backup::take(&full, "bench").expect("backup");
    let backup = t.show();
    let t = Span::start();
    let s = import_approving(&mut full, bytes.clone());
    let import_full = t.secs();
    println!(
        "import into a station holding another laptop: {}, of which about {backup} is the backup copy ({} possible duplicates found)",
        t.show(),
        s.possible_duplicates
    );
    let t = Span::start();
    let again = full.import_bundle(bytes).expect("again");
    let again_s = t.secs();
    println!(
        "the same bundle again: {}, {} new changes (recognised from its manifest, target < 0.1 s)",
        t.show(),
        again.new_changes
    );

    // What protection costs: the same bundle built and imported encrypted
    // and signed, then plain and unsigned (as before signed bundles); each
    // the best of a few runs, alternated, since the machine is shared.
    let (mut build_protected, mut build_plain) = (f64::MAX, f64::MAX);
    let (mut sealed, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let t = Span::start();
        sealed = laptop.build_bundle(true).expect("build protected").0;
        build_protected = build_protected.min(t.secs());
        let t = Span::start();
        plain = laptop.build_unprotected_bundle(true).expect("build plain").0;
        build_plain = build_plain.min(t.secs());
    }
    let recipients: Vec<_> = [&empty, &full, &plain_station]
        .iter()
        .map(|s| s.own_keys().expect("keys").recipient())
        .chain([laptop.own_keys().expect("keys").recipient()])
        .collect();
    let t = Span::start();
    wafira_core::sync::bundle::seal(&plain, &recipients).expect("seal");
    let seal_show = t.show();
    let (mut import_protected, mut import_plain) = (f64::MAX, f64::MAX);
    for round in 0..2 {
        let mut s = machine(dir.path(), &format!("station-protected-{round}"));
        trust(&mut laptop, &s);
        let bytes = laptop.build_bundle(true).expect("build").0;
        let t = Span::start();
        import_approving(&mut s, bytes);
        import_protected = import_protected.min(t.secs());
        let mut s = machine(dir.path(), &format!("station-plain-{round}"));
        let t = Span::start();
        let summary = s.import_bundle(plain.clone()).expect("import plain");
        import_plain = import_plain.min(t.secs());
        assert_eq!(summary.warnings, vec!["unsigned"]);
    }
    println!(
        "protection (age encryption to {} recipients + Ed25519 signature), best of runs: build {build_protected:.3} s \
         vs {build_plain:.3} s plain = x{:.3}; import into an empty station {import_protected:.3} s vs \
         {import_plain:.3} s plain = x{:.3}; encrypting alone {seal_show}, decrypting alone {unseal_show}; bundle \
         {} bytes vs {} plain",
        recipients.len(),
        build_protected / build_plain,
        import_protected / import_plain,
        sealed.len(),
        plain.len(),
    );

    // The yardsticks: rows the import wrote into the empty station, read back
    // and plainly inserted into another empty database.
    let record_tables: Vec<(&str, Rows)> =
        ["beneficiary", "visit", "milestone"].iter().map(|t| (*t, rows(&empty, t, "*"))).collect();
    let t = plain_insert(&dir.path().join("plain-records.sqlite"), &record_tables);
    let plain_records = t.secs();
    println!("plain insert of the {records} record rows alone (beneficiary, visit, milestone): {}", t.show());
    let mut all_tables: Vec<(&str, Rows)> = vec![("device", rows(&empty, "device", "*"))];
    all_tables.push(("device_no", rows(&empty, "device_no", "*")));
    all_tables.push(("change_log", rows(&empty, "change_log", "*")));
    all_tables.extend(record_tables);
    all_tables.push(("beneficiary_fts", rows(&empty, "beneficiary_fts", "rowid, text")));
    let written: usize = all_tables.iter().map(|(_, (_, r))| r.len()).sum();
    let t = plain_insert(&dir.path().join("plain-all.sqlite"), &all_tables);
    let plain_all = t.secs();
    println!(
        "plain insert of everything the import wrote ({written} rows: devices, the {} changes of the log, the \
         {records} record rows, their search index rows): {}",
        exported.manifest.changes,
        t.show()
    );
    println!(
        "throughput: import {:.0} records/s; plain insert of everything it writes {:.0} records/s: import = {:.2} of it \
         (target >= 0.5); of the record rows alone: {:.2}",
        records as f64 / import_empty,
        records as f64 / plain_all,
        plain_all / import_empty,
        plain_records / import_empty,
    );
    let t = plain_insert_unencrypted(&dir.path().join("unencrypted-all.sqlite"), &all_tables);
    println!(
        "the same plain insert into an unencrypted file: {} = encrypted file x{:.2}",
        t.show(),
        plain_all / t.secs()
    );
    at_rest(dir.path(), laptop.path());
    println!(
        "targets: export {export_s:.2} s, import into empty {import_empty:.2} s, into full {import_full:.2} s (each < 2 s); \
         again {again_s:.3} s (< 0.1 s)"
    );
}

/// Opening and reading the encrypted database against an unencrypted copy
/// of it (SQLCipher's export with an empty key), each the best of a few
/// runs on a new connection; and the unlock with a passphrase (Argon2id).
fn at_rest(dir: &std::path::Path, laptop: &std::path::Path) {
    let plain = dir.join("laptop-unencrypted.sqlite");
    let conn = wafira_core::store::connect(laptop, &key()).expect("connect");
    conn.execute("ATTACH DATABASE ?1 AS plain KEY ''", [plain.to_string_lossy()]).expect("attach");
    conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(())).expect("export plain");
    conn.execute_batch("DETACH DATABASE plain").expect("detach");
    drop(conn);
    let best = |f: &dyn Fn() -> rusqlite::Connection, sql: &str| -> f64 {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                let c = f();
                c.query_row(sql, [], |r| r.get::<_, i64>(0)).expect("query");
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let encrypted = || wafira_core::store::connect(laptop, &key()).expect("open encrypted");
    let unencrypted = || rusqlite::Connection::open(&plain).expect("open plain");
    let first_page = "SELECT count(*) FROM (SELECT id FROM beneficiary ORDER BY last_name, first_name LIMIT 50)";
    let scan = "SELECT sum(length(fields)) FROM change";
    let (open_e, open_p) = (best(&encrypted, first_page), best(&unencrypted, first_page));
    let (scan_e, scan_p) = (best(&encrypted, scan), best(&unencrypted, scan));
    println!(
        "at rest: open + first page of the list {:.1} ms encrypted vs {:.1} ms unencrypted = x{:.2}; \
         reading the whole change log ({} MB file) {:.0} ms vs {:.0} ms = x{:.2}",
        open_e * 1e3,
        open_p * 1e3,
        open_e / open_p,
        std::fs::metadata(laptop).map(|m| m.len()).unwrap_or(0) / 1_000_000,
        scan_e * 1e3,
        scan_p * 1e3,
        scan_e / scan_p,
    );
    let path = dir.join("unlock.sqlite");
    let pass = "une phrase de passe de banc";
    let (created, recovery_text) = Store::create(&path, "Bench", pass).expect("create");
    drop(created);
    let t = Instant::now();
    let credentials = wafira_core::accounts::Credentials::passphrase(None, pass);
    drop(Store::open(&path, &credentials).expect("unlock"));
    let with_pass = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let recovery = wafira_core::accounts::Credentials::RecoveryKey(recovery_text);
    drop(Store::open(&path, &recovery).expect("open with the recovery key"));
    println!(
        "unlock with a passphrase (Argon2id 64 MiB, 3 passes, then the store opened): {:.0} ms; the store opened with \
         the recovery key (no derivation): {:.0} ms",
        with_pass * 1e3,
        t.elapsed().as_secs_f64() * 1e3
    );
}
