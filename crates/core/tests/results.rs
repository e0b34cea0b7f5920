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

/// Three women and a man, four IGAs, their surveys, sessions and referrals
/// (the figures each test expects are worked out beside it).
fn dataset() -> Machine {
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
    m
}

#[test]
fn the_results_framework_figures_are_those_computed_by_hand() {
    let mut m = dataset();
    let r = results(&m);
    let s12 = &r.survival_12_months;
    assert_eq!(
        (s12.cumulative.eligible, s12.cumulative.operating, s12.cumulative.unknown),
        (sex(3, 3, 0), sex(2, 2, 0), sex(1, 1, 0))
    );
    assert_eq!(s12.cumulative.share.all.map(|d| d.to_string()).as_deref(), Some("66.7"));
    assert_eq!((s12.period.eligible.all, s12.period.operating.all, s12.period.unknown.all), (2, 1, 1));
    assert_eq!(s12.period.share.all.map(|d| d.to_string()).as_deref(), Some("50"));
    let s6 = &r.survival_6_months;
    assert_eq!(
        (s6.cumulative.eligible, s6.cumulative.operating, s6.cumulative.not_operating, s6.cumulative.unknown),
        (sex(4, 3, 1), sex(2, 1, 1), sex(1, 1, 0), sex(1, 1, 0))
    );
    assert_eq!((s6.period.eligible.all, s6.period.operating.all, s6.period.not_operating.all), (2, 1, 1));

    let i12 = &r.income_12_months.cumulative;
    assert_eq!((i12.surveyed.all, i12.median_profit.all.map(|d| d.to_string())), (1, Some("1500.00".into())));
    assert_eq!(i12.median_change_from_baseline.all.map(|d| d.to_string()).as_deref(), Some("500.00"));
    let i6 = &r.income_6_months.cumulative;
    assert_eq!((i6.surveyed.all, i6.median_profit.all.map(|d| d.to_string())), (2, Some("1150.00".into())));

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
        (
            figure("jobs_created").cumulative.all.value.map(|v| v.to_string()),
            figure("jobs_created").cumulative.all.progress.map(|p| p.to_string())
        ),
        (Some("6".into()), Some("50".into()))
    );
    assert_eq!(figure("survival_6_months").cumulative.all.value.map(|v| v.to_string()).as_deref(), Some("50"));
    let bad = FiltersInput { age_group: Some("60+".into()), disability: Some("maybe".into()), ..Default::default() };
    let err = bad.validate().unwrap_err();
    let invalid = err.as_invalid().unwrap();
    assert!(invalid.has("age_group", "unknown_code") && invalid.has("disability", "unknown_code"));
}

fn indicators(m: &Machine, filters: Value) -> wafira_core::report::Indicators {
    let input: FiltersInput = serde_json::from_value(filters).unwrap();
    m.store.indicators(&input.validate().unwrap()).unwrap()
}

fn text(v: Option<rust_decimal::Decimal>) -> Option<String> {
    v.map(|d| d.to_string())
}

/// A split's (everyone, women, men) as text.
fn split(s: &wafira_core::report::results::Split) -> (Option<String>, Option<String>, Option<String>) {
    (text(s.all), text(s.women), text(s.men))
}

fn some(all: Option<&str>, women: Option<&str>, men: Option<&str>) -> (Option<String>, Option<String>, Option<String>) {
    let s = |v: Option<&str>| v.map(str::to_string);
    (s(all), s(women), s(men))
}

