//! Report figures, printed: `cargo bench -p wafira-core --bench report`.
//!
//! A programme of 3,000 beneficiaries with their visits and milestones
//! (`demo::generate`, through the write path), topped up to 6,000 IGA
//! follow-up surveys (issue 11's figure): the time to compute the
//! indicators, to lay out and write the summary PDF in French and in
//! Arabic (target: under 2 s), the follow-up list, and the CSV and XLSX
//! exports. Each is the median of a few runs.

use serde_json::json;
use std::time::{Duration, Instant};
use wafira_core::report::{self, Filters, FiltersInput, Format, PrintRequest};
use wafira_core::store::log::Entity;
use wafira_core::store::records::RecordQuery;
use wafira_core::{demo, Store};

const PEOPLE: usize = 3_000;
/// IGA follow-up surveys the summary is timed with.
const SURVEYS: usize = 6_000;
const RUNS: usize = 5;

fn median_of(mut f: impl FnMut() -> u64) -> (Duration, u64) {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        size = f();
        times.push(start.elapsed());
    }
    times.sort();
    (times[RUNS / 2], size)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut store =
        Store::open_with_key(dir.path().join("wafira.sqlite"), &wafira_core::accounts::DbKey::from_bytes([7; 32]))?;
    store.init_device("Banc d'essai", "Benchmark")?;
    let start = Instant::now();
    let made = demo::generate(&mut store, PEOPLE, 7)?;
    println!(
        "data: {} beneficiaries, {} visits, {} milestones (made in {:.1} s)",
        made.beneficiaries,
        made.visits,
        made.milestones,
        start.elapsed().as_secs_f64()
    );
    // Surveys up to SURVEYS, a few per IGA, dated today.
    let start = Instant::now();
    let igas = store.records(Entity::Iga, &RecordQuery::default())?;
    let mut surveys = store.records(Entity::IgaFollowup, &RecordQuery::default())?.len();
    let from_demo = surveys;
    let mut refused = 0;
    let mut n = 0usize;
    while surveys < SURVEYS && !igas.is_empty() && refused < SURVEYS {
        let iga = &igas[n % igas.len()];
        n += 1;
        let operating = !n.is_multiple_of(4);
        let survey = json!({ "iga_id": iga["id"], "date": Store::today().to_string(), "operating": operating,
            "not_operating_reason": if operating { None } else { Some("saison creuse") },
            "monthly_turnover": (2000 + 37 * (n % 100)).to_string(),
            "monthly_profit": (500 + 13 * (n % 100)).to_string() });
        match store.add_record(Entity::IgaFollowup, survey) {
            Ok(_) => surveys += 1,
            Err(_) => refused += 1,
        }
    }
    println!(
        "surveys: {surveys} IGA follow-ups on {} IGAs ({from_demo} from the demo, {} added in {:.1} s, {refused} refused)",
        igas.len(),
        surveys - from_demo,
        start.elapsed().as_secs_f64()
    );

    // As a manager finds it: the database closed after its last write and
    // opened again to print.
    drop(store);
    let store =
        Store::open_with_key(dir.path().join("wafira.sqlite"), &wafira_core::accounts::DbKey::from_bytes([7; 32]))?;

    let (t, _) = median_of(|| store.indicators(&Filters::default()).map(|i| i.beneficiaries.registered).unwrap_or(0));
    println!("indicators (all filters off): {:.0} ms", t.as_secs_f64() * 1000.0);

    // The donor report: a period (so the cumulative figures are computed
    // apart) and a narrative of the longest size.
    let narrative = "Le programme WAFIRA II a poursuivi ses activités. ".repeat(55);
    let period = FiltersInput { from: Some("2025-01-01".into()), ..Default::default() };
    for (lang, filters) in [("fr", FiltersInput::default()), ("ar", FiltersInput::default()), ("fr", period)] {
        let with_period = filters.from.is_some();
        let out = dir.path().join(format!("summary-{lang}.pdf"));
        let request = PrintRequest::Summary {
            filters,
            lang: Some(lang.into()),
            narrative: with_period.then(|| narrative.trim().to_string()),
        };
        let mut pages = 0;
        let (t, bytes) = median_of(|| match report::print(&store, &request, Some(&out)) {
            Ok(s) => {
                pages = s.pages.unwrap_or(0);
                s.bytes
            }
            Err(e) => panic!("summary PDF: {e}"),
        });
        let verdict = if t < Duration::from_secs(2) { "under" } else { "OVER" };
        let what = if with_period { ", a period and a narrative" } else { "" };
        println!(
            "summary PDF ({lang}{what}): {:.0} ms, {pages} pages, {} KiB ({verdict} the 2 s target)",
            t.as_secs_f64() * 1000.0,
            bytes / 1024
        );
    }

    let out = dir.path().join("followups.pdf");
    let request =
        PrintRequest::Followups { filters: Default::default(), place: Default::default(), days: None, lang: None };
    let (t, bytes) = median_of(|| report::print(&store, &request, Some(&out)).map(|s| s.bytes).unwrap_or(0));
    println!("follow-up list PDF: {:.0} ms, {} KiB", t.as_secs_f64() * 1000.0, bytes / 1024);

    let csv = dir.path().join("csv");
    let (t, _) =
        median_of(|| report::export(&store, Format::Csv, false, Some(&csv)).map(|s| s.visits as u64).unwrap_or(0));
    println!("CSV export: {:.0} ms", t.as_secs_f64() * 1000.0);
    let xlsx = dir.path().join("export.xlsx");
    let (t, _) =
        median_of(|| report::export(&store, Format::Xlsx, true, Some(&xlsx)).map(|s| s.visits as u64).unwrap_or(0));
    println!(
        "XLSX export (pseudonymised): {:.0} ms, {} KiB",
        t.as_secs_f64() * 1000.0,
        std::fs::metadata(&xlsx)?.len() / 1024
    );
    Ok(())
}
