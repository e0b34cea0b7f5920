//! Long work shows how far it is and stops when asked, where stopping
//! writes nothing (issue 12): an import of several bundles stops between
//! two bundles, each imported whole or not at all; a PDF or an export
//! stopped leaves no file, not even part of one. Every job's steps never
//! go back and end at their total.

mod report_fixture;
mod sync_support;

use calamine::{open_workbook, Reader, Xlsx};
use serde_json::json;
use std::path::Path;
use std::sync::{Arc, Mutex};
use sync_support::{machine, Machine};
use wafira_core::progress::{Cancel, Progress, Step, What};
use wafira_core::report::{self, ExportOptions, Format, PrintRequest};
use wafira_core::sync::ImportOptions;
use wafira_core::Error;

type Steps = Arc<Mutex<Vec<Step>>>;

/// A progress that keeps every step, and asks to stop at the first step
/// `stop_at` picks.
fn watched(stop_at: impl Fn(&Step) -> bool + Send + Sync + 'static) -> (Progress, Steps) {
    let steps: Steps = Arc::default();
    let cancel = Cancel::new();
    let (kept, token) = (steps.clone(), cancel.clone());
    let progress = Progress::new(cancel, move |s: &Step| {
        kept.lock().unwrap().push(s.clone());
        if stop_at(s) {
            token.cancel();
        }
    });
    (progress, steps)
}

fn taken(steps: &Steps) -> Vec<Step> {
    steps.lock().unwrap().clone()
}

/// Steps never go back (neither `done` nor the share of the bar) and the
/// last one is its total.
fn assert_monotonic_to_the_end(steps: &[Step]) {
    assert!(!steps.is_empty());
    for pair in steps.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(b.done >= a.done, "{a:?} then {b:?}");
        assert!(b.done * a.total >= a.done * b.total, "the bar went back: {a:?} then {b:?}");
    }
    for s in steps {
        assert!(s.done <= s.total, "{s:?}");
    }
    let last = steps.last().unwrap();
    assert_eq!(last.done, last.total, "{last:?}");
}

/// Bundle files as an import takes them: name and bytes.
type Files = Vec<(String, Vec<u8>)>;

/// The stations named, then three laptops, each with one woman and her
/// visit, each a bundle for every station.
fn stations_and_three_bundles(stations: &[&str]) -> (Vec<Machine>, Vec<Machine>, Files) {
    let stations = stations.iter().map(|n| machine(n)).collect();
    let (mut laptops, mut files) = (Vec::new(), Vec::new());
    for (name, first) in
        [("Portable Agadir 1", "Aïcha"), ("Portable Agadir 2", "Bouchra"), ("Portable Tiznit", "Hanane")]
    {
        let mut laptop = machine(name);
        let who = laptop.register(json!({ "first_name": first }));
        laptop.visit(who, "2025-01-10");
        files.push((format!("{name}.wafira"), laptop.export()));
        laptops.push(laptop);
    }
    (stations, laptops, files)
}

fn approving() -> ImportOptions {
    ImportOptions { approve_new: true, ..ImportOptions::default() }
}

fn bundles_imported(path: &Path) -> i64 {
    sync_support::conn(path).query_row("SELECT count(*) FROM bundle_import", [], |r| r.get(0)).unwrap()
}

#[test]
fn cancelling_before_the_second_of_three_bundles_imports_exactly_the_first() {
    let (mut stations, _laptops, files) =
        stations_and_three_bundles(&["Station Agadir", "Station Tiznit", "Station Inezgane"]);
    let (station, rest) = stations.split_first_mut().unwrap();
    let [only_first, all_at_once] = rest else { unreachable!() };
    // The person clicks Cancel while the first bundle is being taken in.
    let (progress, steps) = watched(|s| matches!(s.what, What::Bundle { n: 1, .. }));
    let report = station.store.import_bundles_progress(files.clone(), approving(), &progress).unwrap();

    assert!(report.cancelled);
    assert!(!report.any_refused(), "a bundle not reached is not refused");
    assert_eq!(report.totals.refused, 0);
    assert_eq!(report.totals.added.beneficiaries, 1);
    assert!(report.backup.is_some(), "the restore point was taken before the first bundle");
    let first = report.files[0].summary.as_ref().expect("the first bundle imported");
    assert_eq!(first.source.name, "Portable Agadir 1");
    for f in &report.files[1..] {
        assert!(f.summary.is_none());
        assert_eq!(f.error.as_ref().map(Error::code), Some("cancelled"), "{}", f.file);
    }
    assert_eq!(bundles_imported(&station.path), 1);

    // Equal to a station that was only ever given the first bundle.
    let alone = only_first.store.import_bundles_with(files[..1].to_vec(), approving()).unwrap();
    assert!(!alone.cancelled && !alone.any_refused());
    assert_eq!(station.state(), only_first.state());

    // The bundles were named as the window shows them, then no further.
    let named: Vec<(u64, u64, String)> = taken(&steps)
        .into_iter()
        .filter_map(|s| match s.what {
            What::Bundle { n, of, name } => Some((n, of, name)),
            _ => None,
        })
        .collect();
    assert_eq!(named, [(1, 3, "Portable Agadir 1".to_string())]);
    let last = taken(&steps).pop().unwrap();
    assert!(last.done < last.total, "a stopped import ends where it stopped: {last:?}");

    // What was left out comes in later, whole, as if nothing had happened.
    let rest = station.store.import_bundles_with(files[1..].to_vec(), approving()).unwrap();
    assert!(!rest.cancelled && !rest.any_refused());
    all_at_once.store.import_bundles_with(files, approving()).unwrap();
    assert_eq!(station.state(), all_at_once.state());
}