#[test]
fn survival_shares_and_income_medians_are_split_by_sex() {
    let m = dataset();
    let r = results(&m);
    // At 6 months (all four IGAs due by 31/12/2025): Amina's operating,
    // Zahra's stopped, Hind's unknown (3 women), Omar's operating (1 man).
    let s6 = &r.survival_6_months;
    assert_eq!(split(&s6.cumulative.share), some(Some("50"), Some("33.3"), Some("100")), "2/4, 1/3, 1/1");
    // Due in 2025: Zahra's (1 March, stopped) and Omar's (1 December, operating).
    assert_eq!(split(&s6.period.share), some(Some("50"), Some("0"), Some("100")), "1/2, 0/1, 1/1");
    // At 12 months: Amina's and Hind's operating, Zahra's unknown; Omar's
    // not due before June 2026: no man's IGA, no men's share.
    let s12 = &r.survival_12_months;
    assert_eq!(split(&s12.cumulative.share), some(Some("66.7"), Some("66.7"), None), "2/3, 2/3, none");
    assert_eq!(split(&s12.period.share), some(Some("50"), Some("50"), None), "Amina's and Zahra's due in 2025");

    // Profit at 6 months: Amina 1,500 (baseline 1,000), Omar 800 (none).
    let i6 = &r.income_6_months.cumulative;
    assert_eq!(i6.surveyed, sex(2, 1, 1));
    assert_eq!(split(&i6.median_profit), some(Some("1150.00"), Some("1500.00"), Some("800.00")));
    assert_eq!(split(&i6.median_change_from_baseline), some(Some("500.00"), Some("500.00"), None));
    assert_eq!(r.income_6_months.period, r.income_6_months.cumulative, "both surveys in 2025");
    // At 12 months: Amina's alone.
    let i12 = &r.income_12_months.cumulative;
    assert_eq!(i12.surveyed, sex(1, 1, 0));
    assert_eq!(split(&i12.median_profit), some(Some("1500.00"), Some("1500.00"), None));

    // The same in the CLI's JSON and the workbook (one computation).
    let json = serde_json::to_value(indicators(&m, json!({ "from": "2025-01-01", "to": "2025-12-31" }))).unwrap();
    assert_eq!(
        json["results"]["survival_6_months"]["cumulative"]["share"],
        json!({"all": "50", "women": "33.3", "men": "100"})
    );
    assert_eq!(json["results"]["income_12_months"]["cumulative"]["median_profit"]["men"], Value::Null);
}

