//! Sync between laptops and the station, one test per rule, on real SQLite
//! files: bundles checked and refused whole, imports idempotent and
//! order-free, conflicts kept and settled, duplicates merged and undone,
//! clocks that run ahead, missing bundles, round trips, backups.

mod sync_support;

use serde_json::json;
use sync_support::*;
use uuid::Uuid;
use wafira_core::clock::Hlc;
use wafira_core::store::ListQuery;
use wafira_core::sync::Choice;
use wafira_core::Error;

/// A station with one woman registered on laptop A, and laptops A and B
/// that both have her (B through the station).
fn shared_person() -> (Machine, Machine, Machine, Uuid) {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let fatima = a.register(json!({ "phone": "0612345678" }));
    station.import(&a.export());
    b.import(&station.export());
    (a, b, station, fatima)
}

// --- Import -------------------------------------------------------------

#[test]
fn importing_a_laptop_bundle_brings_its_people_visits_and_milestones() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    let fatima = a.register(json!({}));
    a.visit(fatima, "2025-01-10");
    a.visit(fatima, "2025-02-10");
    let s = station.import(&a.export());
    assert_eq!((s.added.beneficiaries, s.added.visits), (1, 2));
    assert_eq!(s.new_changes, 3);
    let profile = station.store.profile(fatima).unwrap();
    assert_eq!(profile.visits.len(), 2);
    assert_eq!(profile.last_visit_date.unwrap().to_string(), "2025-02-10", "her summary is computed at the station");
    let found = station.store.list_beneficiaries(&ListQuery { search: Some("idriss".into()), ..Default::default() });
    assert_eq!(found.unwrap().total, 1, "she can be searched for");
}

#[test]
fn import_twice_changes_nothing() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    a.register(json!({}));
    let bytes = a.export();
    station.import(&bytes);
    let before = station.dump();
    let again = station.import(&bytes);
    assert!(again.already_imported);
    assert_eq!(again.new_changes, 0);
    assert_eq!(again.added.beneficiaries, 0);
    assert_eq!(station.dump(), before, "the database is byte for byte the same");
}

#[test]
fn any_import_order_gives_the_same_database() {
    let (mut a, mut b, mut station, fatima) = shared_person();
    let mut c = machine("Portable C");
    c.import(&station.export_with(true));
    a.edit(fatima, json!({ "phone": "0611111111" }));
    b.edit(fatima, json!({ "phone": "0622222222", "commune": "Zirara" }));
    c.edit(fatima, json!({ "cohort": "2025-B" }));
    a.visit(fatima, "2025-03-01");
    c.register(json!({ "first_name": "Zineb", "last_name": "Tazi" }));
    let bundles = [a.export(), b.export(), c.export()];
    let base = station.export_with(true);
    let mut states = Vec::new();
    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let mut s = machine("Station 2");
        s.import(&base);
        for i in order {
            s.import(&bundles[i]);
        }
        s.import(&bundles[order[0]]);
        states.push(s.state());
        let conflicts = s.store.conflicts(false).unwrap();
        assert_eq!(conflicts.len(), 1, "one conflict: the phone");
    }
    assert_eq!(states[0], states[1]);
    assert_eq!(states[1], states[2]);
}

#[test]
fn a_creation_reusing_a_known_record_id_folds_with_it_in_any_order() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let fatima = a.register(json!({}));
    b.register(json!({ "first_name": "Zineb", "last_name": "Tazi" }));
    let from_a = a.export();
    // A forger's (or a broken laptop's) creation of a record that exists.
    let from_b = rewrite(&b.export(), |_, changes| changes[0].record_id = fatima);
    let stamp = |bytes: &[u8]| decode(bytes).changes[0].hlc;
    let later = if stamp(&from_b) > stamp(&from_a) { "Zineb" } else { "Fatima" };
    let mut states = Vec::new();
    for order in [[&from_a, &from_b], [&from_b, &from_a]] {
        let mut s = machine("Station");
        for bytes in order {
            s.import(bytes);
        }
        assert_eq!(s.field(fatima, "first_name"), json!(later), "both creations folded, the later stamp winning");
        states.push(s.state());
    }
    assert_eq!(states[0], states[1]);
}

