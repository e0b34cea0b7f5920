//! The results framework as the reports read it: the live targets, and the
//! target that applies to an indicator for the whole programme or a region,
//! at the end of the project or in one calendar year, for everyone or for
//! women or men. Writing a target is the store's (`Writer::set_target`):
//! targets are logged records and travel with bundles.

use crate::access::Action;
use crate::codes::Sex;
use crate::error::Result;
use crate::store::Store;
use crate::target::Target;
use rusqlite::Connection;
use rust_decimal::Decimal;
use serde::Serialize;

/// The programme's target of beneficiaries when none is set.
pub const DEFAULT_BENEFICIARIES_TARGET: i64 = 3000;

impl Store {
    /// Every live target (see [`list`]), as the window and the CLI show them.
    pub fn targets(&self) -> Result<Vec<Target>> {
        self.require(Action::Read)?;
        list(self.conn())
    }
}

/// Every live target, by indicator, region (programme-wide first), year
/// (end of project first), sex (both first).
pub fn list(conn: &Connection) -> Result<Vec<Target>> {
    let mut stmt = conn.prepare_cached(
        "SELECT doc FROM target WHERE archived_at IS NULL
         ORDER BY indicator, region IS NOT NULL, region, year IS NOT NULL, year, sex IS NOT NULL, sex,
                  created_at, id",
    )?;
    let docs = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for d in docs {
        out.push(serde_json::from_str(&d?)?);
    }
    Ok(out)
}

/// The target an indicator is measured against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    #[serde(with = "rust_decimal::serde::str")]
    pub target: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub baseline: Option<Decimal>,
    /// The region the target is set for (`None`: programme-wide).
    pub region: Option<String>,
    /// The calendar year of a period target (`None`: end of project).
    pub year: Option<i32>,
    /// Women's or men's target (`None`: everyone's).
    pub sex: Option<Sex>,
    /// True when no target is stored and the programme's default applies.
    pub default: bool,
}

/// The target of `indicator` for `region` (or the whole programme), `year`
/// (or the end of the project) and `sex` (or everyone): the stored one with
/// exactly that key, else, programme-wide for all beneficiaries at the end
/// of the project, the default 3,000. Nothing is borrowed from another key:
/// comparing one region, one year or one sex with a target set for more
/// would mislead.
pub fn applied(
    targets: &[Target],
    indicator: &str,
    region: Option<&str>,
    year: Option<i32>,
    sex: Option<Sex>,
) -> Option<Applied> {
    let stored = targets
        .iter()
        .find(|t| t.indicator == indicator && t.region.as_deref() == region && t.year == year && t.sex == sex);
    match stored {
        Some(t) => Some(Applied {
            target: t.target,
            baseline: t.baseline,
            region: t.region.clone(),
            year: t.year,
            sex: t.sex,
            default: false,
        }),
        None if region.is_none() && year.is_none() && sex.is_none() && indicator == "beneficiaries_registered" => {
            Some(Applied {
                target: Decimal::from(DEFAULT_BENEFICIARIES_TARGET),
                baseline: None,
                region: None,
                year: None,
                sex: None,
                default: true,
            })
        }
        None => None,
    }
}
