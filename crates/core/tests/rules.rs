//! The rules of the field workflows, one test each, on real SQLite files:
//! every refusal names its field and code, and leaves the change log and
//! the record tables as they were.

mod common;

use common::*;
use serde_json::json;
use uuid::Uuid;
use wafira_core::codes::MilestoneKind;
use wafira_core::store::ListQuery;

// --- Registration -----------------------------------------------------

#[test]
fn a_registration_without_its_required_fields_names_each_one() {
    let (_dir, mut store) = store();
    assert_refused(
        &mut store,
        &[
            ("first_name", "required"),
            ("last_name", "required"),
            ("sex", "required"),
            ("birth_date", "required"),
            ("region", "required"),
            ("consent", "consent_required"),
        ],
        |s| s.add_beneficiary_json(json!({})),
    );
    // Blank text from a form is no value.
    assert_refused(&mut store, &[("first_name", "required")], |s| {
        s.add_beneficiary_json(person(json!({ "first_name": "   " })))
    });
}

#[test]
fn control_characters_and_direction_overrides_in_a_name_are_refused() {
    let (_dir, mut store) = store();
    assert_refused(&mut store, &[("first_name", "control_character")], |s| {
        s.add_beneficiary_json(person(json!({ "first_name": "Fati\u{202E}ma" })))
    });
    assert_refused(&mut store, &[("last_name", "control_character")], |s| {
        s.add_beneficiary_json(person(json!({ "last_name": "El\u{0}Idrissi" })))
    });
}

#[test]
fn sex_is_f_or_m() {
    let (_dir, mut store) = store();
    assert_refused(&mut store, &[("sex", "unknown_code")], |s| s.add_beneficiary_json(person(json!({ "sex": "X" }))));
    let params = only_error_params(store.add_beneficiary_json(person(json!({ "sex": "female" }))));
    assert_eq!(params["allowed"], "F, M");
    assert_eq!(
        store.add_beneficiary_json(person(json!({ "sex": "M", "first_name": "Omar" }))).unwrap().sex.as_str(),
        "M"
    );
}

#[test]
fn a_birth_date_in_the_future_is_refused() {
    let (_dir, mut store) = store();
    assert_refused(&mut store, &[("birth_date", "future_date")], |s| {
        s.add_beneficiary_json(person(json!({ "birth_date": days_ahead(1) })))
    });
    assert_refused(&mut store, &[("birth_date", "invalid_date")], |s| {
        s.add_beneficiary_json(person(json!({ "birth_date": "12/04/1988" })))
    });
}

#[test]
fn a_consent_date_in_the_future_is_refused() {
    let (_dir, mut store) = store();
    assert_refused(&mut store, &[("consent_date", "future_date")], |s| {
        s.add_beneficiary_json(person(json!({ "consent_date": days_ahead(2) })))
    });
}

#[test]
fn age_from_the_birth_date_is_between_15_and_80() {
    let (_dir, mut store) = store();
    let born = |years: u32, plus_days: u64| (months_ago(years * 12) + chrono::Days::new(plus_days)).to_string();
    // 15 tomorrow: still 14.
    let params = only_error_params(store.add_beneficiary_json(person(json!({ "birth_date": born(15, 1) }))));
    assert_eq!((params["age"].as_str(), params["min"].as_str(), params["max"].as_str()), ("14", "15", "80"));
    assert_refused(&mut store, &[("birth_date", "age_out_of_range")], |s| {
        s.add_beneficiary_json(person(json!({ "birth_date": born(15, 1) })))
    });
    assert_refused(&mut store, &[("birth_date", "age_out_of_range")], |s| {
        s.add_beneficiary_json(person(json!({ "birth_date": born(81, 0) })))
    });
    // 15 today, and 80 until the eve of 81, are accepted.
    for (i, birth) in [born(15, 0), born(80, 0), born(81, 1)].into_iter().enumerate() {
        let cin = format!("AB{}", 1000 + i);
        store.add_beneficiary_json(person(json!({ "birth_date": birth, "cin": cin }))).unwrap();
    }
    assert_eq!(counts(&store).beneficiaries, 3);
}

