//! A beneficiary: the person the programme supports, her identity, consent
//! and where she lives and migrates; and the rules a record must meet.
//! Database rules (a CIN already used on this laptop) are checked by the
//! store, which alone writes.

use crate::codes::{CaseStatus, IdDocType, Phase, Sector, Sex};
use crate::erasure::Scrub::{Dash, Empty, Null, Year};
use crate::error::{Checker, Error, FieldError, Result};
use crate::identity::{parse_cin, parse_phone, parse_phone_any};
use crate::kinds::{Field, Kind, Ty};
use crate::money::Mad;
use crate::reference;
use crate::store::log::Entity;
use crate::validate::{opt_str, opt_text, parse_date, past_date, req_date, req_str};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

pub const MIN_AGE: i64 = 15;
pub const MAX_AGE: i64 = 80;

/// A person's fields, declared once (kinds.rs), in the order of her
/// record: what her typed record checks (the rules marked `custom` are
/// its code's), and what the fields a person may edit, her table's
/// columns, the export's columns, what an erasure leaves and the data
/// dictionary follow from. A test keeps [`Beneficiary`]'s serde names
/// equal to it. A question with no typed member is an [`Field::answer`]:
/// its entry here, its label (`field.<name>` in ui/locales) and, for a
/// column, a migration are all it needs (docs/data-dictionary.md, "Adding
/// a question").
pub static KIND: Kind = Kind {
    entity: Entity::Beneficiary,
    fields: &[
        Field::new("first_name", Ty::Text(100)).required().identifying(Empty).column(),
        Field::new("last_name", Ty::Text(100)).required().identifying(Empty).column(),
        Field::new("name_ar", Ty::Text(200))
            .identifying(Null)
            .column()
            .custom("Arabic letters and no Latin ones (`not_arabic`)"),
        Field::new("sex", Ty::Code("sex", Sex::CODES)).required().column(),
        Field::new("birth_date", Ty::Date).required().identifying(Year).column().pseudonymised_as("birth_year").custom(
            "age on the day of entry 15 to 80 (`age_out_of_range`); a year alone (`\"1985\"`) \
                 is 1 January of that year with `birth_date_approx`; exported as the year alone then",
        ),
        Field::new("birth_date_approx", Ty::Bool)
            .later()
            .pseudonymised_as("birth_year_approx")
            .custom("`true` when only the year of birth is known; absent for an exact date"),
        Field::new("cin", Ty::Text(20)).identifying(Null).column().custom(
            "one or two letters then 3 to 6 digits, stored upper case without spaces (`invalid_cin`); \
             for Moroccans only (`cin_for_moroccans`); unique among the live records of a laptop (`cin_taken`)",
        ),
        Field::new("phone", Ty::Text(30)).identifying(Null).column().custom(
            "stored in E.164 (`invalid_phone`): a Moroccan number for a Moroccan, else written \
             internationally",
        ),
        Field::new("region", Ty::Region)
            .required()
            .column()
            .custom("`00` (outside Morocco) for people from another country only (`outside_morocco_for_others`)"),
        Field::new("province", Ty::Province).column().custom("one of the region's (`province_not_in_region`)"),
        Field::new("commune", Ty::Text(100)).identifying(Null).column(),
        Field::new("douar", Ty::Text(100)).identifying(Null),
        Field::new("destination_country", Ty::Country).column(),
        Field::new("seasons_abroad", Ty::Int(0, 60)),
        Field::new("phase", Ty::Code("phase", Phase::CODES))
            .required()
            .column()
            .custom("`pre_departure` when not given"),
        Field::new("iga_sector", Ty::Code("sector", Sector::CODES)).column(),
        Field::new("consent", Ty::Bool).required().named_only().custom("must be `true` (`consent_required`)"),
        Field::new("consent_date", Ty::Date)
            .pseudonymised_as("registration_month")
            .custom("the day of registration when not given"),
        Field::new("cohort", Ty::Text(40)).column().pseudonymised_as("cohort"),
        Field::new("notes", Ty::Text(4000)).identifying(Null),
        // The results framework's questions (schema 6).
        Field::new("status", Ty::Code("case_status", CaseStatus::CODES)).later().custom("none is `active`"),
        Field::new("status_date", Ty::Date).later().pseudonymised_as("status_month"),
        Field::new("status_reason", Ty::Text(500))
            .later()
            .identifying(Dash)
            .custom("required for `dropped_out` (`required`)"),
        Field::new("responsible", Ty::Text(120)).answer(),
        Field::new("disability", Ty::Bool).later(),
        Field::new("wg_seeing", Ty::Int(1, 4)).later(),
        Field::new("wg_hearing", Ty::Int(1, 4)).later(),
        Field::new("wg_walking", Ty::Int(1, 4)).later(),
        Field::new("wg_cognition", Ty::Int(1, 4)).later(),
        Field::new("wg_selfcare", Ty::Int(1, 4)).later(),
        Field::new("wg_communication", Ty::Int(1, 4)).later(),
        Field::new("country_of_origin", Ty::Origin)
            .later()
            .custom("none (or `MA`) is Morocco, whose rules (CIN, phone, region) are for Moroccans only"),
        Field::new("nationality", Ty::Origin).later(),
        Field::new("id_doc_type", Ty::Code("id_doc_type", IdDocType::CODES))
            .later()
            .custom("type and number each require the other (`required`)"),
        Field::new("id_doc_number", Ty::Text(30)).later().identifying(Null),
        Field::new("place_abroad", Ty::Text(120)).answer().identifying(Null),
        Field::new("baseline_income", Ty::Money).later(),
    ],
    origin_columns: &["created_at", "created_by", "archived_at"],
    rules: &[],
};

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
    /// and compare as before ([`Field::later`]).
    #[serde(flatten)]
    pub more: More,
    /// Her answers to the questions declared with no typed member.
    #[serde(flatten)]
    pub answers: Answers,
}

