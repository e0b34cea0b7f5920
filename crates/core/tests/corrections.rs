//! Corrections without losing history (issue 10): a visit or milestone
//! corrected or withdrawn with a reason, an archived person restored, the
//! value a settled conflict set aside, a coordinator renamed. Each on real
//! SQLite files, and through bundles to a station.

mod common;
mod sync_support;

use common::{assert_refused, days_ago, field_errors, milestone, months_ago, only_error_params, register, visit};
use serde_json::json;
use sync_support::{machine, Machine};
use uuid::Uuid;
use wafira_core::codes::MilestoneKind;
use wafira_core::store::ListQuery;
use wafira_core::sync::Choice;

fn stage(store: &wafira_core::Store, id: Uuid) -> Option<MilestoneKind> {
    store.profile(id).unwrap().stage
}

#[test]
fn a_visit_date_and_a_milestone_amount_are_corrected_and_the_history_says_so() {
    let (_dir, mut store) = common::store();
    let id = register(&mut store, json!({}));
    let v = store.add_visit_json(visit(id, json!({ "date": days_ago(3) }))).unwrap();
    let m = store
        .add_milestone_json(milestone(id, "financing_obtained", &days_ago(10), json!({ "amount": "12000" })))
        .unwrap();

    let fixed = store.update_visit(v.id, json!({ "date": days_ago(5) })).unwrap();
    assert_eq!(fixed.date.to_string(), days_ago(5));
    let fixed = store.update_milestone(m.id, json!({ "amount": "15000.50" })).unwrap();
    assert_eq!(fixed.amount.unwrap().0.to_string(), "15000.50");

    let p = store.profile(id).unwrap();
    assert_eq!(p.last_visit_date.unwrap().to_string(), days_ago(5), "the summary follows the corrected date");
    let corrected: Vec<(String, serde_json::Value, serde_json::Value)> = p
        .history
        .iter()
        .filter(|h| h.field.is_some())
        .map(|h| (h.field.clone().unwrap(), h.old.clone(), h.new.clone()))
        .collect();
    assert!(corrected.contains(&("date".into(), json!(days_ago(3)), json!(days_ago(5)))), "{corrected:?}");
    assert!(corrected.contains(&("amount".into(), json!("12000.00"), json!("15000.50"))), "{corrected:?}");
}

#[test]
fn a_voided_milestone_can_be_entered_again_and_the_stage_follows() {
    let (_dir, mut store) = common::store();
    let id = register(&mut store, json!({}));
    store.add_milestone_json(milestone(id, "business_plan", &months_ago(3).to_string(), json!({}))).unwrap();
    let launch = store.add_milestone_json(milestone(id, "iga_launched", &days_ago(20), json!({}))).unwrap();
    assert_eq!(stage(&store, id), Some(MilestoneKind::IgaLaunched));

    // Entered again by mistake: "déjà enregistrée".
    assert_refused(&mut store, &[("kind", "milestone_exists")], |s| {
        s.add_milestone_json(milestone(id, "iga_launched", &days_ago(2), json!({})))
    });
    // Withdrawing needs a reason.
    assert_refused(&mut store, &[("archive_reason", "required")], |s| s.void_milestone(launch.id, None));
    let voided = store.void_milestone(launch.id, Some("wrong date, entered again".into())).unwrap();
    assert!(voided.archived_at.is_some());
    assert_eq!(voided.archive_reason.as_deref(), Some("wrong date, entered again"));
    assert_eq!(stage(&store, id), Some(MilestoneKind::BusinessPlan), "the stage falls back");

    store.add_milestone_json(milestone(id, "iga_launched", &days_ago(2), json!({}))).unwrap();
    assert_eq!(stage(&store, id), Some(MilestoneKind::IgaLaunched), "and comes back with the new one");
    let p = store.profile(id).unwrap();
    assert_eq!(p.milestones.len(), 2, "the voided one is out of her milestones");
    assert!(
        p.history
            .iter()
            .any(|h| h.op == wafira_core::store::log::Op::Archive && h.new == json!("wrong date, entered again")),
        "her history keeps it, with its reason"
    );
}

#[test]
fn a_correction_that_breaks_the_order_of_milestones_is_refused_and_changes_nothing() {
    let (_dir, mut store) = common::store();
    let id = register(&mut store, json!({}));
    let launch = store.add_milestone_json(milestone(id, "iga_launched", &days_ago(30), json!({}))).unwrap();
    let sale = store.add_milestone_json(milestone(id, "first_sale", &days_ago(10), json!({}))).unwrap();
    let v = store.add_visit_json(visit(id, json!({}))).unwrap();
    let before = sync_support::state(store.path());

    // A first sale cannot come before the launch.
    assert_refused(&mut store, &[("date", "milestone_order")], |s| {
        s.update_milestone(sale.id, json!({ "date": days_ago(40) }))
    });
    // Nor the launch after its first sale.
    assert_refused(&mut store, &[("date", "milestone_order")], |s| {
        s.update_milestone(launch.id, json!({ "date": days_ago(5) }))
    });
    // The launch cannot go while the first sale stays.
    let params = only_error_params(store.void_milestone(launch.id, Some("typo".into())));
    assert_eq!(params.get("other_kind").map(String::as_str), Some("first_sale"));
    // Fields a correction may not change, a future date, a kind.
    assert_refused(&mut store, &[("beneficiary_id", "not_editable"), ("kind", "not_editable")], |s| {
        s.update_milestone(sale.id, json!({ "beneficiary_id": Uuid::nil().to_string(), "kind": "iga_launched" }))
    });
    assert_refused(&mut store, &[("date", "future_date")], |s| {
        s.update_visit(v.id, json!({ "date": common::days_ahead(3) }))
    });
    assert_refused(&mut store, &[("next_visit_date", "before_date")], |s| {
        s.update_visit(v.id, json!({ "next_visit_date": days_ago(30) }))
    });
    assert_eq!(sync_support::state(store.path()), before, "a refused correction changes nothing");
}

