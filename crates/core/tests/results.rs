//! The results framework's indicators against values computed by hand
//! (docs/indicators.md): IGA survival at 6 and 12 months on the right base
//! with the unknown apart, income from surveys and its change from the
//! baseline, participation, decent work, age groups and disability; for
//! the period and cumulatively, each by sex.

mod sync_support;

use serde_json::{json, Value};
use sync_support::*;
use uuid::Uuid;
use wafira_core::report::indicators::FiltersInput;
use wafira_core::report::results::{BySex, Results};
use wafira_core::store::log::Entity;

fn add(m: &mut Machine, kind: Entity, input: Value) -> Uuid {
    let doc = m.store.add_record(kind, input).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    Uuid::parse_str(doc["id"].as_str().unwrap()).unwrap()
}

fn milestone(m: &mut Machine, person: Uuid, iga: Uuid, kind: &str, date: &str) {
    m.store.add_milestone_json(json!({ "beneficiary_id": person, "iga_id": iga, "kind": kind, "date": date })).unwrap();
}

fn sex(all: u64, women: u64, men: u64) -> BySex {
    BySex { all, women, men }
}

fn results(m: &Machine) -> Results {
    let filters = FiltersInput { from: Some("2025-01-01".into()), to: Some("2025-12-31".into()), ..Default::default() };
    m.store.indicators(&filters.validate().unwrap()).unwrap().results
}

