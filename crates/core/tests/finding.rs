//! Finding people: search over names in both scripts, CIN and phone; the
//! follow-up plan and its thresholds; the duplicate warning at registration.

mod common;

use common::*;
use serde_json::json;
use uuid::Uuid;
use wafira_core::beneficiary::BeneficiaryInput;
use wafira_core::store::{FollowupReason, ListQuery};
use wafira_core::Store;

fn search(store: &Store, text: &str) -> Vec<Uuid> {
    let q = ListQuery { search: Some(text.into()), ..Default::default() };
    let mut ids: Vec<Uuid> = store.list_beneficiaries(&q).unwrap().rows.into_iter().map(|r| r.beneficiary.id).collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

#[test]
fn search_ignores_accents_and_case() {
    let (_dir, mut store) = store();
    let accented = register(&mut store, json!({ "first_name": "Fâtima", "last_name": "Benali" }));
    let capitals = register(&mut store, json!({ "first_name": "FATIMA", "last_name": "Tazi" }));
    let other = register(&mut store, json!({ "first_name": "Fatiha", "last_name": "Chraïbi" }));
    assert_eq!(search(&store, "fatima"), sorted(vec![accented, capitals]));
    assert_eq!(search(&store, "Fâtima"), sorted(vec![accented, capitals]));
    assert_eq!(search(&store, "chraibi"), vec![other]);
    assert_eq!(search(&store, "fati"), sorted(vec![accented, capitals, other]), "as she types: every word a prefix");
    assert_eq!(search(&store, "fatima benali"), vec![accented], "every word must match");
    assert!(search(&store, "zineb").is_empty());
}

#[test]
fn search_finds_arabic_names_whatever_their_vowels_and_hamza() {
    let (_dir, mut store) = store();
    let fatima = register(&mut store, json!({ "name_ar": "فَاطِمَة الإدريسي" }));
    let ahmed = register(&mut store, json!({ "first_name": "Ahmed", "sex": "M", "name_ar": "أحمد بنعلي" }));
    assert_eq!(search(&store, "فاطمة"), vec![fatima]);
    assert_eq!(search(&store, "فاطمه"), vec![fatima], "ta marbuta typed as ha");
    assert_eq!(search(&store, "احمد"), vec![ahmed], "alef without hamza");
    assert_eq!(search(&store, "بنع"), vec![ahmed], "a prefix");
}

#[test]
fn search_finds_a_cin_and_a_phone_however_typed() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({ "cin": "BK123456", "phone": "0612345678" }));
    register(&mut store, json!({ "first_name": "Zineb", "cin": "G998877", "phone": "0700000001" }));
    for typed in ["BK123456", "bk123", "0612345678", "06 12 34", "06.12.34.56.78", "+212612345678", "00212 6123"] {
        assert_eq!(search(&store, typed), vec![id], "{typed}");
    }
}

#[test]
fn search_and_filters_combine() {
    let (_dir, mut store) = store();
    let kenitra = register(&mut store, json!({ "first_name": "Amina", "cohort": "2025-A" }));
    register(&mut store, json!({ "first_name": "Amina", "region": "01", "province": "Larache", "cohort": "2025-B" }));
    let q = ListQuery { search: Some("amina".into()), region: Some("04".into()), ..Default::default() };
    let rows = store.list_beneficiaries(&q).unwrap().rows;
    assert_eq!(rows.iter().map(|r| r.beneficiary.id).collect::<Vec<_>>(), vec![kenitra]);
    let q = ListQuery { cohort: Some("2025-A".into()), ..Default::default() };
    assert_eq!(store.list_beneficiaries(&q).unwrap().total, 1);
}

/// One place of the plan: region, province, commune, and who is to be seen there and why.
type Place = (String, Option<String>, Option<String>, Vec<(String, FollowupReason)>);

