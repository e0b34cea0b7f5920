//! How long work says how far it is (progress.rs), printed, not a test:
//! on a station of 3,000 demo people, the summary PDF, the follow-up list
//! of everyone (days = 1), the XLSX and CSV exports, and an import of five
//! laptops' bundles, each run with a progress that notes when each step
//! came. Printed per job: its time, its steps, and the longest stretch
//! without a step, which is about the longest a Cancel waits for the next
//! point where the work may stop.
//!
//! ```text
//! cargo run --release -p wafira-core --example bench_progress
//! cargo run --release -p wafira-core --example bench_progress -- --people 3000 --laptops 5 --each 300
//! cargo run --release -p wafira-core --example bench_progress -- --station target/bench-start/people-3000/wafira.sqlite
//! ```
//!
//! `--station DB` starts from a copy of a database made by `wafira init`
//! and `wafira demo` (opened with `WAFIRA_PASSPHRASE`, default the one of
//! `scripts/bench-start`) instead of writing the people.

use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wafira_core::progress::{Cancel, Progress, Step};
use wafira_core::report::{self, ExportOptions, Format, PrintRequest};
use wafira_core::{demo, Store};

fn usage(msg: &str) -> ! {
    eprintln!("{msg}\nusage: bench_progress [--people N | --station DB] [--laptops N] [--each N]");
    std::process::exit(2)
}

/// A database `file` in `dir` for the computer `name`.
fn machine(dir: &std::path::Path, file: &str, name: &str) -> Store {
    let key = wafira_core::accounts::DbKey::from_bytes([7; 32]);
    let mut s = Store::open_with_key(dir.join(format!("{file}.sqlite")), &key).expect("open");
    s.init_device(name, "Bench").expect("init");
    s
}

/// Runs `job` with a progress noting when each step came; prints what it
/// took.
fn timed<T>(label: &str, job: impl FnOnce(&Progress) -> T) -> T {
    let seen: Arc<Mutex<Vec<(Instant, Step)>>> = Arc::default();
    let kept = seen.clone();
    let progress = Progress::new(Cancel::new(), move |s: &Step| kept.lock().unwrap().push((Instant::now(), s.clone())));
    let started = Instant::now();
    let out = job(&progress);
    let ended = Instant::now();
    let seen = seen.lock().unwrap();
    // Each stretch, and the step it followed ("start" for the first).
    let mut marks: Vec<(Instant, String)> = vec![(started, "start".to_string())];
    marks.extend(seen.iter().map(|(t, s)| (*t, format!("{:?}", s.what))));
    marks.push((ended, String::new()));
    let (longest, after) = marks
        .windows(2)
        .map(|w| (w[1].0 - w[0].0, w[0].1.clone()))
        .max_by_key(|(d, _)| *d)
        .unwrap_or((Duration::ZERO, String::new()));
    println!(
        "{label:<34} {:>7.0} ms  {:>5} steps  longest without a step {:>6.0} ms, after {after}",
        (ended - started).as_secs_f64() * 1000.0,
        seen.len(),
        longest.as_secs_f64() * 1000.0
    );
    out
}

fn main() {
    let (mut people, mut laptops, mut each) = (3_000usize, 5usize, 300usize);
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
            "--laptops" => laptops = n.max(1),
            "--each" => each = n.max(1),
            other => usage(&format!("unknown option {other}")),
        }
    }
    let dir = tempfile::tempdir().expect("scratch folder");
    let mut station = match &from {
        None => {
            let mut station = machine(dir.path(), "station", "Station");
            demo::generate(&mut station, people, 7).expect("demo");
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
            Store::open(&path, &wafira_core::accounts::Credentials::passphrase(None, &passphrase)).expect("open")
        }
    };
    let count = |sql: &str| station.conn().query_row(sql, [], |r| r.get::<_, i64>(0)).expect("count");
    println!(
        "station: {} people, {} visits, {} milestones",
        count("SELECT count(*) FROM beneficiary"),
        count("SELECT count(*) FROM visit"),
        count("SELECT count(*) FROM milestone")
    );
    let out = dir.path().join("out");
    for (label, request) in [
        ("summary PDF (fr)", json!({ "kind": "summary", "lang": "fr" })),
        ("follow-up list, everyone (ar)", json!({ "kind": "followups", "days": 1, "lang": "ar" })),
    ] {
        let request: PrintRequest = serde_json::from_value(request).expect("request");
        let saved = timed(label, |p| report::print_with_progress(&station, &request, Some(&out.join("r.pdf")), p))
            .expect("print");
        println!("{:<34} {} pages", "", saved.pages.unwrap_or(0));
    }
    let options = ExportOptions::default();
    for (label, format, path) in
        [("XLSX export", Format::Xlsx, out.join("e.xlsx")), ("CSV export", Format::Csv, out.join("csv"))]
    {
        timed(label, |p| report::export_with_progress(&station, format, false, &options, Some(&path), p))
            .expect("export");
    }

    // Practice laptops for a practice station (demo data), real ones else.
    let practice = station.is_practice().expect("practice?");
    let recipient = station.keys().expect("keys").recipient;
    let mut files = Vec::new();
    for k in 0..laptops {
        let name = format!("Portable Bench {}", k + 1);
        let mut laptop = machine(dir.path(), &format!("laptop-{k}"), &name);
        if practice {
            laptop.mark_practice().expect("practice");
        }
        laptop.trust_recipient("Station", &recipient).expect("trust");
        for i in 0..each {
            let first = ["Fatima", "Khadija", "Zineb", "Hanane", "Siham"][i % 5];
            let p = laptop
                .add_beneficiary_json(json!({
                    "first_name": first,
                    "last_name": format!("Bench {k}-{i}"),
                    "sex": "F", "birth_date": "1990-03-14", "region": "04", "consent": true
                }))
                .expect("person");
            laptop
                .add_visit_json(
                    json!({ "beneficiary_id": p.id.to_string(), "date": "2026-01-05", "kind": "follow_up" }),
                )
                .expect("visit");
        }
        let path = dir.path().join(format!("bundle-{k}.wafira"));
        laptop.export_bundle_to(&path, false).expect("export");
        files.push((path.display().to_string(), std::fs::read(&path).expect("bundle")));
    }
    let options = wafira_core::sync::ImportOptions { approve_new: true, ..Default::default() };
    let label = format!("import of {laptops} bundles ({each} people each)");
    let report = timed(&label, |p| station.import_bundles_progress(files, options, p)).expect("import");
    assert!(!report.any_refused(), "refused: {:?}", report.files.iter().find_map(|f| f.error.as_ref()));
}
