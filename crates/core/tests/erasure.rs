//! Consent withdrawn: a person's identifying data erased on one machine is
//! gone from every table, every backup and every bundle made after, on
//! that machine and on every machine the erasure reaches; changes of hers
//! that arrive later are scrubbed on arrival; the machines converge; she is
//! still counted; a restore brings nothing back; and a refused erasure
//! changes nothing.

mod common;
mod sync_support;

use rusqlite::types::ValueRef;
use serde_json::{json, Value};
use sync_support::{decode, machine, Machine};
use uuid::Uuid;
use wafira_core::access::{Actor, Role};
use wafira_core::store::log::Entity;
use wafira_core::{Error, Store};

/// What she told the programme: each must vanish everywhere.
const SHE: &[&str] = &[
    "Zoubida",
    "Benkirane",
    "زبيد",
    "BK123456",
    "612345678",
    "Bourahma",
    "Lqsiba",
    "mari violent",
    "chez sa soeur",
    "argent du frère",
];

fn zoubida() -> Value {
    json!({
        "first_name": "Zoubida", "last_name": "Benkirane", "name_ar": "زبيدة بنكيران", "sex": "F",
        "birth_date": "1986-09-23", "cin": "BK123456", "phone": "0612345678", "region": "04",
        "province": "Kénitra", "commune": "Ouled Bourahma", "douar": "Douar Lqsiba", "cohort": "2026-A",
        "phase": "returned", "iga_sector": "agriculture", "consent": true,
        "notes": "mari violent : ne pas appeler à la maison"
    })
}

/// Registers her with a visit, three milestones (one stopped, with a
/// reason) and an edit of her phone (the old number goes into history).
fn register_her(m: &mut Machine) -> Uuid {
    let id = m.store.add_beneficiary_json(zoubida()).unwrap().id;
    m.store
        .add_visit_json(json!({
            "beneficiary_id": id.to_string(), "date": common::days_ago(20), "kind": "individual_coaching",
            "location": "chez sa soeur", "topics": ["budget"], "notes": "Zoubida a peur", "next_steps": "rappeler Zoubida",
            "next_visit_date": common::days_ahead(10)
        }))
        .unwrap();
    let milestone = |kind: &str, days: u64, extra: Value| {
        let mut m = json!({ "beneficiary_id": id.to_string(), "kind": kind, "date": common::days_ago(days) });
        common::merge(&mut m, extra);
        m
    };
    m.store.add_milestone_json(milestone("business_plan", 15, json!({"notes": "Zoubida, élevage"}))).unwrap();
    m.store
        .add_milestone_json(milestone("financing_obtained", 12, json!({"amount": "12000", "notes": "argent du frère"})))
        .unwrap();
    m.store
        .add_milestone_json(milestone("iga_stopped", 5, json!({"reason": "Zoubida est partie chez sa soeur"})))
        .unwrap();
    m.store.update_beneficiary(id, json!({ "phone": "0622222222" })).unwrap();
    m.store.update_beneficiary(id, json!({ "phone": "0612345678" })).unwrap();
    id
}

/// Every text (and blob) value of every table of the database, with where
/// it is: what the person's data must be absent from.
fn every_value(store: &Store) -> Vec<(String, String)> {
    values_of(store.conn())
}

fn values_of(conn: &rusqlite::Connection) -> Vec<(String, String)> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let names: Vec<String> = stmt.column_names().into_iter().map(str::to_string).collect();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for (i, name) in names.iter().enumerate() {
                let text = match row.get_ref(i).unwrap() {
                    ValueRef::Text(b) | ValueRef::Blob(b) => String::from_utf8_lossy(b).to_string(),
                    _ => continue,
                };
                out.push((format!("{t}.{name}"), text));
            }
        }
    }
    out
}

/// The forms her data may take: as typed, and folded for search (lower
/// case, without accents).
fn forms(needle: &str) -> Vec<String> {
    vec![needle.to_lowercase(), wafira_core::text::fold(needle)]
}

fn assert_gone_from_values(values: Vec<(String, String)>, machine: &str) {
    for (at, value) in values {
        let value = value.to_lowercase();
        for needle in SHE {
            for f in forms(needle) {
                assert!(!value.contains(&f), "{machine}: {needle:?} still in {at}: {value}");
            }
        }
    }
}

