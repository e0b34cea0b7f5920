//! Every number the programme reports, computed in one place: the dashboard,
//! the PDF summary and `wafira report indicators` all call [`compute`], so
//! they cannot disagree. The definitions are in `docs/indicators.md`; in
//! short:
//!
//! - Archived records are left out, and so are people merged into another
//!   (the merge archives them and moves their visits and milestones to the
//!   person kept, who is counted once), and the milestones of a withdrawn
//!   IGA.
//! - Region, cohort and sex filter people, and through them their visits
//!   and milestones.
//! - The period (`from`, `to`, both included) applies to the registration
//!   date for counts of people (her consent date, which defaults to the day
//!   she was registered), to visit dates for visit figures and to milestone
//!   dates for IGA and financing figures.
//! - A person reaches a milestone on the date of her earliest record of that
//!   kind (after a merge she may have two); each person counts once.
//! - Shares are percentages rounded to one decimal, half away from zero;
//!   money is summed and its median taken exactly, in `Decimal`.

use super::targets::{self, Applied};
use crate::access::Action;
use crate::beneficiary::Beneficiary;
use crate::codes::{MilestoneKind, Sex, VisitKind};
use crate::error::{Checker, Error, FieldError, Result};
use crate::money::Mad;
use crate::reference;
use crate::store::Store;
use crate::validate::{opt_date, opt_str, opt_text};
use chrono::{Datelike, Days, NaiveDate};
use rusqlite::Connection;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

/// Days without a visit of the two follow-up figures.
pub const NO_VISIT_DAYS: [i64; 2] = [60, 90];

/// Filters as a form or the CLI gives them: every field optional text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiltersInput {
    pub from: Option<String>,
    pub to: Option<String>,
    pub region: Option<String>,
    pub cohort: Option<String>,
    pub sex: Option<String>,
    /// `15-24`, `25-34`, `35-44` or `45+`: age on the period's last day.
    #[serde(default)]
    pub age_group: Option<String>,
    /// `yes`, `no` or `not_asked` (results.rs).
    #[serde(default)]
    pub disability: Option<String>,
}

/// Checked filters; `None` means "all".
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filters {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub region: Option<String>,
    pub cohort: Option<String>,
    pub sex: Option<Sex>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disability: Option<String>,
}

impl FiltersInput {
    /// Checks every filter, naming each one that is wrong.
    pub fn validate(&self) -> Result<Filters> {
        let mut c = Checker::default();
        let from = c.take(opt_date("from", &self.from));
        let to = c.take(opt_date("to", &self.to));
        if let (Some(Some(f)), Some(Some(t))) = (from, to) {
            if t < f {
                c.push(FieldError::new("to", "before_date").with("other_field", "from").with("other", f));
            }
        }
        let region = c.take(
            opt_str(&self.region)
                .map(|r| match reference::region(r) {
                    Some(reg) => Ok(reg.code.clone()),
                    None => Err(FieldError::new("region", "unknown_code").with("value", r).with(
                        "allowed",
                        reference::regions().iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "),
                    )),
                })
                .transpose(),
        );
        let cohort = c.take(opt_text("cohort", &self.cohort, 40));
        let sex = c.take(opt_str(&self.sex).map(|s| Sex::parse("sex", s)).transpose());
        let one_of = |field: &str, value: &Option<String>, allowed: &[&str]| {
            opt_str(value)
                .map(|v| {
                    if allowed.contains(&v) {
                        Ok(v.to_string())
                    } else {
                        Err(FieldError::new(field, "unknown_code").with("value", v).with("allowed", allowed.join(", ")))
                    }
                })
                .transpose()
        };
        let groups: Vec<&str> = super::results::AGE_GROUPS.iter().map(|g| g.0).collect();
        let age_group = c.take(one_of("age_group", &self.age_group, &groups));
        let disability = c.take(one_of("disability", &self.disability, &["yes", "no", "not_asked"]));
        c.finish(|| {
            Some(Filters {
                from: from?,
                to: to?,
                region: region?,
                cohort: cohort?,
                sex: sex?,
                age_group: age_group?,
                disability: disability?,
            })
        })
    }
}

impl Filters {
    /// Whether a date falls in the period (both ends included).
    pub fn in_period(&self, d: NaiveDate) -> bool {
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }

    fn admits(&self, p: &Person) -> bool {
        self.region.as_deref().is_none_or(|r| r == p.region)
            && self.cohort.as_deref().is_none_or(|c| Some(c) == p.cohort.as_deref())
            && self.sex.is_none_or(|s| s == p.sex)
            && self.admits_traits(p.birth, p.disability)
    }