#[test]
fn a_cin_is_letters_then_digits_and_stored_upper_case() {
    let (_dir, mut store) = store();
    let b = store.add_beneficiary_json(person(json!({ "cin": " bk 123456 " }))).unwrap();
    assert_eq!(b.cin.as_deref(), Some("BK123456"));
    let stored: String = store.conn().query_row("SELECT cin FROM beneficiary", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, "BK123456");
    for bad in ["123456", "ABC123456", "BK", "B-K12x456"] {
        assert_refused(&mut store, &[("cin", "invalid_cin")], |s| {
            s.add_beneficiary_json(person(json!({ "cin": bad, "first_name": "Zineb" })))
        });
    }
}

#[test]
fn a_cin_is_unique_on_one_laptop_whatever_its_case() {
    let (_dir, mut store) = store();
    let first = register(&mut store, json!({ "cin": "BK123456" }));
    let params =
        only_error_params(store.add_beneficiary_json(person(json!({ "cin": "bk123456", "first_name": "Zineb" }))));
    assert_eq!(params["id"], first.to_string(), "the error names who holds the CIN");
    assert_refused(&mut store, &[("cin", "cin_taken")], |s| {
        s.add_beneficiary_json(person(json!({ "cin": "bk123456", "first_name": "Zineb" })))
    });
    // Nor can an edit take it.
    let other = register(&mut store, json!({ "first_name": "Zineb", "cin": "G555111" }));
    assert_refused(&mut store, &[("cin", "cin_taken")], |s| s.update_beneficiary(other, json!({ "cin": "BK123456" })));
    // A registration archived as a mistake frees its CIN.
    store.archive_beneficiary(first, Some("inscrite deux fois".into())).unwrap();
    register(&mut store, json!({ "cin": "BK123456", "first_name": "Khadija" }));
}

#[test]
fn a_phone_in_any_usual_moroccan_form_is_stored_in_e164() {
    let (_dir, mut store) = store();
    for (i, typed) in
        ["0612345678", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "+212612345678", "00212 612 345 678"]
            .into_iter()
            .enumerate()
    {
        let b = store.add_beneficiary_json(person(json!({ "phone": typed, "first_name": format!("P{i}") }))).unwrap();
        assert_eq!(b.phone.as_deref(), Some("+212612345678"), "{typed}");
    }
    let b = store.add_beneficiary_json(person(json!({ "phone": "07 00 11 22 33" }))).unwrap();
    assert_eq!(b.phone.as_deref(), Some("+212700112233"));
    for bad in ["0812345678", "+33612345678", "061234567", "téléphone"] {
        assert_refused(&mut store, &[("phone", "invalid_phone")], |s| {
            s.add_beneficiary_json(person(json!({ "phone": bad })))
        });
    }
}

#[test]
fn a_province_must_belong_to_the_region() {
    let (_dir, mut store) = store();
    let params =
        only_error_params(store.add_beneficiary_json(person(json!({ "region": "04", "province": "Tétouan" }))));
    assert_eq!((params["value"].as_str(), params["region"].as_str()), ("Tétouan", "04"));
    assert_refused(&mut store, &[("province", "province_not_in_region")], |s| {
        s.add_beneficiary_json(person(json!({ "region": "04", "province": "Tétouan" })))
    });
    store.add_beneficiary_json(person(json!({ "region": "01", "province": "Tétouan" }))).unwrap();
}

#[test]
fn unknown_codes_are_refused_naming_their_field() {
    let (_dir, mut store) = store();
    for (field, value) in
        [("region", "99"), ("phase", "abroad"), ("iga_sector", "fishing"), ("destination_country", "XX"), ("sex", "W")]
    {
        let mut extra = json!({ field: value });
        if field == "region" {
            extra["province"] = serde_json::Value::Null;
        }
        assert_refused(&mut store, &[(field, "unknown_code")], |s| s.add_beneficiary_json(person(extra)));
    }
    // Country codes are read in either case.
    let b = store.add_beneficiary_json(person(json!({ "destination_country": "es" }))).unwrap();
    assert_eq!(b.destination_country.as_deref(), Some("ES"));
    assert_refused(&mut store, &[("kind", "unknown_code")], |s| {
        s.add_visit_json(visit(b.id, json!({ "kind": "lunch" })))
    });
    assert_refused(&mut store, &[("kind", "unknown_code")], |s| {
        s.add_milestone_json(milestone(b.id, "won_the_lottery", &days_ago(1), json!({})))
    });
}