fn assert_gone_from_tables(store: &Store, machine: &str) {
    assert_gone_from_values(every_value(store), machine);
    let found: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM beneficiary_fts WHERE beneficiary_fts MATCH 'zoubida OR benkirane OR bk123456'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, 0, "{machine}: a search still finds her");
}

/// The bytes of the database file, its write-ahead log and every backup:
/// none holds her data, even in freed pages.
fn assert_gone_from_files(m: &Machine) {
    m.store.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let mut files = vec![m.path.clone(), m.path.with_extension("sqlite-wal")];
    for b in m.store.backups().unwrap() {
        files.push(b.path);
    }
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else { continue };
        for needle in SHE {
            for form in forms(needle) {
                let hit = bytes.windows(form.len()).any(|w| w.eq_ignore_ascii_case(form.as_bytes()));
                assert!(!hit, "{needle:?} in the bytes of {}", f.display());
            }
        }
    }
}

/// Every restore point, made whole and opened with the database's key:
/// scrubbed too.
fn assert_gone_from_backups(m: &Machine) {
    for b in m.store.backups().unwrap() {
        let dir = sync_support::scratch_dir();
        let copy = dir.path().join("point.sqlite");
        wafira_core::sync::backup::write_copy(&m.store, &b.name, &copy).unwrap();
        let conn = sync_support::conn(&copy);
        assert_gone_from_values(values_of(&conn), &format!("backup {}", b.name));
    }
}

/// A bundle the machine makes now, everything it holds: no change in it
/// holds her data.
fn assert_gone_from_a_bundle(m: &mut Machine) {
    let bytes = m.export_with(true);
    let plain = m.open(&bytes);
    let bundle = wafira_core::sync::bundle::decode(&plain).unwrap();
    assert!(bundle.changes.iter().any(|c| c.entity == Entity::Erasure), "the erasure travels");
    let text = bundle.changes.iter().map(|c| serde_json::to_string(c).unwrap()).collect::<Vec<_>>().join("\n");
    for needle in SHE {
        assert!(!text.to_lowercase().contains(&needle.to_lowercase()), "{needle:?} in a bundle made after the erasure");
    }
    assert_eq!(decode(&bytes).changes.len(), bundle.changes.len());
}

/// The tables the log folds to, as rows of text: what a rebuild must give
/// again.
fn derived(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT id, doc, clocks, archived_at, merged_into, stage, last_visit_date, next_visit_date, visit_count, sort_name FROM beneficiary",
        "SELECT id, beneficiary_id, doc, clocks FROM visit",
        "SELECT id, beneficiary_id, doc, clocks FROM milestone",
        "SELECT id, doc FROM resolution",
        "SELECT id, doc FROM merge",
        "SELECT id, doc FROM erasure",
        "SELECT id, entity, record_id, field, base FROM conflict",
        "SELECT a, b, score, reasons FROM duplicate",
        "SELECT entity, record_id, parent_id FROM waiting",
        "SELECT text FROM beneficiary_fts",
    ] {
        let mut stmt = store.conn().prepare(sql).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..n).map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap())).collect::<Vec<_>>().join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort();
        out.push(format!("## {sql}"));
        out.extend(rows);
    }
    out
}

fn folds_to_itself(m: &mut Machine) {
    let built = derived(&m.store);
    m.store.rebuild().unwrap();
    assert_eq!(derived(&m.store), built, "what the machine built is what its log folds to");
}