#[test]
fn a_preview_tells_what_would_come_and_writes_nothing() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let fatima = a.register(json!({ "cin": "BK123456" }));
    a.visit(fatima, "2025-01-10");
    b.register(json!({ "cin": "BK123456", "first_name": "Fatma" }));
    let files = vec![("a.wafira".to_string(), a.export()), ("b.wafira".to_string(), b.export())];
    let before = station.dump();
    // Two laptops never seen: approved in the preview too, which writes nothing.
    let options = wafira_core::sync::ImportOptions { dry_run: true, approve_new: true, ..Default::default() };
    let report = station.store.import_bundles_with(files, options).unwrap();
    assert_eq!(station.dump(), before);
    assert!(report.backup.is_none());
    assert_eq!(report.totals.added.beneficiaries, 2);
    assert_eq!(report.totals.added.visits, 1);
    assert_eq!(report.totals.possible_duplicates, 1, "the same CIN on two laptops");
}

// --- Refusals -----------------------------------------------------------

fn assert_refused(station: &mut Machine, bytes: Vec<u8>, code: &str) {
    let before = station.dump();
    let err = station.store.import_bundle(bytes).unwrap_err();
    assert_eq!(err.code(), code, "{err}");
    assert!(err.to_string().starts_with("bundle refused: "), "{err}");
    assert_eq!(station.dump(), before, "nothing changed after: {err}");
}

fn loaded_station() -> (Machine, Vec<u8>) {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    let p = a.register(json!({}));
    station.import(&a.export());
    a.visit(p, "2025-04-01");
    a.register(json!({ "first_name": "Zineb" }));
    (station, a.export())
}

#[test]
fn a_truncated_bundle_is_refused_and_changes_nothing() {
    let (mut station, bytes) = loaded_station();
    // The encrypted file: cut in its header, it is truncated; cut in its
    // content, age cannot tell a cut from damage to the last piece.
    for cut in [60, 5] {
        assert_refused(&mut station, bytes[..cut].to_vec(), "bundle_truncated");
    }
    for cut in [bytes.len() - 1, bytes.len() / 2] {
        let before = station.dump();
        let err = station.store.import_bundle(bytes[..cut].to_vec()).unwrap_err();
        assert!(matches!(err.code(), "bundle_truncated" | "bundle_corrupt"), "cut at {cut}: {err}");
        assert_eq!(station.dump(), before);
    }
    // The plaintext (what `age -d` gives).
    let plain = plain(&bytes);
    for cut in [plain.len() - 1, plain.len() / 2, 60, 5] {
        assert_refused(&mut station, plain[..cut].to_vec(), "bundle_truncated");
    }
}

#[test]
fn one_byte_changed_anywhere_in_the_encrypted_file_is_refused_and_changes_nothing() {
    let (mut station, bytes) = loaded_station();
    let header_end = bytes.windows(4).position(|w| w == b"\n---").unwrap();
    let mut places: Vec<usize> = (0..bytes.len()).step_by(bytes.len() / 40 + 1).collect();
    places.extend([header_end - 1, header_end + 5, header_end + 30, bytes.len() - 1]);
    for at in places {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        let before = station.dump();
        let err = station.store.import_bundle(bad).unwrap_err();
        assert!(matches!(err, Error::Refused(_)), "byte {at}: {err}");
        assert_eq!(station.dump(), before);
    }
}

#[test]
fn one_byte_changed_anywhere_is_refused_and_changes_nothing() {
    let (mut station, bytes) = loaded_station();
    // The plaintext of the bundle, changed, then encrypted again for the
    // station: its checksums and signature catch it.
    let bytes = plain(&bytes);
    let manifest_at = bytes.iter().position(|b| *b == b'{').unwrap();
    let second_line = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(1).unwrap().0 + 5;
    for at in [manifest_at + 10, second_line, second_line + 40, bytes.len() - 3, bytes.len() / 2 + 7] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        let before = station.dump();
        let err = station.store.import_bundle(seal_for_all(&bad)).unwrap_err();
        assert!(matches!(err, Error::Refused(_)), "byte {at}: {err}");
        assert_eq!(station.dump(), before);
    }
}

