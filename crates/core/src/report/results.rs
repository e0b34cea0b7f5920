//! The results framework's indicators (issue 11; definitions in
//! docs/indicators.md), from IGAs, their follow-up surveys, group sessions
//! and referrals: IGA survival at 6 and 12 months with its right base,
//! income from the surveys, participation, decent work, and who the
//! people are (age group, disability). Every figure for the period and
//! cumulatively since the start, each split by sex. Part of
//! [`super::indicators::Indicators`], so the dashboard, the PDF, the CLI
//! and the exports share it.

use super::indicators::{median, percent, Filters};
use crate::codes::Sex;
use crate::error::Result;
use crate::programme::FE_MODULES;
use chrono::{Datelike, Months, NaiveDate};
use rusqlite::Connection;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// A count for everyone and for women and men apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BySex {
    pub all: u64,
    pub women: u64,
    pub men: u64,
}

impl BySex {
    fn add(&mut self, sex: Sex, n: u64) {
        self.all += n;
        match sex {
            Sex::F => self.women += n,
            Sex::M => self.men += n,
        }
    }
}

impl BySex {
    /// The count of one sex, or everyone's (`None`).
    pub fn of(&self, sex: Option<Sex>) -> u64 {
        match sex {
            None => self.all,
            Some(Sex::F) => self.women,
            Some(Sex::M) => self.men,
        }
    }
}

/// A figure that is not a count (a share, a median) for everyone and for
/// women and men apart; `None` where nobody is counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Split {
    #[serde(with = "rust_decimal::serde::str_option")]
    pub all: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub women: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub men: Option<Decimal>,
}

impl Split {
    /// The figure of one sex, or everyone's (`None`).
    pub fn of(&self, sex: Option<Sex>) -> Option<Decimal> {
        match sex {
            None => self.all,
            Some(Sex::F) => self.women,
            Some(Sex::M) => self.men,
        }
    }

    /// `n / d` in percent for everyone, women and men.
    fn percent(n: &BySex, d: &BySex) -> Split {
        Split { all: percent(n.all, d.all), women: percent(n.women, d.women), men: percent(n.men, d.men) }
    }

    /// The median of each sex's values and of all of them.
    fn median(values: Vec<(Sex, Decimal)>) -> Split {
        let of = |sex: Sex| median(values.iter().filter(|v| v.0 == sex).map(|v| v.1).collect());
        Split { women: of(Sex::F), men: of(Sex::M), all: median(values.into_iter().map(|v| v.1).collect()) }
    }
}

/// A figure for the period and since the start.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Both<T> {
    pub period: T,
    pub cumulative: T,
}

/// IGAs old enough to be judged at 6 or 12 months, and what became of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Survival {
    /// IGAs launched at least that long before the end of the period.
    pub eligible: BySex,
    /// Found operating at the first follow-up that long after their launch.
    pub operating: BySex,
    pub not_operating: BySex,
    /// No follow-up that long after their launch: status unknown.
    pub unknown: BySex,
    /// `operating / eligible`, percent, one decimal: for everyone, and of
    /// women's and men's IGAs apart.
    pub share: Split,
}

