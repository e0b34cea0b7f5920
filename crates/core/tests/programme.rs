//! The results framework's records (programme.rs) on real files: checked
//! by their declarations, related to the records they name, travelling in
//! bundles and converging, scrubbed by an erasure; and the milestones of
//! an older version gathered under each person's first IGA, whether the
//! database was made by that version or a laptop still running it sends
//! them.

mod sync_support;

use serde_json::{json, Value};
use sync_support::*;
use uuid::Uuid;
use wafira_core::programme::{self, first_iga_id};
use wafira_core::store::log::Entity;
use wafira_core::store::records::RecordQuery;
use wafira_core::Error;

fn id(doc: &serde_json::Map<String, Value>) -> Uuid {
    Uuid::parse_str(doc["id"].as_str().unwrap()).unwrap()
}

fn fields_of(err: &Error) -> Vec<(String, String)> {
    match err {
        Error::Invalid(i) => i.0.iter().map(|f| (f.field.clone(), f.code.clone())).collect(),
        other => panic!("not a validation error: {other}"),
    }
}

fn iga(m: &mut Machine, person: Uuid, extra: Value) -> Uuid {
    let mut input =
        json!({ "beneficiary_id": person, "sector": "commerce", "form": "individual", "legal_status": "informal" });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    id(&m.store.add_record(Entity::Iga, input).unwrap())
}

#[test]
fn a_bad_record_names_every_problem_at_once_and_writes_nothing() {
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    let before = a.dump();
    let err = a
        .store
        .add_record(
            Entity::Iga,
            json!({ "beneficiary_id": fatima, "sector": "mining", "form": "individual", "legal_status": "informal",
                    "invest_bank": "-5", "jobs_created": 5000, "colour": "red", "province": "Agadir Ida-Outanane" }),
        )
        .unwrap_err();
    let mut got = fields_of(&err);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("colour".into(), "unknown_field".into()),
            ("invest_bank".into(), "negative_amount".into()),
            ("jobs_created".into(), "out_of_range".into()),
            ("sector".into(), "unknown_code".into()),
        ]
    );
    let err = a.store.add_record(Entity::Season, json!({ "beneficiary_id": fatima })).unwrap_err();
    let mut got = fields_of(&err);
    got.sort();
    assert_eq!(got, vec![("country".into(), "required".into()), ("year".into(), "required".into())]);
    assert_eq!(a.dump(), before, "nothing written");
}

#[test]
fn records_name_only_what_is_here_and_live() {
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    let ahmed = a.register(json!({ "first_name": "Ahmed", "sex": "M" }));
    let nobody = Uuid::now_v7();
    let before = a.dump();
    let refused = |r: wafira_core::Result<serde_json::Map<String, Value>>| fields_of(&r.unwrap_err());
    assert_eq!(
        refused(a.store.add_record(Entity::Season, json!({ "beneficiary_id": nobody, "year": 2025, "country": "ES" }))),
        vec![("beneficiary_id".to_string(), "unknown_beneficiary".to_string())]
    );
    assert_eq!(
        refused(a.store.add_record(
            Entity::Iga,
            json!({ "beneficiary_id": fatima, "sector": "commerce", "form": "collective", "legal_status": "cooperative",
                    "members": [nobody] })
        )),
        vec![("members".to_string(), "unknown_beneficiary".to_string())]
    );
    assert_eq!(
        refused(a.store.add_record(
            Entity::Iga,
            json!({ "beneficiary_id": fatima, "sector": "commerce", "form": "collective", "legal_status": "cooperative",
                    "members": [fatima] })
        )),
        vec![("members".to_string(), "owner_is_member".to_string())]
    );
    assert_eq!(a.dump(), before);
    // A survey of Ahmed's IGA cannot be Fatima's.
    let his = iga(&mut a, ahmed, json!({}));
    let err = a
        .store
        .add_record(
            Entity::IgaFollowup,
            json!({ "iga_id": his, "beneficiary_id": fatima, "date": "2025-05-01", "operating": true }),
        )
        .unwrap_err();
    assert_eq!(fields_of(&err), vec![("iga_id".to_string(), "not_her_iga".to_string())]);
    // A milestone of her IGA is hers; with two IGAs she must say which.
    let first = iga(&mut a, fatima, json!({}));
    a.store
        .add_milestone_json(json!({ "beneficiary_id": fatima, "kind": "iga_launched", "date": "2024-01-10" }))
        .unwrap();
    let second = iga(&mut a, fatima, json!({ "sector": "services" }));
    let err = a
        .store
        .add_milestone_json(json!({ "beneficiary_id": fatima, "kind": "iga_launched", "date": "2025-01-10" }))
        .unwrap_err();
    assert_eq!(fields_of(&err), vec![("iga_id".to_string(), "iga_needed".to_string())]);
    let again = a
        .store
        .add_milestone_json(
            json!({ "beneficiary_id": fatima, "iga_id": second, "kind": "iga_launched", "date": "2025-01-10" }),
        )
        .unwrap();
    assert_eq!(again.iga_id, Some(second), "a second launch, of her second IGA");
    let err = a
        .store
        .add_milestone_json(
            json!({ "beneficiary_id": fatima, "iga_id": first, "kind": "iga_launched", "date": "2025-02-10" }),
        )
        .unwrap_err();
    assert_eq!(fields_of(&err), vec![("kind".to_string(), "milestone_exists".to_string())]);
}

