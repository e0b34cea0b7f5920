//! Benchmark of finding people (not a test: it prints figures): search and
//! list latency in the core at 10,000 and 100,000 beneficiaries with 20
//! visits each, written through the normal write path (demo data).
//!
//! ```text
//! cargo run --release -p wafira-core --example bench_search
//! cargo run --release -p wafira-core --example bench_search -- --people 10000 --keep /tmp/wafira-bench
//! ```
//!
//! `--people N[,N…]` (default `10000,100000`), `--visits K` (default 20),
//! `--runs R` timings per query (default 30), `--keep DIR` keeps each
//! database as `DIR/bench-N.sqlite` and reuses it on the next run (the list
//! screen's measurement in `tests/e2e/list_timing.rs` opens the 10,000 one).
//! Target: a search under 20 ms at 100,000 people.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use wafira_core::store::{ListQuery, Sort};
use wafira_core::{demo, Store};

struct Args {
    people: Vec<usize>,
    visits: usize,
    runs: usize,
    keep: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args { people: vec![10_000, 100_000], visits: 20, runs: 30, keep: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number =
            |v: &str| v.trim().parse::<usize>().unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}")));
        match flag.as_str() {
            "--people" => a.people = value.split(',').map(number).collect(),
            "--visits" => a.visits = number(&value),
            "--runs" => a.runs = number(&value).max(1),
            "--keep" => a.keep = Some(PathBuf::from(value)),
            other => usage(&format!("unknown option {other}")),
        }
    }
    a
}

fn usage(problem: &str) -> ! {
    eprintln!("error: {problem}");
    eprintln!("usage: bench_search [--people N[,N…]] [--visits K] [--runs R] [--keep DIR]");
    std::process::exit(2)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median and 95th percentile of `runs` timings of `f`, after one warm-up.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut out = f();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            out = f();
            ms(t.elapsed())
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    (pct(0.5), pct(0.95), out)
}

fn open_or_fill(n: usize, visits: usize, keep: &Option<PathBuf>, scratch: &std::path::Path) -> Store {
    let dir = keep.clone().unwrap_or_else(|| scratch.to_path_buf());
    let path = dir.join(format!("bench-{n}.sqlite"));
    let mut store = Store::open_with_key(&path, &wafira_core::accounts::DbKey::from_bytes([7; 32]))
        .unwrap_or_else(|e| usage(&format!("{}: {e}", path.display())));
    if store.is_initialised() {
        let have: i64 = store.conn().query_row("SELECT count(*) FROM beneficiary", [], |r| r.get(0)).unwrap_or(0);
        if have as usize == n {
            println!("reusing {} ({n} people)", path.display());
            return store;
        }
        usage(&format!("{} holds {have} people, not {n}: remove it", path.display()));
    }
    store.init_device("bench", "Benchmark").unwrap_or_else(|e| usage(&e.to_string()));
    let started = Instant::now();
    let mut last_report = Instant::now();
    let summary = demo::generate_with_visits(&mut store, n, 7, visits, 1000, |done| {
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!("  … {done} people written in {:.0} s", started.elapsed().as_secs_f64());
            last_report = Instant::now();
        }
    })
    .unwrap_or_else(|e| usage(&format!("writing the demo data: {e}")));
    let took = started.elapsed().as_secs_f64();
    let records = summary.beneficiaries + summary.visits + summary.milestones;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    println!(
        "wrote {} people, {} visits, {} milestones through the write path in {took:.1} s ({:.0} records/s); file {size:.0} MB",
        summary.beneficiaries,
        summary.visits,
        summary.milestones,
        records as f64 / took
    );
    store
}

fn main() {
    let a = args();
    let scratch = tempfile::tempdir().unwrap_or_else(|e| usage(&format!("temporary folder: {e}")));
    if let Some(dir) = &a.keep {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| usage(&format!("{}: {e}", dir.display())));
    }
    for &n in &a.people {
        println!("\n== {n} beneficiaries, {} visits each ==", a.visits);
        let store = open_or_fill(n, a.visits, &a.keep, scratch.path());
        // What the list screen asks: one page of 200 rows and the total.
        let page = |search: Option<&str>, sort: Sort| ListQuery {
            search: search.map(str::to_string),
            sort,
            limit: Some(200),
            ..Default::default()
        };
        let searches: &[(&str, &str)] = &[
            ("first letter", "f"),
            ("name, no accents", "fatima"),
            ("name, accented", "Fâtima"),
            ("first and last name", "fatima el idrissi"),
            ("name prefix", "bena"),
            ("Arabic name", "فاطمة"),
            ("CIN", "BK12"),
            ("phone, spaced", "06 12 3"),
            ("phone, +212", "+2126"),
            ("no match", "zzzz"),
        ];
        println!("{:<28} {:>10} {:>10} {:>8}", "search (page of 200)", "median ms", "p95 ms", "matches");
        for (label, text) in searches {
            let (med, p95, out) = time(a.runs, || store.list_beneficiaries(&page(Some(text), Sort::Name)).unwrap());
            println!("{:<28} {med:>10.2} {p95:>10.2} {:>8}", format!("{label} '{text}'"), out.total);
        }
        let lists: Vec<(&str, ListQuery)> = vec![
            ("all, by name", page(None, Sort::Name)),
            ("all, by last visit", page(None, Sort::LastVisit)),
            ("all, by stage", page(None, Sort::Stage)),
            ("region 04", ListQuery { region: Some("04".into()), ..page(None, Sort::Name) }),
            ("stage iga_launched", ListQuery { stage: Some("iga_launched".into()), ..page(None, Sort::Name) }),
            ("phase returned + women", {
                let mut q = page(None, Sort::Name);
                q.phase = Some(wafira_core::codes::Phase::Returned);
                q.sex = Some(wafira_core::codes::Sex::F);
                q
            }),
        ];
        println!("{:<28} {:>10} {:>10} {:>8}", "list (page of 200)", "median ms", "p95 ms", "matches");
        for (label, q) in &lists {
            let (med, p95, out) = time(a.runs, || store.list_beneficiaries(q).unwrap());
            println!("{label:<28} {med:>10.2} {p95:>10.2} {:>8}", out.total);
        }
        let some = store.list_beneficiaries(&page(None, Sort::Stage)).unwrap().rows[0].beneficiary.id;
        let (med, p95, profile) = time(a.runs, || store.profile(some).unwrap());
        println!("{:<28} {med:>10.2} {p95:>10.2} {:>8}", "profile (with history)", profile.history.len());
        let (med, p95, plan) = time(a.runs.min(10), || store.followups(60).unwrap());
        let people: usize = plan.iter().map(|g| g.people.len()).sum();
        println!("{:<28} {med:>10.2} {p95:>10.2} {people:>8}", "follow-up plan (60 days)");
    }
}