fn laptop_and_station() -> (Machine, Machine, Uuid) {
    let mut a = machine("Portable A");
    let mut station = machine("Station");
    let fatima = a.register(json!({ "phone": "0612345678" }));
    station.import(&a.export());
    (a, station, fatima)
}

#[test]
fn corrections_and_voids_reach_the_station_and_fold_the_same_there() {
    let (mut a, mut station, fatima) = laptop_and_station();
    let v = a.visit(fatima, &days_ago(4));
    let plan = a.store.add_milestone_json(milestone(fatima, "business_plan", &days_ago(60), json!({}))).unwrap();
    let m = a
        .store
        .add_milestone_json(milestone(fatima, "iga_launched", &days_ago(20), json!({ "amount": "5000" })))
        .unwrap();
    station.import(&a.export());

    a.store.update_visit(v, json!({ "date": days_ago(6), "notes": "corrigé" })).unwrap();
    a.store.update_milestone(plan.id, json!({ "date": days_ago(50) })).unwrap();
    a.store.void_milestone(m.id, Some("saisie en double".into())).unwrap();
    a.store.add_milestone_json(milestone(fatima, "iga_launched", &days_ago(15), json!({}))).unwrap();
    station.import(&a.export());

    assert_eq!(station.state(), a.state(), "the station folds the corrections as the laptop did");
    assert_eq!(stage(&station.store, fatima), Some(MilestoneKind::IgaLaunched));
    let p = station.store.profile(fatima).unwrap();
    assert_eq!(p.last_visit_date.unwrap().to_string(), days_ago(6));
    assert!(p.history.iter().any(|h| h.new == json!("saisie en double")));
    let built = station.state();
    station.store.rebuild().unwrap();
    assert_eq!(station.state(), built, "what the imports built is what the log folds to");
}

#[test]
fn the_same_field_corrected_on_two_laptops_is_a_conflict() {
    let (mut a, mut station, fatima) = laptop_and_station();
    let m = a
        .store
        .add_milestone_json(milestone(fatima, "financing_obtained", &days_ago(20), json!({ "amount": "5000" })))
        .unwrap();
    station.import(&a.export());
    let mut b = machine("Portable B");
    b.import(&station.export());

    a.store.update_milestone(m.id, json!({ "amount": "6000" })).unwrap();
    b.store.update_milestone(m.id, json!({ "amount": "7000" })).unwrap();
    station.import(&a.export());
    station.import(&b.export());
    let conflicts = station.store.conflicts(false).unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].field, "amount");
    assert_eq!(conflicts[0].record_id, m.id);

    // Settled: the value set aside stays in her history.
    let keep = conflicts[0].sides.iter().find(|s| s.value == json!("6000.00")).unwrap().hlc.clone();
    station.store.resolve_conflict(&conflicts[0].id, Choice::Keep(keep)).unwrap();
    let aside = station.store.profile(fatima).unwrap().set_aside;
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(aside[0].value, json!("7000.00"));
    assert_eq!(aside[0].kept, json!("6000.00"));
    assert_eq!(aside[0].device_name, "Portable B");
    assert_eq!(aside[0].field, "amount");
    assert!(!aside[0].settled_by.is_empty());
}

#[test]
fn a_settled_conflict_of_a_person_keeps_the_value_it_set_aside_on_every_machine() {
    let (mut a, mut station, fatima) = laptop_and_station();
    let mut b = machine("Portable B");
    b.import(&station.export());
    a.edit(fatima, json!({ "phone": "0611111111" }));
    b.edit(fatima, json!({ "phone": "0622222222" }));
    station.import(&a.export());
    station.import(&b.export());
    let c = station.store.conflicts(false).unwrap().remove(0);
    station.store.resolve_conflict(&c.id, Choice::Value(json!("0633333333"))).unwrap();
    let aside = station.store.profile(fatima).unwrap().set_aside;
    let mut values: Vec<String> = aside.iter().map(|s| s.value.as_str().unwrap().to_string()).collect();
    values.sort();
    assert_eq!(values, ["+212611111111", "+212622222222"], "both sides were set aside");

    a.import(&station.export());
    let there = a.store.profile(fatima).unwrap().set_aside;
    assert_eq!(there.len(), 2, "the laptop shows the same set-aside values");
}