#[test]
fn period_and_cumulative_figures_are_each_measured_against_their_own_target() {
    let mut m = dataset();
    let target = |m: &mut Machine, input: Value| {
        m.store.set_target_json(input).unwrap_or_else(|e| panic!("{e}"));
    };
    // Referrals taken up: Amina's (1 December 2024) and Hind's (1 June 2025).
    target(&mut m, json!({ "indicator": "referrals_taken_up", "target": "10" }));
    target(&mut m, json!({ "indicator": "referrals_taken_up", "year": 2025, "target": "4" }));
    target(&mut m, json!({ "indicator": "referrals_taken_up", "year": "2025", "sex": "F", "target": "2" }));
    target(&mut m, json!({ "indicator": "referrals_taken_up", "sex": "F", "target": "5", "baseline": "0" }));
    // Beneficiaries: Omar registered in 2025, the three women in 2024.
    target(&mut m, json!({ "indicator": "beneficiaries_registered", "year": 2025, "target": "2" }));
    target(&mut m, json!({ "indicator": "beneficiaries_registered", "year": 2025, "sex": "M", "target": "1" }));
    // Setting the same key again changes that target, not another.
    target(&mut m, json!({ "indicator": "referrals_taken_up", "year": 2025, "target": "4.0" }));
    assert_eq!(m.store.targets().unwrap().len(), 6);

    let year_2025 = indicators(&m, json!({ "from": "2025-01-01", "to": "2025-12-31" }));
    assert_eq!(year_2025.period_year, Some(2025));
    let figure = |i: &wafira_core::report::Indicators, name: &str| {
        i.key_figures.iter().find(|k| k.indicator == name).unwrap().clone()
    };
    let shown = |a: &wafira_core::report::indicators::Against| {
        (
            text(a.value),
            a.target.as_ref().map(|t| (t.target.to_string(), t.year, t.sex.map(|s| s.to_string()))),
            text(a.progress),
        )
    };
    let k = figure(&year_2025, "referrals_taken_up");
    // The period: Hind's alone, against 2025's target (1/4), hers against women's 2025 target (1/2).
    assert_eq!(shown(&k.period.all), (Some("1".into()), Some(("4.0".into(), Some(2025), None)), Some("25".into())));
    let women = k.period.women.as_ref().unwrap();
    assert_eq!(shown(women), (Some("1".into()), Some(("2".into(), Some(2025), Some("F".into()))), Some("50".into())));
    let men = k.period.men.as_ref().unwrap();
    assert_eq!(shown(men), (Some("0".into()), None, None), "no men's target: none borrowed");
    // Since the start: both, against the end-of-project targets (2/10, women 2/5).
    assert_eq!(shown(&k.cumulative.all), (Some("2".into()), Some(("10".into(), None, None)), Some("20".into())));
    let women = k.cumulative.women.as_ref().unwrap();
    assert_eq!(shown(women), (Some("2".into()), Some(("5".into(), None, Some("F".into()))), Some("40".into())));
    assert_eq!(women.target.as_ref().unwrap().baseline.map(|b| b.to_string()).as_deref(), Some("0"));

    // A figure of the period's own computation (people registered in it).
    let k = figure(&year_2025, "beneficiaries_registered");
    assert_eq!(shown(&k.period.all), (Some("1".into()), Some(("2".into(), Some(2025), None)), Some("50".into())));
    assert_eq!(shown(k.period.men.as_ref().unwrap()).2.as_deref(), Some("100"), "Omar, of men's 1");
    assert_eq!(text(k.period.women.as_ref().unwrap().value).as_deref(), Some("0"));
    assert_eq!(text(k.cumulative.all.value).as_deref(), Some("4"), "registered by 31/12/2025");
    let default = k.cumulative.all.target.as_ref().unwrap();
    assert!(default.default && default.year.is_none(), "the end-of-project default of 3,000");
    assert_eq!(text(k.cumulative.all.progress).as_deref(), Some("0.1"), "4 / 3,000");
    assert_eq!(text(k.cumulative.women.as_ref().unwrap().value).as_deref(), Some("3"));
    // A women-only figure is not split by sex.
    assert!(figure(&year_2025, "women_registered").period.women.is_none());

    // A period over two calendar years has no target: the end-of-project
    // one is not borrowed; the cumulative keeps its own (to 31/05/2025:
    // Amina's referral only, 1/10).
    let across = indicators(&m, json!({ "from": "2024-06-01", "to": "2025-05-31" }));
    assert_eq!(across.period_year, None);
    let k = figure(&across, "referrals_taken_up");
    assert_eq!(shown(&k.period.all), (Some("1".into()), None, None));
    assert!(k.period.women.as_ref().unwrap().target.is_none());
    assert_eq!(shown(&k.cumulative.all), (Some("1".into()), Some(("10".into(), None, None)), Some("10".into())));
    // Nor does a period from the start, nor a year without a target of its own.
    let since_start = indicators(&m, json!({ "to": "2025-12-31" }));
    assert_eq!(since_start.period_year, None);
    assert!(figure(&since_start, "referrals_taken_up").period.all.target.is_none());
    let year_2024 = indicators(&m, json!({ "from": "2024-01-01", "to": "2024-12-31" }));
    assert_eq!(year_2024.period_year, Some(2024));
    let k = figure(&year_2024, "referrals_taken_up");
    assert_eq!(shown(&k.period.all), (Some("1".into()), None, None), "Amina's, no 2024 target");

    // Filtered to women: their figures against women's targets.
    let women_2025 = indicators(&m, json!({ "from": "2025-01-01", "to": "2025-12-31", "sex": "F" }));
    let k = figure(&women_2025, "referrals_taken_up");
    assert_eq!(
        shown(&k.period.all),
        (Some("1".into()), Some(("2".into(), Some(2025), Some("F".into()))), Some("50".into()))
    );
    assert_eq!(shown(&k.cumulative.all).1, Some(("5".into(), None, Some("F".into()))));
    assert!(k.period.women.is_none() && k.cumulative.men.is_none(), "already one sex");

    // The results framework's shares by sex take sex targets too.
    target(&mut m, json!({ "indicator": "survival_6_months", "sex": "F", "target": "50" }));
    let k = figure(&indicators(&m, json!({ "from": "2025-01-01", "to": "2025-12-31" })), "survival_6_months");
    let women = k.cumulative.women.unwrap();
    assert_eq!(shown(&women), (Some("33.3".into()), Some(("50".into(), None, Some("F".into()))), Some("66.6".into())));
    assert_eq!(text(k.cumulative.men.unwrap().value).as_deref(), Some("100"));
}
