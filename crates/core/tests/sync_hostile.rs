//! Bundles rewritten by hand, with valid checksums and hostile content: a
//! station takes in only what the form would take (sync/check.rs), refuses
//! the bundle whole, names the laptop, the record and the field, and
//! changes nothing. Also: clocks far ahead, restores and copies, merges
//! settled at two stations, a bundle imported again.

mod sync_support;

use serde_json::{json, Value};
use sync_support::*;
use uuid::Uuid;
use wafira_core::clock::Hlc;
use wafira_core::store::log::{Change, Entity};
use wafira_core::sync::bundle::Manifest;
use wafira_core::sync::ImportOptions;

/// Laptop A with Fatima (launched IGA, a visit) and Badia, both at the
/// station.
struct Scene {
    a: Machine,
    station: Machine,
    fatima: Uuid,
    badia: Uuid,
}

fn scene() -> Scene {
    let mut a = machine("Portable Kénitra 2");
    let mut station = machine("Station");
    let fatima = a.register(json!({ "phone": "0612345678", "region": "04", "province": "Kénitra" }));
    let badia = a.register(json!({ "first_name": "Badia", "last_name": "Tazi" }));
    // Badia's IGA, not launched yet.
    a.store
        .add_record(
            Entity::Iga,
            json!({ "beneficiary_id": badia.to_string(), "sector": "handicraft", "form": "individual", "legal_status": "informal" }),
        )
        .unwrap();
    a.visit(fatima, "2025-01-10");
    a.store
        .add_milestone_json(
            json!({ "beneficiary_id": fatima.to_string(), "kind": "iga_launched", "date": "2025-01-05" }),
        )
        .unwrap();
    station.import(&a.export());
    Scene { a, station, fatima, badia }
}

/// The only IGA of `person` at `m`.
fn iga_of(m: &Machine, person: Uuid) -> Uuid {
    let q = wafira_core::store::records::RecordQuery { beneficiary_id: Some(person), ..Default::default() };
    let igas = m.store.records(Entity::Iga, &q).unwrap();
    assert_eq!(igas.len(), 1, "one IGA");
    Uuid::parse_str(igas[0]["id"].as_str().unwrap()).unwrap()
}

/// Imports `bytes` at the station: refused with `code`, the message naming
/// `naming` (laptop, record, field…), and not one row changed.
fn refused(station: &mut Machine, bytes: Vec<u8>, code: &str, naming: &[&str]) {
    let before = station.dump();
    let err = station.store.import_bundle(bytes).unwrap_err();
    assert_eq!(err.code(), code, "{err}");
    for n in naming {
        assert!(err.to_string().contains(n), "{err} should name {n}");
    }
    assert_eq!(station.dump(), before, "nothing changed after: {err}");
}

/// The only change of a bundle, rewritten.
fn rewrite_one(bytes: &[u8], f: impl FnOnce(&mut Manifest, &mut Change)) -> Vec<u8> {
    rewrite(bytes, |m, changes| {
        assert_eq!(changes.len(), 1, "the bundle holds one change");
        f(m, &mut changes[0]);
    })
}

fn set(c: &mut Change, field: &str, v: Value) {
    c.fields.insert(field.into(), v);
}

/// A registration by A, its fields rewritten by `f`.
fn hostile_registration(s: &mut Scene, f: impl FnOnce(&mut Change)) -> Vec<u8> {
    s.a.register(json!({ "first_name": "Zineb", "last_name": "Amrani" }));
    rewrite_one(&s.a.export(), |_, c| f(c))
}

#[test]
fn values_the_form_refuses_are_refused_in_a_registration() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("birth_date", json!("2090-01-01"), "birth_date"),
        ("consent", json!(false), "consent"),
        ("region", json!("99"), "region"),
        ("province", json!("Agadir Ida-Outanane"), "province"),
        ("phone", json!("call me maybe"), "phone"),
        ("phone", json!("0612345678"), "phone"), // not stored so: E.164
        ("first_name", json!("x".repeat(10_000)), "first_name"),
        ("first_name", json!(" Zineb"), "first_name"),
        ("first_name", json!("Zin\u{202E}eb"), "first_name"),
        ("notes", json!("\u{1b}]0;pwned\u{7}"), "notes"),
        ("sex", json!("X"), "sex"),
        ("hobby", json!("knitting"), "hobby"),
        ("archived_at", json!("2025-01-01T00:00:00.000Z"), "archived_at"),
        ("created_at", json!("yesterday"), "created_at"),
    ];
    for (field, value, named) in cases {
        let mut s = scene();
        let bytes = hostile_registration(&mut s, |c| set(c, field, value.clone()));
        refused(&mut s.station, bytes, "bundle_invalid_record", &["Portable Kénitra 2", named]);
    }
    // Said to be made on another laptop than the one that sent it.
    let mut s = scene();
    let bytes = hostile_registration(&mut s, |c| set(c, "created_by", json!(Uuid::now_v7().to_string())));
    refused(&mut s.station, bytes, "bundle_forged", &["created on another device"]);
}

