//! Merging duplicates without losing anything (issue 10): the person kept
//! takes the other's values where she has none (or the fields a person
//! chooses), the merge and the values taken show in both histories, and
//! all of it travels in bundles and folds the same everywhere. Real
//! SQLite files, real bundles.

mod sync_support;

use serde_json::{json, Value};
use sync_support::*;
use uuid::Uuid;
use wafira_core::store::log::Entity;
use wafira_core::store::ListQuery;
use wafira_core::sync::merge::Status;
use wafira_core::Error;

const CIN: &str = "BK123456";

/// Laptop A registered her without a CIN, laptop B with one and another
/// phone; the station holds both. Gives (station, A, B, kept, other).
fn pair() -> (Machine, Machine, Machine, Uuid, Uuid) {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let kept = a.register(json!({ "phone": "0611111111", "commune": "Ksar El Kebir" }));
    let other = b.register(json!({ "first_name": "Fatma", "cin": CIN, "phone": "0622222222" }));
    b.visit(other, "2025-02-10");
    station.import(&a.export());
    station.import(&b.export());
    (station, a, b, kept, other)
}

fn found_by(m: &Machine, text: &str) -> Vec<Uuid> {
    let q = ListQuery { search: Some(text.to_string()), ..ListQuery::default() };
    m.store.list_beneficiaries(&q).unwrap().rows.into_iter().map(|r| r.beneficiary.id).collect()
}

fn codes(e: &Error) -> Vec<(String, String)> {
    match e {
        Error::Invalid(i) => i.0.iter().map(|f| (f.field.clone(), f.code.clone())).collect(),
        other => panic!("not a field error: {other:?}"),
    }
}

#[test]
fn merging_into_a_person_without_a_cin_keeps_the_cin() {
    let (mut station, _a, _b, kept, other) = pair();
    let d = station.store.merge_persons(kept, other).unwrap();
    assert_eq!(d.taken, vec!["cin".to_string()], "only the empty field is filled by default");
    assert_eq!(station.field(kept, "cin"), json!(CIN));
    assert_eq!(station.field(kept, "phone"), json!("+212611111111"), "her own phone stays");
    assert_eq!(found_by(&station, CIN), vec![kept], "a search on the CIN finds the person kept");
}

#[test]
fn take_gives_the_kept_person_the_other_value_of_a_field() {
    let (mut station, _a, _b, kept, other) = pair();
    let d = station.store.merge_persons_taking(kept, other, &["phone".to_string()], true).unwrap();
    assert_eq!(d.taken, vec!["cin".to_string(), "phone".to_string()]);
    assert_eq!(station.field(kept, "phone"), json!("+212622222222"));
    assert_eq!(station.field(kept, "cin"), json!(CIN));
    assert_eq!(station.field(kept, "first_name"), json!("Fatima"), "a field not taken stays hers");
}

#[test]
fn the_preview_shows_the_fields_that_differ_and_proposes_the_empty_ones() {
    let (station, _a, _b, kept, other) = pair();
    let p = station.store.merge_preview(kept, other).unwrap();
    assert_eq!((p.kept.beneficiary.id, p.other.beneficiary.id), (kept, other));
    let fields: Vec<(&str, bool)> = p.fields.iter().map(|f| (f.field.as_str(), f.take)).collect();
    assert_eq!(
        fields,
        vec![("first_name", false), ("cin", true), ("phone", false), ("commune", false)],
        "each differing field once; the other's value proposed where the kept is empty"
    );
    let cin = p.fields.iter().find(|f| f.field == "cin").unwrap();
    assert_eq!((cin.kept.clone(), cin.other.clone()), (Value::Null, json!(CIN)));
}

#[test]
fn the_window_choice_takes_exactly_the_fields_chosen() {
    let (mut station, _a, _b, kept, other) = pair();
    // The assistant chose the other's first name and left the CIN empty.
    let d = station.store.merge_persons_taking(kept, other, &["first_name".to_string()], false).unwrap();
    assert_eq!(d.taken, vec!["first_name".to_string()]);
    assert_eq!(station.field(kept, "first_name"), json!("Fatma"));
    assert_eq!(station.field(kept, "cin"), Value::Null);
}