/// A person's answers to the questions [`KIND`] declares with no member
/// of [`Beneficiary`] ([`Field::answer`]), by name: each absent until
/// given. Read from a record, it keeps those declared alone, and refuses
/// a value of another type than its declaration's.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Value>);

impl Answers {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

/// Whether `name` is a question [`KIND`] declares alone.
pub fn is_answer(name: &str) -> bool {
    KIND.field(name).is_some_and(|f| f.answer)
}

impl<'de> Deserialize<'de> for Answers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut kept = BTreeMap::new();
        for (k, v) in BTreeMap::<String, Value>::deserialize(d)? {
            // Any other name is no field of hers: left out, as serde leaves
            // out what a typed record does not know.
            let Some(f) = KIND.field(&k).filter(|f| f.answer) else { continue };
            if v.is_null() {
                continue;
            }
            if !crate::kinds::shape_fits(f.ty, &v) {
                return Err(serde::de::Error::custom(format!("{k} holds {v}")));
            }
            kept.insert(k, v);
        }
        Ok(Answers(kept))
    }
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
    /// Her monthly income as declared at registration: the baseline of
    /// the income indicators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_income: Option<Mad>,
}

/// The Washington Group questions, in their order.
pub const WG_QUESTIONS: [&str; 6] =
    ["wg_seeing", "wg_hearing", "wg_walking", "wg_cognition", "wg_selfcare", "wg_communication"];

/// What a form or the CLI gives: every field optional and loosely typed,
/// so that each problem can be named. A name it does not know (and
/// [`KIND`] declares no question so) is refused by [`Self::validate`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// A string (`"1500"`, `"1 500,00"`) or a JSON number.
    pub baseline_income: Option<serde_json::Value>,
    /// The answers to the questions declared alone ([`Answers`]), and any
    /// other name given (refused).
    #[serde(flatten)]
    pub answers: BTreeMap<String, Value>,
}

/// The fields a person may edit after registration: all her fields, in
/// the order of [`KIND`] (the order a merge's `taken` lists them in).
pub fn editable() -> &'static [&'static str] {
    KIND.editable_list()
}

/// Identity fields of a new record, given by the store.
pub struct Origin {
    pub id: Uuid,
    pub created_at: String,
    pub created_by: Uuid,
}