#[test]
fn an_archived_person_is_listed_and_restored_and_the_restore_travels() {
    let (mut a, mut station, fatima) = laptop_and_station();
    a.store.archive_beneficiary(fatima, Some("registered twice".into())).unwrap();
    let archived = ListQuery { archived_only: true, ..Default::default() };
    let rows = a.store.list_beneficiaries(&archived).unwrap().rows;
    assert_eq!(rows.iter().map(|r| r.beneficiary.id).collect::<Vec<_>>(), [fatima]);
    assert_eq!(a.store.list_beneficiaries(&ListQuery::default()).unwrap().total, 0);
    station.import(&a.export());

    let back = a.store.restore_beneficiary(fatima).unwrap();
    assert!(back.archived_at.is_none() && back.archive_reason.is_none());
    assert_eq!(a.store.list_beneficiaries(&ListQuery::default()).unwrap().total, 1);
    assert_eq!(a.store.list_beneficiaries(&archived).unwrap().total, 0);
    let p = a.store.profile(fatima).unwrap();
    let last = p.history.last().unwrap();
    assert_eq!((last.op, last.field.as_deref()), (wafira_core::store::log::Op::Archive, Some("archived_at")));
    assert_eq!(last.old, json!("registered twice"), "the history says she was restored, and from what");

    station.import(&a.export());
    assert_eq!(station.state(), a.state(), "the restore folds the same at the station");
    assert!(station.store.beneficiary(fatima).unwrap().archived_at.is_none());
}

#[test]
fn restoring_a_person_whose_cin_was_given_meanwhile_is_refused_naming_whose_it_is() {
    let (_dir, mut store) = common::store();
    let first = register(&mut store, json!({ "cin": "AB123456" }));
    store.archive_beneficiary(first, Some("left the programme".into())).unwrap();
    let second = register(&mut store, json!({ "cin": "AB123456", "first_name": "Naima", "last_name": "Bennani" }));
    let path = store.path().to_path_buf();
    let before = sync_support::state(&path);
    let result = store.restore_beneficiary(first);
    assert_eq!(field_errors(store.restore_beneficiary(first)), [("cin".to_string(), "cin_taken".to_string())]);
    let params = only_error_params(result);
    assert_eq!(params.get("id"), Some(&second.to_string()));
    assert_eq!(params.get("name").map(String::as_str), Some("Naima Bennani"));
    assert_eq!(sync_support::state(&path), before, "nothing written");
}

#[test]
fn a_renamed_coordinator_reaches_the_station_and_older_bundles_do_not_undo_it() {
    let (mut a, mut station, fatima) = laptop_and_station();
    let id = a.store.device().unwrap().id;
    a.visit(fatima, &days_ago(2));
    let older = a.export();

    let renamed = a.store.rename_coordinator("Houda Amrani").unwrap();
    assert_eq!(renamed.id, id, "the laptop keeps its identity");
    assert_eq!(a.store.device().unwrap().coordinator, "Houda Amrani");
    assert_eq!(field_errors(a.store.rename_coordinator("  ")), [("coordinator".to_string(), "required".to_string())]);
    // Nothing else is new: the rename alone is worth a bundle.
    let bundle = a.export();
    station.import(&bundle);
    let coordinator_of =
        |m: &Machine| m.store.devices().unwrap().into_iter().find(|d| d.id == id.to_string()).unwrap().coordinator;
    assert_eq!(coordinator_of(&station), "Houda Amrani");
    // The earlier bundle, arriving late, does not bring the old name back.
    station.import(&older);
    assert_eq!(coordinator_of(&station), "Houda Amrani");
    // Nor does another laptop's copy; and it reaches the other laptops.
    let mut b = machine("Portable B");
    b.import(&station.export_with(true));
    assert_eq!(coordinator_of(&b), "Houda Amrani");
    // Her next visit carries her name.
    a.visit(fatima, &days_ago(1));
    let last = a.store.profile(fatima).unwrap().history.last().unwrap().coordinator.clone();
    assert_eq!(last, "Houda Amrani");
}

#[test]
fn a_coordinator_may_correct_and_restore_but_not_settle() {
    let (_dir, mut store) = common::store();
    let id = register(&mut store, json!({}));
    let v = store.add_visit_json(visit(id, json!({}))).unwrap();
    store.set_actor(wafira_core::access::Actor { name: "Samira".into(), role: wafira_core::access::Role::Coordinator });
    store.update_visit(v.id, json!({ "notes": "ok" })).unwrap();
    store.void_visit(v.id, Some("doublon".into())).unwrap();
    store.archive_beneficiary(id, Some("erreur".into())).unwrap();
    store.restore_beneficiary(id).unwrap();
    store.rename_coordinator("Samira B.").unwrap();
    // A voided visit is not corrected.
    assert_eq!(field_errors(store.update_visit(v.id, json!({ "notes": "x" }))), [("id".into(), "voided".into())]);
}