#[test]
fn both_histories_say_the_merge_happened() {
    let (mut station, _a, _b, kept, other) = pair();
    station.store.merge_persons_taking(kept, other, &["phone".to_string()], true).unwrap();

    let p = station.store.profile(kept).unwrap();
    assert_eq!(p.merges.len(), 1, "{:?}", p.merges);
    let m = &p.merges[0];
    assert_eq!((m.status, m.kept, m.other, m.with), (Status::Merged, kept, other, other));
    assert_eq!(m.with_name, "Fatma El Idrissi");
    assert_eq!(m.taken, vec!["cin".to_string(), "phone".to_string()]);
    assert_eq!(m.device_name, "Station");
    let cin = p.history.iter().find(|h| h.field.as_deref() == Some("cin")).expect("the CIN taken is in her history");
    assert_eq!((cin.old.clone(), cin.new.clone()), (Value::Null, json!(CIN)));
    assert!(p.merged_into.is_none());
    assert_eq!(p.visits.len(), 1, "the other's visit shows under her");

    let o = station.store.profile(other).unwrap();
    let link = o.merged_into.expect("the merged-away profile links to the person kept");
    assert_eq!((link.id, link.name.as_str()), (kept, "Fatima El Idrissi"));
    assert_eq!(o.merges.len(), 1);
    assert_eq!((o.merges[0].with, o.merges[0].with_name.as_str()), (kept, "Fatima El Idrissi"));

    // Undone: the history says so too, and the link goes.
    station.store.unmerge_persons(kept, other).unwrap();
    let p = station.store.profile(kept).unwrap();
    assert_eq!(p.merges.iter().map(|m| m.status).collect::<Vec<_>>(), vec![Status::Merged, Status::Open]);
    assert_eq!(p.merges[1].taken, p.merges[0].taken, "undoing keeps what the merge took, for the record");
    assert!(station.store.profile(other).unwrap().merged_into.is_none());
}

#[test]
fn the_merge_travels_and_folds_the_same_on_a_laptop() {
    let (mut station, mut a, mut b, kept, other) = pair();
    station.store.merge_persons_taking(kept, other, &["phone".to_string()], true).unwrap();
    let bundle = station.export();
    a.import(&bundle);
    b.import(&bundle);
    for laptop in [&a, &b] {
        assert_eq!(laptop.state(), station.state(), "the same changes fold to the same records");
        assert_eq!(laptop.field(kept, "cin"), json!(CIN));
        assert_eq!(laptop.field(kept, "phone"), json!("+212622222222"));
        assert_eq!(found_by(laptop, CIN), vec![kept]);
        let p = laptop.store.profile(kept).unwrap();
        assert_eq!(p.merges[0].taken, vec!["cin".to_string(), "phone".to_string()]);
        assert_eq!(laptop.store.profile(other).unwrap().merged_into.map(|m| m.id), Some(kept));
    }
}