#[test]
fn records_travel_and_the_same_person_ticked_at_two_laptops_is_one_attendance() {
    let mut station = machine("Station");
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let fatima = a.register(json!({}));
    let shop = iga(&mut a, fatima, json!({ "invest_grant": "15000", "jobs_created": 2 }));
    a.store
        .add_record(
            Entity::IgaFollowup,
            json!({ "iga_id": shop, "date": "2025-06-01", "operating": true, "monthly_profit": "1200" }),
        )
        .unwrap();
    let session =
        id(&a.store.add_record(Entity::Session, json!({ "kind": "pre_departure", "date": "2025-01-15" })).unwrap());
    station.import(&a.export());
    b.import(&station.export());
    // Both laptops tick her, offline; A corrects the IGA's jobs meanwhile.
    a.store.take_attendance(session, &[fatima]).unwrap();
    b.store.take_attendance(session, &[fatima]).unwrap();
    a.store.update_record(Entity::Iga, shop, json!({ "jobs_created": 3 })).unwrap();
    station.import(&b.export());
    station.import(&a.export());
    let back = station.export();
    a.import(&back);
    b.import(&back);
    assert_eq!(a.state(), station.state());
    assert_eq!(b.state(), station.state());
    let q = RecordQuery { session_id: Some(session), ..Default::default() };
    let list = station.store.records(Entity::Attendance, &q).unwrap();
    assert_eq!(list.len(), 1, "one attendance");
    assert_eq!(id(&list[0]), programme::attendance_id(session, fatima));
    assert_eq!(station.store.record(Entity::Iga, shop).unwrap()["jobs_created"], 3);
}

#[test]
fn an_erasure_scrubs_what_her_igas_seasons_and_referrals_say_of_her() {
    let mut station = machine("Station");
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    let shop = iga(&mut a, fatima, json!({ "name": "Épicerie Fatima", "notes": "son mari ne doit pas savoir" }));
    let season = a
        .store
        .add_record(
            Entity::Season,
            json!({ "beneficiary_id": fatima, "year": 2025, "country": "ES", "employer": "Fresas Huelva SL" }),
        )
        .unwrap();
    a.store
        .add_record(
            Entity::IgaFollowup,
            json!({ "iga_id": shop, "date": "2025-06-01", "operating": false,
                                                 "not_operating_reason": "son mari a vendu le stock" }),
        )
        .unwrap();
    a.store
        .update_beneficiary(fatima, json!({ "status": "dropped_out", "status_reason": "partie chez sa soeur à Fès" }))
        .unwrap();
    station.import(&a.export());
    station.store.erase_beneficiary(fatima, "retrait du consentement").unwrap();
    a.import(&station.export());
    // What an erasure leaves of text another field requires passes the
    // form's rules: a machine that never heard of her takes it all.
    let mut c = machine("Portable C");
    c.import(&station.export_with(true));
    assert_eq!(c.state(), station.state());
    for m in [&station, &a] {
        let doc = m.store.record(Entity::Iga, shop).unwrap();
        assert!(doc["name"].is_null() && doc["notes"].is_null(), "{doc:?}");
        assert_eq!(doc["sector"], "commerce", "what counts anonymously stays");
        assert!(m.store.record(Entity::Season, id(&season)).unwrap()["employer"].is_null());
        let bytes = std::fs::read(&m.path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("Fresas Huelva"));
        let dump = m.dump();
        assert!(!dump.contains("Fresas Huelva") && !dump.contains("Épicerie Fatima") && !dump.contains("son mari"));
        assert!(!dump.contains("chez sa soeur"));
    }
}