#[test]
fn an_import_says_each_bundle_and_its_laptop_and_ends_at_its_total() {
    let (mut stations, _laptops, files) = stations_and_three_bundles(&["Station Agadir"]);
    let station = &mut stations[0];
    let (progress, steps) = watched(|_| false);
    let report = station.store.import_bundles_progress(files, approving(), &progress).unwrap();
    assert!(!report.cancelled && !report.any_refused());
    let steps = taken(&steps);
    assert_monotonic_to_the_end(&steps);
    let what: Vec<What> = steps.into_iter().map(|s| s.what).collect();
    let opening = |n, file: &str| What::Opening { n, of: 3, file: file.to_string() };
    let bundle = |n, name: &str| What::Bundle { n, of: 3, name: name.to_string() };
    assert_eq!(
        what,
        [
            opening(1, "Portable Agadir 1.wafira"),
            opening(2, "Portable Agadir 2.wafira"),
            opening(3, "Portable Tiznit.wafira"),
            What::Backup,
            bundle(1, "Portable Agadir 1"),
            bundle(2, "Portable Agadir 2"),
            bundle(3, "Portable Tiznit"),
            What::Done,
        ]
    );
}

#[test]
fn a_cancelled_preview_writes_nothing_and_says_so() {
    let (mut stations, _laptops, files) = stations_and_three_bundles(&["Station Agadir"]);
    let station = &mut stations[0];
    let before = station.dump();
    let (progress, _) = watched(|s| matches!(s.what, What::Bundle { n: 2, .. }));
    let options = ImportOptions { dry_run: true, ..approving() };
    let report = station.store.import_bundles_progress(files, options, &progress).unwrap();
    assert!(report.cancelled && report.dry_run);
    assert_eq!(report.files.iter().filter(|f| f.summary.is_some()).count(), 2);
    assert_eq!(station.dump(), before);
}

#[test]
fn stopping_while_the_files_are_opened_imports_none_and_takes_no_restore_point() {
    let (mut stations, _laptops, files) = stations_and_three_bundles(&["Station Agadir"]);
    let station = &mut stations[0];
    let (progress, _) = watched(|s| matches!(s.what, What::Opening { n: 2, .. }));
    let report = station.store.import_bundles_progress(files, approving(), &progress).unwrap();
    assert!(report.cancelled);
    assert!(report.backup.is_none());
    assert!(report.files.iter().all(|f| f.error.as_ref().is_some_and(|e| e.code() == "cancelled")));
    assert_eq!(bundles_imported(&station.path), 0);
    let people: i64 =
        sync_support::conn(&station.path).query_row("SELECT count(*) FROM beneficiary", [], |r| r.get(0)).unwrap();
    assert_eq!(people, 0);
}

