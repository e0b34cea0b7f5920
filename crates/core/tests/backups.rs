//! Restore points (sync/backup.rs): a full copy for the oldest, the blocks
//! that changed for each later one; each of the last ten imports can be
//! undone to exactly the database it found, a restore can be undone too,
//! and a point cut short or broken is never offered nor put back.

mod sync_support;

use serde_json::json;
use sync_support::*;
use wafira_core::sync::backup::{self, KEEP};

/// The database as the point `name` holds it, dumped.
fn dump_of_point(m: &Machine, name: &str) -> String {
    let dir = scratch_dir();
    let out = dir.path().join("point.sqlite");
    backup::write_copy(&m.store, name, &out).unwrap();
    dump(&out)
}

fn state_of_point(m: &Machine, name: &str) -> String {
    let dir = scratch_dir();
    let out = dir.path().join("point.sqlite");
    backup::write_copy(&m.store, name, &out).unwrap();
    state(&out)
}

#[test]
fn each_of_the_last_ten_imports_is_undone_to_exactly_the_database_it_found() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let fatima = a.register(json!({}));
    // A station that holds some people already: an import changes a small
    // part of its file.
    for i in 0..300 {
        station.register(json!({ "first_name": format!("H{i}"), "last_name": "Sbaï", "cin": null, "phone": null }));
    }
    let mut before = Vec::new();
    for i in 0..(KEEP + 4) {
        // Each import brings something of another kind: people, visits,
        // edits, a second laptop never seen (approved, its keys pinned), a
        // conflict; and the station writes between imports.
        match i % 3 {
            0 => {
                a.register(json!({ "first_name": format!("Z{}", "a".repeat(i + 1)) }));
            }
            1 => {
                a.visit(fatima, "2025-05-05");
            }
            _ => a.edit(fatima, json!({ "commune": format!("Commune {i}") })),
        }
        if i % 4 == 3 {
            station.register(json!({ "first_name": format!("S{}", "a".repeat(i + 1)) }));
        }
        let bundle = if i == 5 {
            b.register(json!({ "first_name": "Rkia" }));
            b.export()
        } else {
            a.export()
        };
        if i == 7 {
            station.edit(fatima, json!({ "commune": "Zirara" }));
        }
        before.push(station.dump());
        station.import(&bundle);
    }
    let points = station.store.backups().unwrap();
    assert_eq!(points.len(), KEEP);
    assert!(points.iter().all(|p| p.reason == "before-import"));
    // Newest first: the i-th point is the one before the i-th last import.
    for (i, p) in points.iter().enumerate() {
        let expected = &before[before.len() - 1 - i];
        assert!(dump_of_point(&station, &p.name) == *expected, "point {i} ({}) is not the database it found", p.name);
    }
    // One full copy, the oldest; the rest hold what changed.
    assert_eq!(points.iter().filter(|p| p.full).count(), 1, "{points:#?}");
    assert!(points.last().unwrap().full);
    let db = std::fs::metadata(&station.path).unwrap().len();
    let all: u64 = points.iter().map(|p| p.bytes).sum();
    assert!(
        all < 5 * db,
        "ten points take {all} bytes: less than half the ten copies of {db} bytes earlier versions kept"
    );

    // A restore of the fifth point: as before that import; the restore is
    // itself a point, which gives back the database as it was.
    let restored_at = station.dump();
    let restored_state = station.state();
    let chosen = points[4].name.clone();
    let expected = state_of_point(&station, &chosen);
    station.store.restore_backup(&chosen).unwrap();
    assert_eq!(station.state(), expected, "as before that import");
    let points = station.store.backups().unwrap();
    assert_eq!(points.len(), KEEP);
    assert_eq!(points[0].reason, "before-restore");
    assert!(dump_of_point(&station, &points[0].name) == restored_at, "the restore can be undone");
    // The nine other points are still the same databases.
    for (i, p) in points.iter().skip(1).enumerate() {
        assert!(dump_of_point(&station, &p.name) == before[before.len() - 1 - i], "point {i} after a restore");
    }
    station.store.restore_backup(&points[0].name).unwrap();
    assert_eq!(station.state(), restored_state, "the restore undone");
    // And syncing goes on.
    a.register(json!({ "first_name": "Nouvelle" }));
    station.import(&a.export());
}

