//! What has not left on a bundle yet (the Sync screen's summary), an
//! export with nothing new (refused, nothing written), what a bundle
//! carries counted in people, and an import preview naming a missing
//! earlier bundle of the same laptop.

mod sync_support;

use serde_json::json;
use sync_support::machine;
use wafira_core::sync::import::Counts;
use wafira_core::sync::ImportOptions;
use wafira_core::Error;

fn counts(beneficiaries: i64, visits: i64, milestones: i64) -> Counts {
    Counts { beneficiaries, visits, milestones, targets: 0 }
}

#[test]
fn the_sync_screen_counts_each_record_not_sent_once_and_the_last_export() {
    let mut laptop = machine("Portable Agadir 1");
    let _station = machine("Station");
    let amina = laptop.register(json!({ "first_name": "Amina" }));
    laptop.register(json!({ "first_name": "Badia", "cin": "BK123456" }));
    laptop.edit(amina, json!({ "phone": "0611111111" }));
    laptop.edit(amina, json!({ "phone": "0622222222" }));
    for date in ["2026-01-10", "2026-02-10", "2026-03-10"] {
        laptop.visit(amina, date);
    }
    let before = laptop.store.unsent().unwrap();
    assert_eq!(before.records, counts(2, 3, 0), "Amina's three changes count as one person");
    assert!(before.changes >= 7 && !before.nothing_new);
    assert_eq!((before.last_export_number, before.last_export_at.as_deref()), (None, None));

    laptop.export();
    let after = laptop.store.unsent().unwrap();
    assert_eq!(after.records, counts(0, 0, 0));
    assert!(after.nothing_new);
    assert_eq!(after.last_export_number, Some(1));
    assert!(after.last_export_at.is_some());

    laptop.edit(amina, json!({ "phone": "0633333333" }));
    assert_eq!(laptop.store.unsent().unwrap().records, counts(1, 0, 0));
    // The Sync screen's status carries it.
    assert_eq!(laptop.store.sync_status().unwrap().unsent.records, counts(1, 0, 0));
}

#[test]
fn changes_received_from_a_laptop_are_unsent_at_the_station_until_its_next_bundle() {
    let mut laptop = machine("Portable Agadir 1");
    let mut station = machine("Station");
    let amina = laptop.register(json!({ "first_name": "Amina" }));
    laptop.visit(amina, "2026-01-10");
    station.import(&laptop.export());
    assert_eq!(station.store.unsent().unwrap().records, counts(1, 1, 0));
    station.export();
    assert!(station.store.unsent().unwrap().nothing_new);
}

#[test]
fn an_export_with_nothing_new_writes_no_file_and_keeps_the_bundle_number() {
    let mut laptop = machine("Portable Agadir 1");
    let _station = machine("Station");
    laptop.register(json!({}));
    laptop.export();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("again.wafira");
    let err = laptop.store.export_bundle_to(&out, false).unwrap_err();
    assert!(matches!(err, Error::NothingNew { last_number: Some(1) }), "{err:?}");
    assert_eq!(err.code(), "nothing_new");
    assert!(!out.exists(), "no empty numbered bundle");
    assert_eq!(laptop.store.last_export().unwrap().map(|l| l.0), Some(1), "the number is not used up");
    // A full bundle is written all the same, under the next number.
    let full = laptop.store.export_bundle_to(&out, true).unwrap();
    assert!(out.exists());
    assert_eq!((full.manifest.number, full.manifest.full), (2, true));
    assert_eq!(full.records, counts(1, 0, 0));
}

#[test]
fn a_bundle_says_how_many_people_visits_and_milestones_it_carries() {
    let mut laptop = machine("Portable Agadir 1");
    let _station = machine("Station");
    let amina = laptop.register(json!({ "first_name": "Amina" }));
    laptop.edit(amina, json!({ "phone": "0611111111" }));
    laptop.visit(amina, "2026-01-10");
    laptop.visit(amina, "2026-02-10");
    laptop
        .store
        .add_milestone_json(
            json!({ "beneficiary_id": amina.to_string(), "kind": "training_completed", "date": "2026-02-11" }),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    sync_support::trust_registered(&mut laptop.store);
    let summary = laptop.store.export_bundle_to(&dir.path().join("b.wafira"), false).unwrap();
    assert_eq!(summary.records, counts(1, 2, 1));
    assert!(summary.manifest.changes > 4, "more changes than records");
}

#[test]
fn the_import_preview_names_a_missing_earlier_bundle_of_the_laptop() {
    let mut laptop = machine("Portable Agadir 1");
    let mut station = machine("Station");
    laptop.register(json!({ "first_name": "Amina" }));
    let one = laptop.export();
    laptop.register(json!({ "first_name": "Badia", "cin": "BK123456" }));
    let _two = laptop.export();
    laptop.register(json!({ "first_name": "Chaima", "cin": "BK654321" }));
    let three = laptop.export();
    let four = {
        laptop.register(json!({ "first_name": "Dounia", "cin": "BK111111" }));
        laptop.export()
    };
    let first = station.import(&one);
    assert!(first.missing_before.is_empty(), "bundle 1 misses nothing");

    let preview = ImportOptions { dry_run: true, approve_new: true, ..ImportOptions::default() };
    let report = station.store.import_bundles_with(vec![("three.wafira".into(), three.clone())], preview).unwrap();
    let s = report.files[0].summary.as_ref().expect("previewed");
    assert_eq!(s.source.name, "Portable Agadir 1");
    assert_eq!(s.missing_before.iter().map(|g| (g.from, g.to)).collect::<Vec<_>>(), [(2, 2)]);
    assert_eq!(station.store.last_export().unwrap(), None);
    assert!(station.store.devices().unwrap().iter().all(|d| d.missing_bundles.is_empty()), "a preview writes nothing");

    // Bundles 2 and 3 missing before 4: one range.
    let report = station.store.import_bundles_with(vec![("four.wafira".into(), four.clone())], preview).unwrap();
    let s = report.files[0].summary.as_ref().expect("previewed");
    assert_eq!(s.missing_before.iter().map(|g| (g.from, g.to)).collect::<Vec<_>>(), [(2, 3)]);
}
