//! Every indicator on a small hand-made programme equals what was counted
//! by hand (the table in `report_fixture`), one test per indicator and per
//! filter; and the same numbers come out however they are asked for.

mod report_fixture;

use report_fixture::{as_of, milestone, pairs, programme, visit};
use rust_decimal::Decimal;
use serde_json::json;
use std::str::FromStr;
use wafira_core::codes::MilestoneKind;
use wafira_core::report::indicators::{median, MonthCount};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn funnel(i: &wafira_core::report::Indicators, kind: MilestoneKind) -> u64 {
    i.iga.funnel.iter().find(|s| s.kind == kind).unwrap().people
}

fn key(i: &wafira_core::report::Indicators, name: &str) -> wafira_core::report::indicators::KeyFigure {
    i.key_figures.iter().find(|k| k.indicator == name).unwrap().clone()
}

#[test]
fn beneficiaries_registered_counts_live_people_by_sex() {
    let p = programme();
    let i = p.all();
    assert_eq!(i.beneficiaries.registered, 5, "X is archived");
    assert_eq!((i.beneficiaries.women, i.beneficiaries.men), (4, 1));
}

#[test]
fn beneficiaries_by_region_and_sex() {
    let i = programme().all();
    let rows: Vec<(String, u64, u64, u64)> =
        i.beneficiaries.by_region.iter().map(|r| (r.region.clone(), r.women, r.men, r.total)).collect();
    assert_eq!(rows, vec![("01".into(), 1, 1, 2), ("04".into(), 3, 0, 3)]);
}

#[test]
fn beneficiaries_by_country_sector_phase_and_cohort() {
    let i = programme().all();
    let b = &i.beneficiaries;
    assert_eq!(pairs(&b.by_country), vec![("ES".into(), 3), ("FR".into(), 1), ("-".into(), 1)]);
    assert_eq!(
        pairs(&b.by_sector),
        vec![("agriculture".into(), 2), ("commerce".into(), 1), ("livestock".into(), 1), ("-".into(), 1)]
    );
    assert_eq!(
        pairs(&b.by_phase),
        vec![("in_migration".into(), 1), ("pre_departure".into(), 1), ("returned".into(), 3)]
    );
    assert_eq!(pairs(&b.by_cohort), vec![("2024-A".into(), 2), ("2024-B".into(), 2), ("-".into(), 1)]);
}

#[test]
fn target_of_beneficiaries_defaults_to_3000_and_follows_the_results_framework() {
    let mut p = programme();
    let k = key(&p.all(), "beneficiaries_registered");
    let t = k.cumulative.all.target.unwrap();
    assert!(t.default);
    assert_eq!(t.target, dec("3000"));
    assert_eq!(k.cumulative.all.progress, Some(dec("0.2")), "5 / 3000 = 0.17 %, one decimal");
    assert!(key(&p.all(), "women_registered").cumulative.all.target.is_none(), "no default for other indicators");

    p.store.set_target_json(json!({"indicator": "beneficiaries_registered", "target": "10", "baseline": "0"})).unwrap();
    p.store.set_target_json(json!({"indicator": "beneficiaries_registered", "region": "04", "target": "4"})).unwrap();
    let i = p.all();
    let k = key(&i, "beneficiaries_registered");
    assert_eq!(
        (k.cumulative.all.target.clone().unwrap().target, k.cumulative.all.target.unwrap().default),
        (dec("10"), false)
    );
    assert_eq!(k.cumulative.all.progress, Some(dec("50")));
    let r04 = i.beneficiaries.by_region.iter().find(|r| r.region == "04").unwrap();
    assert_eq!(r04.target, Some(dec("4")));

    let k = key(&p.indicators(json!({"region": "04"})), "beneficiaries_registered");
    assert_eq!(k.cumulative.all.target.unwrap().target, dec("4"), "a region is measured against its own target");
    assert_eq!(k.cumulative.all.progress, Some(dec("75")));
    assert!(key(&p.indicators(json!({"region": "01"})), "beneficiaries_registered").cumulative.all.target.is_none());
}

#[test]
fn share_with_at_least_one_visit() {
    let c = programme().all().coaching;
    assert_eq!((c.people, c.with_visit), (5, 4), "D has none; X's visit is archived with her");
    assert_eq!(c.share_with_visit, Some(dec("80")));
}

#[test]
fn share_with_financial_education() {
    let c = programme().all().coaching;
    assert_eq!(c.with_financial_education, 2);
    assert_eq!(c.share_financial_education, Some(dec("40")));
}

#[test]
fn mean_visits_per_person() {
    let c = programme().all().coaching;
    assert_eq!((c.visits_of_people, c.visits), (7, 7));
    assert_eq!(c.mean_visits_per_person, Some(dec("1.4")));
}

