//! A beneficiary: the person the programme supports, her identity, consent
//! and where she lives and migrates; and the rules a record must meet.
//! Database rules (a CIN already used on this laptop) are checked by the
//! store, which alone writes.

use crate::codes::{Phase, Sector, Sex};
use crate::error::{Checker, FieldError, Result};
use crate::identity::{parse_cin, parse_phone};
use crate::reference;
use crate::validate::{in_range, opt_date, opt_str, opt_text, parse_date, past_date, req_date, req_str, req_text};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const MIN_AGE: i64 = 15;
pub const MAX_AGE: i64 = 80;

/// A stored beneficiary. Field names are the JSON names of the CLI, the UI
/// and the bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beneficiary {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub name_ar: Option<String>,
    pub sex: Sex,
    /// Her date of birth; when only the year is known
    /// (`birth_date_approx`), 1 January of that year.
    pub birth_date: NaiveDate,
    /// Only the year of birth is known (said "vers 1985"): the age rule
    /// and the duplicate finder use the year. Absent (false) from records
    /// with an exact date, so records and bundles of earlier versions read
    /// and compare as before; a `null` (an approximate date made exact
    /// again) reads as false.
    #[serde(default, deserialize_with = "null_is_false", skip_serializing_if = "std::ops::Not::not")]
    pub birth_date_approx: bool,
    pub cin: Option<String>,
    /// E.164, e.g. `+212612345678`.
    pub phone: Option<String>,
    /// Two-digit region code.
    pub region: String,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub douar: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub destination_country: Option<String>,
    pub seasons_abroad: Option<u32>,
    pub phase: Phase,
    pub iga_sector: Option<Sector>,
    pub consent: bool,
    pub consent_date: Option<NaiveDate>,
    pub cohort: Option<String>,
    pub notes: Option<String>,
    /// UTC instant of the registration.
    pub created_at: String,
    /// Device that registered her.
    pub created_by: Uuid,
    /// Set when the record was archived (a registration made by mistake);
    /// archived records are kept, never erased.
    pub archived_at: Option<String>,
    pub archive_reason: Option<String>,
}

/// What a form or the CLI gives: every field optional and loosely typed,
/// so that each problem can be named.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name_ar: Option<String>,
    pub sex: Option<String>,
    /// `YYYY-MM-DD`, or a year alone (`1985`) when the exact date is not
    /// known: the same as `birth_date_approx: true`.
    pub birth_date: Option<String>,
    /// Only the year of `birth_date` is known; a full date given with it
    /// keeps its year.
    pub birth_date_approx: Option<bool>,
    pub cin: Option<String>,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub douar: Option<String>,
    pub destination_country: Option<String>,
    pub seasons_abroad: Option<i64>,
    pub phase: Option<String>,
    pub iga_sector: Option<String>,
    pub consent: Option<bool>,
    pub consent_date: Option<String>,
    pub cohort: Option<String>,
    pub notes: Option<String>,
}

/// The fields a person may edit after registration.
pub const EDITABLE: &[&str] = &[
    "first_name",
    "last_name",
    "name_ar",
    "sex",
    "birth_date",
    "birth_date_approx",
    "cin",
    "phone",
    "region",
    "province",
    "commune",
    "douar",
    "destination_country",
    "seasons_abroad",
    "phase",
    "iga_sector",
    "consent",
    "consent_date",
    "cohort",
    "notes",
];

/// Identity fields of a new record, given by the store.
pub struct Origin {
    pub id: Uuid,
    pub created_at: String,
    pub created_by: Uuid,
}

impl BeneficiaryInput {
    /// Checks every field; gives the record or all the field errors.
    pub fn validate(&self, today: NaiveDate, origin: Origin) -> Result<Beneficiary> {
        let mut c = Checker::default();
        let first_name = c.take(req_text("first_name", &self.first_name, 100));
        let last_name = c.take(req_text("last_name", &self.last_name, 100));
        let name_ar = c.take(opt_text("name_ar", &self.name_ar, 200).and_then(|n| match n {
            Some(n) if !is_arabic_script(&n) => Err(FieldError::new("name_ar", "not_arabic")),
            other => Ok(other),
        }));
        let sex = c.take(req_str("sex", &self.sex).and_then(|s| Sex::parse("sex", s)));
        let (birth_date, birth_date_approx) = match c.take(
            parse_birth(&self.birth_date, self.birth_date_approx).and_then(|(d, a)| Ok((check_age(d, today)?, a))),
        ) {
            Some((d, a)) => (Some(d), a),
            None => (None, false),
        };
        let cin = c.take(opt_text("cin", &self.cin, 20).and_then(|v| v.map(|s| parse_cin("cin", &s)).transpose()));
        let phone =
            c.take(opt_text("phone", &self.phone, 30).and_then(|v| v.map(|s| parse_phone("phone", &s)).transpose()));
        let region = c.take(req_str("region", &self.region).and_then(|r| match reference::region(r) {
            Some(reg) => Ok(reg.code.clone()),
            None => Err(unknown_region(r)),
        }));
        let province = c.take(opt_text("province", &self.province, 100));
        if let (Some(Some(p)), Some(r)) = (&province, &region) {
            if !reference::region(r).is_some_and(|reg| reg.has_province(p)) {
                c.push(FieldError::new("province", "province_not_in_region").with("value", p).with("region", r));
            }
        }
        let commune = c.take(opt_text("commune", &self.commune, 100));
        let douar = c.take(opt_text("douar", &self.douar, 100));
        let destination_country = c.take(
            opt_str(&self.destination_country)
                .map(str::to_uppercase)
                .map(|code| if reference::is_country(&code) { Ok(code) } else { Err(unknown_country(&code)) })
                .transpose(),
        );
        let seasons_abroad =
            c.take(self.seasons_abroad.map(|n| in_range("seasons_abroad", n, 0, 60).map(|n| n as u32)).transpose());
        let phase = c.take(opt_str(&self.phase).map_or(Ok(Phase::PreDeparture), |p| Phase::parse("phase", p)));
        let iga_sector = c.take(opt_str(&self.iga_sector).map(|s| Sector::parse("iga_sector", s)).transpose());
        let consent = self.consent == Some(true);
        if !consent {
            c.push(FieldError::new("consent", "consent_required"));
        }
        let consent_date = c.take(opt_date("consent_date", &self.consent_date).and_then(|d| match d {
            Some(d) => past_date("consent_date", d, today).map(Some),
            None => Ok(Some(today)),
        }));
        let cohort = c.take(opt_text("cohort", &self.cohort, 40));
        let notes = c.take(opt_text("notes", &self.notes, 4000));
        c.finish(|| {
            Some(Beneficiary {
                id: origin.id,
                first_name: first_name?,
                last_name: last_name?,
                name_ar: name_ar?,
                sex: sex?,
                birth_date: birth_date?,
                birth_date_approx,
                cin: cin?,
                phone: phone?,
                region: region?,
                province: province?,
                commune: commune?,
                douar: douar?,
                destination_country: destination_country?,
                seasons_abroad: seasons_abroad?,
                phase: phase?,
                iga_sector: iga_sector?,
                consent,
                consent_date: consent_date?,
                cohort: cohort?,
                notes: notes?,
                created_at: origin.created_at,
                created_by: origin.created_by,
                archived_at: None,
                archive_reason: None,
            })
        })
    }
}