/// Monthly profit, from follow-up surveys; by the sex of the IGA's owner.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Income {
    /// IGAs with a profit surveyed that long after launch.
    pub surveyed: BySex,
    pub median_profit: Split,
    /// The median of (profit − baseline income declared at registration),
    /// over the IGAs whose owner declared one.
    pub median_change_from_baseline: Split,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Participation {
    /// People who attended a pre-departure orientation session.
    pub pre_departure_oriented: BySex,
    /// People who attended every module of the financial education path.
    pub financial_education_completed: BySex,
    pub referrals_made: BySex,
    pub referrals_taken_up: BySex,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DecentWork {
    /// Live IGAs (launched in the period, for the period figure).
    pub igas: BySex,
    /// With a legal status other than informal.
    pub formalised: BySex,
    /// With social-security cover (CNSS, AMO).
    pub social_security: BySex,
    /// Jobs created besides the owners'.
    pub jobs_created: BySex,
}

/// The people counted, by age group (on the last day of the period) and
/// disability.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Who {
    pub by_age_group: BTreeMap<String, BySex>,
    /// `yes`, `no`, `not_asked`.
    pub by_disability: BTreeMap<String, BySex>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Results {
    /// The last day of the period (its `to`, else the day computed).
    pub period_end: NaiveDate,
    pub survival_6_months: Both<Survival>,
    pub survival_12_months: Both<Survival>,
    pub income_6_months: Both<Income>,
    pub income_12_months: Both<Income>,
    pub participation: Both<Participation>,
    pub decent_work: Both<DecentWork>,
    pub people: Both<Who>,
}

/// The age groups the ILO reports by.
pub const AGE_GROUPS: [(&str, i64, i64); 4] =
    [("15-24", 15, 24), ("25-34", 25, 34), ("35-44", 35, 44), ("45+", 45, 200)];

struct Person {
    sex: Sex,
    birth: NaiveDate,
    registered: NaiveDate,
    disability: Option<bool>,
    baseline: Option<Decimal>,
}

struct Iga {
    owner: String,
    launched: Option<NaiveDate>,
    /// A milestone saying it was sustained at 12 months, and when.
    sustained_12: Option<NaiveDate>,
    stopped: Option<NaiveDate>,
    formal: bool,
    covered: bool,
    jobs: u64,
    /// (date, operating, profit) of its surveys, in date order.
    surveys: Vec<(NaiveDate, bool, Option<Decimal>)>,
}

fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok()
}

/// A person's disability read from her row: two columns, her yes/no and
/// her worst Washington Group answer (0 when none was asked).
pub(crate) const DISABILITY_COLUMNS: &str = "json_extract(body, '$.disability'),
    max(coalesce(json_extract(body, '$.wg_seeing'), 0), coalesce(json_extract(body, '$.wg_hearing'), 0),
        coalesce(json_extract(body, '$.wg_walking'), 0), coalesce(json_extract(body, '$.wg_cognition'), 0),
        coalesce(json_extract(body, '$.wg_selfcare'), 0), coalesce(json_extract(body, '$.wg_communication'), 0))";

/// What [`DISABILITY_COLUMNS`] read means (as `Beneficiary::has_disability`).
pub(crate) fn disability_of(yes_no: Option<bool>, worst_wg: i64) -> Option<bool> {
    if worst_wg > 0 {
        Some(worst_wg >= 3)
    } else {
        yes_no
    }
}

/// The code a disability is reported and filtered by.
pub fn disability_code(disability: Option<bool>) -> &'static str {
    match disability {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not_asked",
    }
}

/// The age group of someone born on `birth`, on `on`.
pub fn age_group(birth: NaiveDate, on: NaiveDate) -> &'static str {
    let mut age = i64::from(on.year() - birth.year());
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    AGE_GROUPS.iter().find(|(_, lo, hi)| (*lo..=*hi).contains(&age)).map_or("under 15", |g| g.0)
}