#[test]
fn fields_the_records_do_not_have_are_refused() {
    let (_dir, mut store) = store();
    assert_refused(&mut store, &[("nickname", "unknown_field")], |s| {
        s.add_beneficiary_json(person(json!({ "nickname": "Khadouj" })))
    });
    assert_refused(&mut store, &[("seasons_abroad", "invalid_type")], |s| {
        s.add_beneficiary_json(person(json!({ "seasons_abroad": "three" })))
    });
}

#[test]
fn consent_must_be_true_to_register() {
    let (_dir, mut store) = store();
    assert_refused(&mut store, &[("consent", "consent_required")], |s| {
        s.add_beneficiary_json(person(json!({ "consent": false })))
    });
    assert_refused(&mut store, &[("consent", "consent_required")], |s| {
        s.add_beneficiary_json(person(json!({ "consent": null })))
    });
    assert_refused(&mut store, &[("consent", "invalid_type")], |s| {
        s.add_beneficiary_json(person(json!({ "consent": "yes" })))
    });
    // Consent withdrawn on an edit is refused too: the record would not be lawful.
    let id = register(&mut store, json!({}));
    assert_refused(&mut store, &[("consent", "consent_required")], |s| {
        s.update_beneficiary(id, json!({ "consent": false }))
    });
    // Without a date, consent is dated the day of registration.
    assert_eq!(store.beneficiary(id).unwrap().consent_date, Some(today()));
}

#[test]
fn a_name_in_arabic_must_be_in_arabic_script() {
    let (_dir, mut store) = store();
    assert_refused(&mut store, &[("name_ar", "not_arabic")], |s| {
        s.add_beneficiary_json(person(json!({ "name_ar": "Khadija" })))
    });
    register(&mut store, json!({ "name_ar": "خديجة الوزاني" }));
}

// --- Visits -------------------------------------------------------------

#[test]
fn a_visit_date_in_the_future_is_refused_but_the_next_visit_may_be() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    assert_refused(&mut store, &[("date", "future_date")], |s| {
        s.add_visit_json(visit(id, json!({ "date": days_ahead(1) })))
    });
    assert_refused(&mut store, &[("next_visit_date", "before_date")], |s| {
        s.add_visit_json(visit(id, json!({ "date": days_ago(3), "next_visit_date": days_ago(5) })))
    });
    let v = store
        .add_visit_json(visit(id, json!({ "next_visit_date": days_ahead(30), "topics": ["épargne", " ", "budget"] })))
        .unwrap();
    assert_eq!(v.next_visit_date.map(|d| d.to_string()), Some(days_ahead(30)));
    assert_eq!(v.topics, vec!["épargne", "budget"], "blank topics are dropped");
    assert_eq!(v.coordinator, "Samira", "the coordinator defaults to the laptop's");
}

#[test]
fn a_visit_without_date_or_kind_is_refused() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    assert_refused(&mut store, &[("beneficiary_id", "required"), ("date", "required"), ("kind", "required")], |s| {
        s.add_visit_json(json!({}))
    });
    assert_refused(&mut store, &[("duration_minutes", "out_of_range")], |s| {
        s.add_visit_json(visit(id, json!({ "duration_minutes": 0 })))
    });
}