/// Names of the people on the plan, per (region, province, commune).
fn plan(store: &Store, days: i64) -> Vec<Place> {
    store
        .followups(days)
        .unwrap()
        .into_iter()
        .map(|g| {
            let people = g.people.into_iter().map(|f| (f.person.beneficiary.first_name, f.reason)).collect();
            (g.region, g.province, g.commune, people)
        })
        .collect()
}

#[test]
fn followups_list_overdue_due_and_unvisited_people_grouped_by_place() {
    let (_dir, mut store) = store();
    let at = |region: &str, province: &str, commune: &str, name: &str| json!({ "first_name": name, "region": region, "province": province, "commune": commune });
    // Overdue: the planned visit is past.
    let overdue = register(&mut store, at("04", "Kénitra", "Mnasra", "Amina"));
    store.add_visit_json(visit(overdue, json!({ "date": days_ago(20), "next_visit_date": days_ago(2) }))).unwrap();
    // Due: the planned visit falls within the week.
    let due = register(&mut store, at("04", "Kénitra", "Mnasra", "Bouchra"));
    store.add_visit_json(visit(due, json!({ "date": days_ago(10), "next_visit_date": days_ahead(3) }))).unwrap();
    // Not yet: planned in a month, seen recently.
    let later = register(&mut store, at("04", "Kénitra", "Mnasra", "Chaima"));
    store.add_visit_json(visit(later, json!({ "date": days_ago(10), "next_visit_date": days_ahead(30) }))).unwrap();
    // No visit for 61 days, nothing planned.
    let unvisited = register(&mut store, at("01", "Larache", "Zouada", "Dounia"));
    store.add_visit_json(visit(unvisited, json!({ "date": days_ago(61) }))).unwrap();
    // Exactly 60 days: not yet past the threshold.
    let sixty = register(&mut store, at("01", "Larache", "Zouada", "Fadwa"));
    store.add_visit_json(visit(sixty, json!({ "date": days_ago(60) }))).unwrap();
    // A later visit without a plan replaces an old overdue plan.
    let replanned = register(&mut store, at("04", "Kénitra", "Mnasra", "Ghita"));
    store.add_visit_json(visit(replanned, json!({ "date": days_ago(40), "next_visit_date": days_ago(30) }))).unwrap();
    store.add_visit_json(visit(replanned, json!({ "date": days_ago(5) }))).unwrap();
    // Registered today without a visit: not yet due.
    register(&mut store, at("04", "Kénitra", "Mnasra", "Hajar"));

    use FollowupReason::*;
    assert_eq!(
        plan(&store, 60),
        vec![
            ("01".into(), Some("Larache".into()), Some("Zouada".into()), vec![("Dounia".into(), NoRecentVisit)]),
            (
                "04".into(),
                Some("Kénitra".into()),
                Some("Mnasra".into()),
                vec![("Amina".into(), Overdue), ("Bouchra".into(), Due)]
            ),
        ]
    );
    // A shorter threshold brings in people seen less recently than it.
    let at_30: Vec<String> = plan(&store, 30).into_iter().flat_map(|g| g.3).map(|p| p.0).collect();
    assert_eq!(at_30, vec!["Dounia", "Fadwa", "Amina", "Bouchra"]);
    let days = store.followups(60).unwrap()[0].people[0].days_without_visit;
    assert_eq!(days, 61);
}

#[test]
fn the_followup_threshold_is_a_setting_of_60_days_by_default() {
    let (_dir, mut store) = store();
    assert_eq!(store.followup_days().unwrap(), 60);
    store.set_followup_days(45).unwrap();
    assert_eq!(store.followup_days().unwrap(), 45);
    assert_eq!(
        field_errors(store.set_followup_days(0)),
        vec![("followup_days".to_string(), "out_of_range".to_string())]
    );
    assert_eq!(store.followup_days().unwrap(), 45);
}

fn probe(value: serde_json::Value) -> BeneficiaryInput {
    wafira_core::validate::from_json(person(value)).unwrap()
}

fn warning_for(store: &Store, value: serde_json::Value) -> Vec<(Uuid, Vec<String>)> {
    store
        .possible_duplicates(&probe(value))
        .unwrap()
        .into_iter()
        .map(|c| (c.person.beneficiary.id, c.reasons))
        .collect()
}