/// The files of a folder, by name.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn prints_logged(p: &report_fixture::Programme) -> i64 {
    sync_support::conn(p.store.path())
        .query_row("SELECT count(*) FROM audit WHERE action LIKE 'print%' OR action LIKE 'export%'", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_pdf_stopped_even_at_its_last_moment_leaves_no_file() {
    let p = report_fixture::programme();
    let out_dir = p.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let logged = prints_logged(&p);
    for request in [json!({ "kind": "summary", "lang": "fr" }), json!({ "kind": "followups", "days": 1, "lang": "ar" })]
    {
        let request: PrintRequest = serde_json::from_value(request).unwrap();
        // Early (the first page laid out) and late (the file made in memory).
        for stop in [0, 1] {
            let (progress, _) = watched(move |s| match stop {
                0 => matches!(s.what, What::Page { .. }),
                _ => matches!(s.what, What::Saving { .. }),
            });
            let out = out_dir.join("report.pdf");
            let err = report::print_with_progress(&p.store, &request, Some(&out), &progress).unwrap_err();
            assert_eq!(err.code(), "cancelled", "{request:?}");
            assert_eq!(files_in(&out_dir), Vec::<String>::new(), "no file, no part of one");
        }
    }
    assert_eq!(prints_logged(&p), logged, "nothing printed, nothing logged");
}

#[test]
fn a_pdf_says_its_pages_and_ends_at_its_total() {
    let p = report_fixture::programme();
    for (request, a_step_per_person) in [
        (json!({ "kind": "summary", "lang": "en" }), false),
        (json!({ "kind": "followups", "days": 1, "lang": "fr" }), true),
    ] {
        let request: PrintRequest = serde_json::from_value(request).unwrap();
        let (progress, steps) = watched(|_| false);
        let out = p.dir.path().join("report.pdf");
        let saved = report::print_with_progress(&p.store, &request, Some(&out), &progress).unwrap();
        let steps = taken(&steps);
        assert_monotonic_to_the_end(&steps);
        assert_eq!(steps.first().unwrap().what, What::Data);
        assert_eq!(steps.last().unwrap().what, What::Writing);
        let made = steps.iter().find_map(|s| match s.what {
            What::Saving { pages } => pages,
            _ => None,
        });
        assert_eq!(made, Some(saved.pages.unwrap() as u64), "the pages said are the file's");
        let laid_out: Vec<u64> = steps
            .iter()
            .filter_map(|s| match s.what {
                What::Page { page } => Some(page),
                _ => None,
            })
            .collect();
        assert!(!laid_out.is_empty() && laid_out.windows(2).all(|w| w[0] <= w[1]), "{laid_out:?}");
        if a_step_per_person {
            // The data read, one step per person laid out, the file made.
            assert_eq!(steps.last().unwrap().total, people_to_see(&p) + 2);
        }
    }
}

/// The people of the fixture's follow-up list at 1 day (everyone not
/// visited today).
fn people_to_see(p: &report_fixture::Programme) -> u64 {
    p.store.followups(1).unwrap().iter().map(|g| g.people.len() as u64).sum()
}

#[test]
fn an_export_stopped_before_its_file_leaves_no_file_nor_folder() {
    let p = report_fixture::programme();
    let logged = prints_logged(&p);
    let before = files_in(p.dir.path());
    let options = ExportOptions { lang: Some("fr".into()), ..ExportOptions::default() };
    // The workbook: stopped once it is made in memory.
    let (progress, _) = watched(|s| matches!(s.what, What::Saving { .. }));
    let book = p.dir.path().join("export.xlsx");
    let err =
        report::export_with_progress(&p.store, Format::Xlsx, false, &options, Some(&book), &progress).unwrap_err();
    assert!(matches!(err, Error::Cancelled));
    assert!(!book.exists());
    // The CSV files: stopped at the last table, its folder never made.
    let (progress, _) = watched(|s| matches!(&s.what, What::Table { n, of, .. } if n == of));
    let folder = p.dir.path().join("csv");
    let err =
        report::export_with_progress(&p.store, Format::Csv, true, &options, Some(&folder), &progress).unwrap_err();
    assert!(matches!(err, Error::Cancelled));
    assert!(!folder.exists());
    assert_eq!(files_in(p.dir.path()), before);
    assert_eq!(prints_logged(&p), logged);
}

#[test]
fn an_export_names_each_sheet_and_ends_at_its_total() {
    let p = report_fixture::programme();
    let (progress, steps) = watched(|_| false);
    let book = p.dir.path().join("export.xlsx");
    let summary =
        report::export_with_progress(&p.store, Format::Xlsx, false, &ExportOptions::default(), Some(&book), &progress)
            .unwrap();
    let steps = taken(&steps);
    assert_monotonic_to_the_end(&steps);
    let tables: Vec<String> = steps
        .iter()
        .filter_map(|s| match &s.what {
            What::Table { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    let workbook: Xlsx<_> = open_workbook(&book).unwrap();
    assert_eq!(tables, workbook.sheet_names(), "one step per sheet, in the workbook's order");
    assert_eq!(tables, summary.parts);
}