/// Her records' changes as stored: the same on every machine.
fn her_log(store: &Store, person: Uuid) -> Vec<String> {
    let mut stmt = store
        .conn()
        .prepare(
            "SELECT c.device_id, c.seq, c.hlc, c.entity, c.record_id, c.op, c.fields, c.old, c.base FROM change c
             WHERE c.record_id = ?1 OR (c.entity IN ('visit', 'milestone') AND c.record_id IN
                 (SELECT record_id FROM change WHERE json_extract(fields, '$.beneficiary_id') = ?1))
             ORDER BY c.hlc",
        )
        .unwrap();
    stmt.query_map([person.to_string()], |r| {
        Ok((0..9)
            .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
            .collect::<Vec<_>>()
            .join("|"))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// What indicators count of her: the same before and after her erasure.
fn counted(store: &Store) -> Value {
    let i = serde_json::to_value(store.indicators_json(json!({})).unwrap()).unwrap();
    json!({ "beneficiaries": i["beneficiaries"], "coaching": i["coaching"], "iga": i["iga"], "financing": i["financing"] })
}

/// Every row of every table, for "nothing changed".
fn dump(store: &Store) -> Vec<String> {
    let mut all: Vec<String> = every_value(store).into_iter().map(|(at, v)| format!("{at}={v}")).collect();
    let changes: i64 = store.conn().query_row("SELECT count(*) FROM change", [], |r| r.get(0)).unwrap();
    all.push(format!("changes={changes}"));
    all.sort();
    all
}

#[test]
fn erased_at_a_laptop_she_is_gone_from_every_table_file_and_bundle_of_the_laptop_the_station_and_another_laptop() {
    let mut l1 = machine("Portable Kénitra");
    let mut station = machine("Station Rabat");
    let mut l2 = machine("Portable Sidi Slimane");
    let her = register_her(&mut l1);
    let other =
        l1.store.add_beneficiary_json(common::person(json!({"first_name": "Amina", "cin": "AB654321"}))).unwrap().id;
    let first = l1.export();
    station.import(&first);
    l2.import(&station.export());
    // The station takes a copy of itself before each import: with her in it.
    let amina_edit = {
        l1.store.update_beneficiary(other, json!({"cohort": "2026-B"})).unwrap();
        l1.export()
    };
    station.import(&amina_edit);
    assert!(station.store.backups().unwrap().len() >= 2);
    let counted_before = counted(&station.store);

    let erased = l1.store.erase_beneficiary(her, "Retrait du consentement (demande écrite)").unwrap();
    let report = serde_json::to_value(&erased).unwrap();
    assert_eq!(report["people"], 1);
    assert_eq!(report["records"], json!({"beneficiaries": 1, "visits": 1, "milestones": 3, "resolutions": 0}));
    assert!(erased.changes_scrubbed >= 7, "her creation, edits, visit and milestones: {report}");
    assert!(erased.secured.compacted, "{report}");
    for needle in SHE {
        assert!(!report.to_string().contains(needle), "the report gives counts, not values: {report}");
    }

    station.import(&l1.export());
    l2.import(&station.export());

    for (name, m) in [("laptop", &mut l1), ("station", &mut station), ("second laptop", &mut l2)] {
        assert_gone_from_tables(&m.store, name);
        assert_gone_from_files(m);
        assert_gone_from_backups(m);
        assert_gone_from_a_bundle(m);
        let b = m.store.beneficiary(her).unwrap();
        assert!(b.is_erased() && b.first_name.is_empty() && b.last_name.is_empty());
        assert_eq!((b.cin, b.phone, b.name_ar, b.commune, b.douar, b.notes), (None, None, None, None, None, None));
        assert_eq!(b.birth_date.to_string(), "1986-01-01", "the year of birth stays");
        assert_eq!(
            (b.sex.as_str(), b.region.as_str(), b.province.as_deref(), b.cohort.as_deref()),
            ("F", "04", Some("Kénitra"), Some("2026-A")),
            "what indicators count stays"
        );
        let profile = m.store.profile(her).unwrap();
        assert!(profile.erased);
        assert_eq!(
            profile.erasure.as_ref().map(|e| e.reason.as_str()),
            Some("Retrait du consentement (demande écrite)")
        );
        assert_eq!(profile.visits.len(), 1);
        assert_eq!(profile.milestones.len(), 3);
        let stopped = profile.milestones.iter().find(|x| x.kind.as_str() == "iga_stopped").unwrap();
        assert_eq!(stopped.reason.as_deref(), Some(""), "a stopped activity keeps a reason, emptied");
        // Amina is untouched.
        assert_eq!(m.store.beneficiary(other).unwrap().first_name, "Amina");
        folds_to_itself(m);
    }
    assert_eq!(her_log(&l1.store, her), her_log(&station.store, her));
    assert_eq!(her_log(&l2.store, her), her_log(&station.store, her));
    assert_eq!(counted(&station.store), counted_before, "indicators still count her, anonymously");
    assert!(
        station.store.followups(60).unwrap().iter().all(|g| g.people.iter().all(|p| p.person.beneficiary.id != her)),
        "nobody is sent to an erased person"
    );
    let list = station.store.list_beneficiaries(&Default::default()).unwrap();
    assert!(list.rows.iter().any(|r| r.beneficiary.id == her && r.erased), "listed as an erased person");
}

#[test]
fn a_late_bundle_with_an_older_edit_of_her_name_is_scrubbed_on_arrival_never_refused() {
    let mut l1 = machine("Portable Kénitra");
    let mut station = machine("Station Rabat");
    let mut l2 = machine("Portable Sidi Slimane");
    let her = register_her(&mut l1);
    station.import(&l1.export());
    l2.import(&station.export());
    // Offline, the second laptop corrects her name and notes, not knowing
    // what the station is about to do.
    l2.store
        .update_beneficiary(
            her,
            json!({"first_name": "Zoubida Lalla", "notes": "Zoubida : nouveau numéro chez sa soeur"}),
        )
        .unwrap();
    let late = l2.export();
    station.store.erase_beneficiary(her, "retrait du consentement").unwrap();
    let summary = station.import(&late);
    assert_eq!(summary.new_changes, 1, "the late edit is taken in, scrubbed");
    assert_gone_from_tables(&station.store, "station");
    // The same edit again, unscrubbed, in a full bundle of the laptop: the
    // same change, held scrubbed, not a forgery, and nothing comes back.
    let again = l2.export_with(true);
    let summary = station.import(&again);
    assert_eq!(summary.new_changes, 0);
    assert_gone_from_tables(&station.store, "station");
    assert_gone_from_files(&station);
    // Both laptops hear of the erasure; the second scrubs its own edit.
    let from_station = station.export();
    l1.import(&from_station);
    l2.import(&from_station);
    l1.import(&l2.export_with(true));
    for (name, m) in [("laptop", &mut l1), ("station", &mut station), ("second laptop", &mut l2)] {
        assert_gone_from_tables(&m.store, name);
        assert_gone_from_files(m);
        folds_to_itself(m);
    }
    assert_eq!(her_log(&l1.store, her), her_log(&station.store, her));
    assert_eq!(her_log(&l2.store, her), her_log(&station.store, her));
    assert_eq!(derived(&l1.store), derived(&station.store));
}

#[test]
fn an_erasure_at_the_station_crossing_an_edit_at_a_laptop_converges() {
    let mut laptop = machine("Portable Kénitra");
    let mut station = machine("Station Rabat");
    let her = register_her(&mut laptop);
    station.import(&laptop.export());
    laptop.import(&station.export());
    // At the same time: the station erases her, the laptop edits her
    // phone, cohort and phase and visits her.
    station.store.erase_beneficiary(her, "retrait du consentement").unwrap();
    laptop
        .store
        .update_beneficiary(her, json!({"phone": "0699999999", "cohort": "2026-C", "phase": "in_migration"}))
        .unwrap();
    laptop.visit(her, &common::days_ago(1));
    let from_laptop = laptop.export();
    let from_station = station.export();
    station.import(&from_laptop);
    laptop.import(&from_station);
    for m in [&laptop, &station] {
        let b = m.store.beneficiary(her).unwrap();
        assert_eq!(b.phone, None, "the laptop's phone is scrubbed");
        assert_eq!(b.cohort.as_deref(), Some("2026-C"), "what she keeps still takes the latest edit");
        assert_eq!(b.phase.as_str(), "in_migration");
        assert_eq!(m.store.profile(her).unwrap().visits.len(), 2, "the laptop's visit counts");
        assert!(!every_value(&m.store).iter().any(|(_, v)| v.contains("699999999")));
    }
    assert_eq!(her_log(&laptop.store, her), her_log(&station.store, her));
    assert_eq!(derived(&laptop.store), derived(&station.store));
    folds_to_itself(&mut laptop);
    folds_to_itself(&mut station);

    // From now on, her identifying fields cannot be entered again; the rest can.
    let refused =
        laptop.store.update_beneficiary(her, json!({"phone": "0611111111", "first_name": "Z", "cohort": "X"}));
    let mut errors = common::field_errors(refused);
    errors.sort();
    assert_eq!(errors, [("first_name".into(), "erased".into()), ("phone".into(), "erased".into())]);
    laptop.store.update_beneficiary(her, json!({"cohort": "2026-D"})).unwrap();
    let visit = laptop.store.add_visit_json(common::visit(her, json!({})));
    assert_eq!(common::field_errors(visit), [("beneficiary_id".into(), "erased_beneficiary".into())]);
    // An archive is kept, its reason is not (free text about her).
    let archived = laptop.store.archive_beneficiary(her, Some("partie, Zoubida Benkirane".into())).unwrap();
    assert!(archived.archived_at.is_some() && archived.archive_reason.is_none());
    assert_gone_from_tables(&laptop.store, "laptop");
}

#[test]
fn anyone_merged_into_her_is_erased_with_her() {
    let mut laptop = machine("Portable Kénitra");
    let mut station = machine("Station Rabat");
    let her = register_her(&mut laptop);
    // The station registered her again (another CIN spelling, same phone).
    let mut again = zoubida();
    common::merge(&mut again, json!({"cin": "BK123457"}));
    let twin = station.store.add_beneficiary_json(again).unwrap().id;
    station.import(&laptop.export());
    station.store.merge_persons(her, twin).unwrap();
    let erased = station.store.erase_beneficiary(her, "retrait du consentement").unwrap();
    assert_eq!(erased.people, 2);
    assert_gone_from_tables(&station.store, "station");
    laptop.import(&station.export());
    assert_gone_from_tables(&laptop.store, "laptop");
    assert!(laptop.store.beneficiary(twin).unwrap().is_erased());
}

#[test]
fn restoring_a_backup_taken_before_the_erasure_brings_nothing_back() {
    let mut laptop = machine("Portable Kénitra");
    let mut station = machine("Station Rabat");
    let her = register_her(&mut laptop);
    station.import(&laptop.export());
    laptop.store.add_beneficiary_json(common::person(json!({"first_name": "Amina"}))).unwrap();
    station.import(&laptop.export());
    // The newest point holds her; keep the database it restores as it is,
    // as if it had escaped the scrubbing.
    let newest = station.store.backups().unwrap().remove(0);
    let keep = tempfile::tempdir().unwrap();
    let unscrubbed = keep.path().join("copy.sqlite");
    wafira_core::sync::backup::write_copy(&station.store, &newest.name, &unscrubbed).unwrap();

    let erased = station.store.erase_beneficiary(her, "retrait du consentement").unwrap();
    assert!(erased.secured.backups_scrubbed >= 2, "{erased:?}");
    assert_eq!(erased.secured.backups_removed, 0);
    assert_gone_from_backups(&station);

    // A scrubbed backup restored: she stays erased.
    let restored = station.store.restore_backup(&newest.name).unwrap();
    assert_eq!(restored.backup.created_at, newest.created_at, "the same point, now a full copy");
    assert!(station.store.beneficiary(her).unwrap().is_erased());
    assert_gone_from_tables(&station.store, "station");

    // One that escaped the scrubbing, put back and restored: the erasures
    // the database held are taken in again. (Scrubbed, the point is a
    // full copy.)
    let scrubbed = station.store.backups().unwrap().into_iter().find(|b| b.created_at == newest.created_at).unwrap();
    assert!(scrubbed.full);
    std::fs::copy(&unscrubbed, &scrubbed.path).unwrap();
    station.store.restore_backup(&newest.name).unwrap();
    assert!(station.store.beneficiary(her).unwrap().is_erased());
    assert!(station.store.profile(her).unwrap().erasure.is_some());
    assert_gone_from_tables(&station.store, "station");
    assert_gone_from_files(&station);
    folds_to_itself(&mut station);
}

#[test]
fn a_refused_erasure_changes_nothing() {
    let (_dir, mut store) = common::store();
    let her = store.add_beneficiary_json(zoubida()).unwrap().id;
    let before = dump(&store);
    let unknown = store.erase_beneficiary(Uuid::now_v7(), "retrait du consentement");
    assert!(matches!(unknown, Err(Error::NotFound { entity: "beneficiary", .. })), "{unknown:?}");
    assert_eq!(common::field_errors(store.erase_beneficiary(her, "  ")), [("reason".into(), "required".into())]);
    assert_eq!(
        common::field_errors(store.erase_beneficiary(her, "retrait\u{1b}[2J")),
        [("reason".into(), "control_character".into())]
    );
    assert_eq!(
        common::field_errors(store.erase_beneficiary(her, &"x".repeat(501))),
        [("reason".into(), "too_long".into())]
    );
    store.set_actor(Actor { name: "Samira".into(), role: Role::Coordinator });
    let forbidden = store.erase_beneficiary(her, "retrait du consentement");
    assert!(
        matches!(forbidden, Err(Error::Forbidden { action: "erase", needs: Role::Assistant, .. })),
        "{forbidden:?}"
    );
    assert_eq!(dump(&store), before, "nothing was written");
    assert!(store.backups().unwrap().is_empty());

    store.set_actor(Actor { name: "Nadia".into(), role: Role::Assistant });
    store.erase_beneficiary(her, "retrait du consentement").unwrap();
    // The audit trail says who erased whom (by id) and why, never her name.
    let logged: Vec<(String, String, String, String)> = store
        .conn()
        .prepare("SELECT who, action, subject, detail FROM audit WHERE action = 'person.erase'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(logged, [("Nadia".into(), "person.erase".into(), her.to_string(), "retrait du consentement".into())]);
    let after = dump(&store);
    assert_eq!(common::field_errors(store.erase_beneficiary(her, "encore")), [("id".into(), "already_erased".into())]);
    assert_eq!(dump(&store), after, "erasing twice writes nothing");
}

#[test]
fn a_bundle_erasure_must_carry_only_a_clean_reason() {
    let mut laptop = machine("Portable Kénitra");
    let mut station = machine("Station Rabat");
    let her = register_her(&mut laptop);
    station.import(&laptop.export());
    laptop.store.erase_beneficiary(her, "retrait du consentement").unwrap();
    let bundle = laptop.export();
    let with = |f: fn(&mut serde_json::Map<String, Value>)| {
        sync_support::rewrite(&bundle, |_, changes| {
            for c in changes.iter_mut().filter(|c| c.entity == Entity::Erasure) {
                f(&mut c.fields);
            }
        })
    };
    let bad: [fn(&mut serde_json::Map<String, Value>); 4] = [
        |f| {
            f.insert("reason".into(), json!("retrait\u{202e}"));
        },
        |f| {
            f.insert("reason".into(), json!(""));
        },
        |f| {
            f.insert("reason".into(), json!("x".repeat(501)));
        },
        |f| {
            f.insert("first_name".into(), json!("Zoubida"));
        },
    ];
    let before = dump(&station.store);
    for change in bad {
        let refused = station.store.import_bundle(with(change));
        assert!(matches!(refused, Err(Error::Refused(_))), "{refused:?}");
        assert_eq!(dump(&station.store), before, "a refused bundle changes nothing");
    }
    station.import(&bundle);
    assert_gone_from_tables(&station.store, "station");
}

/// A change an erasure scrubbed reaches a machine that has not heard of
/// the erasure (the station's full bundle without it): the checks judge
/// the values an erasure leaves as such, and refuse a half-scrubbed one.
#[test]
fn a_scrubbed_change_passes_the_bundle_checks_and_a_half_scrubbed_one_does_not() {
    let mut laptop = machine("Portable Kénitra");
    let her = register_her(&mut laptop);
    laptop.store.erase_beneficiary(her, "retrait du consentement").unwrap();
    let lines: Vec<String> = laptop
        .store
        .conn()
        .prepare(
            "SELECT json_object('device_id', device_id, 'seq', seq, 'hlc', hlc, 'entity', entity, 'record_id', record_id,
                    'op', op, 'fields', json(fields), 'old', json(old), 'base', json(base), 'at', at,
                    'coordinator', coordinator)
             FROM change WHERE entity IN ('beneficiary', 'milestone')",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(lines.len() >= 6);
    for text in &lines {
        let line: wafira_core::sync::bundle::Line = serde_json::from_str(text).unwrap();
        wafira_core::sync::check::check_line(&line, "Portable Kénitra").unwrap_or_else(|e| panic!("{e}: {text}"));
    }
    let creation =
        lines.iter().find(|l| l.contains("\"op\":\"create\"") && l.contains("\"entity\":\"beneficiary\"")).unwrap();
    let half = creation.replace("\"cin\":null", "\"cin\":\"BK123456\"");
    let line: wafira_core::sync::bundle::Line = serde_json::from_str(&half).unwrap();
    assert!(wafira_core::sync::check::check_line(&line, "Portable Kénitra").is_err(), "empty names with a CIN");
}