#[test]
fn an_unknown_format_or_schema_version_is_refused() {
    let (mut station, bytes) = loaded_station();
    let mut future_format = plain(&bytes);
    future_format[14] = b'2';
    assert_refused(&mut station, future_format, "bundle_unknown_format");
    let newer_schema = rewrite(&bytes, |m, _| m.schema_version = 99);
    assert_refused(&mut station, newer_schema, "bundle_unknown_schema");
    assert_refused(&mut station, b"name,phone\nFatima,0612\n".to_vec(), "bundle_not_a_bundle");
}

#[test]
fn a_change_claiming_another_device_is_refused() {
    let (mut station, bytes) = loaded_station();
    let other = Uuid::now_v7();
    let forged = rewrite(&bytes, |m, changes| {
        changes[0].device_id = other;
        m.devices[0].device.id = other;
    });
    assert_refused(&mut station, forged, "bundle_forged");
}

#[test]
fn a_copied_laptop_goes_on_under_a_new_identity_and_is_never_refused() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    a.register(json!({}));
    station.import(&a.export());
    // Someone copies the laptop's database to a second laptop; both go on.
    let copy_dir = tempfile::tempdir().unwrap();
    let copy_path = copy_dir.path().join("copy.sqlite");
    a.store.conn().execute("VACUUM INTO ?1", [copy_path.to_string_lossy().to_string()]).unwrap();
    let mut copy = wafira_core::Store::open_with_key(&copy_path, &sync_support::key()).unwrap();
    assert_ne!(copy.device().unwrap().id, a.store.device().unwrap().id, "the copy took a new identity");
    a.register(json!({ "first_name": "Zineb" }));
    let houda = copy
        .add_beneficiary_json(json!({ "first_name": "Houda", "last_name": "Tazi", "sex": "F",
        "birth_date": "1985-01-01", "region": "01", "consent": true }))
        .unwrap();
    station.import(&a.export());
    let out = copy_dir.path().join("copy.wafira");
    copy.export_bundle_to(&out, false).unwrap();
    station.import(&std::fs::read(out).unwrap());
    assert!(station.store.beneficiary(houda.id).is_ok());
    assert_eq!(station.store.list_beneficiaries(&ListQuery::default()).unwrap().total, 3);
}

#[test]
fn a_bundle_holding_an_invalid_record_is_refused_whole() {
    let (mut station, bytes) = loaded_station();
    let bad = rewrite(&bytes, |_, changes| {
        let last = changes.last_mut().unwrap();
        last.fields.insert("sex".into(), json!("X"));
    });
    assert_refused(&mut station, bad, "bundle_invalid_record");
}

#[test]
fn a_failed_file_among_several_leaves_the_others_imported() {
    let (mut station, good) = loaded_station();
    let mut bad = good.clone();
    bad.truncate(good.len() - 10);
    let report = station.store.import_bundles(vec![("bad".into(), bad), ("good".into(), good)], false).unwrap();
    assert!(report.files[0].error.is_some());
    assert_eq!(report.files[1].summary.as_ref().unwrap().added.beneficiaries, 1);
}

// --- Conflicts ----------------------------------------------------------

