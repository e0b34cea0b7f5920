//! Possible duplicates (`duplicate` table): a function of the data. Every
//! pair of live people registered on different laptops to whom
//! `match_reasons` gives a reason, once, and nothing else; the same on every
//! machine that holds the same changes, whatever order they came in, and
//! kept so by imports and by local edits alike. And the same CIN on two
//! laptops never blocks an edit.

mod sync_support;

use proptest::prelude::*;
use serde_json::{json, Value};
use sync_support::*;
use uuid::Uuid;
use wafira_core::beneficiary::Beneficiary;
use wafira_core::store::match_reasons;

/// One row of the table: (a, b, score, reasons as JSON).
type Row = (String, String, i64, String);

/// The table as it is, sorted.
fn table(m: &Machine) -> Vec<Row> {
    let conn = sync_support::conn(&m.path);
    let mut stmt = conn.prepare("SELECT a, b, score, reasons FROM duplicate ORDER BY a, b").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

/// What the table must hold, the slow way: every pair of live people.
fn expected(m: &Machine) -> Vec<Row> {
    let conn = sync_support::conn(&m.path);
    let mut stmt = conn.prepare("SELECT doc FROM beneficiary WHERE archived_at IS NULL").unwrap();
    let mut people: Vec<Beneficiary> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|d| serde_json::from_str(&d.unwrap()).unwrap())
        .collect();
    people.sort_by_key(|b| b.id);
    let mut out = Vec::new();
    for (i, p) in people.iter().enumerate() {
        for q in &people[i + 1..] {
            if p.created_by == q.created_by {
                continue;
            }
            let (score, reasons) = match_reasons(p, q);
            if !reasons.is_empty() {
                out.push((
                    p.id.to_string(),
                    q.id.to_string(),
                    i64::from(score),
                    serde_json::to_string(&reasons).unwrap(),
                ));
            }
        }
    }
    out
}

fn assert_exact(m: &Machine, when: &str) {
    assert_eq!(table(m), expected(m), "the duplicate table is not what the data says ({when})");
}

fn reasons_of(m: &Machine, x: Uuid, y: Uuid) -> Option<Vec<String>> {
    let (a, b) = if x < y { (x, y) } else { (y, x) };
    table(m)
        .into_iter()
        .find(|r| r.0 == a.to_string() && r.1 == b.to_string())
        .map(|r| serde_json::from_str(&r.3).unwrap())
}

// --- Any order, the same table -------------------------------------------

#[test]
fn the_same_bundles_in_another_order_give_the_same_duplicates() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let x = a.register(json!({ "first_name": "Zineb", "last_name": "Tazi", "phone": "0612345678" }));
    let a1 = a.export();
    b.register(json!({ "first_name": "Najat", "last_name": "Alaoui", "phone": "0612345678" }));
    let b1 = b.export();
    // Laptop A corrects the phone: the two no longer share anything.
    a.edit(x, json!({ "phone": "0699999999" }));
    let a2 = a.export();

    let mut first = machine("Station 1");
    for bytes in [&a1, &a2, &b1] {
        first.import(bytes);
    }
    let mut second = machine("Station 2");
    for bytes in [&a1, &b1, &a2] {
        second.import(bytes);
    }
    assert_exact(&first, "station 1");
    assert_exact(&second, "station 2");
    assert_eq!(table(&first), table(&second));
    assert!(table(&first).is_empty());
}

#[test]
fn a_phone_changed_on_a_laptop_drops_the_same_phone_reason_at_the_station() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let x = a.register(json!({ "first_name": "Fatima", "last_name": "Benali", "phone": "0612345678" }));
    let y = b.register(json!({ "first_name": "Fatma", "last_name": "Ben Ali", "phone": "0612345678" }));
    let z = b.register(json!({ "first_name": "Najat", "last_name": "Alaoui", "birth_date": "1970-01-01",
                               "phone": "0612345678" }));
    station.import(&a.export());
    station.import(&b.export());
    let both = vec!["same_phone".to_string(), "similar_name_same_birth_date".to_string()];
    assert_eq!(reasons_of(&station, x, y), Some(both));
    assert_eq!(reasons_of(&station, x, z), Some(vec!["same_phone".to_string()]));

    a.edit(x, json!({ "phone": "0699999999" }));
    station.import(&a.export());
    assert_eq!(reasons_of(&station, x, y), Some(vec!["similar_name_same_birth_date".to_string()]), "no stale reason");
    assert_eq!(reasons_of(&station, x, z), None, "a pair with no reason left is gone");
    assert_exact(&station, "after the phone change");
    let listed = station.store.duplicates(false).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].score, 70);
}

// --- Local writes -------------------------------------------------------