#[test]
fn a_refused_merge_changes_nothing() {
    let (mut station, _a, _b, kept, other) = pair();
    let before = station.dump();

    let e = station.store.merge_persons(kept, kept).unwrap_err();
    assert_eq!(codes(&e), vec![("other".into(), "same_person".into())]);
    let e = station.store.merge_persons_taking(kept, other, &["nickname".to_string()], true).unwrap_err();
    assert_eq!(codes(&e), vec![("take".into(), "unknown_field".into())]);
    let e = station.store.merge_persons_taking(kept, other, &["created_by".to_string()], true).unwrap_err();
    assert_eq!(codes(&e), vec![("take".into(), "unknown_field".into())]);
    assert_eq!(station.dump(), before, "a refused merge writes nothing, not even its audit entry");

    // A CIN a third live person already carries is refused as an edit
    // would be, naming her; nothing of the merge is written.
    let mut c = machine("Portable C");
    let kept2 = c.register(json!({ "first_name": "Khadija", "birth_date": "1985-01-01" }));
    let third = c.register(json!({ "first_name": "Zahra", "cin": "AA111111", "birth_date": "1970-01-01" }));
    let other2 = station.register(json!({ "first_name": "Khadija", "birth_date": "1985-01-01", "cin": "AA111111" }));
    station.import(&c.export());
    let before = station.dump();
    let e = station.store.merge_persons(kept2, other2).unwrap_err();
    assert_eq!(codes(&e), vec![("cin".into(), "cin_taken".into())], "{e:?}");
    let Error::Invalid(i) = &e else { unreachable!() };
    assert_eq!(i.0[0].params.get("id"), Some(&third.to_string()));
    assert_eq!(station.dump(), before);
}

#[test]
fn two_stations_merging_the_same_pair_with_different_takes_is_a_conflict() {
    let (mut s1, _a, _b, kept, other) = pair();
    let mut s2 = machine("Station 2");
    // Station 2 gets the same two people.
    s2.import(&s1.export());
    s1.store.merge_persons_taking(kept, other, &["phone".to_string()], true).unwrap();
    s2.store.merge_persons(kept, other).unwrap();
    let (from1, from2) = (s1.export(), s2.export());
    s1.import(&from2);
    s2.import(&from1);
    assert_eq!(s1.state(), s2.state(), "both stations end the same");
    let conflicts = s1.store.conflicts(false).unwrap();
    let taken: Vec<_> = conflicts.iter().filter(|c| c.entity == Entity::Merge && c.field == "taken").collect();
    assert_eq!(taken.len(), 1, "the two choices of fields are a conflict for a person: {conflicts:?}");
    let values: Vec<Value> = taken[0].sides.iter().map(|s| s.value.clone()).collect();
    assert!(values.contains(&json!(["cin", "phone"])) && values.contains(&json!(["cin"])), "{values:?}");
    // Both merges filled the CIN: the same value, whoever wins.
    assert_eq!(s1.field(kept, "cin"), json!(CIN));
}

#[test]
fn a_decision_of_an_older_version_without_taken_is_still_read() {
    let (mut station, mut a, _b, kept, other) = pair();
    station.store.merge_persons(kept, other).unwrap();
    let old = rewrite(&station.export(), |_, changes| {
        for c in changes.iter_mut().filter(|c| c.entity == Entity::Merge) {
            c.fields.remove("taken");
        }
    });
    a.import(&old);
    assert_eq!(a.store.profile(other).unwrap().merged_into.map(|m| m.id), Some(kept));
    assert!(a.store.profile(kept).unwrap().merges[0].taken.is_empty());
}

#[test]
fn a_bundle_naming_fields_that_cannot_be_taken_is_refused() {
    let (mut station, mut a, _b, kept, other) = pair();
    station.store.merge_persons_taking(kept, other, &["phone".to_string(), "phone".to_string()], true).unwrap();
    let bundle = station.export();
    let (id, fingerprint) = (station.store.device().unwrap().id, station.store.keys().unwrap().fingerprint);
    a.store.approve_device(id, Some(&fingerprint), false).unwrap();
    for bad in [json!(["created_by"]), json!(["cin", "cin"]), json!(["phone", "cin"]), json!("cin")] {
        let forged = rewrite(&bundle, |_, changes| {
            for c in changes.iter_mut().filter(|c| c.entity == Entity::Merge) {
                c.fields.insert("taken".into(), bad.clone());
            }
        });
        let before = a.dump();
        let e = a.store.import_bundle(forged).unwrap_err();
        assert!(e.to_string().contains("taken"), "{bad}: {e}");
        assert_eq!(a.dump(), before);
    }
    a.import(&bundle);
    assert_eq!(a.state(), station.state());
}