impl BeneficiaryInput {
    /// Checks every field; gives the record or all the field errors.
    pub fn validate(&self, today: NaiveDate, origin: Origin) -> Result<Beneficiary> {
        // A name that is no field of hers refuses the input, alone.
        let unknown: Vec<FieldError> = self
            .answers
            .keys()
            .filter(|k| !is_answer(k))
            .map(|k| FieldError::new(k, "unknown_field").with("detail", format!("unknown field `{k}`")))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid(unknown));
        }
        let mut c = Checker::default();
        // Her simple fields are read by their declaration (type, length,
        // bounds); the rest by the rules below (`custom` in KIND).
        let text = |name: &str, v: &Option<String>| KIND.text(name, v);
        let first_name = c.take(text("first_name", &self.first_name)).flatten();
        let last_name = c.take(text("last_name", &self.last_name)).flatten();
        let name_ar = c.take(text("name_ar", &self.name_ar).and_then(|n| match n {
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
        let cin = c.take(text("cin", &self.cin).and_then(|v| match v {
            Some(_) if !moroccan => {
                Err(FieldError::new("cin", "cin_for_moroccans").with("other_field", "country_of_origin"))
            }
            v => v.map(|s| parse_cin("cin", &s)).transpose(),
        }));
        let phone = c.take(text("phone", &self.phone).and_then(|v| {
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
        let id_doc_number = c.take(text("id_doc_number", &self.id_doc_number));
        match (&id_doc_type, &id_doc_number) {
            (Some(Some(_)), Some(None)) => {
                c.push(FieldError::new("id_doc_number", "required").with("other_field", "id_doc_type"))
            }
            (Some(None), Some(Some(_))) => {
                c.push(FieldError::new("id_doc_type", "required").with("other_field", "id_doc_number"))
            }
            _ => {}
        }
        let status = c.take(opt_str(&self.status).map(|s| CaseStatus::parse("status", s)).transpose());
        let status_date = c.take(KIND.date("status_date", &self.status_date, today));
        let status_reason = c.take(text("status_reason", &self.status_reason));
        if matches!(status, Some(Some(CaseStatus::DroppedOut))) && matches!(status_reason, Some(None)) {
            c.push(FieldError::new("status_reason", "required").with("other_field", "status"));
        }
        let wg = |field: &str, v: Option<i64>| KIND.int(field, v).map(|n| n.map(|n| n as u8));
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
        let commune = c.take(text("commune", &self.commune));
        let douar = c.take(text("douar", &self.douar));
        let destination_country = c.take(
            opt_str(&self.destination_country)
                .map(str::to_uppercase)
                .map(|code| if reference::is_country(&code) { Ok(code) } else { Err(unknown_country(&code)) })
                .transpose(),
        );
        let seasons_abroad = c.take(KIND.int("seasons_abroad", self.seasons_abroad).map(|n| n.map(|n| n as u32)));
        let phase = c.take(opt_str(&self.phase).map_or(Ok(Phase::PreDeparture), |p| Phase::parse("phase", p)));
        let iga_sector = c.take(opt_str(&self.iga_sector).map(|s| Sector::parse("iga_sector", s)).transpose());
        let consent = self.consent == Some(true);
        if !consent {
            c.push(FieldError::new("consent", "consent_required"));
        }
        let consent_date = c.take(KIND.date("consent_date", &self.consent_date, today).map(|d| d.or(Some(today))));
        let cohort = c.take(text("cohort", &self.cohort));
        let notes = c.take(text("notes", &self.notes));
        // The questions declared alone, each by its declaration.
        let mut answers = BTreeMap::new();
        for (name, v) in &self.answers {
            match KIND.read(name, Some(v), today) {
                Ok(Value::Null) => {}
                Ok(v) => {
                    answers.insert(name.clone(), v);
                }
                Err(e) => c.push(e),
            }
        }
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
                    baseline_income: baseline_income?,
                },
                answers: Answers(answers),
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
            baseline_income: self.more.baseline_income.map(|m| serde_json::Value::String(m.0.to_string())),
            answers: self.answers.0.clone(),
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
    use std::collections::BTreeSet;

    /// A value of each declared type, as a record holds it.
    fn sample(ty: Ty) -> Value {
        match ty {
            Ty::Int(lo, _) => Value::from(lo),
            Ty::Bool => Value::Bool(true),
            Ty::Codes(..) | Ty::People | Ty::Texts(_) => serde_json::json!(["x"]),
            _ => Value::String("x".into()),
        }
    }

    fn keys(b: &Beneficiary) -> BTreeSet<String> {
        let Value::Object(m) = serde_json::to_value(b).unwrap() else { panic!() };
        m.keys()
            .filter(|k| !["id", "created_at", "created_by", "archived_at", "archive_reason"].contains(&k.as_str()))
            .cloned()
            .collect()
    }

    fn person(full: bool) -> Beneficiary {
        let some = |s: &str| full.then(|| s.to_string());
        Beneficiary {
            id: Uuid::nil(),
            first_name: "A".into(),
            last_name: "B".into(),
            name_ar: some("ا"),
            sex: Sex::F,
            birth_date: NaiveDate::MIN,
            birth_date_approx: full,
            cin: some("A123"),
            phone: some("+212612345678"),
            region: "01".into(),
            province: some("x"),
            commune: some("x"),
            douar: some("x"),
            destination_country: some("ES"),
            seasons_abroad: full.then_some(1),
            phase: Phase::Returned,
            iga_sector: full.then_some(Sector::Other),
            consent: true,
            consent_date: full.then_some(NaiveDate::MIN),
            cohort: some("x"),
            notes: some("x"),
            created_at: String::new(),
            created_by: Uuid::nil(),
            archived_at: None,
            archive_reason: None,
            more: More {
                status: full.then_some(CaseStatus::Active),
                status_date: full.then_some(NaiveDate::MIN),
                status_reason: some("x"),
                disability: full.then_some(true),
                wg_seeing: full.then_some(1),
                wg_hearing: full.then_some(1),
                wg_walking: full.then_some(1),
                wg_cognition: full.then_some(1),
                wg_selfcare: full.then_some(1),
                wg_communication: full.then_some(1),
                country_of_origin: some("MR"),
                nationality: some("MR"),
                id_doc_type: full.then_some(IdDocType::Other),
                id_doc_number: some("x"),
                baseline_income: full.then_some(Mad(rust_decimal::Decimal::ONE)),
            },
            answers: Answers(if full {
                KIND.fields.iter().filter(|f| f.answer).map(|f| (f.name.to_string(), sample(f.ty))).collect()
            } else {
                BTreeMap::new()
            }),
        }
    }

    /// A field added to the record and not to its declaration (or the
    /// other way round) fails here.
    #[test]
    fn her_record_s_names_are_her_declared_fields() {
        let declared: BTreeSet<String> = KIND.fields.iter().map(|f| f.name.to_string()).collect();
        assert_eq!(keys(&person(true)), declared);
        // The fields a record lacks until they hold a value are the
        // later ones: records of earlier versions read as before.
        let always: BTreeSet<String> = KIND.fields.iter().filter(|f| !f.later).map(|f| f.name.to_string()).collect();
        assert_eq!(keys(&person(false)), always);
        // And her record reads back as it was written, answers included.
        let b = person(true);
        let again: Beneficiary = serde_json::from_value(serde_json::to_value(&b).unwrap()).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn a_declared_question_is_read_checked_and_kept_by_its_declaration_alone() {
        let origin = || Origin { id: Uuid::nil(), created_at: String::new(), created_by: Uuid::nil() };
        let today = NaiveDate::from_ymd_opt(2026, 3, 14).unwrap();
        let input = |extra: Value| -> BeneficiaryInput {
            let mut v = serde_json::json!({ "first_name": "Fatima", "last_name": "Zahra", "sex": "F",
                "birth_date": "1990-01-01", "region": "04", "consent": true });
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            crate::validate::from_json(v).unwrap()
        };
        let b = input(serde_json::json!({ "responsible": "  ANAPEC Agadir ", "place_abroad": "" }))
            .validate(today, origin())
            .unwrap();
        assert_eq!(b.answers.get("responsible"), Some(&Value::String("ANAPEC Agadir".into())));
        assert_eq!(b.answers.get("place_abroad"), None, "blank is no answer");
        let stored = serde_json::to_value(&b).unwrap();
        assert_eq!(stored["responsible"], "ANAPEC Agadir");
        assert!(stored.get("place_abroad").is_none(), "absent until answered");
        assert_eq!(b.to_input().validate(today, origin()).unwrap(), b, "the form's own input gives it back");

        let long = "x".repeat(121);
        let err = input(serde_json::json!({ "responsible": long })).validate(today, origin()).unwrap_err();
        let Error::Invalid(i) = err else { panic!() };
        assert_eq!((i.0[0].field.as_str(), i.0[0].code.as_str()), ("responsible", "too_long"));
        assert_eq!(i.0[0].params.get("max").map(String::as_str), Some("120"));

        let err = input(serde_json::json!({ "favourite_colour": "blue" })).validate(today, origin()).unwrap_err();
        let Error::Invalid(i) = err else { panic!() };
        assert_eq!((i.0[0].field.as_str(), i.0[0].code.as_str()), ("favourite_colour", "unknown_field"));

        // A record holding another type than the declaration's is no record.
        let mut bad = stored.clone();
        bad["responsible"] = serde_json::json!(12);
        assert!(serde_json::from_value::<Beneficiary>(bad).is_err());
    }

    /// A merge's decision lists the fields it took in this order, and
    /// bundles carry it: a field is added at the end, never moved.
    #[test]
    fn her_editable_fields_keep_the_order_decisions_carry() {
        let before_issue_11 = [
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
        assert_eq!(&editable()[..before_issue_11.len()], before_issue_11);
    }

    #[test]
    fn the_declared_code_lists_are_the_typed_ones() {
        let codes = |name: &str| match KIND.field(name).map(|f| f.ty) {
            Some(Ty::Code(_, codes)) => codes.to_vec(),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(codes("sex"), Sex::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>());
        assert_eq!(codes("iga_sector"), crate::programme::SECTORS);
    }
}