#[test]
fn a_local_edit_archive_or_registration_at_the_station_rescores() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let x = a.register(json!({ "first_name": "Zineb", "last_name": "Tazi", "phone": "0612345678" }));
    let y = b.register(json!({ "first_name": "Najat", "last_name": "Alaoui", "phone": "0612345678" }));
    station.import(&a.export());
    station.import(&b.export());
    assert_eq!(reasons_of(&station, x, y), Some(vec!["same_phone".to_string()]));

    station.edit(x, json!({ "phone": "0699999999" }));
    assert_eq!(reasons_of(&station, x, y), None, "the edit at the station dropped the pair");
    assert_exact(&station, "after a phone change");
    station.edit(y, json!({ "phone": "0699999999" }));
    assert_eq!(reasons_of(&station, x, y), Some(vec!["same_phone".to_string()]), "and one makes it");
    // Accents and case in a commune count for nothing.
    station.edit(x, json!({ "commune": "Aït-Benhaddou", "last_name": "Alaoui", "first_name": "Najat" }));
    station.edit(y, json!({ "commune": "ait benhaddou", "birth_date": "1971-02-02" }));
    assert_eq!(
        reasons_of(&station, x, y),
        Some(vec!["same_phone".to_string(), "similar_name_same_commune".to_string()])
    );
    assert_exact(&station, "after commune edits");

    // Registered at the station: hers is another device than A's and B's.
    let z = station.register(json!({ "first_name": "Zineb", "last_name": "Tazi", "phone": "0699999999" }));
    assert_eq!(reasons_of(&station, x, z), Some(vec!["same_phone".to_string()]));
    assert_exact(&station, "after a registration");

    station.store.archive_beneficiary(x, Some("inscrite deux fois".into())).unwrap();
    assert_eq!(reasons_of(&station, x, y), None, "an archived person is no one's duplicate");
    assert_eq!(reasons_of(&station, x, z), None);
    assert_exact(&station, "after an archive");
}

// --- The same CIN on two laptops ----------------------------------------

/// Laptop A holding its own Fatima and laptop B's, both with one CIN.
fn cin_twins() -> (Machine, Uuid, Uuid) {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let one = a.register(json!({ "cin": "BK123456", "phone": "0611111111" }));
    let two = b.register(json!({ "cin": "BK123456", "first_name": "Khadija", "birth_date": "1970-01-01" }));
    station.import(&a.export());
    station.import(&b.export());
    a.import(&station.export_with(true));
    (a, one, two)
}

#[test]
fn a_cin_twin_never_blocks_editing_either_record() {
    let (mut a, one, two) = cin_twins();
    a.store.update_beneficiary(one, json!({ "phone": "0622222222" })).unwrap();
    a.store.update_beneficiary(two, json!({ "phone": "0633333333", "commune": "Zirara" })).unwrap();
    // Sent again unchanged, the CIN is no change either.
    a.store.update_beneficiary(two, json!({ "cin": "bk 123456", "cohort": "2025-A" })).unwrap();
    assert_eq!(a.field(one, "phone"), json!("+212622222222"));
    assert_eq!(a.field(two, "cohort"), json!("2025-A"));
}

#[test]
fn a_cin_twin_is_listed_as_a_pair_awaiting_a_decision() {
    let (a, one, two) = cin_twins();
    let pairs = a.store.duplicates(false).unwrap();
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    assert_eq!(pairs[0].reasons, vec!["same_cin".to_string()]);
    let ids = [pairs[0].a.beneficiary.id, pairs[0].b.beneficiary.id];
    assert!(ids.contains(&one) && ids.contains(&two));
}

#[test]
fn taking_a_twin_cin_for_a_third_person_is_refused_naming_who_holds_it() {
    let (mut a, one, two) = cin_twins();
    let third = a.register(json!({ "first_name": "Zineb", "last_name": "Tazi", "cin": "G555111" }));
    let err = a.store.update_beneficiary(third, json!({ "cin": "BK123456" })).unwrap_err();
    let invalid = err.as_invalid().unwrap();
    assert!(invalid.has("cin", "cin_taken"), "{err}");
    let named = invalid.0[0].params["id"].clone();
    assert!(named == one.to_string() || named == two.to_string(), "{err}");
    let name = &invalid.0[0].params["name"];
    assert!(name == "Fatima El Idrissi" || name == "Khadija El Idrissi", "{err}");
    let err = a.store.add_beneficiary_json(json!({
        "first_name": "Salma", "last_name": "Tazi", "sex": "F", "birth_date": "1990-03-14",
        "region": "04", "consent": true, "cin": "BK123456"
    }));
    assert!(err.unwrap_err().as_invalid().unwrap().has("cin", "cin_taken"));
    assert_eq!(a.field(third, "cin"), json!("G555111"));
}