#[test]
fn the_same_field_changed_on_two_laptops_gives_one_winner_and_a_conflict() {
    let (mut a, mut b, mut station, fatima) = shared_person();
    a.edit(fatima, json!({ "phone": "0611111111" }));
    b.edit(fatima, json!({ "phone": "0622222222" }));
    let sa = station.import(&a.export());
    let sb = station.import(&b.export());
    assert_eq!(sa.conflicts + sb.conflicts, 1);
    assert_eq!(station.field(fatima, "phone"), json!("+212622222222"), "the later stamp wins");
    let conflicts = station.store.conflicts(false).unwrap();
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(c.field, "phone");
    let values: Vec<_> = c.sides.iter().map(|s| s.value.clone()).collect();
    assert!(values.contains(&json!("+212611111111")) && values.contains(&json!("+212622222222")), "{values:?}");
    let who: Vec<_> = c.sides.iter().map(|s| s.device_name.as_str()).collect();
    assert!(who.contains(&"Portable A") && who.contains(&"Portable B"));
    assert!(c.sides.iter().all(|s| !s.at.is_empty()));
}

#[test]
fn different_fields_changed_on_two_laptops_merge_without_conflict() {
    let (mut a, mut b, mut station, fatima) = shared_person();
    a.edit(fatima, json!({ "phone": "0611111111" }));
    b.edit(fatima, json!({ "commune": "Zirara" }));
    a.visit(fatima, "2025-02-01");
    b.visit(fatima, "2025-02-01");
    station.import(&b.export());
    station.import(&a.export());
    assert!(station.store.conflicts(true).unwrap().is_empty());
    assert_eq!(station.field(fatima, "phone"), json!("+212611111111"));
    assert_eq!(station.field(fatima, "commune"), json!("Zirara"));
    assert_eq!(station.store.profile(fatima).unwrap().visits.len(), 2, "visits never conflict");
}

#[test]
fn a_resolution_is_a_change_that_travels_to_the_laptops() {
    let (mut a, mut b, mut station, fatima) = shared_person();
    a.edit(fatima, json!({ "phone": "0611111111" }));
    b.edit(fatima, json!({ "phone": "0622222222" }));
    station.import(&a.export());
    station.import(&b.export());
    let c = station.store.conflicts(false).unwrap().remove(0);
    let keep_a = c.sides.iter().find(|s| s.value == json!("+212611111111")).unwrap().hlc.clone();
    let settled = station.store.resolve_conflict(&c.id, Choice::Keep(keep_a)).unwrap();
    assert!(settled.resolved.is_some());
    assert_eq!(station.field(fatima, "phone"), json!("+212611111111"));
    assert!(station.store.conflicts(false).unwrap().is_empty());
    assert_eq!(station.store.conflicts(true).unwrap().len(), 1, "kept in the list of settled ones");

    b.import(&station.export());
    assert_eq!(b.field(fatima, "phone"), json!("+212611111111"), "the decision reached laptop B");
    assert!(b.store.conflicts(false).unwrap().is_empty(), "and the conflict is settled there too");
}

#[test]
fn a_conflict_can_be_settled_with_a_third_value_checked_like_an_edit() {
    let (mut a, mut b, mut station, fatima) = shared_person();
    a.edit(fatima, json!({ "phone": "0611111111" }));
    b.edit(fatima, json!({ "phone": "0622222222" }));
    station.import(&a.export());
    station.import(&b.export());
    let c = station.store.conflicts(false).unwrap().remove(0);
    let before = station.dump();
    let err = station.store.resolve_conflict(&c.id, Choice::Value(json!("not a phone"))).unwrap_err();
    assert!(err.as_invalid().unwrap().has("phone", "invalid_phone"), "{err}");
    assert_eq!(station.dump(), before);
    station.store.resolve_conflict(&c.id, Choice::Value(json!("0633333333"))).unwrap();
    assert_eq!(station.field(fatima, "phone"), json!("+212633333333"));
}

#[test]
fn archiving_on_one_laptop_while_another_edits_is_a_conflict_and_stays_archived() {
    let (mut a, mut b, mut station, fatima) = shared_person();
    a.store.archive_beneficiary(fatima, Some("doublon".into())).unwrap();
    b.edit(fatima, json!({ "phone": "0622222222" }));
    station.import(&b.export());
    station.import(&a.export());
    let conflicts = station.store.conflicts(false).unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert!(conflicts[0].sides.iter().any(|s| s.op == wafira_core::store::log::Op::Archive));
    assert!(!station.field(fatima, "archived_at").is_null(), "the tombstone holds");
    // Whatever comes later, she does not come back to life.
    b.import(&station.export());
    assert!(!b.field(fatima, "archived_at").is_null());
}