    /// Whether a person's age group (on the period's last day, else today)
    /// and disability are those the filters ask for.
    pub fn admits_traits(&self, birth: NaiveDate, disability: Option<bool>) -> bool {
        // Today is asked only when an age group is (the clock is read per person).
        let on = || self.to.unwrap_or_else(Store::today);
        self.age_group.as_deref().is_none_or(|g| g == super::results::age_group(birth, on()))
            && self.disability.as_deref().is_none_or(|d| d == super::results::disability_code(disability))
    }

    /// Whether a person is within region, cohort, sex, age group and
    /// disability, whenever she was registered (her visits and milestones
    /// of the period count).
    pub fn admits_person(&self, b: &Beneficiary) -> bool {
        self.region.as_deref().is_none_or(|r| r == b.region)
            && self.cohort.as_deref().is_none_or(|c| Some(c) == b.cohort.as_deref())
            && self.sex.is_none_or(|s| s == b.sex)
            && self.admits_traits(b.birth_date, b.has_disability())
    }

    /// Whether a person is counted among the people of these filters:
    /// admitted, and registered in the period.
    pub fn counts_person(&self, b: &Beneficiary) -> bool {
        self.admits_person(b) && self.in_period(registration_date(b))
    }

    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

/// Everything the programme reports, for one set of filters on one day.
#[derive(Debug, Clone, Serialize)]
pub struct Indicators {
    pub filters: Filters,
    /// The day follow-up delays are counted to.
    pub as_of: NaiveDate,
    /// The calendar year the period lies within, whose targets the period's
    /// key figures are measured against (`None`: the period runs from the
    /// start or spans two years, and has no target).
    pub period_year: Option<i32>,
    pub beneficiaries: Beneficiaries,
    pub coaching: Coaching,
    pub iga: Iga,
    pub financing: Financing,
    pub followup: FollowupFigures,
    /// The results framework: IGA survival, income, participation, decent
    /// work, who the people are; for the period and cumulative, by sex.
    pub results: super::results::Results,
    /// The results framework: each indicator for the period and since the
    /// start, against its targets.
    pub key_figures: Vec<KeyFigure>,
    pub data_status: DataStatus,
    /// First 8 hex digits of a SHA-256 over everything above: two reports
    /// of different data (or filters, or days) carry different prints.
    pub fingerprint: String,
}

/// How many of something have a code (`None`: not recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub code: Option<String>,
    pub count: u64,
    /// Of them, women and men.
    pub women: u64,
    pub men: u64,
    /// Of the people counted, in percent.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub share: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionRow {
    pub region: String,
    pub women: u64,
    pub men: u64,
    pub total: u64,
    /// The region's own target of beneficiaries, if one is set.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub target: Option<Decimal>,
}

/// People registered in the period (and within the filters).
#[derive(Debug, Clone, Serialize)]
pub struct Beneficiaries {
    pub registered: u64,
    pub women: u64,
    pub men: u64,
    pub by_region: Vec<RegionRow>,
    pub by_country: Vec<Count>,
    pub by_sector: Vec<Count>,
    pub by_phase: Vec<Count>,
    pub by_cohort: Vec<Count>,
    /// By age at registration, in the groups of [`AGE_GROUPS`] (`15-24`…);
    /// a person known by her year of birth alone counts by that year.
    pub by_age: Vec<Count>,
}