#[test]
fn a_visit_for_an_unknown_or_archived_person_is_refused() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    assert_refused(&mut store, &[("beneficiary_id", "unknown_beneficiary")], |s| {
        s.add_visit_json(visit(Uuid::now_v7(), json!({})))
    });
    assert_refused(&mut store, &[("beneficiary_id", "unknown_beneficiary")], |s| {
        s.add_visit_json(visit(id, json!({ "beneficiary_id": "not-an-id" })))
    });
    store.archive_beneficiary(id, Some("erreur de saisie".into())).unwrap();
    assert_refused(&mut store, &[("beneficiary_id", "archived_beneficiary")], |s| {
        s.add_visit_json(visit(id, json!({})))
    });
}

// --- Milestones -----------------------------------------------------------

#[test]
fn a_milestone_for_an_unknown_or_archived_person_is_refused() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    assert_refused(&mut store, &[("beneficiary_id", "unknown_beneficiary")], |s| {
        s.add_milestone_json(milestone(Uuid::now_v7(), "business_plan", &days_ago(1), json!({})))
    });
    store.archive_beneficiary(id, Some("erreur de saisie".into())).unwrap();
    assert_refused(&mut store, &[("beneficiary_id", "archived_beneficiary")], |s| {
        s.add_milestone_json(milestone(id, "business_plan", &days_ago(1), json!({})))
    });
}

#[test]
fn a_milestone_date_in_the_future_is_refused() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    assert_refused(&mut store, &[("date", "future_date")], |s| {
        s.add_milestone_json(milestone(id, "business_plan", &days_ahead(1), json!({})))
    });
}

#[test]
fn amounts_are_not_negative_and_have_at_most_two_decimals() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    let with_amount =
        |amount: serde_json::Value| milestone(id, "financing_requested", &days_ago(10), json!({ "amount": amount }));
    assert_refused(&mut store, &[("amount", "negative_amount")], |s| s.add_milestone_json(with_amount(json!("-1"))));
    assert_refused(&mut store, &[("amount", "too_many_decimals")], |s| {
        s.add_milestone_json(with_amount(json!("12.345")))
    });
    assert_refused(&mut store, &[("amount", "invalid_amount")], |s| s.add_milestone_json(with_amount(json!("douze"))));
    assert_refused(&mut store, &[("amount", "invalid_amount")], |s| s.add_milestone_json(with_amount(json!(true))));
    // French writing, exact: stored as text, never a float.
    let m = store.add_milestone_json(with_amount(json!("12 500,5"))).unwrap();
    assert_eq!(m.amount.map(|a| a.0.to_string()).as_deref(), Some("12500.50"));
    let stored: String = store.conn().query_row("SELECT amount FROM milestone", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, "12500.50");
    let m =
        store.add_milestone_json(milestone(id, "financing_obtained", &days_ago(5), json!({ "amount": 0.1 }))).unwrap();
    assert_eq!(m.amount.map(|a| a.0.to_string()).as_deref(), Some("0.10"));
}

#[test]
fn sustained_12_months_before_the_launch_plus_12_months_is_refused_naming_the_launch() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    let launched = months_ago(13);
    store.add_milestone_json(milestone(id, "iga_launched", &launched.to_string(), json!({}))).unwrap();
    let too_early = launched.checked_add_months(chrono::Months::new(12)).unwrap() - chrono::Days::new(1);
    let refusal = store.add_milestone_json(milestone(id, "sustained_12_months", &too_early.to_string(), json!({})));
    let params = only_error_params(refusal);
    assert_eq!(params["other_kind"], "iga_launched");
    assert_eq!(params["other_date"], launched.to_string());
    assert_refused(&mut store, &[("date", "milestone_order")], |s| {
        s.add_milestone_json(milestone(id, "sustained_12_months", &too_early.to_string(), json!({})))
    });
    let on_time = too_early + chrono::Days::new(1);
    store.add_milestone_json(milestone(id, "sustained_12_months", &on_time.to_string(), json!({}))).unwrap();
}

#[test]
fn a_step_after_the_launch_needs_the_launch() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    for kind in ["first_sale", "operating_6_months", "sustained_12_months"] {
        let params = only_error_params(store.add_milestone_json(milestone(id, kind, &days_ago(1), json!({}))));
        assert_eq!(params["other_kind"], "iga_launched");
        assert_refused(&mut store, &[("kind", "milestone_requires")], |s| {
            s.add_milestone_json(milestone(id, kind, &days_ago(1), json!({})))
        });
    }
}