#[test]
fn the_results_framework_figures_are_those_computed_by_hand() {
    let mut m = machine("Station");
    let w1 = m.register(json!({ "first_name": "Amina", "birth_date": "2000-05-01", "consent_date": "2024-06-01",
                                "wg_walking": 3, "baseline_income": "1000" }));
    let w2 = m.register(json!({ "first_name": "Zahra", "birth_date": "1980-01-01", "consent_date": "2024-06-01",
                                "disability": false }));
    let m1 = m.register(
        json!({ "first_name": "Omar", "sex": "M", "birth_date": "2005-03-01", "consent_date": "2025-03-01" }),
    );
    let w3 = m.register(json!({ "first_name": "Hind", "birth_date": "1990-06-15", "consent_date": "2024-06-01",
                                "wg_seeing": 2 }));
    let iga = |m: &mut Machine, p: Uuid, status: &str, security: &str, jobs: i64| {
        add(
            m,
            Entity::Iga,
            json!({ "beneficiary_id": p, "sector": "commerce", "form": "individual",
                                    "legal_status": status, "social_security": security, "jobs_created": jobs }),
        )
    };
    let a = iga(&mut m, w1, "informal", "none", 1);
    let b = iga(&mut m, w2, "cooperative", "cnss", 2);
    let c = iga(&mut m, m1, "auto_entrepreneur", "amo", 0);
    let d = iga(&mut m, w3, "informal", "none", 3);
    milestone(&mut m, w1, a, "iga_launched", "2024-01-10");
    milestone(&mut m, w2, b, "iga_launched", "2024-09-01");
    milestone(&mut m, m1, c, "iga_launched", "2025-06-01");
    milestone(&mut m, w3, d, "iga_launched", "2023-03-01");
    milestone(&mut m, w3, d, "sustained_12_months", "2024-03-05");
    let survey = |m: &mut Machine, iga: Uuid, date: &str, operating: bool, profit: Option<&str>| {
        add(
            m,
            Entity::IgaFollowup,
            json!({ "iga_id": iga, "date": date, "operating": operating,
                                            "not_operating_reason": "saison creuse", "monthly_profit": profit }),
        )
    };
    survey(&mut m, a, "2025-02-01", true, Some("1500"));
    survey(&mut m, b, "2025-04-01", false, None);
    survey(&mut m, c, "2025-12-15", true, Some("800"));
    let session = |m: &mut Machine, kind: &str, module: Option<&str>, date: &str, who: &[Uuid]| {
        let s = add(m, Entity::Session, json!({ "kind": kind, "module": module, "date": date }));
        m.store.take_attendance(s, who).unwrap();
    };
    session(&mut m, "pre_departure", None, "2024-11-01", &[w1, m1]);
    session(&mut m, "financial_education", Some("budget"), "2025-02-01", &[w1, w2]);
    session(&mut m, "financial_education", Some("savings"), "2025-02-08", &[w1, w2]);
    session(&mut m, "financial_education", Some("credit"), "2025-02-15", &[w1]);
    session(&mut m, "financial_education", Some("remittances"), "2025-03-01", &[w1]);
    session(&mut m, "pre_departure", None, "2025-05-01", &[w2, m1]);
    let anapec = wafira_core::programme::built_in_partner_id("anapec");
    for (p, date, outcome) in
        [(w1, "2024-12-01", "taken_up"), (m1, "2025-04-01", "pending"), (w3, "2025-06-01", "taken_up")]
    {
        add(
            &mut m,
            Entity::Referral,
            json!({ "beneficiary_id": p, "partner_id": anapec, "date": date, "outcome": outcome }),
        );
    }

    let r = results(&m);
    let s12 = &r.survival_12_months;
    assert_eq!(
        (s12.cumulative.eligible, s12.cumulative.operating, s12.cumulative.unknown),
        (sex(3, 3, 0), sex(2, 2, 0), sex(1, 1, 0))
    );
    assert_eq!(s12.cumulative.share.map(|d| d.to_string()).as_deref(), Some("66.7"));
    assert_eq!((s12.period.eligible.all, s12.period.operating.all, s12.period.unknown.all), (2, 1, 1));
    assert_eq!(s12.period.share.map(|d| d.to_string()).as_deref(), Some("50"));
    let s6 = &r.survival_6_months;
    assert_eq!(
        (s6.cumulative.eligible, s6.cumulative.operating, s6.cumulative.not_operating, s6.cumulative.unknown),
        (sex(4, 3, 1), sex(2, 1, 1), sex(1, 1, 0), sex(1, 1, 0))
    );
    assert_eq!((s6.period.eligible.all, s6.period.operating.all, s6.period.not_operating.all), (2, 1, 1));

    let i12 = &r.income_12_months.cumulative;
    assert_eq!((i12.surveyed, i12.median_profit.map(|d| d.to_string())), (1, Some("1500.00".into())));
    assert_eq!(i12.median_change_from_baseline.map(|d| d.to_string()).as_deref(), Some("500.00"));
    let i6 = &r.income_6_months.cumulative;
    assert_eq!((i6.surveyed, i6.median_profit.map(|d| d.to_string())), (2, Some("1150.00".into())));

    let p = &r.participation;
    assert_eq!(p.cumulative.pre_departure_oriented, sex(3, 2, 1));
    assert_eq!(p.period.pre_departure_oriented, sex(1, 1, 0), "Zahra's first orientation is in 2025");
    assert_eq!(
        (p.cumulative.financial_education_completed, p.period.financial_education_completed),
        (sex(1, 1, 0), sex(1, 1, 0))
    );
    assert_eq!((p.cumulative.referrals_made, p.cumulative.referrals_taken_up), (sex(3, 2, 1), sex(2, 2, 0)));
    assert_eq!((p.period.referrals_made, p.period.referrals_taken_up), (sex(2, 1, 1), sex(1, 1, 0)));

    let w = &r.decent_work;
    assert_eq!(
        (w.cumulative.igas, w.cumulative.formalised, w.cumulative.social_security, w.cumulative.jobs_created),
        (sex(4, 3, 1), sex(2, 1, 1), sex(2, 1, 1), sex(6, 6, 0))
    );
    assert_eq!((w.period.igas, w.period.formalised, w.period.jobs_created), (sex(1, 0, 1), sex(1, 0, 1), sex(0, 0, 0)));

    let who = &r.people.cumulative;
    for (group, count) in
        [("15-24", sex(1, 0, 1)), ("25-34", sex(1, 1, 0)), ("35-44", sex(1, 1, 0)), ("45+", sex(1, 1, 0))]
    {
        assert_eq!(who.by_age_group[group], count, "{group}");
    }
    assert_eq!(who.by_disability["yes"], sex(1, 1, 0), "Washington Group: a lot of difficulty walking");
    assert_eq!(who.by_disability["no"], sex(2, 2, 0), "some difficulty seeing is not a disability; a no");
    assert_eq!(who.by_disability["not_asked"], sex(1, 0, 1));
    assert_eq!(r.people.period.by_age_group.keys().collect::<Vec<_>>(), vec!["15-24"]);

    // Filtered to men: only Omar's records count.
    let men = FiltersInput { to: Some("2025-12-31".into()), sex: Some("M".into()), ..Default::default() };
    let r = m.store.indicators(&men.validate().unwrap()).unwrap().results;
    assert_eq!(r.survival_6_months.cumulative.eligible, sex(1, 0, 1));
    assert_eq!(r.decent_work.cumulative.igas, sex(1, 0, 1));

    // Age group and disability filter too, as the ILO breaks figures down.
    let filtered = |age: Option<&str>, disability: Option<&str>| {
        let f = FiltersInput {
            to: Some("2025-12-31".into()),
            age_group: age.map(str::to_string),
            disability: disability.map(str::to_string),
            ..Default::default()
        };
        m.store.indicators(&f.validate().unwrap()).unwrap()
    };
    let young = filtered(Some("15-24"), None);
    assert_eq!((young.beneficiaries.registered, young.results.decent_work.cumulative.igas), (1, sex(1, 0, 1)));
    let disabled = filtered(None, Some("yes"));
    assert_eq!(disabled.results.survival_12_months.cumulative.eligible, sex(1, 1, 0), "Amina's IGA alone");
    assert_eq!(filtered(Some("45+"), Some("no")).beneficiaries.registered, 1, "Zahra");
    // The results framework's figures take targets like the others.
    m.store.set_target_json(json!({ "indicator": "jobs_created", "target": "12" })).unwrap();
    m.store.set_target_json(json!({ "indicator": "survival_6_months", "target": "60" })).unwrap();
    let all = m
        .store
        .indicators(&FiltersInput { to: Some("2025-12-31".into()), ..Default::default() }.validate().unwrap())
        .unwrap();
    let figure = |name: &str| all.key_figures.iter().find(|k| k.indicator == name).unwrap().clone();
    assert_eq!(
        (figure("jobs_created").value.to_string(), figure("jobs_created").progress.map(|p| p.to_string())),
        ("6".into(), Some("50".into()))
    );
    assert_eq!(figure("survival_6_months").value.to_string(), "50");
    let bad = FiltersInput { age_group: Some("60+".into()), disability: Some("maybe".into()), ..Default::default() };
    let err = bad.validate().unwrap_err();
    let invalid = err.as_invalid().unwrap();
    assert!(invalid.has("age_group", "unknown_code") && invalid.has("disability", "unknown_code"));
}