/// The age groups of `by_age`: first and last age of each, inclusive.
pub const AGE_GROUPS: &[(i64, i64, &str)] =
    &[(15, 24, "15-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 54, "45-54"), (55, 80, "55-80")];

/// The group of an age, `None` outside the programme's ages.
pub fn age_group(age: i64) -> Option<&'static str> {
    AGE_GROUPS.iter().find(|(from, to, _)| (*from..=*to).contains(&age)).map(|g| g.2)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    pub visits: u64,
}

/// Coaching: of the people registered, who was visited; and the visits of
/// the period.
#[derive(Debug, Clone, Serialize)]
pub struct Coaching {
    /// The people the shares are of (= beneficiaries registered).
    pub people: u64,
    /// Of them, with at least one visit dated in the period.
    pub with_visit: u64,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub share_with_visit: Option<Decimal>,
    /// Of them, with at least one financial-education visit in the period.
    pub with_financial_education: u64,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub share_financial_education: Option<Decimal>,
    /// Their visits in the period.
    pub visits_of_people: u64,
    /// `visits_of_people / people`, two decimals.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub mean_visits_per_person: Option<Decimal>,
    /// Every visit in the period to anyone within the filters, whenever she
    /// was registered: the coaching work done.
    pub visits: u64,
    pub visits_per_month: Vec<MonthCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub kind: MilestoneKind,
    /// People who reached it in the period.
    pub people: u64,
}

/// IGAs launched in the period and what became of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaunchCohort {
    pub launched: u64,
    /// Of them, those who reached 12 months (at any date).
    pub sustained: u64,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub share: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Iga {
    /// People reaching each stage of the lifecycle in the period, in order
    /// (`iga_stopped` last).
    pub funnel: Vec<Stage>,
    pub launched: u64,
    pub sustained_12_months: u64,
    pub stopped: u64,
    pub sustained_of_launched: LaunchCohort,
    /// Median of the days from registration to launch, for launches in the
    /// period that came after the registration.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub median_days_to_launch: Option<Decimal>,
    /// How many launches that median is of.
    pub launches_timed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Financing {
    /// People who obtained financing with an amount, in the period.
    pub people: u64,
    pub total: Mad,
    /// Exact: of an even count, the mean of the two middle amounts.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub median: Option<Decimal>,
}

/// People registered (in the period) without a visit for a while, counted
/// on `as_of`: her last visit, or her registration if never visited, is
/// more than 60 (90) days before.
#[derive(Debug, Clone, Serialize)]
pub struct FollowupFigures {
    pub no_visit_60_days: u64,
    pub no_visit_90_days: u64,
}

/// What an indicator's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    People,
    Percent,
    Mad,
}

/// One indicator of the results framework, for the period and since the
/// start, side by side, each against its own target.
#[derive(Debug, Clone, Serialize)]
pub struct KeyFigure {
    pub indicator: String,
    pub unit: Unit,
    /// The figure for the period, against the target set for the calendar
    /// year the period lies within ([`Indicators::period_year`]); none when
    /// the period is not within one year: the end-of-project target is
    /// never borrowed.
    pub period: Measured,
    /// Since the start to the period's end, against the end-of-project
    /// target.
    pub cumulative: Measured,
}

/// A key figure in one span: everyone's, and women's and men's apart where
/// the figure is split by sex (no sex filtered, not a women-only figure).
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    #[serde(flatten)]
    pub all: Against,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub women: Option<Against>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub men: Option<Against>,
}

/// A figure and the target it is measured against.
#[derive(Debug, Clone, Serialize)]
pub struct Against {
    /// `None` where it cannot be computed (a share of nobody, a median of
    /// nothing).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub value: Option<Decimal>,
    pub target: Option<Applied>,
    /// `value / target` in percent, one decimal (may exceed 100).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub progress: Option<Decimal>,
}

/// One laptop (or station) whose changes this database holds.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceStatus {
    pub id: String,
    pub name: String,
    pub coordinator: String,
    /// Whether this is the database's own device.
    pub this_device: bool,
    /// Its latest change held here (UTC instant).
    pub last_change_at: Option<String>,
    pub changes: u64,
    /// When its latest bundle imported here was made, if any was.
    pub last_bundle_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    pub beneficiaries: u64,
    pub visits: u64,
    pub milestones: u64,
    pub targets: u64,
}

/// How current the data are: laptops and their last data, open questions
/// of the consolidation, what the database holds.
#[derive(Debug, Clone, Serialize)]
pub struct DataStatus {
    pub devices: Vec<DeviceStatus>,
    /// Conflicts not settled yet (`None` on a database without identity).
    pub open_conflicts: Option<u64>,
    /// Possible duplicates not decided yet (`None` without identity).
    pub open_duplicates: Option<u64>,
    /// Live records in the whole database, whatever the filters (visits and
    /// milestones of live people, milestones of live IGAs).
    pub records: RecordCounts,
    /// The greatest change stamp held (empty when there is none).
    pub last_stamp: String,
}

/// A person as the indicators see her.
struct Person {
    sex: Sex,
    region: String,
    country: Option<String>,
    sector: Option<String>,
    phase: String,
    cohort: Option<String>,
    registered: NaiveDate,
    /// Her birth date (1 January when only the year is known).
    birth: NaiveDate,
    disability: Option<bool>,
}

struct VisitRow {
    person: usize,
    date: NaiveDate,
    financial_education: bool,
}

/// A person's first record of a milestone kind.
#[derive(Clone, Copy)]
struct Reached {
    date: NaiveDate,
    amount: Option<Decimal>,
}

impl Store {
    /// The indicators for these filters, as of today.
    pub fn indicators(&self, filters: &Filters) -> Result<Indicators> {
        self.require(Action::Read)?;
        compute(self, filters, Store::today())
    }