/// The same file as an older version (schema 5) left it: no IGA records,
/// milestones naming none.
fn as_version_5(path: &std::path::Path) {
    let conn = conn(path);
    as_version_7(&conn);
    conn.execute_batch(
        "DELETE FROM change WHERE entity = 'iga';
         UPDATE change SET fields = json_remove(fields, '$.iga_id') WHERE entity = 'milestone';
         UPDATE milestone SET doc = json_remove(doc, '$.iga_id');
         DROP INDEX milestone_iga;
         ALTER TABLE milestone DROP COLUMN iga_id;
         DROP TABLE iga; DROP TABLE iga_followup; DROP TABLE season; DROP TABLE referral;
         DROP TABLE partner; DROP TABLE session; DROP TABLE attendance;
         DROP INDEX target_key; ALTER TABLE target DROP COLUMN year; ALTER TABLE target DROP COLUMN sex;
         CREATE INDEX target_indicator ON target(indicator, region);
         PRAGMA user_version = 5;",
    )
    .unwrap();
}

#[test]
fn a_version_5_database_gets_each_persons_first_iga_holding_her_milestones() {
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    let khadija = a.register(json!({ "first_name": "Khadija", "iga_sector": "handicraft" }));
    let nadia = a.register(json!({ "first_name": "Nadia" }));
    for (p, kind, date) in [
        (fatima, "business_plan", "2024-01-05"),
        (fatima, "iga_launched", "2024-03-01"),
        (khadija, "iga_launched", "2024-05-01"),
    ] {
        a.store.add_milestone_json(json!({ "beneficiary_id": p, "kind": kind, "date": date })).unwrap();
    }
    // Back to schema 5, then opened by this version.
    let Machine { store, path, _dir } = a;
    drop(store);
    as_version_5(&path);
    {
        let store = wafira_core::Store::open_with_key(&path, &key()).unwrap();
        let q = |p| RecordQuery { beneficiary_id: Some(p), ..Default::default() };
        let hers = store.records(Entity::Iga, &q(fatima)).unwrap();
        assert_eq!(hers.len(), 1);
        assert_eq!(id(&hers[0]), first_iga_id(fatima));
        assert_eq!(
            store.records(Entity::Iga, &q(khadija)).unwrap()[0]["sector"],
            "handicraft",
            "from her registration"
        );
        assert!(store.records(Entity::Iga, &q(nadia)).unwrap().is_empty(), "no milestone, no IGA");
        let named: Vec<Option<String>> = store
            .conn()
            .prepare("SELECT iga_id FROM milestone WHERE beneficiary_id = ?1")
            .unwrap()
            .query_map([fatima.to_string()], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(named, vec![Some(first_iga_id(fatima).to_string()); 2]);
        assert_eq!(store.profile(fatima).unwrap().stage.map(|s| s.to_string()).as_deref(), Some("iga_launched"));
    }
}

#[test]
fn milestones_from_a_laptop_of_version_5_get_their_first_iga_at_the_station() {
    let mut station = machine("Station");
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    a.visit(fatima, "2025-01-10");
    // What a laptop of version 5 sends: a milestone naming no IGA.
    let bytes = rewrite(&a.export(), |m, changes| {
        m.schema_version = 5;
        let visits = m.counts.remove(&Entity::Visit).unwrap();
        m.counts.insert(Entity::Milestone, visits);
        let visit = changes.iter_mut().find(|c| c.entity == Entity::Visit).unwrap();
        visit.entity = Entity::Milestone;
        let (at, by) = (visit.fields["created_at"].clone(), visit.fields["created_by"].clone());
        visit.fields = json!({ "beneficiary_id": fatima, "kind": "business_plan", "date": "2025-01-10", "amount": null,
                               "reason": null, "notes": null, "created_at": at, "created_by": by, "archived_at": null })
        .as_object()
        .unwrap()
        .clone();
    });
    station.import(&bytes);
    let q = RecordQuery { beneficiary_id: Some(fatima), ..Default::default() };
    let igas = station.store.records(Entity::Iga, &q).unwrap();
    assert_eq!(igas.len(), 1, "her first IGA, made by the station");
    assert_eq!(id(&igas[0]), first_iga_id(fatima));
    // Made at a second station too, from the same bundle: one record once they meet.
    let mut other = machine("Station 2");
    other.import(&bytes);
    station.import(&other.export());
    other.import(&station.export());
    assert_eq!(station.state(), other.state());
    assert_eq!(station.store.records(Entity::Iga, &q).unwrap().len(), 1);
}

#[test]
fn a_person_from_another_country_of_origin_follows_her_countrys_rules_not_moroccos() {
    let mut a = machine("Portable A");
    // From Mauritania: a passport, a Mauritanian number, no Moroccan region.
    let aicha = a.register(json!({ "first_name": "Aïcha", "country_of_origin": "mr", "nationality": "MR",
                                   "region": "00", "phone": "+222 22 12 34 56",
                                   "id_doc_type": "passport", "id_doc_number": "B1234567", "place_abroad": "Nouadhibou" }));
    let b = a.store.beneficiary(aicha).unwrap();
    assert_eq!(b.more.country_of_origin.as_deref(), Some("MR"));
    assert_eq!(b.phone.as_deref(), Some("+22222123456"), "E.164");
    let before = a.dump();
    // A CIN is Moroccan; "outside Morocco" is not a Moroccan's region.
    let err = a
        .store
        .add_beneficiary_json(json!({ "first_name": "Mariem", "last_name": "Sy", "sex": "F",
        "birth_date": "1992-01-01", "region": "00", "consent": true, "country_of_origin": "SN", "cin": "AB123456",
        "id_doc_type": "passport" }))
        .unwrap_err();
    let mut got = fields_of(&err);
    got.sort();
    assert_eq!(got, vec![("cin".into(), "cin_for_moroccans".into()), ("id_doc_number".into(), "required".into())]);
    let err = a
        .store
        .add_beneficiary_json(json!({ "first_name": "Salma", "last_name": "Alaoui", "sex": "F",
        "birth_date": "1992-01-01", "region": "00", "consent": true, "phone": "+34 612 34 56 78" }))
        .unwrap_err();
    let mut got = fields_of(&err);
    got.sort();
    assert_eq!(
        got,
        vec![("phone".into(), "invalid_phone".into()), ("region".into(), "outside_morocco_for_others".into())]
    );
    assert_eq!(a.dump(), before);
}

#[test]
fn people_abroad_graduated_or_dropped_out_leave_the_follow_up_plan_and_seasons_give_the_phase() {
    let mut a = machine("Portable A");
    let long_ago = "2024-01-10";
    let mut ids = Vec::new();
    for name in ["Active", "Dropped", "Graduated", "Away"] {
        let p = a.register(json!({ "first_name": name, "consent_date": long_ago }));
        a.visit(p, long_ago);
        ids.push(p);
    }
    let on_plan = |a: &Machine| -> Vec<Uuid> {
        a.store.followups(60).unwrap().iter().flat_map(|g| g.people.iter().map(|p| p.person.beneficiary.id)).collect()
    };
    assert_eq!(on_plan(&a).len(), 4, "none visited for months");
    let err = a.store.update_beneficiary(ids[1], json!({ "status": "dropped_out" })).unwrap_err();
    assert_eq!(fields_of(&err), vec![("status_reason".to_string(), "required".to_string())]);
    a.store
        .update_beneficiary(
            ids[1],
            json!({ "status": "dropped_out", "status_reason": "a quitté le programme", "status_date": "2025-01-01" }),
        )
        .unwrap();
    a.store.update_beneficiary(ids[2], json!({ "status": "graduated", "responsible": "ANAPEC Agadir" })).unwrap();
    // Away: a season under way, its return still to come.
    let today = wafira_core::Store::today();
    let departed = (today - chrono::Days::new(30)).to_string();
    let back = (today + chrono::Days::new(60)).to_string();
    a.store
        .add_record(
            Entity::Season,
            json!({ "beneficiary_id": ids[3], "year": 2026, "country": "ES",
                                            "departure_date": departed, "return_date": back }),
        )
        .unwrap();
    assert_eq!(on_plan(&a), vec![ids[0]]);
    assert_eq!(a.store.profile(ids[3]).unwrap().phase_now, wafira_core::codes::Phase::InMigration);
    assert_eq!(
        a.store.profile(ids[0]).unwrap().phase_now,
        a.store.beneficiary(ids[0]).unwrap().phase,
        "no season: as typed"
    );
    use chrono::NaiveDate;
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let seasons = [(2025, d("2025-02-01"), d("2025-06-30")), (2026, d("2026-02-01"), None)];
    let on = |s: &str| programme::season_phase(&seasons, d(s).unwrap()).map(|p| p.to_string());
    assert_eq!(on("2026-01-15").as_deref(), Some("pre_departure"), "before the latest season's departure");
    assert_eq!(on("2026-03-01").as_deref(), Some("in_migration"));
    assert_eq!(
        programme::season_phase(&seasons[..1], d("2025-07-01").unwrap()).map(|p| p.to_string()).as_deref(),
        Some("returned")
    );
}

#[test]
fn each_iga_has_its_stage_and_hers_is_the_furthest_of_those_still_going() {
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    let first = iga(&mut a, fatima, json!({}));
    let step = |a: &mut Machine, iga: Uuid, kind: &str, date: &str| {
        a.store
            .add_milestone_json(json!({ "beneficiary_id": fatima, "iga_id": iga, "kind": kind, "date": date,
                                        "reason": "saison" }))
            .unwrap();
    };
    step(&mut a, first, "iga_launched", "2023-01-10");
    step(&mut a, first, "iga_stopped", "2023-09-01");
    assert_eq!(a.store.profile(fatima).unwrap().stage.map(|s| s.to_string()).as_deref(), Some("iga_stopped"));
    let second = iga(&mut a, fatima, json!({ "sector": "services" }));
    step(&mut a, second, "business_plan", "2024-02-01");
    assert_eq!(
        a.store.profile(fatima).unwrap().stage.map(|s| s.to_string()).as_deref(),
        Some("business_plan"),
        "a new activity under way outranks the one that stopped"
    );
    let q = RecordQuery { beneficiary_id: Some(fatima), ..Default::default() };
    let stages: Vec<(Uuid, Value)> =
        a.store.records(Entity::Iga, &q).unwrap().iter().map(|d| (id(d), d["stage"].clone())).collect();
    assert!(stages.contains(&(first, json!("iga_stopped"))) && stages.contains(&(second, json!("business_plan"))));
    // Her history shows the IGAs' changes too.
    let history = a.store.profile(fatima).unwrap().history;
    assert!(history.iter().any(|h| h.entity == Entity::Iga && h.record_id == second));
}

#[test]
fn the_data_dictionary_prints_the_declarations() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/data-dictionary.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- declared kinds: begin -->\n", "<!-- declared kinds: end -->");
    let start = doc.find(begin).expect("the declared kinds' section") + begin.len();
    let stop = doc.find(end).expect("its end");
    assert_eq!(
        &doc[start..stop],
        programme::data_dictionary(),
        "docs/data-dictionary.md: print it again from programme::data_dictionary()"
    );
}