#[test]
fn a_ten_megabyte_name_is_refused() {
    let mut s = scene();
    let bytes = hostile_registration(&mut s, |c| set(c, "last_name", json!("y".repeat(10 << 20))));
    let before = s.station.dump();
    assert!(s.station.store.import_bundle(bytes).is_err());
    assert_eq!(s.station.dump(), before);
}

#[test]
fn amounts_the_form_refuses_are_refused() {
    for amount in ["-50000", "12.34567", "79228162514264337593543950335"] {
        let mut s = scene();
        s.a.store
            .add_milestone_json(
                json!({ "beneficiary_id": s.fatima.to_string(), "kind": "financing_requested", "date": "2025-02-01", "amount": "1000" }),
            )
            .unwrap();
        let bytes = rewrite_one(&s.a.export(), |_, c| set(c, "amount", json!(amount)));
        refused(&mut s.station, bytes, "bundle_invalid_record", &["amount"]);
    }
}

#[test]
fn milestones_against_the_laptops_own_record_are_refused() {
    // The same kind twice: A moves its launch of Badia onto Fatima, who has one.
    let mut s = scene();
    s.a.store
        .add_milestone_json(
            json!({ "beneficiary_id": s.badia.to_string(), "kind": "iga_launched", "date": "2025-03-01" }),
        )
        .unwrap();
    let bytes = rewrite_one(&s.a.export(), |_, c| set(c, "beneficiary_id", json!(s.fatima.to_string())));
    refused(&mut s.station, bytes, "bundle_invalid_record", &["iga_id", "milestone"]);

    // The same kind twice in one IGA: A's launch of Badia rewritten into Fatima's IGA.
    let mut s = scene();
    let fatimas_iga = iga_of(&s.station, s.fatima);
    s.a.store
        .add_milestone_json(
            json!({ "beneficiary_id": s.badia.to_string(), "kind": "iga_launched", "date": "2025-03-01" }),
        )
        .unwrap();
    let bytes = rewrite_one(&s.a.export(), |_, c| {
        set(c, "beneficiary_id", json!(s.fatima.to_string()));
        set(c, "iga_id", json!(fatimas_iga.to_string()));
    });
    refused(&mut s.station, bytes, "bundle_invalid_record", &["kind", "iga_launched"]);

    // A first sale without any launch: A moves Fatima's first sale onto Badia.
    let mut s = scene();
    s.a.store
        .add_milestone_json(
            json!({ "beneficiary_id": s.fatima.to_string(), "kind": "first_sale", "date": "2025-03-01" }),
        )
        .unwrap();
    let badias_iga = iga_of(&s.station, s.badia);
    let bytes = rewrite_one(&s.a.export(), |_, c| {
        set(c, "beneficiary_id", json!(s.badia.to_string()));
        set(c, "iga_id", json!(badias_iga.to_string()));
    });
    refused(&mut s.station, bytes, "bundle_invalid_record", &["first_sale"]);

    // A first sale dated before its launch.
    let mut s = scene();
    s.a.store
        .add_milestone_json(
            json!({ "beneficiary_id": s.fatima.to_string(), "kind": "first_sale", "date": "2025-03-01" }),
        )
        .unwrap();
    let bytes = rewrite_one(&s.a.export(), |_, c| set(c, "date", json!("2024-12-01")));
    refused(&mut s.station, bytes, "bundle_invalid_record", &["date"]);
}

#[test]
fn a_visit_for_a_person_nobody_has_is_refused() {
    let mut s = scene();
    s.a.visit(s.fatima, "2025-03-01");
    let bytes = rewrite_one(&s.a.export(), |_, c| set(c, "beneficiary_id", json!(Uuid::now_v7().to_string())));
    refused(&mut s.station, bytes, "bundle_invalid_record", &["beneficiary_id"]);
}

/// An update of Fatima by A, rewritten into `entity`'s record `id` with `fields`.
fn hostile_update(s: &mut Scene, entity: Entity, id: Uuid, fields: Value) -> Vec<u8> {
    s.a.edit(s.fatima, json!({ "cohort": "2025-B" }));
    rewrite_one(&s.a.export(), |m, c| {
        if entity != c.entity {
            let from = m.counts.remove(&c.entity).unwrap();
            m.counts.insert(entity, from);
        }
        c.entity = entity;
        c.record_id = id;
        c.fields = fields.as_object().unwrap().clone();
    })
}

