//! The results framework as the reports read it: the live targets, and the
//! target that applies to an indicator for the whole programme or a region.
//! Writing a target is the store's (`Writer::set_target`): targets are
//! logged records and travel with bundles.

use crate::access::Action;
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

/// Every live target, by indicator then region (programme-wide first).
pub fn list(conn: &Connection) -> Result<Vec<Target>> {
    let mut stmt = conn.prepare_cached(
        "SELECT doc FROM target WHERE archived_at IS NULL
         ORDER BY indicator, region IS NOT NULL, region, created_at, id",
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
    /// True when no target is stored and the programme's default applies.
    pub default: bool,
}

/// The target of `indicator` for `region` (or the whole programme): the
/// stored one, else, programme-wide for beneficiaries, the default 3,000.
/// A region without its own target has none: comparing one region with the
/// programme's total would mislead.
pub fn applied(targets: &[Target], indicator: &str, region: Option<&str>) -> Option<Applied> {
    let stored = targets.iter().find(|t| t.indicator == indicator && t.region.as_deref() == region);
    match stored {
        Some(t) => Some(Applied { target: t.target, baseline: t.baseline, region: t.region.clone(), default: false }),
        None if region.is_none() && indicator == "beneficiaries_registered" => Some(Applied {
            target: Decimal::from(DEFAULT_BENEFICIARIES_TARGET),
            baseline: None,
            region: None,
            default: true,
        }),
        None => None,
    }
}