#[test]
fn visits_per_month_run_from_the_first_visit_to_today_with_empty_months() {
    let c = programme().all().coaching;
    let m = |month: &str, visits: u64| MonthCount { month: month.into(), visits };
    assert_eq!(c.visits_per_month.len(), 14, "2023-12 to 2025-01");
    assert_eq!(c.visits_per_month[0], m("2023-12", 1));
    assert_eq!(c.visits_per_month[2], m("2024-02", 1));
    assert_eq!(c.visits_per_month[3], m("2024-03", 2));
    assert_eq!(c.visits_per_month[10], m("2024-10", 1));
    assert_eq!(c.visits_per_month[13], m("2025-01", 0));
    assert_eq!(c.visits_per_month.iter().map(|m| m.visits).sum::<u64>(), 7);
}

#[test]
fn iga_funnel_counts_people_reaching_each_stage() {
    let i = programme().all();
    use MilestoneKind::*;
    let got: Vec<u64> = MilestoneKind::ALL.iter().map(|k| funnel(&i, *k)).collect();
    // business plan, training, requested, obtained, equipment, launched,
    // first sale, 6 months, 12 months, stopped
    assert_eq!(got, vec![4, 0, 1, 3, 0, 4, 1, 0, 1, 1]);
    assert_eq!(i.iga.funnel.last().unwrap().kind, IgaStopped);
}

#[test]
fn igas_launched_sustained_and_stopped() {
    let iga = programme().all().iga;
    assert_eq!((iga.launched, iga.sustained_12_months, iga.stopped), (4, 1, 1));
}

#[test]
fn igas_sustained_as_a_share_of_those_launched() {
    let l = programme().all().iga.sustained_of_launched;
    assert_eq!((l.launched, l.sustained), (4, 1));
    assert_eq!(l.share, Some(dec("25")));
}

#[test]
fn phase_one_reference_reads_209_of_250() {
    assert_eq!(wafira_core::report::indicators::percent(209, 250), Some(dec("83.6")));
}

#[test]
fn financing_obtained_total_and_median_are_exact() {
    let f = programme().all().financing;
    assert_eq!(f.people, 3);
    assert_eq!(f.total.0, dec("50500.50"));
    assert_eq!(f.median, Some(dec("12500.00")));
}

#[test]
fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
    assert_eq!(median(vec![dec("0.01"), dec("0.02")]), Some(dec("0.015")));
    assert_eq!(median(vec![dec("3"), dec("1"), dec("2")]), Some(dec("2")));
    assert_eq!(median(vec![]), None);
}

#[test]
fn median_days_from_registration_to_launch() {
    let iga = programme().all().iga;
    // 45, 51, 82, 107 days.
    assert_eq!(iga.launches_timed, 4);
    assert_eq!(iga.median_days_to_launch, Some(dec("66.5")));
}

#[test]
fn people_without_a_visit_for_60_and_90_days() {
    let f = programme().all().followup;
    // On 2025-01-01: A last seen 2024-10-15 (78 days), B, C, E months ago,
    // D never (registered 2024-07-01).
    assert_eq!((f.no_visit_60_days, f.no_visit_90_days), (5, 4));
}

#[test]
fn period_filter_applies_to_registration_visits_and_milestones() {
    let p = programme();
    let i = p.indicators(json!({"from": "2024-01-01", "to": "2024-06-30"}));
    assert_eq!(i.beneficiaries.registered, 3, "A, B, C registered in the period");
    let c = &i.coaching;
    assert_eq!((c.people, c.with_visit, c.with_financial_education), (3, 3, 2));
    assert_eq!(c.share_financial_education, Some(dec("66.7")));
    assert_eq!((c.visits_of_people, c.visits), (4, 5), "E's June call counts as work done, not for her");
    assert_eq!(c.mean_visits_per_person, Some(dec("1.33")));
    let months: Vec<u64> = c.visits_per_month.iter().map(|m| m.visits).collect();
    assert_eq!(months, vec![0, 1, 2, 1, 0, 1], "January to June");
    assert_eq!(funnel(&i, MilestoneKind::BusinessPlan), 3);
    assert_eq!(funnel(&i, MilestoneKind::FinancingObtained), 2);
    assert_eq!((i.iga.launched, i.iga.sustained_12_months, i.iga.stopped), (3, 0, 0));
    assert_eq!(i.iga.sustained_of_launched.share, Some(dec("0")));
    assert_eq!(i.iga.median_days_to_launch, Some(dec("82")));
    assert_eq!(i.financing.total.0, dec("20500.50"));
    assert_eq!(i.financing.median, Some(dec("10250.25")));
    assert_eq!((i.followup.no_visit_60_days, i.followup.no_visit_90_days), (3, 2));
}

#[test]
fn from_alone_and_to_alone_bound_one_side() {
    let p = programme();
    assert_eq!(p.indicators(json!({"from": "2024-03-01"})).beneficiaries.registered, 2, "C and D");
    assert_eq!(p.indicators(json!({"to": "2024-01-31"})).beneficiaries.registered, 2, "E and A");
}

#[test]
fn region_filter() {
    let i = programme().indicators(json!({"region": "04"}));
    assert_eq!((i.beneficiaries.registered, i.beneficiaries.women), (3, 3));
    assert_eq!(i.beneficiaries.by_region.len(), 1);
    assert_eq!(i.coaching.visits, 6);
    assert_eq!(i.iga.launched, 3);
    assert_eq!(i.financing.total.0, dec("50500.50"));
}