#[test]
fn the_duplicate_warning_shows_a_person_with_the_same_cin() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({ "cin": "BK123456" }));
    let found = warning_for(
        &store,
        json!({ "first_name": "Salma", "last_name": "Tazi", "birth_date": "1990-01-01", "commune": null, "cin": "bk 123456" }),
    );
    assert_eq!(found, vec![(id, vec!["same_cin".to_string()])]);
}

#[test]
fn the_duplicate_warning_works_before_the_birth_date_is_typed() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({ "cin": "BK123456" }));
    let found = warning_for(&store, json!({ "birth_date": null, "commune": null, "cin": "BK123456" }));
    assert_eq!(found, vec![(id, vec!["same_cin".to_string()])]);
}

#[test]
fn the_duplicate_warning_shows_a_person_with_the_same_phone() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({ "phone": "0612345678" }));
    let found = warning_for(
        &store,
        json!({ "first_name": "Salma", "last_name": "Tazi", "commune": null, "phone": "+212 6 12 34 56 78" }),
    );
    assert_eq!(found, vec![(id, vec!["same_phone".to_string()])]);
}

#[test]
fn the_duplicate_warning_shows_fatma_for_fatima_born_the_same_day() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({ "first_name": "Fatima", "last_name": "Benali", "birth_date": "1985-06-01" }));
    let found = warning_for(
        &store,
        json!({ "first_name": "Fatma", "last_name": "Ben Ali", "birth_date": "1985-06-01", "commune": "Zouada" }),
    );
    assert_eq!(found, vec![(id, vec!["similar_name_same_birth_date".to_string()])]);
    // Born another day, elsewhere: a namesake, not a duplicate.
    assert!(warning_for(
        &store,
        json!({ "first_name": "Fatma", "last_name": "Benali", "birth_date": "1985-06-02", "commune": "Zouada" })
    )
    .is_empty());
    let moh = register(
        &mut store,
        json!({ "first_name": "Mohammed", "sex": "M", "last_name": "Tazi", "birth_date": "1979-03-03" }),
    );
    let found = warning_for(
        &store,
        json!({ "first_name": "Mohamed", "sex": "M", "last_name": "Tazi", "birth_date": "1979-03-03", "commune": null }),
    );
    assert_eq!(found, vec![(moh, vec!["similar_name_same_birth_date".to_string()])]);
}

#[test]
fn the_duplicate_warning_shows_el_idrissi_for_al_idrissi_in_the_same_commune() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({ "first_name": "Naïma", "last_name": "El Idrissi", "commune": "Mnasra" }));
    let found = warning_for(
        &store,
        json!({ "first_name": "Naima", "last_name": "Al-Idrissi", "birth_date": "1970-01-01", "commune": "mnasra" }),
    );
    assert_eq!(found, vec![(id, vec!["similar_name_same_commune".to_string()])]);
    // Another name in the same commune is no match.
    assert!(warning_for(&store, json!({ "first_name": "Zineb", "last_name": "Tazi", "birth_date": "1970-01-01" }))
        .is_empty());
}

#[test]
fn the_duplicate_warning_ignores_archived_records_and_changes_nothing() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({ "cin": "BK123456" }));
    store.archive_beneficiary(id, Some("doublon".into())).unwrap();
    let before = counts(&store);
    assert!(warning_for(&store, json!({ "cin": "BK123456" })).is_empty());
    assert_eq!(counts(&store), before);
}

#[test]
fn a_followup_threshold_outside_1_to_365_days_is_refused() {
    let (_dir, store) = store();
    for days in [0, -5, 366] {
        assert_eq!(
            field_errors(store.followups(days)),
            vec![("followup_days".to_string(), "out_of_range".to_string())]
        );
    }
}