#[test]
fn financing_obtained_before_it_was_requested_is_refused_either_way_round() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    store.add_milestone_json(milestone(id, "financing_requested", &days_ago(40), json!({}))).unwrap();
    let params =
        only_error_params(store.add_milestone_json(milestone(id, "financing_obtained", &days_ago(50), json!({}))));
    assert_eq!((params["other_kind"].as_str(), params["other_date"].as_str()), ("financing_requested", &*days_ago(40)));
    assert_refused(&mut store, &[("date", "milestone_order")], |s| {
        s.add_milestone_json(milestone(id, "financing_obtained", &days_ago(50), json!({})))
    });

    // Recorded the other way round: the request dated after what it obtained.
    let other = register(&mut store, json!({ "first_name": "Zineb" }));
    store.add_milestone_json(milestone(other, "financing_obtained", &days_ago(50), json!({}))).unwrap();
    let params =
        only_error_params(store.add_milestone_json(milestone(other, "financing_requested", &days_ago(40), json!({}))));
    assert_eq!(params["other_kind"], "financing_obtained");
    assert_refused(&mut store, &[("date", "milestone_order")], |s| {
        s.add_milestone_json(milestone(other, "financing_requested", &days_ago(40), json!({})))
    });
}

#[test]
fn a_milestone_recorded_twice_is_refused() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    store.add_milestone_json(milestone(id, "business_plan", &days_ago(30), json!({}))).unwrap();
    let params = only_error_params(store.add_milestone_json(milestone(id, "business_plan", &days_ago(2), json!({}))));
    assert_eq!(params["kind"], "business_plan");
    assert_refused(&mut store, &[("kind", "milestone_exists")], |s| {
        s.add_milestone_json(milestone(id, "business_plan", &days_ago(2), json!({})))
    });
}

#[test]
fn a_stopped_iga_needs_a_reason() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    assert_refused(&mut store, &[("reason", "reason_required")], |s| {
        s.add_milestone_json(milestone(id, "iga_stopped", &days_ago(1), json!({})))
    });
    store
        .add_milestone_json(milestone(id, "iga_stopped", &days_ago(1), json!({ "reason": "baisse des ventes" })))
        .unwrap();
}

#[test]
fn the_stage_is_derived_from_the_milestones() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    let stage = |s: &wafira_core::Store| s.profile(id).unwrap().stage;
    assert_eq!(stage(&store), None, "no milestone, no stage");
    store.add_milestone_json(milestone(id, "business_plan", &days_ago(400), json!({}))).unwrap();
    assert_eq!(stage(&store), Some(MilestoneKind::BusinessPlan));
    store.add_milestone_json(milestone(id, "iga_launched", &days_ago(300), json!({}))).unwrap();
    assert_eq!(stage(&store), Some(MilestoneKind::IgaLaunched));
    // A training recorded late does not move her back.
    store.add_milestone_json(milestone(id, "training_completed", &days_ago(200), json!({}))).unwrap();
    assert_eq!(stage(&store), Some(MilestoneKind::IgaLaunched));
    store.add_milestone_json(milestone(id, "first_sale", &days_ago(250), json!({}))).unwrap();
    assert_eq!(stage(&store), Some(MilestoneKind::FirstSale));
    store.add_milestone_json(milestone(id, "iga_stopped", &days_ago(20), json!({ "reason": "maladie" }))).unwrap();
    assert_eq!(stage(&store), Some(MilestoneKind::IgaStopped));
    // The list filters and sorts on the same derived stage.
    let other = register(&mut store, json!({ "first_name": "Zineb" }));
    store.add_milestone_json(milestone(other, "business_plan", &days_ago(5), json!({}))).unwrap();
    let by_stage = |stage: &str| {
        let q = ListQuery { stage: Some(stage.into()), ..Default::default() };
        store.list_beneficiaries(&q).unwrap().rows.into_iter().map(|r| r.beneficiary.id).collect::<Vec<_>>()
    };
    assert_eq!(by_stage("iga_stopped"), vec![id]);
    assert_eq!(by_stage("business_plan"), vec![other]);
    let q = ListQuery { sort: wafira_core::store::Sort::Stage, ..Default::default() };
    let order: Vec<_> = store.list_beneficiaries(&q).unwrap().rows.into_iter().map(|r| r.beneficiary.id).collect();
    assert_eq!(order, vec![id, other], "furthest stage first");
}

