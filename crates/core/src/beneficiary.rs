//! A beneficiary: the person the programme supports, her identity, consent
//! and where she lives and migrates; and the rules a record must meet.
//! Database rules (a CIN already used on this laptop) are checked by the
//! store, which alone writes.

use crate::codes::{CaseStatus, IdDocType, Phase, Sector, Sex};
use crate::error::{Checker, FieldError, Result};
use crate::identity::{parse_cin, parse_phone, parse_phone_any};
use crate::money::Mad;
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
    /// The results framework's questions, each absent from records that
    /// never answered it, so records and bundles of earlier versions read
    /// and compare as before ([`LATER_FIELDS`]).
    #[serde(flatten)]
    pub more: More,
}

/// A person's fields added with the results framework (schema 6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct More {
    /// Where her case stands; none is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CaseStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_date: Option<NaiveDate>,
    /// Why she dropped out (required then), or moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The coordinator or partner agency that follows her.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<String>,
    /// A yes/no answer, when the Washington Group questions were not asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disability: Option<bool>,
    /// The Washington Group short set: difficulty seeing, hearing,
    /// walking, remembering or concentrating, with self-care,
    /// communicating; 1 none, 2 some, 3 a lot, 4 cannot do at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wg_seeing: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wg_hearing: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wg_walking: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wg_cognition: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wg_selfcare: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wg_communication: Option<u8>,
    /// ISO 3166-1 alpha-2; none is Morocco. Moroccan rules (CIN, a
    /// Moroccan number, a region of Morocco) apply to Moroccans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_of_origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    /// The identity document of someone from another country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_doc_type: Option<IdDocType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_doc_number: Option<String>,
    /// Her place of origin outside Morocco (a town, a district).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_abroad: Option<String>,
    /// Her monthly income as declared at registration: the baseline of
    /// the income indicators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_income: Option<Mad>,
}

/// The fields of [`More`], which records of earlier versions lack: the
/// last of [`EDITABLE`], from `status` on.
pub const LATER_FIELDS: &[&str] = EDITABLE.split_at(EARLIER_EDITABLE).1;

/// How many of [`EDITABLE`] records of every version have.
const EARLIER_EDITABLE: usize = 20;