/// Whether one of the words she is found by (her names, her CIN, her phone
/// in its usual forms) starts with `prefix` (folded).
fn found_by(b: &wafira_core::beneficiary::Beneficiary, prefix: &str) -> bool {
    let names = format!(
        "{} {} {} {}",
        b.first_name,
        b.last_name,
        b.name_ar.as_deref().unwrap_or(""),
        b.cin.as_deref().unwrap_or("")
    );
    let phones = b.phone.as_deref().map(wafira_core::identity::phone_search_tokens).unwrap_or_default();
    wafira_core::text::fold(&names).split(' ').chain(phones.iter().map(String::as_str)).any(|w| w.starts_with(prefix))
}

#[test]
fn a_search_matching_thousands_counts_and_sorts_them_like_a_narrow_one() {
    let (_dir, mut store) = store();
    wafira_core::demo::generate_with_visits(&mut store, 3000, 3, 1, 1000, |_| {}).unwrap();
    let everyone = store.list_beneficiaries(&ListQuery { include_archived: true, ..Default::default() }).unwrap().rows;
    for row in everyone.iter().filter(|r| r.beneficiary.first_name.starts_with('A')).take(25) {
        store.archive_beneficiary(row.beneficiary.id, Some("doublon".into())).unwrap();
    }
    let everyone = store.list_beneficiaries(&ListQuery { include_archived: true, ..Default::default() }).unwrap().rows;
    for (text, region, include_archived) in
        [("0", None, false), ("0", None, true), ("0", Some("04"), false), ("a", None, false), ("fa", None, true)]
    {
        let expected: Vec<Uuid> = everyone
            .iter()
            .filter(|r| include_archived || r.beneficiary.archived_at.is_none())
            .filter(|r| region.is_none_or(|g| r.beneficiary.region == g))
            .filter(|r| found_by(&r.beneficiary, text))
            .map(|r| r.beneficiary.id)
            .collect();
        let q = ListQuery {
            search: Some(text.into()),
            region: region.map(str::to_string),
            include_archived,
            limit: Some(200),
            offset: 100,
            ..Default::default()
        };
        let page = store.list_beneficiaries(&q).unwrap();
        assert_eq!(page.total, expected.len(), "count of '{text}' in {region:?}, archived {include_archived}");
        let got: Vec<Uuid> = page.rows.iter().map(|r| r.beneficiary.id).collect();
        let want: Vec<Uuid> = expected.iter().skip(100).take(200).copied().collect();
        assert_eq!(got, want, "the page of '{text}' in {region:?}, in name order");
    }
    assert!(everyone.iter().filter(|r| found_by(&r.beneficiary, "0")).count() > 2000, "a broad search was tried");
}

#[test]
fn the_list_sorts_by_last_visit_and_stage_and_pages() {
    let (_dir, mut store) = store();
    let never = register(&mut store, json!({ "first_name": "Nora" }));
    let long_ago = register(&mut store, json!({ "first_name": "Loubna" }));
    store.add_visit_json(visit(long_ago, json!({ "date": days_ago(90) }))).unwrap();
    let recent = register(&mut store, json!({ "first_name": "Rim" }));
    store.add_visit_json(visit(recent, json!({ "date": days_ago(2) }))).unwrap();
    store.add_milestone_json(milestone(recent, "business_plan", &days_ago(2), json!({}))).unwrap();
    let sorted = |sort, offset, limit| {
        let q = ListQuery { sort, offset, limit: Some(limit), ..Default::default() };
        let page = store.list_beneficiaries(&q).unwrap();
        (page.total, page.rows.into_iter().map(|r| r.beneficiary.id).collect::<Vec<_>>())
    };
    use wafira_core::store::Sort;
    assert_eq!(sorted(Sort::LastVisit, 0, 10), (3, vec![never, long_ago, recent]), "never visited first");
    assert_eq!(sorted(Sort::Stage, 0, 1), (3, vec![recent]), "furthest stage first");
    assert_eq!(sorted(Sort::Name, 1, 1), (3, vec![never]), "a page further on (Loubna, Nora, Rim)");
}