#[test]
fn cohort_filter() {
    let i = programme().indicators(json!({"cohort": "2024-B"}));
    assert_eq!((i.beneficiaries.registered, i.beneficiaries.men), (2, 1));
    assert_eq!(i.coaching.with_visit, 1);
    assert_eq!(i.iga.stopped, 1);
}

#[test]
fn sex_filter() {
    let i = programme().indicators(json!({"sex": "M"}));
    assert_eq!(i.beneficiaries.registered, 1);
    assert_eq!(funnel(&i, MilestoneKind::BusinessPlan), 1);
    assert_eq!((i.iga.launched, i.iga.stopped), (1, 1));
    assert_eq!(i.financing.people, 0);
    assert_eq!(i.financing.median, None);
}

#[test]
fn bad_filters_name_their_field_and_compute_nothing() {
    let p = programme();
    let err = p.store.indicators_json(json!({"from": "2024-13-01", "to": "2024-01-01", "region": "99", "sex": "X"}));
    let err = err.unwrap_err();
    let invalid = err.as_invalid().unwrap();
    assert!(invalid.has("from", "invalid_date"));
    assert!(invalid.has("region", "unknown_code"));
    assert!(invalid.has("sex", "unknown_code"));
    let err = p.store.indicators_json(json!({"from": "2024-06-01", "to": "2024-01-01"})).unwrap_err();
    assert!(err.as_invalid().unwrap().has("to", "before_date"));
    let err = p.store.indicators_json(json!({"period": "2024"})).unwrap_err();
    assert!(err.as_invalid().unwrap().has("period", "unknown_field"));
}

#[test]
fn archived_visits_and_milestones_do_not_count() {
    use wafira_core::store::log::Entity;
    let mut p = programme();
    let d = p.id("D");
    let v = visit(&mut p.store, d, "2024-08-08", "follow_up");
    let m = milestone(&mut p.store, d, "business_plan", "2024-08-01", None);
    let i = p.all();
    assert_eq!((i.coaching.visits, funnel(&i, MilestoneKind::BusinessPlan)), (8, 5));
    p.store.archive_record(Entity::Visit, v).unwrap();
    p.store.archive_record(Entity::Milestone, m).unwrap();
    let i = p.all();
    assert_eq!((i.coaching.visits, funnel(&i, MilestoneKind::BusinessPlan)), (7, 4));
    assert_eq!(i.coaching.with_visit, 4);
}

#[test]
fn a_person_merged_into_another_counts_once() {
    let mut p = programme();
    let a = p.id("A");
    // The same woman registered again on this laptop, with her own launch.
    let twin = p
        .store
        .add_beneficiary_json(json!({
            "first_name": "Aicha", "last_name": "Benali", "sex": "F", "birth_date": "1985-05-05",
            "region": "04", "consent": true, "consent_date": "2024-01-12", "cohort": "2024-A",
        }))
        .unwrap()
        .id;
    visit(&mut p.store, twin, "2024-05-05", "follow_up");
    milestone(&mut p.store, twin, "iga_launched", "2024-03-25", None);
    assert_eq!(p.all().beneficiaries.registered, 6);
    p.store.merge_persons(a, twin).unwrap();
    let i = p.all();
    assert_eq!(i.beneficiaries.registered, 5, "one person again");
    assert_eq!(i.coaching.visits, 8, "her visits stay, under the person kept");
    assert_eq!(i.iga.launched, 4, "two launch records, one person");
    assert_eq!(i.iga.median_days_to_launch, Some(dec("63")), "A's launch is her earliest: 2024-03-25 = 75 days");
}

#[test]
fn the_fingerprint_changes_with_the_data_and_the_filters_only() {
    let mut p = programme();
    let first = p.all().fingerprint;
    assert_eq!(first.len(), 8);
    assert_eq!(p.all().fingerprint, first, "same data, same print");
    assert_ne!(p.indicators(json!({"sex": "F"})).fingerprint, first);
    visit(&mut p.store, p.ids["D"], "2024-08-08", "follow_up");
    assert_ne!(p.all().fingerprint, first);
}

#[test]
fn the_store_today_and_the_fixed_day_agree_on_everything_but_follow_ups() {
    let p = programme();
    let now = p.store.indicators(&Default::default()).unwrap();
    let then = p.all();
    assert_eq!(now.beneficiaries.registered, then.beneficiaries.registered);
    assert_eq!(now.financing.total, then.financing.total);
    assert!(now.as_of > as_of());
}

#[test]
fn data_status_lists_this_laptop_and_what_the_database_holds() {
    let p = programme();
    let d = p.all().data_status;
    assert_eq!(d.devices.len(), 1);
    assert!(d.devices[0].this_device);
    assert_eq!(d.devices[0].name, "Portable Kénitra");
    assert!(d.devices[0].last_change_at.is_some());
    assert_eq!((d.records.beneficiaries, d.records.visits, d.records.milestones), (5, 7, 15));
    assert_eq!((d.open_conflicts, d.open_duplicates), (Some(0), Some(0)));
    assert!(!d.last_stamp.is_empty());
}