/// Computes the results framework's figures for `filters`, on `today`.
pub fn compute(conn: &Connection, filters: &Filters, today: NaiveDate) -> Result<Results> {
    let end = filters.to.unwrap_or(today);
    let in_period = |d: NaiveDate| filters.from.is_none_or(|f| d >= f) && d <= end;
    let by_end = |d: NaiveDate| d <= end;

    // The people the filters admit (live, not merged away).
    let mut people: HashMap<String, Person> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, sex, region, cohort, birth_date,
                coalesce(json_extract(body, '$.consent_date'), substr(created_at, 1, 10)),
                {DISABILITY_COLUMNS}, json_extract(body, '$.baseline_income')
         FROM beneficiary WHERE archived_at IS NULL"
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let Some(sex) = Sex::from_code(&r.get::<_, String>(1)?) else { continue };
        let region: String = r.get(2)?;
        let cohort: Option<String> = r.get(3)?;
        let disability = disability_of(r.get(6)?, r.get(7)?);
        let (Some(birth), Some(registered)) = (day(&r.get::<_, String>(4)?), day(&r.get::<_, String>(5)?)) else {
            continue;
        };
        let admitted = filters.region.as_deref().is_none_or(|x| x == region)
            && filters.cohort.as_deref().is_none_or(|c| Some(c) == cohort.as_deref())
            && filters.sex.is_none_or(|s| s == sex)
            && filters.admits_traits(birth, disability);
        if !admitted {
            continue;
        }
        let baseline = r.get::<_, Option<String>>(8)?.and_then(|s| Decimal::from_str(&s).ok());
        people.insert(r.get(0)?, Person { sex, birth, registered, disability, baseline });
    }

    // Their live IGAs, with launch, milestones and surveys.
    let mut igas: HashMap<String, Iga> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, beneficiary_id, legal_status, social_security, coalesce(json_extract(body, '$.jobs_created'), 0)
         FROM iga WHERE archived_at IS NULL",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let owner: String = r.get(1)?;
        if !people.contains_key(&owner) {
            continue;
        }
        let security: Option<String> = r.get(3)?;
        igas.insert(
            r.get(0)?,
            Iga {
                owner,
                launched: None,
                sustained_12: None,
                stopped: None,
                formal: r.get::<_, String>(2)? != "informal",
                covered: security.is_some_and(|s| s != "none"),
                jobs: r.get::<_, i64>(4)?.max(0) as u64,
                surveys: Vec::new(),
            },
        );
    }
    let mut stmt = conn.prepare_cached("SELECT iga_id, kind, date FROM milestone WHERE archived_at IS NULL")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let Some(iga) = r.get::<_, Option<String>>(0)?.and_then(|i| igas.get_mut(&i)) else { continue };
        let Some(date) = day(&r.get::<_, String>(2)?) else { continue };
        let slot = match r.get::<_, String>(1)?.as_str() {
            "iga_launched" => &mut iga.launched,
            "sustained_12_months" => &mut iga.sustained_12,
            "iga_stopped" => &mut iga.stopped,
            _ => continue,
        };
        *slot = Some(slot.map_or(date, |d| d.min(date)));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT iga_id, date, operating, json_extract(body, '$.monthly_profit') FROM iga_followup
         WHERE archived_at IS NULL ORDER BY date, id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let Some(iga) = igas.get_mut(&r.get::<_, String>(0)?) else { continue };
        let Some(date) = day(&r.get::<_, String>(1)?) else { continue };
        let profit = r.get::<_, Option<String>>(3)?.and_then(|s| Decimal::from_str(&s).ok());
        iga.surveys.push((date, r.get(2)?, profit));
    }

    let mut out = Results { period_end: end, ..Results::default() };

    // Survival and income at 6 and 12 months.
    for (months, survival, income) in [
        (6u32, &mut out.survival_6_months, &mut out.income_6_months),
        (12, &mut out.survival_12_months, &mut out.income_12_months),
    ] {
        let (mut profits, mut changes) =
            (Both::<Vec<(Sex, Decimal)>>::default(), Both::<Vec<(Sex, Decimal)>>::default());
        for iga in igas.values() {
            let Some(launched) = iga.launched else { continue };
            let Some(due) = launched.checked_add_months(Months::new(months)) else { continue };
            if !by_end(due) {
                continue;
            }
            let sex = people[&iga.owner].sex;
            // The first survey that long after launch, by the end of the period.
            let first = iga.surveys.iter().find(|s| s.0 >= due && by_end(s.0));
            let operating = match first {
                Some(s) => Some(s.1),
                // A 12-month milestone is a check made at 12 months; a stop
                // before the due day ends it.
                None if iga.stopped.is_some_and(|d| d < due) => Some(false),
                None if months == 12 && iga.sustained_12.is_some_and(by_end) => Some(true),
                None => None,
            };
            for (figure, counted) in [(&mut survival.cumulative, true), (&mut survival.period, in_period(due))] {
                if !counted {
                    continue;
                }
                figure.eligible.add(sex, 1);
                match operating {
                    Some(true) => figure.operating.add(sex, 1),
                    Some(false) => figure.not_operating.add(sex, 1),
                    None => figure.unknown.add(sex, 1),
                }
            }
            let profit = iga.surveys.iter().find(|s| s.0 >= due && by_end(s.0) && s.2.is_some());
            if let Some((date, _, Some(p))) = profit {
                let change = people[&iga.owner].baseline.map(|b| (sex, *p - b));
                profits.cumulative.push((sex, *p));
                changes.cumulative.extend(change);
                if in_period(*date) {
                    profits.period.push((sex, *p));
                    changes.period.extend(change);
                }
            }
        }
        for s in [&mut survival.period, &mut survival.cumulative] {
            s.share = Split::percent(&s.operating, &s.eligible);
        }
        let income_of = |profits: Vec<(Sex, Decimal)>, changes: Vec<(Sex, Decimal)>| {
            let mut surveyed = BySex::default();
            for (sex, _) in &profits {
                surveyed.add(*sex, 1);
            }
            Income {
                surveyed,
                median_profit: Split::median(profits),
                median_change_from_baseline: Split::median(changes),
            }
        };
        income.cumulative = income_of(profits.cumulative, changes.cumulative);
        income.period = income_of(profits.period, changes.period);
    }

    // Participation: sessions attended, referrals.
    let mut attended: HashMap<String, Vec<(String, Option<String>, NaiveDate)>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT a.beneficiary_id, s.kind, s.module, s.date FROM attendance a JOIN session s ON s.id = a.session_id
         WHERE a.archived_at IS NULL AND s.archived_at IS NULL",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let person: String = r.get(0)?;
        if !people.contains_key(&person) {
            continue;
        }
        let Some(date) = day(&r.get::<_, String>(3)?) else { continue };
        if by_end(date) {
            attended.entry(person).or_default().push((r.get(1)?, r.get(2)?, date));
        }
    }
    for (person, sessions) in &attended {
        let sex = people[person].sex;
        let oriented: Vec<NaiveDate> = sessions.iter().filter(|s| s.0 == "pre_departure").map(|s| s.2).collect();
        if let Some(first) = oriented.iter().min() {
            out.participation.cumulative.pre_departure_oriented.add(sex, 1);
            if in_period(*first) {
                out.participation.period.pre_departure_oriented.add(sex, 1);
            }
        }
        // Completed on the day the last missing module was attended.
        let mut first_of: HashMap<&str, NaiveDate> = HashMap::new();
        for (kind, module, date) in sessions {
            if let (true, Some(m)) = (kind == "financial_education", module.as_deref()) {
                let e = first_of.entry(m).or_insert(*date);
                *e = (*e).min(*date);
            }
        }
        if FE_MODULES.iter().all(|m| first_of.contains_key(m)) {
            out.participation.cumulative.financial_education_completed.add(sex, 1);
            if first_of.values().max().is_some_and(|d| in_period(*d)) {
                out.participation.period.financial_education_completed.add(sex, 1);
            }
        }
    }
    let mut stmt =
        conn.prepare_cached("SELECT beneficiary_id, date, outcome FROM referral WHERE archived_at IS NULL")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let Some(p) = people.get(&r.get::<_, String>(0)?) else { continue };
        let Some(date) = day(&r.get::<_, String>(1)?) else { continue };
        if !by_end(date) {
            continue;
        }
        let taken = r.get::<_, String>(2)? == "taken_up";
        for (figure, counted) in
            [(&mut out.participation.cumulative, true), (&mut out.participation.period, in_period(date))]
        {
            if counted {
                figure.referrals_made.add(p.sex, 1);
                if taken {
                    figure.referrals_taken_up.add(p.sex, 1);
                }
            }
        }
    }

    // Decent work: live IGAs launched by the end (in the period, for the
    // period figure).
    for iga in igas.values() {
        let Some(launched) = iga.launched.filter(|d| by_end(*d)) else { continue };
        let sex = people[&iga.owner].sex;
        for (figure, counted) in
            [(&mut out.decent_work.cumulative, true), (&mut out.decent_work.period, in_period(launched))]
        {
            if counted {
                figure.igas.add(sex, 1);
                figure.formalised.add(sex, u64::from(iga.formal));
                figure.social_security.add(sex, u64::from(iga.covered));
                figure.jobs_created.add(sex, iga.jobs);
            }
        }
    }

    // Who: the people registered by the end (in the period).
    for p in people.values() {
        if !by_end(p.registered) {
            continue;
        }
        let group = age_group(p.birth, end).to_string();
        let disability = disability_code(p.disability).to_string();
        for (who, counted) in [(&mut out.people.cumulative, true), (&mut out.people.period, in_period(p.registered))] {
            if counted {
                who.by_age_group.entry(group.clone()).or_default().add(p.sex, 1);
                who.by_disability.entry(disability.clone()).or_default().add(p.sex, 1);
            }
        }
    }
    Ok(out)
}