fn visit_of(m: &Machine, person: Uuid) -> Uuid {
    m.store.profile(person).unwrap().visits[0].id
}

#[test]
fn updates_that_change_what_never_changes_are_refused() {
    let cases: Vec<(&str, Value)> = vec![
        ("archived_at", json!({ "archived_at": null })),
        ("created_at", json!({ "created_at": "2020-01-01T00:00:00.000Z" })),
        ("created_by", json!({ "created_by": Uuid::now_v7().to_string() })),
        ("id", json!({ "id": Uuid::now_v7().to_string() })),
        ("hobby", json!({ "hobby": "knitting" })),
        ("birth_date", json!({ "birth_date": "2090-01-01" })),
        ("phone", json!({ "phone": "call me maybe" })),
    ];
    for (named, fields) in cases {
        let mut s = scene();
        let fatima = s.fatima;
        let bytes = hostile_update(&mut s, Entity::Beneficiary, fatima, fields);
        refused(&mut s.station, bytes, "bundle_invalid_record", &[named]);
    }
    // A visit moved to another person.
    let mut s = scene();
    let visit = visit_of(&s.station, s.fatima);
    let badia = s.badia;
    let bytes = hostile_update(&mut s, Entity::Visit, visit, json!({ "beneficiary_id": badia.to_string() }));
    refused(&mut s.station, bytes, "bundle_invalid_record", &["beneficiary_id"]);
}

#[test]
fn an_update_judged_on_what_it_carries_passes_when_the_record_elsewhere_differs() {
    // A province alone is checked against the region that holds it: a
    // concurrent change of region elsewhere must not make it refused.
    let mut s = scene();
    s.a.edit(s.fatima, json!({ "province": "Salé" }));
    s.station.import(&s.a.export());
    assert_eq!(s.station.field(s.fatima, "province"), json!("Salé"));
}

#[test]
fn an_archive_that_also_renames_or_unarchives_is_refused() {
    let mut s = scene();
    s.a.store.archive_beneficiary(s.badia, Some("erreur".into())).unwrap();
    let bytes = rewrite_one(&s.a.export(), |_, c| set(c, "first_name", json!("Autre")));
    refused(&mut s.station, bytes, "bundle_invalid_record", &["first_name"]);

    let mut s = scene();
    s.a.store.archive_beneficiary(s.badia, Some("erreur".into())).unwrap();
    let bytes = rewrite_one(&s.a.export(), |_, c| set(c, "archived_at", Value::Null));
    refused(&mut s.station, bytes, "bundle_invalid_record", &["archived_at"]);
}

#[test]
fn a_merge_of_a_person_into_herself_or_of_another_pair_is_refused() {
    let mut s = scene();
    let (fatima, badia) = (s.fatima, s.badia);
    s.a.store.merge_persons(fatima, badia).unwrap();
    let bytes = rewrite_one(&s.a.export(), |_, c| set(c, "other", json!(fatima.to_string())));
    refused(&mut s.station, bytes, "bundle_invalid_record", &["other"]);

    let mut s = scene();
    let (fatima, badia) = (s.fatima, s.badia);
    s.a.store.merge_persons(fatima, badia).unwrap();
    let stranger = Uuid::now_v7();
    let bytes = rewrite_one(&s.a.export(), |_, c| set(c, "other", json!(stranger.to_string())));
    refused(&mut s.station, bytes, "bundle_invalid_record", &["other"]);
}

// --- Clocks --------------------------------------------------------------

#[test]
fn a_change_a_century_ahead_is_held_for_a_person_and_never_drags_the_clock() {
    let mut s = scene();
    s.a.edit(s.fatima, json!({ "cohort": "2025-B" }));
    let century = 100 * 365 * 24 * 3600 * 1000_i64;
    let ahead = rewrite_one(&s.a.export(), |_, c| c.hlc = Hlc { millis: c.hlc.millis + century, ..c.hlc });
    let clock_before = s.station.store.clock().unwrap();
    refused(&mut s.station, ahead.clone(), "bundle_ahead_of_clock", &["Portable Kénitra 2", "--accept-future"]);
    assert_eq!(s.station.store.clock().unwrap(), clock_before, "the station's clock did not move");

    // A person checked and accepts: the change is taken.
    let report = s
        .station
        .store
        .import_bundles_with(vec![("a".into(), ahead)], ImportOptions { accept_future: true, ..Default::default() })
        .unwrap();
    assert!(!report.any_refused());
    assert_eq!(s.station.field(s.fatima, "cohort"), json!("2025-B"));
    // The station's own next edit still wins, and its history says today.
    s.station.edit(s.fatima, json!({ "cohort": "2026-A" }));
    assert_eq!(s.station.field(s.fatima, "cohort"), json!("2026-A"));
    let history = s.station.store.profile(s.fatima).unwrap().history;
    let last = serde_json::to_value(history.last().unwrap()).unwrap();
    let at = last["at"].as_str().unwrap_or_default().to_string();
    assert!(at.starts_with(&chrono::Utc::now().format("%Y").to_string()), "history dated now, not 2126: {last}");
}