// --- The registration warning -------------------------------------------

#[test]
fn the_registration_warning_finds_a_commune_written_another_way() {
    let mut a = machine("Portable A");
    let id = a.register(json!({ "first_name": "Naïma", "last_name": "El Idrissi", "commune": "Aït-Benhaddou" }));
    let probe = wafira_core::validate::from_json(json!({
        "first_name": "Naima", "last_name": "Al-Idrissi", "birth_date": "1970-05-05", "commune": "ait benhaddou"
    }))
    .unwrap();
    let found: Vec<(Uuid, Vec<String>)> = a
        .store
        .possible_duplicates(&probe)
        .unwrap()
        .into_iter()
        .map(|c| (c.person.beneficiary.id, c.reasons))
        .collect();
    assert_eq!(found, vec![(id, vec!["similar_name_same_commune".to_string()])]);
}

// --- Merges ---------------------------------------------------------------

#[test]
fn a_merge_and_its_undoing_rescore_the_people_they_hide_and_show() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    let kept = a.register(json!({ "cin": "BK123456" }));
    let other = b.register(json!({ "cin": "BK123456", "first_name": "Fatma", "phone": "0612345678" }));
    let third = a.register(json!({ "first_name": "Najat", "last_name": "Alaoui", "phone": "0612345678" }));
    station.import(&a.export());
    station.import(&b.export());
    assert_eq!(reasons_of(&station, other, third), Some(vec!["same_phone".to_string()]));
    station.store.merge_persons(kept, other).unwrap();
    assert_exact(&station, "after a merge");
    assert_eq!(reasons_of(&station, other, third), None, "merged away, she is no one's duplicate");
    assert_eq!(station.store.duplicates(false).unwrap()[0].kept, Some(kept), "the merge is still listed");
    station.store.unmerge_persons(kept, other).unwrap();
    assert_exact(&station, "after undoing it");
    assert_eq!(reasons_of(&station, other, third), Some(vec!["same_phone".to_string()]));
}

// --- Random data: imports and local edits keep the table exact ------------

const FIRST: [&str; 5] = ["Fatima", "Fatma", "Fâtima", "Khadija", "Zineb"];
const LAST: [&str; 6] = ["El Idrissi", "Al-Idrissi", "Idrissi", "Benali", "Ben Ali", "Tazi"];
const BIRTH: [&str; 3] = ["1990-03-14", "1985-06-01", "1970-01-01"];
const COMMUNE: [Option<&str>; 6] =
    [None, Some("Mnasra"), Some("mnasra"), Some("Mnâsra"), Some("Aït-Benhaddou"), Some("ait benhaddou")];
const PHONE: [Option<&str>; 3] = [None, Some("0611111111"), Some("0622222222")];
const CIN: [Option<&str>; 3] = [None, Some("BK111111"), Some("BK222222")];
const NAME_AR: [Option<&str>; 3] = [None, Some("فاطمة الإدريسي"), Some("فاطمه الادريسي")];

/// A person: an index into each of the lists above.
type Person = (usize, usize, usize, usize, usize, usize, usize);

fn person() -> impl Strategy<Value = Person> {
    (0..5usize, 0..6usize, 0..3usize, 0..6usize, 0..3usize, 0..3usize, 0..3usize)
}

/// An edit: whom (an index, wrapped), which field (7: archive her), which value.
type Edit = (usize, usize, usize);

fn edit() -> impl Strategy<Value = Edit> {
    (0..64usize, 0..8usize, 0..6usize)
}

fn opt(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| json!(s))
}

fn register_any(m: &mut Machine, p: Person) -> Uuid {
    let mut fields = json!({
        "first_name": FIRST[p.0], "last_name": LAST[p.1], "birth_date": BIRTH[p.2], "commune": opt(COMMUNE[p.3]),
        "phone": opt(PHONE[p.4]), "cin": opt(CIN[p.5]), "name_ar": opt(NAME_AR[p.6])
    });
    if let Some(id) = try_register(m, &fields) {
        return id;
    }
    // The CIN is held on this laptop already.
    fields["cin"] = Value::Null;
    try_register(m, &fields).unwrap()
}

fn try_register(m: &mut Machine, fields: &Value) -> Option<Uuid> {
    let mut input = json!({ "sex": "F", "region": "04", "consent": true });
    for (k, v) in fields.as_object().unwrap() {
        input[k] = v.clone();
    }
    m.store.add_beneficiary_json(input).ok().map(|b| b.id)
}

