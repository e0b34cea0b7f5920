//! Sync figures, printed: `cargo bench -p wafira-core --bench sync`.
//!
//! A laptop with 3,000 beneficiaries, 60,000 visits and 20,000 milestones
//! (made through the write path): the time to export its bundle, the
//! bundle's size per record, the time to import it into an empty station
//! and into a station that already holds another laptop of the same size,
//! and, in the same run, a plain rusqlite insert of the same record rows in
//! one transaction, the yardstick for the import's throughput.

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

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
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

fn machine(dir: &std::path::Path, name: &str) -> Store {
    let mut s = Store::open(dir.join(format!("{name}.sqlite"))).expect("open");
    s.init_device(name, "Bench").expect("init");
    s
}

/// A table's column names and rows.
type Rows = (Vec<String>, Vec<Vec<SqlValue>>);

/// The record rows of a database, as they are stored.
fn rows(store: &Store, table: &str) -> Rows {
    let conn = store.conn();
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).expect("select");
    let cols: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let n = cols.len();
    let rows = stmt
        .query_map([], |r| (0..n).map(|i| r.get::<_, SqlValue>(i)).collect::<rusqlite::Result<Vec<_>>>())
        .expect("rows")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("rows");
    (cols, rows)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let mut laptop = machine(dir.path(), "laptop-a");
    fill(&mut laptop, 1);
    let mut other = machine(dir.path(), "laptop-b");
    fill(&mut other, 2);
    let count = |s: &Store, t: &str| -> i64 {
        s.conn().query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).unwrap_or(0)
    };
    let records = count(&laptop, "beneficiary") + count(&laptop, "visit") + count(&laptop, "milestone");
    println!(
        "generated 2 laptops of {} beneficiaries, {} visits, {} milestones each in {:.1} s",
        count(&laptop, "beneficiary"),
        count(&laptop, "visit"),
        count(&laptop, "milestone"),
        secs(t)
    );

    let t = Instant::now();
    let out = dir.path().join("a.wafira");
    let exported = laptop.export_bundle_to(&out, true).expect("export");
    let export_s = secs(t);
    let bytes = std::fs::read(&out).expect("read bundle");
    let other_bytes = other.build_bundle(true).expect("export b").0;
    println!(
        "export: {export_s:.3} s for {} changes; bundle {} bytes = {:.1} bytes per record (content {} bytes before compression)",
        exported.manifest.changes,
        bytes.len(),
        bytes.len() as f64 / records as f64,
        exported.manifest.content_bytes
    );

    let t = Instant::now();
    wafira_core::sync::bundle::decode(&bytes).expect("decode");
    println!("  of which checking and unpacking the bundle: {:.3} s", secs(t));

    let mut empty = machine(dir.path(), "station-empty");
    let t = Instant::now();
    let s = empty.import_bundle(bytes.clone()).expect("import into empty");
    let import_empty = secs(t);
    println!(
        "import into an empty station: {import_empty:.3} s (+{} beneficiaries, +{} visits, +{} milestones)",
        s.added.beneficiaries, s.added.visits, s.added.milestones
    );

    let mut full = machine(dir.path(), "station-full");
    full.import_bundle(other_bytes).expect("first laptop");
    let t = Instant::now();
    full.conn()
        .execute("VACUUM INTO ?1", [dir.path().join("copy.sqlite").to_string_lossy().to_string()])
        .expect("copy");
    let backup_s = secs(t);
    let t = Instant::now();
    let s = full.import_bundle(bytes.clone()).expect("import into full");
    let import_full = secs(t);
    println!(
        "import into a station holding another laptop: {import_full:.3} s, of which about {backup_s:.3} s is the backup copy ({} possible duplicates found)",
        s.possible_duplicates
    );
    let t = Instant::now();
    let again = full.import_bundle(bytes).expect("again");
    println!("the same bundle again: {:.3} s, {} new changes", secs(t), again.new_changes);

    // The yardstick: the same record rows, plainly inserted in one transaction.
    let tables: Vec<(&str, Rows)> =
        ["beneficiary", "visit", "milestone"].iter().map(|t| (*t, rows(&laptop, t))).collect();
    let mut plain = Store::open(dir.path().join("plain.sqlite")).expect("open plain");
    let t = Instant::now();
    {
        let conn = plain.conn();
        conn.execute_batch("BEGIN").expect("begin");
        for (table, (cols, rows)) in &tables {
            let ph: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            let mut stmt = conn
                .prepare(&format!("INSERT INTO {table} ({}) VALUES ({})", cols.join(", "), ph.join(", ")))
                .expect("prepare");
            for r in rows {
                stmt.execute(rusqlite::params_from_iter(r.iter())).expect("insert");
            }
        }
        conn.execute_batch("COMMIT").expect("commit");
    }
    let plain_s = secs(t);
    let _ = &mut plain;
    println!("plain rusqlite insert of the same {records} rows in one transaction: {plain_s:.3} s");
    println!(
        "throughput: import {:.0} records/s, plain insert {:.0} records/s: import = {:.2} of the plain insert (target >= 0.5)",
        records as f64 / import_empty,
        records as f64 / plain_s,
        plain_s / import_empty
    );
}