#[test]
fn a_record_withdrawn_then_put_back_travels_both_ways() {
    let mut station = machine("Station");
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    let season = id(&a
        .store
        .add_record(Entity::Season, json!({ "beneficiary_id": fatima, "year": 2025, "country": "FR" }))
        .unwrap());
    a.store.void_record(Entity::Season, season, Some("saisie en double".into())).unwrap();
    station.import(&a.export());
    assert!(station.store.record(Entity::Season, season).unwrap()["archived_at"].is_string());
    a.store.restore_record(Entity::Season, season).unwrap();
    station.import(&a.export());
    assert!(station.store.record(Entity::Season, season).unwrap()["archived_at"].is_null());
    assert_eq!(station.state(), a.state());
}

#[test]
fn a_merged_away_persons_attendance_is_unticked_by_its_own_record() {
    let mut a = machine("Portable A");
    let fatima = a.register(json!({}));
    let twin = a.register(json!({ "first_name": "Fatima-Zahra" }));
    let session =
        id(&a.store.add_record(Entity::Session, json!({ "kind": "pre_departure", "date": "2025-01-15" })).unwrap());
    a.store.take_attendance(session, &[twin]).unwrap();
    a.store.merge_persons(fatima, twin).unwrap();
    // Her row now shows under Fatima; unticking her withdraws that row.
    let taken = a.store.take_attendance(session, &[]).unwrap();
    assert_eq!((taken.ticked, taken.unticked), (0, 1));
    let q = RecordQuery { session_id: Some(session), ..Default::default() };
    assert!(a.store.records(Entity::Attendance, &q).unwrap().is_empty());
}
