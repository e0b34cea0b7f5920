//! The results framework: for each indicator, a baseline and a target,
//! programme-wide or for one region, for the end of the project or for one
//! calendar year, for everyone or for women or men. A target is known by
//! (indicator, region, year, sex). Targets are records like any other:
//! they are logged, so they travel with bundles.

use crate::codes::Sex;
use crate::error::{Checker, FieldError, Result};
use crate::reference;
use crate::validate::{opt_str, req_str};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;
use uuid::Uuid;

/// The indicators a target can be set for.
pub const INDICATORS: &[&str] = &[
    "beneficiaries_registered",
    "women_registered",
    "share_with_visit",
    "share_financial_education",
    "iga_launched",
    "iga_sustained_12_months",
    "share_sustained_of_launched",
    "financing_obtained_total",
    // The results framework (report/results.rs), cumulative figures.
    "pre_departure_oriented",
    "financial_education_completed",
    "referrals_taken_up",
    "survival_6_months",
    "median_profit_12_months",
    "igas_formalised",
    "igas_with_social_security",
    "jobs_created",
];

/// The calendar years a period target may be set for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2020..=2100;

/// The fields a target leaves out until they hold a value (and that the
/// targets of earlier versions never have).
pub const LATER_FIELDS: &[&str] = &["year", "sex"];

/// The indicators that are not split by sex (a target for women or men
/// would never be shown).
pub const NOT_BY_SEX: &[&str] = &["women_registered"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub id: Uuid,
    pub indicator: String,
    /// A region code, or `None` for the whole programme.
    pub region: Option<String>,
    /// The calendar year of a period target; `None`: the end-of-project
    /// target. Absent from the records of earlier versions (and not
    /// written when `None`, so an end-of-project target reads as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Women's or men's target; `None`: everyone's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub baseline: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub target: Decimal,
    pub created_at: String,
    pub created_by: Uuid,
    pub archived_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    pub indicator: Option<String>,
    pub region: Option<String>,
    /// A calendar year (number or text); absent or blank: end of project.
    #[serde(default)]
    pub year: Option<Value>,
    /// `F` or `M`; absent or blank: both.
    #[serde(default)]
    pub sex: Option<String>,
    pub baseline: Option<Value>,
    pub target: Option<Value>,
}

/// A period target's calendar year, within [`YEARS`] (anything else, a
/// word or a fraction included, is refused naming the years allowed).
fn year(v: &Option<Value>) -> Result<Option<i32>, FieldError> {
    let out_of_range = || FieldError::new("year", "out_of_range").with("min", YEARS.start()).with("max", YEARS.end());
    let text = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(out_of_range()),
    };
    match text.parse::<i32>() {
        Ok(y) if YEARS.contains(&y) => Ok(Some(y)),
        _ => Err(out_of_range()),
    }
}

fn decimal(field: &str, v: &Option<Value>) -> Result<Option<Decimal>, FieldError> {
    let text = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().replace(',', "."),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(FieldError::new(field, "invalid_amount")),
    };
    let d = Decimal::from_str(&text).map_err(|_| FieldError::new(field, "invalid_amount"))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(FieldError::new(field, "negative_amount"));
    }
    Ok(Some(d))
}

impl Target {
    /// The input that would give this record again (see `Visit::to_input`).
    pub fn to_input(&self) -> TargetInput {
        TargetInput {
            indicator: Some(self.indicator.clone()),
            region: self.region.clone(),
            year: self.year.map(Value::from),
            sex: self.sex.map(|s| s.as_str().to_string()),
            baseline: self.baseline.map(|d| Value::String(d.to_string())),
            target: Some(Value::String(self.target.to_string())),
        }
    }
}

impl TargetInput {
    pub fn validate(&self, origin: crate::beneficiary::Origin) -> Result<Target> {
        let mut c = Checker::default();
        let indicator = c.take(req_str("indicator", &self.indicator).and_then(|i| {
            if INDICATORS.contains(&i) {
                Ok(i.to_string())
            } else {
                Err(FieldError::new("indicator", "unknown_code")
                    .with("value", i)
                    .with("allowed", INDICATORS.join(", ")))
            }
        }));
        let region = c.take(
            opt_str(&self.region)
                .map(|r| match reference::region(r) {
                    Some(_) => Ok(r.to_string()),
                    None => Err(FieldError::new("region", "unknown_code").with("value", r)),
                })
                .transpose(),
        );
        let year = c.take(year(&self.year));
        let sex = c.take(
            opt_str(&self.sex)
                .map(|s| {
                    let sex = Sex::parse("sex", s)?;
                    match indicator.as_deref() {
                        Some(i) if NOT_BY_SEX.contains(&i) => Err(FieldError::new("sex", "not_split_by_sex")),
                        _ => Ok(sex),
                    }
                })
                .transpose(),
        );
        let baseline = c.take(decimal("baseline", &self.baseline));
        let target =
            c.take(decimal("target", &self.target).and_then(|t| t.ok_or(FieldError::new("target", "required"))));
        c.finish(|| {
            Some(Target {
                id: origin.id,
                indicator: indicator?,
                region: region?,
                year: year?,
                sex: sex?,
                baseline: baseline?,
                target: target?,
                created_at: origin.created_at,
                created_by: origin.created_by,
                archived_at: None,
            })
        })
    }
}