// --- History and archiving --------------------------------------------------

#[test]
fn an_edit_keeps_the_old_values_with_when_which_device_and_who() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({ "phone": "0612345678" }));
    store.update_beneficiary(id, json!({ "phone": "07 11 22 33 44", "commune": "Sidi Taibi" })).unwrap();
    // An edit that changes nothing logs nothing.
    let before = counts(&store);
    store.update_beneficiary(id, json!({ "phone": "+212711223344" })).unwrap();
    assert_eq!(counts(&store), before);

    let b = store.beneficiary(id).unwrap();
    assert_eq!((b.phone.as_deref(), b.commune.as_deref()), (Some("+212711223344"), Some("Sidi Taibi")));
    let history = store.profile(id).unwrap().history;
    let phone = history.iter().find(|h| h.field.as_deref() == Some("phone")).expect("the phone change is kept");
    assert_eq!((phone.old.as_str(), phone.new.as_str()), (Some("+212612345678"), Some("+212711223344")));
    assert_eq!((phone.device_name.as_str(), phone.coordinator.as_str()), ("Portable Kénitra", "Samira"));
    assert!(phone.at.ends_with('Z'), "a UTC instant: {}", phone.at);
    let commune = history.iter().find(|h| h.field.as_deref() == Some("commune")).unwrap();
    assert_eq!((commune.old.as_str(), commune.new.as_str()), (Some("Mnasra"), Some("Sidi Taibi")));
    assert_eq!(counts(&store).changes, 2, "one change for the registration, one for the edit");
    // Fields an edit may not touch are refused.
    assert_refused(&mut store, &[("created_at", "not_editable")], |s| {
        s.update_beneficiary(id, json!({ "created_at": "x" }))
    });
    assert_refused(&mut store, &[("birth_date", "future_date")], |s| {
        s.update_beneficiary(id, json!({ "birth_date": days_ahead(3) }))
    });
}

#[test]
fn archiving_keeps_the_record_and_hides_it_from_the_list() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    store.add_visit_json(visit(id, json!({}))).unwrap();
    assert_refused(&mut store, &[("archive_reason", "required")], |s| s.archive_beneficiary(id, None));
    assert_refused(&mut store, &[("archive_reason", "required")], |s| s.archive_beneficiary(id, Some("  ".into())));
    let archived = store.archive_beneficiary(id, Some("inscrite par erreur".into())).unwrap();
    assert!(archived.archived_at.is_some());
    assert_eq!(archived.archive_reason.as_deref(), Some("inscrite par erreur"));
    let c = counts(&store);
    assert_eq!((c.beneficiaries, c.visits, c.changes), (1, 1, 3), "nothing erased; the archiving is a logged change");
    let op: String =
        store.conn().query_row("SELECT op FROM change ORDER BY hlc DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(op, "archive");
    assert_eq!(store.list_beneficiaries(&ListQuery::default()).unwrap().total, 0);
    let all = ListQuery { include_archived: true, ..Default::default() };
    assert_eq!(store.list_beneficiaries(&all).unwrap().total, 1);
    let profile = store.profile(id).unwrap();
    assert_eq!(profile.visits.len(), 1, "her visits stay readable");
    let last = profile.history.last().unwrap();
    assert_eq!(last.new.as_str(), Some("inscrite par erreur"), "the history shows the archiving and its reason");
    assert_refused(&mut store, &[("id", "archived_beneficiary")], |s| {
        s.update_beneficiary(id, json!({ "commune": "X" }))
    });
    assert!(store.followups(1).unwrap().is_empty(), "an archived person is not on the plan");
}