// --- Duplicates ---------------------------------------------------------

#[test]
fn the_same_cin_on_two_laptops_never_fails_an_import_and_is_listed() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let one = a.register(json!({ "cin": "BK123456", "first_name": "Fatima" }));
    let two = b.register(json!({ "cin": "BK123456", "first_name": "Khadija", "birth_date": "1970-01-01" }));
    station.import(&a.export());
    let s = station.import(&b.export());
    assert_eq!(s.possible_duplicates, 1);
    let pairs = station.store.duplicates(false).unwrap();
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0].reasons, vec!["same_cin".to_string()]);
    assert!(pairs[0].score >= 90);
    let ids = [pairs[0].a.beneficiary.id, pairs[0].b.beneficiary.id];
    assert!(ids.contains(&one) && ids.contains(&two));
}

#[test]
fn a_similar_name_with_the_same_birth_date_is_listed_but_nothing_merges_by_itself() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    a.register(json!({ "first_name": "Fatima", "last_name": "Benali" }));
    b.register(json!({ "first_name": "Fatma", "last_name": "Ben Ali" }));
    station.import(&a.export());
    station.import(&b.export());
    let pairs = station.store.duplicates(false).unwrap();
    assert_eq!(pairs.len(), 1);
    assert!(pairs[0].reasons.contains(&"similar_name_same_birth_date".to_string()));
    let total = station.store.list_beneficiaries(&ListQuery::default()).unwrap().total;
    assert_eq!(total, 2, "both still listed until someone decides");
}

#[test]
fn merging_shows_every_visit_under_the_person_kept_and_can_be_undone() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let kept = a.register(json!({ "cin": "BK123456" }));
    a.visit(kept, "2025-01-10");
    let other = b.register(json!({ "cin": "BK123456", "first_name": "Fatma" }));
    b.visit(other, "2025-02-10");
    b.visit(other, "2025-03-10");
    station.import(&a.export());
    station.import(&b.export());
    let before = station.state();

    station.store.merge_persons(kept, other).unwrap();
    let profile = station.store.profile(kept).unwrap();
    assert_eq!(profile.visits.len(), 3);
    assert_eq!(profile.last_visit_date.unwrap().to_string(), "2025-03-10");
    let listed = station.store.list_beneficiaries(&ListQuery::default()).unwrap();
    assert_eq!(listed.total, 1, "one identity");
    let pair = station.store.duplicates(false).unwrap().remove(0);
    assert_eq!(pair.kept, Some(kept));

    // A visit logged later on laptop B for the merged-away person lands under the one kept.
    b.visit(other, "2025-04-10");
    station.import(&b.export());
    assert_eq!(station.store.profile(kept).unwrap().visits.len(), 4);

    station.store.unmerge_persons(kept, other).unwrap();
    assert_eq!(station.store.profile(kept).unwrap().visits.len(), 1);
    assert_eq!(station.store.profile(other).unwrap().visits.len(), 3);
    assert_eq!(station.store.list_beneficiaries(&ListQuery::default()).unwrap().total, 2);
    assert_ne!(station.state(), before, "the decision and its undoing stay in the log");
}

#[test]
fn a_merge_travels_to_the_laptops() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let kept = a.register(json!({ "phone": "0612345678" }));
    let other = b.register(json!({ "phone": "0612345678", "first_name": "Fatma" }));
    b.visit(other, "2025-02-10");
    station.import(&a.export());
    station.import(&b.export());
    station.store.merge_persons(kept, other).unwrap();
    a.import(&station.export());
    assert_eq!(a.store.profile(kept).unwrap().visits.len(), 1, "B's visit shows under her on laptop A");
    assert_eq!(a.store.list_beneficiaries(&ListQuery::default()).unwrap().total, 1);
}