/// Applies an edit; refusals (a CIN held here, an archived person) are fine.
fn apply(m: &mut Machine, people: &[Uuid], (who, field, value): Edit) {
    if people.is_empty() {
        return;
    }
    let id = people[who % people.len()];
    let patch = match field {
        0 => json!({ "first_name": FIRST[value % 5] }),
        1 => json!({ "last_name": LAST[value % 6] }),
        2 => json!({ "birth_date": BIRTH[value % 3] }),
        3 => json!({ "commune": opt(COMMUNE[value % 6]) }),
        4 => json!({ "phone": opt(PHONE[value % 3]) }),
        5 => json!({ "cin": opt(CIN[value % 3]) }),
        6 => json!({ "name_ar": opt(NAME_AR[value % 3]) }),
        _ => {
            let _ = m.store.archive_beneficiary(id, Some("erreur".into()));
            return;
        }
    };
    let _ = m.store.update_beneficiary(id, patch);
}

fn rebuild(m: &mut Machine) -> usize {
    m.store.write(|w| wafira_core::sync::merge::rebuild_duplicates(w.tx())).unwrap()
}

/// Three laptops register people (laptop A often more than 64, enough for
/// an import to score them all at once rather than one by one through the
/// indexes; local edits always go one by one), edit them,
/// export twice; two stations import the six bundles in two orders; the
/// first then edits anyone. After every step the table is what the data
/// says, both stations agree, and a rebuild finds nothing to change.
fn run(sizes: [Vec<Person>; 3], laptop_edits: Vec<Edit>, order: Vec<usize>, station_edits: Vec<Edit>) {
    let mut laptops = [machine("Portable A"), machine("Portable B"), machine("Portable C")];
    let mut own: [Vec<Uuid>; 3] = Default::default();
    let mut everyone = Vec::new();
    for (i, people) in sizes.iter().enumerate() {
        for p in people {
            own[i].push(register_any(&mut laptops[i], *p));
        }
        everyone.extend(own[i].iter().copied());
    }
    let mut bundles: Vec<Vec<u8>> = laptops.iter_mut().filter_map(|m| m.export_if_new(false)).collect();
    for (k, e) in laptop_edits.into_iter().enumerate() {
        apply(&mut laptops[k % 3], &own[k % 3], e);
    }
    bundles.extend(laptops.iter_mut().filter_map(|m| m.export_if_new(false)));

    let mut first = machine("Station 1");
    for (n, bytes) in bundles.iter().enumerate() {
        first.import(bytes);
        assert_exact(&first, &format!("station 1, bundle {n}"));
    }
    let mut second = machine("Station 2");
    // A laptop with nothing new wrote no bundle: fewer than six.
    for n in order.into_iter().filter(|n| *n < bundles.len()) {
        second.import(&bundles[n]);
        assert_exact(&second, &format!("station 2, bundle {n}"));
    }
    assert_eq!(table(&first), table(&second), "two orders, two tables");

    for (k, e) in station_edits.into_iter().enumerate() {
        apply(&mut first, &everyone, e);
        assert_exact(&first, &format!("station edit {k}: {e:?}"));
    }
    let before = table(&first);
    assert_eq!(rebuild(&mut first), 0);
    assert_eq!(table(&first), before, "a rebuild changes nothing");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_table_stays_what_the_data_says_through_imports_and_edits(
        a in proptest::collection::vec(person(), 0..80),
        b in proptest::collection::vec(person(), 0..10),
        c in proptest::collection::vec(person(), 0..10),
        laptop_edits in proptest::collection::vec(edit(), 0..12),
        order in Just((0..6usize).collect::<Vec<_>>()).prop_shuffle(),
        station_edits in proptest::collection::vec(edit(), 0..12),
    ) {
        run([a, b, c], laptop_edits, order, station_edits);
    }
}

#[test]
fn a_rebuild_repairs_a_table_that_went_wrong() {
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let mut station = machine("Station");
    a.register(json!({ "phone": "0612345678" }));
    b.register(json!({ "phone": "0612345678", "first_name": "Najat", "last_name": "Alaoui" }));
    station.import(&a.export());
    station.import(&b.export());
    let right = table(&station);
    let conn = sync_support::conn(&station.path);
    conn.execute("UPDATE duplicate SET score = 1, reasons = '[]'", []).unwrap();
    conn.execute("INSERT INTO duplicate (a, b, score, reasons) VALUES ('x', 'y', 5, '[]')", []).unwrap();
    drop(conn);
    assert_eq!(rebuild(&mut station), 0);
    assert_eq!(table(&station), right);
    station.store.write(|w| w.tx().execute("DELETE FROM duplicate", []).map_err(Into::into)).unwrap();
    assert_eq!(rebuild(&mut station), 1);
    assert_eq!(table(&station), right);
}