    /// The indicators for filters given as JSON (the window, the CLI).
    pub fn indicators_json(&self, filters: serde_json::Value) -> Result<Indicators> {
        self.require(Action::Read)?;
        let input: FiltersInput = crate::validate::from_json(filters)?;
        self.indicators(&input.validate()?)
    }
}

/// A person's registration date: her consent date, which the form sets to
/// the day she was registered unless another is given.
pub fn registration_date(b: &Beneficiary) -> NaiveDate {
    b.consent_date
        .or_else(|| NaiveDate::parse_from_str(b.created_at.get(..10).unwrap_or(""), "%Y-%m-%d").ok())
        .unwrap_or(NaiveDate::MIN)
}

fn date(field: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d")
        .map_err(|_| Error::Other(format!("stored {field} {text:?} is not a date")))
}

/// Loads the live people; their index in the vector stands for them.
fn load_people(conn: &Connection) -> Result<(Vec<Person>, HashMap<String, usize>)> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, sex, region, destination_country, iga_sector, phase, cohort,
                coalesce(json_extract(body, '$.consent_date'), substr(created_at, 1, 10)), birth_date,
                {}
         FROM beneficiary WHERE archived_at IS NULL",
        super::results::DISABILITY_COLUMNS
    ))?;
    let mut rows = stmt.query([])?;
    let (mut people, mut index) = (Vec::new(), HashMap::new());
    while let Some(r) = rows.next()? {
        let sex: String = r.get(1)?;
        let registered: String = r.get(7)?;
        index.insert(r.get::<_, String>(0)?, people.len());
        people.push(Person {
            sex: Sex::from_code(&sex).ok_or_else(|| Error::Other(format!("stored sex {sex:?} is not a code")))?,
            region: r.get(2)?,
            country: r.get(3)?,
            sector: r.get(4)?,
            phase: r.get(5)?,
            cohort: r.get(6)?,
            registered: date("registration date", &registered)?,
            birth: date("birth date", &r.get::<_, String>(8)?)?,
            disability: super::results::disability_of(r.get(9)?, r.get(10)?),
        });
    }
    Ok((people, index))
}

fn load_visits(conn: &Connection, index: &HashMap<String, usize>) -> Result<Vec<VisitRow>> {
    let mut stmt = conn.prepare_cached("SELECT beneficiary_id, date, kind FROM visit WHERE archived_at IS NULL")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let Some(&person) = index.get(&r.get::<_, String>(0)?) else { continue };
        let kind: String = r.get(2)?;
        out.push(VisitRow {
            person,
            date: date("visit date", &r.get::<_, String>(1)?)?,
            financial_education: kind == VisitKind::FinancialEducation.as_str(),
        });
    }
    Ok(out)
}

/// The SQL condition that a milestone `m` is of no withdrawn IGA: a
/// withdrawn IGA's steps count nowhere, as a withdrawn session's list,
/// until the IGA is put back (results.rs reads live IGAs alone).
pub(crate) const OF_LIVE_IGA: &str =
    "NOT EXISTS (SELECT 1 FROM iga i WHERE i.id = m.iga_id AND i.archived_at IS NOT NULL)";

/// Each person's first record of each milestone kind (of a live IGA).
fn load_milestones(
    conn: &Connection,
    index: &HashMap<String, usize>,
) -> Result<HashMap<(usize, MilestoneKind), Reached>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT beneficiary_id, kind, date, amount FROM milestone m WHERE archived_at IS NULL AND {OF_LIVE_IGA}
         ORDER BY date, created_at, id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out: HashMap<(usize, MilestoneKind), Reached> = HashMap::new();
    while let Some(r) = rows.next()? {
        let Some(&person) = index.get(&r.get::<_, String>(0)?) else { continue };
        let kind: String = r.get(1)?;
        let Some(kind) = MilestoneKind::from_code(&kind) else {
            return Err(Error::Other(format!("stored milestone kind {kind:?} is not a code")));
        };
        let amount = match r.get::<_, Option<String>>(3)? {
            Some(a) => {
                Some(Decimal::from_str(&a).map_err(|_| Error::Other(format!("stored amount {a:?} is not a number")))?)
            }
            None => None,
        };
        let reached = Reached { date: date("milestone date", &r.get::<_, String>(2)?)?, amount };
        out.entry((person, kind)).or_insert(reached);
    }
    Ok(out)
}

/// `n / d` in percent, one decimal, half away from zero.
pub fn percent(n: u64, d: u64) -> Option<Decimal> {
    (d > 0).then(|| ratio(Decimal::from(n) * Decimal::ONE_HUNDRED, Decimal::from(d), 1))
}

fn ratio(n: Decimal, d: Decimal, dp: u32) -> Decimal {
    (n / d).round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero).normalize()
}