#[test]
fn dismissing_a_pair_removes_it_from_the_list() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let one = a.register(json!({ "phone": "0612345678" }));
    let two = b.register(json!({ "phone": "0612345678", "first_name": "Najat", "last_name": "Tazi" }));
    station.import(&a.export());
    station.import(&b.export());
    station.store.dismiss_duplicate(one, two).unwrap();
    assert!(station.store.duplicates(false).unwrap().is_empty());
    assert_eq!(station.store.duplicates(true).unwrap().len(), 1);
    assert_eq!(station.store.list_beneficiaries(&ListQuery::default()).unwrap().total, 2);
}

// --- Clocks, gaps, round trips, backups ---------------------------------

#[test]
fn a_laptop_a_year_ahead_is_flagged_and_does_not_win_for_ever() {
    let (mut a, _b, mut station, fatima) = shared_person();
    a.edit(fatima, json!({ "phone": "0611111111" }));
    let year = 365 * 24 * 3600 * 1000;
    let ahead = rewrite(&a.export(), |_, changes| {
        for c in changes.iter_mut() {
            c.hlc = Hlc { millis: c.hlc.millis + year, ..c.hlc };
        }
    });
    // Held: a person must check that laptop's date first.
    assert_refused(&mut station, ahead.clone(), "bundle_ahead_of_clock");
    let report = station
        .store
        .import_bundles_with(
            vec![("ahead".into(), ahead)],
            wafira_core::sync::ImportOptions { accept_future: true, ..Default::default() },
        )
        .unwrap();
    let s = report.files[0].summary.clone().unwrap();
    assert_eq!(s.future_changes, 1);
    let status = station.store.devices().unwrap();
    let laptop = status.iter().find(|d| d.name == "Portable A").unwrap();
    assert_eq!(laptop.future_changes, 1, "listed on the Sync screen");
    assert_eq!(station.field(fatima, "phone"), json!("+212611111111"));
    // The station's next edit still wins: its clock moved past the stamp.
    station.edit(fatima, json!({ "phone": "0633333333" }));
    assert_eq!(station.field(fatima, "phone"), json!("+212633333333"));
}

#[test]
fn a_skipped_bundle_shows_as_a_gap() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    let mut bundles = Vec::new();
    for i in 0..5 {
        a.register(json!({ "first_name": format!("Femme{}", "x".repeat(i + 1)) }));
        bundles.push(a.export());
    }
    for i in [0, 1, 2, 4] {
        station.import(&bundles[i]);
    }
    let status = station.store.devices().unwrap();
    let laptop = status.iter().find(|d| d.name == "Portable A").unwrap();
    assert_eq!(laptop.bundles_imported, 4);
    assert_eq!(laptop.last_bundle_number, Some(5));
    assert_eq!(laptop.missing_bundles, vec![wafira_core::sync::devices::Gap { from: 4, to: 4 }]);
    assert_eq!(laptop.missing_changes.len(), 1, "{:?}", laptop.missing_changes);
    assert!(laptop.last_bundle_imported_at.is_some());
    // What the Sync screen says of it: n° 5, received when it came, and
    // the four women recorded on it that are here.
    let received = laptop.last_bundle_received_at.clone().expect("when n° 5 came");
    assert_eq!(laptop.recorded.beneficiaries, 4);
    assert_eq!((laptop.recorded.visits, laptop.recorded.milestones), (0, 0));
    station.import(&bundles[3]);
    let laptop = station.store.devices().unwrap().into_iter().find(|d| d.name == "Portable A").unwrap();
    assert!(laptop.missing_bundles.is_empty() && laptop.missing_changes.is_empty());
    assert_eq!(laptop.recorded.beneficiaries, 5);
    // n° 4, come late, filled the gap: the last bundle is still n° 5, and
    // it came when it came.
    assert_eq!(laptop.last_bundle_number, Some(5));
    assert_eq!(laptop.last_bundle_received_at.as_deref(), Some(received.as_str()));
    assert!(laptop.last_bundle_imported_at.as_deref() >= Some(received.as_str()));
}