/// The Washington Group questions, in their order.
pub const WG_QUESTIONS: [&str; 6] =
    ["wg_seeing", "wg_hearing", "wg_walking", "wg_cognition", "wg_selfcare", "wg_communication"];

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
    pub status: Option<String>,
    pub status_date: Option<String>,
    pub status_reason: Option<String>,
    pub responsible: Option<String>,
    pub disability: Option<bool>,
    pub wg_seeing: Option<i64>,
    pub wg_hearing: Option<i64>,
    pub wg_walking: Option<i64>,
    pub wg_cognition: Option<i64>,
    pub wg_selfcare: Option<i64>,
    pub wg_communication: Option<i64>,
    pub country_of_origin: Option<String>,
    pub nationality: Option<String>,
    pub id_doc_type: Option<String>,
    pub id_doc_number: Option<String>,
    pub place_abroad: Option<String>,
    /// A string (`"1500"`, `"1 500,00"`) or a JSON number.
    pub baseline_income: Option<serde_json::Value>,
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
    "status",
    "status_date",
    "status_reason",
    "responsible",
    "disability",
    "wg_seeing",
    "wg_hearing",
    "wg_walking",
    "wg_cognition",
    "wg_selfcare",
    "wg_communication",
    "country_of_origin",
    "nationality",
    "id_doc_type",
    "id_doc_number",
    "place_abroad",
    "baseline_income",
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
        let country = |field: &str, v: &Option<String>| {
            opt_str(v)
                .map(str::to_uppercase)
                .filter(|c| c != "MA" || field != "country_of_origin")
                .map(|code| {
                    if reference::is_origin_country(&code) {
                        Ok(code)
                    } else {
                        Err(FieldError::new(field, "unknown_code").with("value", code))
                    }
                })
                .transpose()
        };
        // None is Morocco: Moroccan rules apply to Moroccans only.
        let country_of_origin = c.take(country("country_of_origin", &self.country_of_origin));
        let moroccan = matches!(country_of_origin, Some(None));
        let nationality = c.take(country("nationality", &self.nationality));
        let cin = c.take(opt_text("cin", &self.cin, 20).and_then(|v| match v {
            Some(_) if !moroccan => {
                Err(FieldError::new("cin", "cin_for_moroccans").with("other_field", "country_of_origin"))
            }
            v => v.map(|s| parse_cin("cin", &s)).transpose(),
        }));
        let phone = c.take(opt_text("phone", &self.phone, 30).and_then(|v| {
            v.map(|s| if moroccan { parse_phone("phone", &s) } else { parse_phone_any("phone", &s) }).transpose()
        }));
        let region = c.take(req_str("region", &self.region).and_then(|r| match reference::region(r) {
            Some(reg) if reg.code == reference::OUTSIDE_MOROCCO && moroccan => {
                Err(FieldError::new("region", "outside_morocco_for_others").with("other_field", "country_of_origin"))
            }
            Some(reg) => Ok(reg.code.clone()),
            None => Err(unknown_region(r)),
        }));
        let id_doc_type = c.take(opt_str(&self.id_doc_type).map(|t| IdDocType::parse("id_doc_type", t)).transpose());
        let id_doc_number = c.take(opt_text("id_doc_number", &self.id_doc_number, 30));
        match (&id_doc_type, &id_doc_number) {
            (Some(Some(_)), Some(None)) => {
                c.push(FieldError::new("id_doc_number", "required").with("other_field", "id_doc_type"))
            }
            (Some(None), Some(Some(_))) => {
                c.push(FieldError::new("id_doc_type", "required").with("other_field", "id_doc_number"))
            }
            _ => {}
        }
        let place_abroad = c.take(opt_text("place_abroad", &self.place_abroad, 120));
        let status = c.take(opt_str(&self.status).map(|s| CaseStatus::parse("status", s)).transpose());
        let status_date = c.take(opt_date("status_date", &self.status_date).and_then(|d| match d {
            Some(d) => past_date("status_date", d, today).map(Some),
            None => Ok(None),
        }));
        let status_reason = c.take(opt_text("status_reason", &self.status_reason, 500));
        if matches!(status, Some(Some(CaseStatus::DroppedOut))) && matches!(status_reason, Some(None)) {
            c.push(FieldError::new("status_reason", "required").with("other_field", "status"));
        }
        let responsible = c.take(opt_text("responsible", &self.responsible, 120));
        let wg = |field: &str, v: Option<i64>| v.map(|n| in_range(field, n, 1, 4).map(|n| n as u8)).transpose();
        let wg_seeing = c.take(wg("wg_seeing", self.wg_seeing));
        let wg_hearing = c.take(wg("wg_hearing", self.wg_hearing));
        let wg_walking = c.take(wg("wg_walking", self.wg_walking));
        let wg_cognition = c.take(wg("wg_cognition", self.wg_cognition));
        let wg_selfcare = c.take(wg("wg_selfcare", self.wg_selfcare));
        let wg_communication = c.take(wg("wg_communication", self.wg_communication));
        let baseline_income = c.take(match &self.baseline_income {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(serde_json::Value::String(s)) => Mad::parse("baseline_income", s).map(Some),
            Some(serde_json::Value::Number(n)) => Mad::parse("baseline_income", &n.to_string()).map(Some),
            Some(_) => Err(FieldError::new("baseline_income", "invalid_amount")),
        });
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
                more: More {
                    status: status?,
                    status_date: status_date?,
                    status_reason: status_reason?,
                    responsible: responsible?,
                    disability: self.disability,
                    wg_seeing: wg_seeing?,
                    wg_hearing: wg_hearing?,
                    wg_walking: wg_walking?,
                    wg_cognition: wg_cognition?,
                    wg_selfcare: wg_selfcare?,
                    wg_communication: wg_communication?,
                    country_of_origin: country_of_origin?,
                    nationality: nationality?,
                    id_doc_type: id_doc_type?,
                    id_doc_number: id_doc_number?,
                    place_abroad: place_abroad?,
                    baseline_income: baseline_income?,
                },
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
            status: self.more.status.map(|s| s.to_string()),
            status_date: self.more.status_date.map(|d| d.to_string()),
            status_reason: self.more.status_reason.clone(),
            responsible: self.more.responsible.clone(),
            disability: self.more.disability,
            wg_seeing: self.more.wg_seeing.map(i64::from),
            wg_hearing: self.more.wg_hearing.map(i64::from),
            wg_walking: self.more.wg_walking.map(i64::from),
            wg_cognition: self.more.wg_cognition.map(i64::from),
            wg_selfcare: self.more.wg_selfcare.map(i64::from),
            wg_communication: self.more.wg_communication.map(i64::from),
            country_of_origin: self.more.country_of_origin.clone(),
            nationality: self.more.nationality.clone(),
            id_doc_type: self.more.id_doc_type.map(|t| t.to_string()),
            id_doc_number: self.more.id_doc_number.clone(),
            place_abroad: self.more.place_abroad.clone(),
            baseline_income: self.more.baseline_income.map(|m| serde_json::Value::String(m.0.to_string())),
        }
    }

    /// Whether she has a disability: a lot of difficulty, or none possible,
    /// in any of the Washington Group's domains; else her yes/no answer;
    /// none when neither was asked.
    pub fn has_disability(&self) -> Option<bool> {
        let m = &self.more;
        let answers = [m.wg_seeing, m.wg_hearing, m.wg_walking, m.wg_cognition, m.wg_selfcare, m.wg_communication];
        if answers.iter().any(|a| a.is_some()) {
            return Some(answers.iter().flatten().any(|a| *a >= 3));
        }
        m.disability
    }

    /// Where her case stands (active when never said).
    pub fn status(&self) -> CaseStatus {
        self.more.status.unwrap_or(CaseStatus::Active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_later_fields_are_those_of_more() {
        let all = More {
            status: Some(CaseStatus::Active),
            status_date: Some(NaiveDate::MIN),
            status_reason: Some(String::new()),
            responsible: Some(String::new()),
            disability: Some(true),
            wg_seeing: Some(1),
            wg_hearing: Some(1),
            wg_walking: Some(1),
            wg_cognition: Some(1),
            wg_selfcare: Some(1),
            wg_communication: Some(1),
            country_of_origin: Some(String::new()),
            nationality: Some(String::new()),
            id_doc_type: Some(IdDocType::Other),
            id_doc_number: Some(String::new()),
            place_abroad: Some(String::new()),
            baseline_income: Some(Mad(rust_decimal::Decimal::ONE)),
        };
        let serde_json::Value::Object(keys) = serde_json::to_value(all).unwrap() else { panic!() };
        let mut keys: Vec<&str> = keys.keys().map(String::as_str).collect();
        let mut later = LATER_FIELDS.to_vec();
        keys.sort();
        later.sort();
        assert_eq!(keys, later);
    }
}