// --- Restores and copies ---------------------------------------------------

#[test]
fn a_restored_laptop_goes_on_syncing_and_gets_back_what_the_restore_rolled_back() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    let amina = a.register(json!({ "first_name": "Amina" }));
    station.import(&a.export());
    // A backup is taken before this import.
    a.import(&station.export());
    let badia = a.register(json!({ "first_name": "Badia", "last_name": "Tazi" }));
    station.import(&a.export());
    let old_id = a.store.device().unwrap().id;

    let newest = a.store.backups().unwrap()[0].name.clone();
    let restored = a.store.restore_backup(&newest).unwrap();
    assert_eq!(restored.identity.previous, old_id);
    assert_ne!(a.store.device().unwrap().id, old_id, "a new identity, linked to the old");
    assert!(a.store.beneficiary(badia).is_err(), "the restore rolled Badia back");
    assert!(a.store.sync_status().unwrap().identity_notice.is_some(), "the person is told");

    // The laptop writes again: its bundles are taken, never refused.
    let cherifa = a.register(json!({ "first_name": "Cherifa", "last_name": "Alaoui" }));
    let s = station.import(&a.export());
    assert!(s.new_changes >= 1);
    assert!(station.store.beneficiary(cherifa).is_ok());
    // The station answers with everything: Badia comes back to the laptop.
    let back = station.export();
    assert!(read_manifest(&back).full, "the restored laptop asked for a full bundle");
    a.import(&back);
    assert!(a.store.beneficiary(badia).is_ok(), "what the restore rolled back came back from the station");
    assert!(a.store.beneficiary(amina).is_ok());
    // And later bundles of both still pass.
    a.visit(badia, "2025-05-01");
    station.import(&a.export());
    a.import(&station.export());
    assert_eq!(a.state(), station.state());
}

#[test]
fn a_restored_station_is_not_refused_by_its_laptops() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    a.register(json!({}));
    station.import(&a.export());
    a.import(&station.export());
    station.register(json!({ "first_name": "Samira" }));
    let newest = station.store.backups().unwrap()[0].name.clone();
    station.store.restore_backup(&newest).unwrap();
    station.register(json!({ "first_name": "Nadia" }));
    a.import(&station.export());
    station.import(&a.export());
    a.import(&station.export());
    assert_eq!(a.state(), station.state());
}

#[test]
fn a_copied_database_goes_on_under_a_new_identity_and_both_sync() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    a.register(json!({}));
    a.store.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.sqlite");
    std::fs::copy(&a.path, &path).unwrap();
    let mut copy =
        Machine { store: wafira_core::Store::open_with_key(&path, &sync_support::key()).unwrap(), path, _dir: dir };
    assert_ne!(copy.store.device().unwrap().id, a.store.device().unwrap().id);
    // Both write their next change; neither is refused anywhere.
    a.register(json!({ "first_name": "Aicha" }));
    copy.register(json!({ "first_name": "Houda" }));
    station.import(&a.export());
    station.import(&copy.export());
    // Every station bundle goes to both laptops.
    let mut from_station = vec![station.export()];
    for b in &from_station {
        a.import(b);
        copy.import(b);
    }
    station.import(&a.export());
    station.import(&copy.export());
    // The laptops' bundles brought the station nothing it had not sent.
    from_station.extend(station.export_if_new(false));
    for b in &from_station {
        a.import(b);
        copy.import(b);
    }
    assert_eq!(a.state(), station.state());
    assert_eq!(copy.state(), station.state());
    assert_eq!(station.store.list_beneficiaries(&Default::default()).unwrap().total, 3);
}