#[test]
fn a_laptop_gets_the_station_bundle_without_its_own_changes_coming_back() {
    let (mut a, mut b, mut station, fatima) = shared_person();
    b.edit(fatima, json!({ "commune": "Zirara" }));
    let zineb = a.register(json!({ "first_name": "Zineb" }));
    station.import(&a.export());
    station.import(&b.export());
    let s = a.import(&station.export());
    assert_eq!(s.added.beneficiaries, 0, "Zineb is not new to A");
    assert_eq!(s.new_changes, 1, "only B's edit");
    assert_eq!(a.field(fatima, "commune"), json!("Zirara"));
    assert!(a.store.beneficiary(zineb).is_ok());
    let next = decode(&a.export());
    assert!(
        next.changes.iter().all(|c| c.device_id != a.store.device().unwrap().id),
        "A's own changes do not go out again"
    );
}

#[test]
fn each_import_keeps_a_backup_that_can_be_restored() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    a.register(json!({}));
    let first = a.export();
    a.register(json!({ "first_name": "Zineb" }));
    let second = a.export();
    station.import(&first);
    let after_first = station.state();
    station.import(&second);
    let backups = station.store.backups().unwrap();
    assert_eq!(backups.len(), 2);
    assert_eq!(backups[0].reason, "before-import");
    station.store.restore_backup(&backups[0].name).unwrap();
    assert_eq!(station.state(), after_first, "as before the second import");
    assert_eq!(station.store.backups().unwrap().len(), 3, "the state before the restore was kept too");
    station.import(&second);
    assert_eq!(station.store.list_beneficiaries(&ListQuery::default()).unwrap().total, 2);
}

#[test]
fn only_the_last_backups_are_kept() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    for i in 0..(wafira_core::sync::backup::KEEP + 2) {
        a.register(json!({ "first_name": format!("F{}", "a".repeat(i + 1)) }));
        station.import(&a.export());
    }
    assert_eq!(station.store.backups().unwrap().len(), wafira_core::sync::backup::KEEP);
}

#[test]
fn visits_that_arrive_before_their_person_land_when_she_does() {
    let (_a, mut b, _station, fatima) = shared_person();
    let first = b.export(); // Fatima, as B got her from the station
    b.visit(fatima, "2025-05-05");
    let second = b.export(); // the visit alone
    let mut station2 = machine("Station 2");
    // B's second bundle arrives first: its visit waits for its person.
    let s = station2.import(&second);
    assert_eq!((s.added.visits, s.waiting), (0, 1));
    let s = station2.import(&first);
    assert_eq!(s.added.visits, 1);
    assert_eq!(station2.store.profile(fatima).unwrap().visits.len(), 1);
}

// --- Translations -------------------------------------------------------

#[test]
fn every_refusal_and_decision_error_is_translated_in_french_arabic_and_english() {
    use wafira_core::sync::Refusal;
    let mut codes: Vec<String> = [
        Refusal::NotABundle,
        Refusal::UnknownFormat(String::new()),
        Refusal::UnknownSchema { found: 0, known: 1, version: None },
        Refusal::Encrypted(String::new()),
        Refusal::Truncated,
        Refusal::Corrupt(String::new()),
        Refusal::Inconsistent(String::new()),
        Refusal::Forged(String::new()),
        Refusal::InvalidRecord(String::new()),
    ]
    .iter()
    .map(|r| r.code().to_string())
    .collect();
    codes.extend(["same_person", "already_merged", "not_merged", "unknown_side"].map(String::from));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/locales");
    for lang in ["fr", "ar", "en"] {
        let mut keys = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(root.join(lang)).unwrap() {
            let map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
            keys.extend(map.into_iter().map(|(k, _)| k));
        }
        let missing: Vec<_> = codes.iter().filter(|c| !keys.contains(&format!("error.{c}"))).collect();
        assert!(missing.is_empty(), "{lang}: no translation for {missing:?}");
    }
}