#[test]
fn a_point_cut_short_or_broken_is_never_offered_nor_put_back() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    for i in 0..4 {
        a.register(json!({ "first_name": format!("F{}", "a".repeat(i + 1)) }));
        station.import(&a.export());
    }
    let points = station.store.backups().unwrap();
    assert_eq!(points.len(), 4);
    assert_eq!(points.iter().map(|p| p.full).collect::<Vec<_>>(), [false, false, false, true]);
    let dir = station.path.parent().unwrap().join("backups");

    // A file being written is not a point.
    std::fs::write(dir.join(format!("{}.partial", points[0].name)), b"WAFIRA-DELTA 1\n").unwrap();
    assert_eq!(station.store.backups().unwrap().len(), 4);

    // The newest cut short: not offered, not restorable by its name.
    let newest = std::fs::read(&points[0].path).unwrap();
    std::fs::write(&points[0].path, &newest[..newest.len() - 100]).unwrap();
    let listed: Vec<String> = station.store.backups().unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(listed, [points[1].name.clone(), points[2].name.clone(), points[3].name.clone()]);
    let before = station.dump();
    assert!(station.store.restore_backup(&points[0].name).is_err());
    std::fs::write(&points[0].path, &newest).unwrap();

    // A changed byte in a delta's blocks: offered (its length is right),
    // refused when restored, the database untouched, no point taken.
    let mut damaged = std::fs::read(&points[1].path).unwrap();
    let last = damaged.len() - 10;
    damaged[last] ^= 0x40;
    std::fs::write(&points[1].path, &damaged).unwrap();
    let err = station.store.restore_backup(&points[1].name).unwrap_err();
    assert!(err.to_string().contains("cannot be restored"), "{err}");
    assert!(station.dump() == before, "a refused restore changes nothing");
    assert_eq!(station.store.backups().unwrap().len(), 4);
    // The points after it follow from a state that cannot be made: refused
    // too; the ones before it still restore.
    assert!(station.store.restore_backup(&points[0].name).is_err());
    assert!(station.dump() == before);
    assert!(backup::write_copy(&station.store, &points[2].name, &scratch_dir().path().join("x.sqlite")).is_ok());

    // Without the full copy no delta is offered.
    std::fs::remove_file(&points[3].path).unwrap();
    assert!(station.store.backups().unwrap().is_empty());
}

#[test]
fn a_fold_stopped_midway_is_finished_and_the_window_keeps_its_ten_points() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    let mut before = Vec::new();
    for i in 0..KEEP {
        a.register(json!({ "first_name": format!("F{}", "a".repeat(i + 1)) }));
        before.push(station.dump());
        station.import(&a.export());
    }
    // The laptop switched off while the oldest copy was becoming the second
    // point: the copy renamed, half of the second's blocks written.
    let points = station.store.backups().unwrap();
    let (oldest, second) = (&points[KEEP - 1], &points[KEEP - 2]);
    assert!(oldest.full && !second.full);
    let key = second.name.strip_suffix(".delta").unwrap();
    let folding = oldest.path.with_file_name(format!("{key}.sqlite.folding"));
    std::fs::rename(&oldest.path, &folding).unwrap();
    // The listing finishes the fold: the second point is the full copy.
    let listed = station.store.backups().unwrap();
    assert_eq!(listed.len(), KEEP - 1);
    assert!(listed.last().unwrap().full && !folding.exists());
    assert!(dump_of_point(&station, &listed[KEEP - 2].name) == before[1]);
    // The next import adds its point: ten again.
    a.register(json!({ "first_name": "Dernière" }));
    before.push(station.dump());
    station.import(&a.export());
    let points = station.store.backups().unwrap();
    assert_eq!(points.len(), KEEP);
    assert!(points.last().unwrap().full);
    for (i, p) in points.iter().enumerate() {
        assert!(dump_of_point(&station, &p.name) == before[before.len() - 1 - i], "point {i}");
    }
}

#[test]
fn an_erasure_scrubs_every_point_of_the_chain() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    for i in 0..300 {
        station.register(json!({ "first_name": format!("H{i}"), "last_name": "Sbaï" }));
    }
    let her = a.register(json!({ "first_name": "Zoubida", "last_name": "Benkirane" }));
    station.import(&a.export());
    for i in 0..3 {
        a.register(json!({ "first_name": format!("F{}", "a".repeat(i + 1)) }));
        station.import(&a.export());
    }
    let points = station.store.backups().unwrap();
    assert_eq!(points.iter().map(|p| p.full).collect::<Vec<_>>(), [false, false, false, true]);
    let holds_her = |path: &std::path::Path| -> i64 {
        conn(path)
            .query_row(
                "SELECT (SELECT count(*) FROM change WHERE fields LIKE '%Zoubida%')
                      + (SELECT count(*) FROM beneficiary WHERE first_name = 'Zoubida')",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let dir = scratch_dir();
    let copy = dir.path().join("point.sqlite");
    backup::write_copy(&station.store, &points[0].name, &copy).unwrap();
    assert_eq!(holds_her(&copy), 2, "her creation and her row");

    let erased = station.store.erase_beneficiary(her, "retrait du consentement").unwrap();
    assert_eq!((erased.secured.backups_scrubbed, erased.secured.backups_removed), (4, 0));
    let after = station.store.backups().unwrap();
    assert_eq!(after.len(), 4);
    assert!(after.iter().all(|p| p.full), "scrubbed points are kept whole");
    for p in &after {
        let copy = dir.path().join(format!("{}.check", p.name));
        backup::write_copy(&station.store, &p.name, &copy).unwrap();
        assert_eq!(holds_her(&copy), 0, "{}", p.name);
    }
    // The next import's point follows again with what changed.
    a.register(json!({ "first_name": "Après" }));
    station.import(&a.export());
    a.register(json!({ "first_name": "Encore" }));
    station.import(&a.export());
    assert!(!station.store.backups().unwrap()[0].full);
}