fn unknown_region(value: &str) -> FieldError {
    let codes: Vec<&str> = reference::regions().iter().map(|r| r.code.as_str()).collect();
    FieldError::new("region", "unknown_code").with("value", value).with("allowed", codes.join(", "))
}

fn unknown_country(value: &str) -> FieldError {
    let codes: Vec<&str> = reference::COUNTRIES.iter().map(|c| c.0).collect();
    FieldError::new("destination_country", "unknown_code").with("value", value).with("allowed", codes.join(", "))
}

/// The birth date given and whether only its year is known: a year alone
/// (`1985`), or a date with `approx` (its year kept, as 1 January).
pub(crate) fn parse_birth(value: &Option<String>, approx: Option<bool>) -> Result<(NaiveDate, bool), FieldError> {
    let text = req_str("birth_date", value)?;
    if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
        if approx == Some(false) {
            return Err(FieldError::new("birth_date", "invalid_date"));
        }
        return Ok((parse_date("birth_date", &format!("{text}-01-01"))?, true));
    }
    let date = req_date("birth_date", value)?;
    match approx {
        Some(true) => Ok((parse_date("birth_date", &format!("{:04}-01-01", date.year()))?, true)),
        _ => Ok((date, false)),
    }
}

fn null_is_false<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

/// Age in whole years on `today`.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> i64 {
    let mut age = i64::from(today.year() - birth.year());
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

fn check_age(birth: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let birth = past_date("birth_date", birth, today)?;
    let age = age_on(birth, today);
    if (MIN_AGE..=MAX_AGE).contains(&age) {
        Ok(birth)
    } else {
        Err(FieldError::new("birth_date", "age_out_of_range")
            .with("age", age)
            .with("min", MIN_AGE)
            .with("max", MAX_AGE))
    }
}

/// True when the text has Arabic letters and no Latin ones.
fn is_arabic_script(s: &str) -> bool {
    s.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)) && !s.chars().any(|c| c.is_ascii_alphabetic())
}

impl Beneficiary {
    /// Whether her identifying data was erased (consent withdrawn): an
    /// erasure leaves both names empty, which no form can write
    /// (erasure.rs).
    pub fn is_erased(&self) -> bool {
        self.first_name.is_empty() && self.last_name.is_empty()
    }

    /// The year of birth when only it is known (shown "vers 1985").
    pub fn approx_birth_year(&self) -> Option<i32> {
        self.birth_date_approx.then(|| self.birth_date.year())
    }

    /// Born the same day, or the same year when either knows only the
    /// year: what the duplicate finder compares.
    pub fn same_birth(&self, other: &Beneficiary) -> bool {
        if self.birth_date_approx || other.birth_date_approx {
            self.birth_date.year() == other.birth_date.year()
        } else {
            self.birth_date == other.birth_date
        }
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The input that would give this record again; the base of an edit.
    pub fn to_input(&self) -> BeneficiaryInput {
        BeneficiaryInput {
            first_name: Some(self.first_name.clone()),
            last_name: Some(self.last_name.clone()),
            name_ar: self.name_ar.clone(),
            sex: Some(self.sex.to_string()),
            birth_date: Some(self.birth_date.to_string()),
            birth_date_approx: self.birth_date_approx.then_some(true),
            cin: self.cin.clone(),
            phone: self.phone.clone(),
            region: Some(self.region.clone()),
            province: self.province.clone(),
            commune: self.commune.clone(),
            douar: self.douar.clone(),
            destination_country: self.destination_country.clone(),
            seasons_abroad: self.seasons_abroad.map(i64::from),
            phase: Some(self.phase.to_string()),
            iga_sector: self.iga_sector.map(|s| s.to_string()),
            consent: Some(self.consent),
            consent_date: self.consent_date.map(|d| d.to_string()),
            cohort: self.cohort.clone(),
            notes: self.notes.clone(),
        }
    }
}
