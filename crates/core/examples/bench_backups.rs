//! Disk taken by the restore points kept before imports (sync/backup.rs),
//! printed, not a test: a station of 3,000 demo people (visits and
//! milestones through the write path) takes 20 small bundles from a
//! laptop, each of a few people with a visit.
//!
//! ```text
//! cargo run --release -p wafira-core --example bench_backups
//! cargo run --release -p wafira-core --example bench_backups -- --people 3000 --imports 20 --each 5
//! ```
//!
//! `--station DB` starts from a copy of a database made by `wafira init`
//! and `wafira demo` (opened with `WAFIRA_PASSPHRASE`, default the one of
//! `scripts/bench-start`) instead of writing the people: the
//! 100,000-person database of `scripts/bench-start`, for instance.
//!
//! Printed: the database file, the points kept (full copies and deltas,
//! with their bytes), and what earlier versions kept for the same imports:
//! a copy of the whole file before each import, ten kept (the sum of the
//! file's size at the last ten imports, which is what those copies were:
//! the file once its write-ahead log was emptied into it). Also the time
//! each import took, the point included.

use serde_json::json;
use std::time::Instant;
use wafira_core::{demo, Store};

fn usage(msg: &str) -> ! {
    eprintln!("{msg}\nusage: bench_backups [--people N | --station DB] [--imports N] [--each N]");
    std::process::exit(2)
}

fn key() -> wafira_core::accounts::DbKey {
    wafira_core::accounts::DbKey::from_bytes([7; 32])
}

fn machine(dir: &std::path::Path, name: &str) -> Store {
    let mut s = Store::open_with_key(dir.join(format!("{name}.sqlite")), &key()).expect("open");
    s.init_device(name, "Bench").expect("init");
    s
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn main() {
    let (mut people, mut imports, mut each) = (3_000usize, 20usize, 5usize);
    let mut from: Option<std::path::PathBuf> = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        if flag == "--station" {
            from = Some(value.into());
            continue;
        }
        let n = value.parse::<usize>().unwrap_or_else(|_| usage(&format!("{flag}: not a number: {value}")));
        match flag.as_str() {
            "--people" => people = n,
            "--imports" => imports = n,
            "--each" => each = n.max(1),
            other => usage(&format!("unknown option {other}")),
        }
    }
    let dir = tempfile::tempdir().expect("scratch folder");
    let started = Instant::now();
    let mut station = match &from {
        None => {
            let mut station = machine(dir.path(), "station");
            let made = demo::generate(&mut station, people, 7).expect("demo");
            eprintln!(
                "station: {} people, {} visits, {} milestones written in {:.0} s",
                made.beneficiaries,
                made.visits,
                made.milestones,
                started.elapsed().as_secs_f64()
            );
            station
        }
        Some(db) => {
            let path = dir.path().join("station.sqlite");
            std::fs::copy(db, &path).expect("copy of the database");
            let mut accounts = db.as_os_str().to_owned();
            accounts.push(".accounts");
            std::fs::copy(accounts, dir.path().join("station.sqlite.accounts")).expect("its accounts");
            let passphrase =
                std::env::var("WAFIRA_PASSPHRASE").unwrap_or_else(|_| "bench-start passphrase".to_string());
            let credentials = wafira_core::accounts::Credentials::passphrase(None, &passphrase);
            let station = Store::open(&path, &credentials).expect("open");
            people = station
                .conn()
                .query_row("SELECT count(*) FROM beneficiary", [], |r| r.get::<_, i64>(0))
                .expect("people") as usize;
            eprintln!("station: a copy of {} ({people} people)", db.display());
            station
        }
    };
    // Practice data on both sides: a practice station takes practice bundles.
    let mut laptop = machine(dir.path(), "laptop");
    laptop.mark_practice().expect("practice");
    let name = station.device().expect("station").name.clone();
    laptop.trust_recipient(&name, &station.keys().expect("keys").recipient).expect("trust");

    let mut sizes = Vec::new();
    let mut times = Vec::new();
    for i in 0..imports {
        for k in 0..each {
            let first = ["Fatima", "Khadija", "Zineb", "Hanane", "Siham"][k % 5];
            let p = laptop
                .add_beneficiary_json(json!({
                    "first_name": first,
                    "last_name": format!("Bench {i}-{k}"),
                    "sex": "F", "birth_date": "1990-03-14", "region": "04", "consent": true
                }))
                .expect("person");
            laptop
                .add_visit_json(
                    json!({ "beneficiary_id": p.id.to_string(), "date": "2026-01-05", "kind": "follow_up" }),
                )
                .expect("visit");
        }
        let out = dir.path().join(format!("bundle-{i}.wafira"));
        laptop.export_bundle_to(&out, false).expect("export");
        let bytes = std::fs::read(&out).expect("bundle");
        // What an earlier version's copy before this import weighed.
        station.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
        sizes.push(std::fs::metadata(station.path()).expect("database").len());
        let t = Instant::now();
        let options = wafira_core::sync::ImportOptions { approve_new: true, ..Default::default() };
        let report = station.import_bundles_with(vec![(String::new(), bytes)], options).expect("import");
        assert!(!report.any_refused(), "refused: {:?}", report.files[0].error);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    station.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
    let db = std::fs::metadata(station.path()).expect("database").len();
    let points = station.backups().expect("points");
    let full: Vec<_> = points.iter().filter(|p| p.full).collect();
    let deltas: Vec<_> = points.iter().filter(|p| !p.full).collect();
    let kept: u64 = points.iter().map(|p| p.bytes).sum();
    let sidecar = std::fs::read_dir(dir.path().join("backups"))
        .expect("backups")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".blocks"))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum::<u64>();
    let earlier: u64 = sizes.iter().rev().take(wafira_core::sync::backup::KEEP).sum();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!("{imports} imports of {each} people with a visit each, into {people} demo people");
    println!("database file: {}", mb(db));
    println!(
        "restore points kept: {} ({} full copy of {}, {} deltas of {} in all, {} on average; block digests {})",
        points.len(),
        full.len(),
        mb(full.iter().map(|p| p.bytes).sum()),
        deltas.len(),
        mb(deltas.iter().map(|p| p.bytes).sum()),
        mb(deltas.iter().map(|p| p.bytes).sum::<u64>() / deltas.len().max(1) as u64),
        mb(sidecar)
    );
    println!("disk taken by backups: {} (with the digests {})", mb(kept), mb(kept + sidecar));
    println!("earlier versions (a full copy before each import, ten kept): {}", mb(earlier));
    println!(
        "import time, point included: median {:.0} ms, slowest {:.0} ms",
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
    // The newest point made whole, as a restore does (the full copy, then
    // every delta applied and its digests checked), timed.
    let newest = points.first().expect("a point").name.clone();
    let t = Instant::now();
    wafira_core::sync::backup::write_copy(&station, &newest, &dir.path().join("newest.sqlite")).expect("copy");
    println!(
        "making the newest point whole (the copy, {} deltas, digests checked): {:.0} ms",
        deltas.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
}