/// The exact median; of an even count, the mean of the two middle values.
pub fn median(mut values: Vec<Decimal>) -> Option<Decimal> {
    values.sort();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / Decimal::TWO),
    }
}

fn counts<'a>(items: impl Iterator<Item = (Option<&'a str>, Sex)>) -> Vec<Count> {
    // code → (women, men)
    let mut map: BTreeMap<Option<&str>, (u64, u64)> = BTreeMap::new();
    for (code, sex) in items {
        let e = map.entry(code).or_default();
        match sex {
            Sex::F => e.0 += 1,
            Sex::M => e.1 += 1,
        }
    }
    // Recorded codes in order, then the people without one.
    let total: u64 = map.values().map(|(w, m)| w + m).sum();
    let count = |code: Option<&str>, (w, m): (u64, u64)| Count {
        code: code.map(str::to_string),
        count: w + m,
        women: w,
        men: m,
        share: percent(w + m, total),
    };
    let mut out: Vec<Count> = map.iter().filter(|(k, _)| k.is_some()).map(|(k, n)| count(*k, *n)).collect();
    if let Some(n) = map.get(&None) {
        out.push(count(None, *n));
    }
    out
}

fn months_between(first: NaiveDate, last: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = (first.year(), first.month());
    while (y, m) <= (last.year(), last.month()) {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// Computes every indicator for `filters`, counting follow-up delays to
/// `today`.
pub fn compute(store: &Store, filters: &Filters, today: NaiveDate) -> Result<Indicators> {
    let conn = store.conn();
    let (people, index) = load_people(conn)?;
    let visits = load_visits(conn, &index)?;
    let milestones = load_milestones(conn, &index)?;
    let data = Loaded { people, visits, milestones };
    let stored_targets = targets::list(conn)?;

    let period = figures(&data, &stored_targets, filters, today);
    let results = super::results::compute(store.conn(), filters, today)?;
    let period_year = period_year(filters, today);
    let key_figures = key_figures(&data, &stored_targets, filters, today, &period, &results, period_year);
    let Figures { beneficiaries, coaching, iga, financing, followup } = period;
    let mut out = Indicators {
        filters: filters.clone(),
        as_of: today,
        period_year,
        beneficiaries,
        coaching,
        iga,
        financing,
        followup,
        results,
        key_figures,
        data_status: data_status(store)?,
        fingerprint: String::new(),
    };
    out.fingerprint = fingerprint(&out)?;
    Ok(out)
}

/// The records the indicators read, loaded once per computation.
struct Loaded {
    people: Vec<Person>,
    visits: Vec<VisitRow>,
    milestones: HashMap<(usize, MilestoneKind), Reached>,
}

/// The figures of the people, visits and milestones some filters admit:
/// computed for the filters asked, and again since the start and for each
/// sex for the key figures.
struct Figures {
    beneficiaries: Beneficiaries,
    coaching: Coaching,
    iga: Iga,
    financing: Financing,
    followup: FollowupFigures,
}

fn figures(data: &Loaded, stored_targets: &[crate::target::Target], filters: &Filters, today: NaiveDate) -> Figures {
    let Loaded { people, visits, milestones } = data;
    let within: Vec<bool> = people.iter().map(|p| filters.admits(p)).collect();
    let counted: Vec<bool> = people.iter().zip(&within).map(|(p, w)| *w && filters.in_period(p.registered)).collect();
    let counted_people = || people.iter().zip(&counted).filter(|(_, c)| **c).map(|(p, _)| p);

    // Beneficiaries.
    let registered = counted_people().count() as u64;
    let women = counted_people().filter(|p| p.sex == Sex::F).count() as u64;
    let mut regions: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for p in counted_people() {
        let e = regions.entry(p.region.as_str()).or_default();
        if p.sex == Sex::F {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    for t in stored_targets.iter().filter(|t| t.indicator == "beneficiaries_registered") {
        if let Some(r) = t.region.as_deref().filter(|r| filters.region.as_deref().is_none_or(|f| f == *r)) {
            regions.entry(r).or_default();
        }
    }
    let by_region = regions
        .into_iter()
        .map(|(r, (w, m))| RegionRow {
            region: r.to_string(),
            women: w,
            men: m,
            total: w + m,
            target: targets::applied(stored_targets, "beneficiaries_registered", Some(r), None, None).map(|a| a.target),
        })
        .collect();
    let beneficiaries = Beneficiaries {
        registered,
        women,
        men: registered - women,
        by_region,
        by_country: counts(counted_people().map(|p| (p.country.as_deref(), p.sex))),
        by_sector: counts(counted_people().map(|p| (p.sector.as_deref(), p.sex))),
        by_phase: counts(counted_people().map(|p| (Some(p.phase.as_str()), p.sex))),
        by_cohort: counts(counted_people().map(|p| (p.cohort.as_deref(), p.sex))),
        by_age: counts(counted_people().map(|p| (age_group(crate::beneficiary::age_on(p.birth, p.registered)), p.sex))),
    };

    // Coaching.
    let period_visits: Vec<&VisitRow> =
        visits.iter().filter(|v| within[v.person] && filters.in_period(v.date)).collect();
    let of_counted: Vec<&&VisitRow> = period_visits.iter().filter(|v| counted[v.person]).collect();
    let visited: HashSet<usize> = of_counted.iter().map(|v| v.person).collect();
    let educated: HashSet<usize> = of_counted.iter().filter(|v| v.financial_education).map(|v| v.person).collect();
    let mut per_month: BTreeMap<String, u64> = BTreeMap::new();
    for v in &period_visits {
        *per_month.entry(v.date.format("%Y-%m").to_string()).or_default() += 1;
    }
    let first_month = filters.from.or_else(|| period_visits.iter().map(|v| v.date).min());
    let last_month = filters
        .to
        .map_or(today, |t| t.min(today))
        .max(period_visits.iter().map(|v| v.date).max().unwrap_or(NaiveDate::MIN));
    let visits_per_month = match first_month {
        Some(first) => months_between(first, last_month)
            .into_iter()
            .map(|m| MonthCount { visits: per_month.get(&m).copied().unwrap_or(0), month: m })
            .collect(),
        None => Vec::new(),
    };
    let coaching = Coaching {
        people: registered,
        with_visit: visited.len() as u64,
        share_with_visit: percent(visited.len() as u64, registered),
        with_financial_education: educated.len() as u64,
        share_financial_education: percent(educated.len() as u64, registered),
        visits_of_people: of_counted.len() as u64,
        mean_visits_per_person: (registered > 0)
            .then(|| ratio(Decimal::from(of_counted.len()), Decimal::from(registered), 2)),
        visits: period_visits.len() as u64,
        visits_per_month,
    };

    // IGA funnel, launches, financing.
    let reached = |kind: MilestoneKind| -> Vec<(usize, Reached)> {
        milestones
            .iter()
            .filter(|((p, k), r)| *k == kind && within[*p] && filters.in_period(r.date))
            .map(|((p, _), r)| (*p, *r))
            .collect()
    };
    let funnel: Vec<Stage> =
        MilestoneKind::ALL.iter().map(|k| Stage { kind: *k, people: reached(*k).len() as u64 }).collect();
    let people_at = |k: MilestoneKind| funnel.iter().find(|s| s.kind == k).map_or(0, |s| s.people);
    let launches = reached(MilestoneKind::IgaLaunched);
    let sustained_later =
        launches.iter().filter(|(p, _)| milestones.contains_key(&(*p, MilestoneKind::Sustained12Months))).count()
            as u64;
    let delays: Vec<Decimal> = launches
        .iter()
        .map(|(p, r)| (r.date - people[*p].registered).num_days())
        .filter(|d| *d >= 0)
        .map(Decimal::from)
        .collect();
    let iga = Iga {
        launched: people_at(MilestoneKind::IgaLaunched),
        sustained_12_months: people_at(MilestoneKind::Sustained12Months),
        stopped: people_at(MilestoneKind::IgaStopped),
        sustained_of_launched: LaunchCohort {
            launched: launches.len() as u64,
            sustained: sustained_later,
            share: percent(sustained_later, launches.len() as u64),
        },
        launches_timed: delays.len() as u64,
        median_days_to_launch: median(delays),
        funnel,
    };
    let amounts: Vec<Decimal> =
        reached(MilestoneKind::FinancingObtained).into_iter().filter_map(|(_, r)| r.amount).collect();
    let financing = Financing {
        people: amounts.len() as u64,
        total: Mad(amounts.iter().sum::<Decimal>()),
        median: median(amounts),
    };

    // Follow-up, counted on `today`.
    let mut last_contact: Vec<NaiveDate> = people.iter().map(|p| p.registered).collect();
    for v in visits {
        last_contact[v.person] = last_contact[v.person].max(v.date);
    }
    let without_visit = |days: i64| {
        let since = today.checked_sub_days(Days::new(days as u64)).unwrap_or(NaiveDate::MIN);
        (0..people.len()).filter(|i| counted[*i] && last_contact[*i] < since).count() as u64
    };
    let followup = FollowupFigures {
        no_visit_60_days: without_visit(NO_VISIT_DAYS[0]),
        no_visit_90_days: without_visit(NO_VISIT_DAYS[1]),
    };

    Figures { beneficiaries, coaching, iga, financing, followup }
}

/// The calendar year the period lies within, whose targets its figures are
/// measured against: `None` when the period runs from the start (no first
/// day) or spans two years (its last day, else `today`, in another year).
pub fn period_year(filters: &Filters, today: NaiveDate) -> Option<i32> {
    let from = filters.from?;
    (from.year() == filters.to.unwrap_or(today).year()).then_some(from.year())
}

/// The results framework's figures of one span (the period, or since the
/// start).
struct Span<'a> {
    survival_12: &'a super::results::Survival,
    survival_6: &'a super::results::Survival,
    income_12: &'a super::results::Income,
    participation: &'a super::results::Participation,
    decent_work: &'a super::results::DecentWork,
}

impl<'a> Span<'a> {
    fn of(r: &'a super::results::Results, cumulative: bool) -> Self {
        use super::results::Both;
        fn pick<T>(b: &Both<T>, cumulative: bool) -> &T {
            if cumulative {
                &b.cumulative
            } else {
                &b.period
            }
        }
        Span {
            survival_12: pick(&r.survival_12_months, cumulative),
            survival_6: pick(&r.survival_6_months, cumulative),
            income_12: pick(&r.income_12_months, cumulative),
            participation: pick(&r.participation, cumulative),
            decent_work: pick(&r.decent_work, cumulative),
        }
    }
}

/// Each key figure's indicator, unit and value.
type KeyValues = [(&'static str, Unit, Option<Decimal>); 16];

/// The value of every key figure in one span for one sex (`None`:
/// everyone): `f` the figures of that span computed for that sex, `r` the
/// results framework's figures of that span (split by sex already).
fn key_values(f: &Figures, r: &Span<'_>, sex: Option<Sex>) -> KeyValues {
    let count = |n: u64| Some(Decimal::from(n));
    let (p, d) = (r.participation, r.decent_work);
    [
        ("beneficiaries_registered", Unit::People, count(f.beneficiaries.registered)),
        ("women_registered", Unit::People, count(f.beneficiaries.women)),
        ("share_with_visit", Unit::Percent, f.coaching.share_with_visit),
        ("share_financial_education", Unit::Percent, f.coaching.share_financial_education),
        ("iga_launched", Unit::People, count(f.iga.launched)),
        ("iga_sustained_12_months", Unit::People, count(f.iga.sustained_12_months)),
        // IGA survival at 12 months, on its right base: the IGAs launched
        // at least 12 months before the span's end (results.rs).
        ("share_sustained_of_launched", Unit::Percent, r.survival_12.share.of(sex)),
        ("financing_obtained_total", Unit::Mad, Some(f.financing.total.0)),
        ("pre_departure_oriented", Unit::People, count(p.pre_departure_oriented.of(sex))),
        ("financial_education_completed", Unit::People, count(p.financial_education_completed.of(sex))),
        ("referrals_taken_up", Unit::People, count(p.referrals_taken_up.of(sex))),
        ("survival_6_months", Unit::Percent, r.survival_6.share.of(sex)),
        ("median_profit_12_months", Unit::Mad, r.income_12.median_profit.of(sex)),
        ("igas_formalised", Unit::People, count(d.formalised.of(sex))),
        ("igas_with_social_security", Unit::People, count(d.social_security.of(sex))),
        ("jobs_created", Unit::People, count(d.jobs_created.of(sex))),
    ]
}

/// How far `value` is of `target`: in percent, one decimal, half away from
/// zero (may exceed 100); `None` for a target of zero.
pub fn progress(value: Decimal, target: Decimal) -> Option<Decimal> {
    (!target.is_zero()).then(|| ratio(value * Decimal::ONE_HUNDRED, target, 1))
}

fn against(value: Option<Decimal>, target: Option<Applied>) -> Against {
    let progress = value.zip(target.as_ref()).and_then(|(v, t)| progress(v, t.target));
    Against { value: value.map(|v| v.normalize()), target, progress }
}

/// Every key figure, for the period and since the start, each against its
/// own target: the cumulative one against the end-of-project target, the
/// period's against the target of `year` (the calendar year the period
/// lies within), else none. The region and sex filtered choose the
/// targets' region and sex; without a sex filter, women's and men's
/// figures come beside everyone's, each against its own target.
fn key_figures(
    data: &Loaded,
    stored: &[crate::target::Target],
    filters: &Filters,
    today: NaiveDate,
    figures_of_filters: &Figures,
    r: &super::results::Results,
    year: Option<i32>,
) -> Vec<KeyFigure> {
    let since_start = |f: &Filters| Filters { from: None, ..f.clone() };
    // The figures of each span, for everyone then each sex (when no sex is
    // filtered): the period's, and since the start (the same when the
    // period runs from the start).
    let mut spans: Vec<(Option<Sex>, Filters)> = vec![(None, filters.clone())];
    if filters.sex.is_none() {
        spans.extend(Sex::ALL.iter().map(|s| (Some(*s), Filters { sex: Some(*s), ..filters.clone() })));
    }
    let (period_span, cumulative_span) = (Span::of(r, false), Span::of(r, true));
    let values: Vec<(Option<Sex>, KeyValues, KeyValues)> = spans
        .iter()
        .map(|(sex, f)| {
            // Everyone's figures of the period are the indicators' own.
            let computed;
            let period = match sex {
                None => figures_of_filters,
                Some(_) => {
                    computed = figures(data, stored, f, today);
                    &computed
                }
            };
            let cumulative = if f.from.is_some() {
                key_values(&figures(data, stored, &since_start(f), today), &cumulative_span, *sex)
            } else {
                key_values(period, &cumulative_span, *sex)
            };
            (*sex, key_values(period, &period_span, *sex), cumulative)
        })
        .collect();
    let region = filters.region.as_deref();
    (0..16)
        .map(|n| {
            let (indicator, unit, _) = values[0].1[n];
            let split = !crate::target::NOT_BY_SEX.contains(&indicator);
            let measured = |cumulative: bool| {
                let target_year = if cumulative { None } else { year };
                let of = |sex: Option<Sex>, target_sex: Option<Sex>| {
                    let (_, period, since) = values.iter().find(|v| v.0 == sex)?;
                    let value = if cumulative { since[n].2 } else { period[n].2 };
                    let target = if cumulative || year.is_some() {
                        targets::applied(stored, indicator, region, target_year, target_sex)
                    } else {
                        None
                    };
                    Some(against(value, target))
                };
                let by_sex = |sex: Sex| of(Some(sex), Some(sex)).filter(|_| split);
                Measured {
                    all: of(None, filters.sex).unwrap_or(Against { value: None, target: None, progress: None }),
                    women: by_sex(Sex::F),
                    men: by_sex(Sex::M),
                }
            };
            KeyFigure { indicator: indicator.to_string(), unit, period: measured(false), cumulative: measured(true) }
        })
        .collect()
}

fn count(conn: &Connection, sql: &str) -> Result<u64> {
    Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))?.max(0) as u64)
}

/// The sync engine's view of laptops, conflicts and duplicates, reduced to
/// what a report shows.
fn data_status(store: &Store) -> Result<DataStatus> {
    let conn = store.conn();
    let (devices, open_conflicts, open_duplicates) = if store.is_initialised() {
        let devices = store
            .devices()?
            .into_iter()
            .map(|d| DeviceStatus {
                id: d.id,
                name: d.name,
                coordinator: d.coordinator,
                this_device: d.this_device,
                last_change_at: d.last_change_at,
                changes: d.changes.max(0) as u64,
                last_bundle_at: d.last_bundle_created_at,
            })
            .collect();
        (devices, Some(store.conflicts(false)?.len() as u64), Some(store.duplicates(false)?.len() as u64))
    } else {
        (Vec::new(), None, None)
    };
    let records = RecordCounts {
        beneficiaries: count(conn, "SELECT count(*) FROM beneficiary WHERE archived_at IS NULL")?,
        visits: count(
            conn,
            "SELECT count(*) FROM visit v JOIN beneficiary b ON b.id = v.beneficiary_id
             WHERE v.archived_at IS NULL AND b.archived_at IS NULL",
        )?,
        milestones: count(
            conn,
            &format!(
                "SELECT count(*) FROM milestone m JOIN beneficiary b ON b.id = m.beneficiary_id
                 WHERE m.archived_at IS NULL AND b.archived_at IS NULL AND {OF_LIVE_IGA}"
            ),
        )?,
        targets: count(conn, "SELECT count(*) FROM target WHERE archived_at IS NULL")?,
    };
    let last_stamp = crate::store::log::last_stamp(conn)?;
    Ok(DataStatus { devices, open_conflicts, open_duplicates, records, last_stamp: last_stamp.unwrap_or_default() })
}

/// SHA-256 over the canonical JSON of the indicators (which hold the
/// record counts and the last change stamp), first 8 hex digits.
fn fingerprint(i: &Indicators) -> Result<String> {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_string(i)?;
    let digest = Sha256::digest(json.as_bytes());
    Ok(digest.iter().take(4).map(|b| format!("{b:02x}")).collect())
}