#[test]
fn an_older_copy_put_back_over_the_file_by_hand_is_noticed() {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    a.register(json!({}));
    a.store.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let aside = a.path.with_extension("aside");
    std::fs::copy(&a.path, &aside).unwrap();
    let zineb = a.register(json!({ "first_name": "Zineb" }));
    station.import(&a.export());
    let old_id = a.store.device().unwrap().id;
    // The laptop is switched off; someone copies the old file back in place
    // (same file, same inode).
    let path = a.path.clone();
    let Machine { store, _dir, .. } = a;
    drop(store);
    for ext in ["sqlite-wal", "sqlite-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    std::fs::copy(&aside, &path).unwrap();
    let mut a = Machine { store: wafira_core::Store::open_with_key(&path, &sync_support::key()).unwrap(), path, _dir };
    assert_ne!(a.store.device().unwrap().id, old_id, "it went back in time: a new identity");
    assert!(a.store.beneficiary(zineb).is_err());
    // Its next change is taken at the station, and Zineb comes back.
    a.register(json!({ "first_name": "Houda" }));
    station.import(&a.export());
    a.import(&station.export());
    assert!(a.store.beneficiary(zineb).is_ok());
    assert_eq!(a.state(), station.state());
}

// --- Merges at two stations -------------------------------------------------

#[test]
fn merges_settled_at_two_stations_that_form_a_cycle_hide_nobody() {
    let mut a = machine("Portable A");
    let mut s1 = machine("Station 1");
    let mut s2 = machine("Station 2");
    let p: Vec<Uuid> = ["Amina", "Badia", "Chama"].iter().map(|n| a.register(json!({ "first_name": n }))).collect();
    a.visit(p[0], "2025-01-01");
    a.visit(p[1], "2025-01-02");
    a.visit(p[2], "2025-01-03");
    let first = a.export();
    s1.import(&first);
    s2.import(&first);
    s1.store.merge_persons(p[1], p[0]).unwrap(); // A into B
    s2.store.merge_persons(p[2], p[1]).unwrap(); // B into C
    s2.store.merge_persons(p[0], p[2]).unwrap(); // C into A
    let (b1, b2) = (s1.export(), s2.export());
    s1.import(&b2);
    s2.import(&b1);
    a.import(&b1);
    a.import(&b2);
    for m in [&s1, &s2, &a] {
        let shown: Vec<Uuid> =
            p.iter().copied().filter(|id| m.store.beneficiary(*id).unwrap().archived_at.is_none()).collect();
        assert_eq!(shown.len(), 1, "one person stays, with everyone's visits");
        assert_eq!(shown[0], *p.iter().min().unwrap(), "the cycle is cut at the smallest id, on every machine");
        assert_eq!(m.store.profile(shown[0]).unwrap().visits.len(), 3);
        let pairs = m.store.duplicates(true).unwrap();
        assert!(pairs.iter().any(|d| !d.in_effect), "the decision set aside is shown");
    }
    assert_eq!(s1.state(), s2.state());
    assert_eq!(s1.state(), a.state());
}

#[test]
fn a_merge_that_arrives_before_the_person_kept_hides_nobody_and_summaries_follow() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let amina = a.register(json!({ "first_name": "Amina" }));
    a.visit(amina, "2025-01-01");
    let badia = b.register(json!({ "first_name": "Badia" }));
    b.visit(badia, "2025-02-01");
    let (ba, bb) = (a.export(), b.export());
    station.import(&ba);
    station.import(&bb);
    let _everything_so_far = station.export();
    station.store.merge_persons(badia, amina).unwrap();
    let decision = station.export();

    // A third machine gets Amina, then the decision, and Badia last.
    let mut late = machine("Portable C");
    late.import(&ba);
    late.import(&decision);
    assert!(late.store.beneficiary(amina).unwrap().archived_at.is_none(), "not hidden behind someone absent");
    assert_eq!(late.store.profile(amina).unwrap().visits.len(), 1);
    late.import(&bb);
    assert!(late.store.beneficiary(amina).unwrap().archived_at.is_some(), "merged once Badia is here");
    let kept = late.store.profile(badia).unwrap();
    assert_eq!(kept.visits.len(), 2);
    assert_eq!(late.state(), station.state());
}

// --- Re-import --------------------------------------------------------------

#[test]
fn a_bundle_imported_again_is_recognised_without_a_backup_or_a_write() {
    let s = scene();
    let mut station = s.station;
    let mut a = s.a;
    a.register(json!({ "first_name": "Zineb" }));
    let bundle = a.export();
    station.import(&bundle);
    let backups = station.store.backups().unwrap().len();
    let before = station.dump();
    let again = station.import(&bundle);
    assert!(again.already_imported);
    assert_eq!(again.new_changes, 0);
    assert_eq!(station.store.backups().unwrap().len(), backups, "no copy taken for nothing");
    assert_eq!(station.dump(), before);
}
