//! IGA milestones: the steps of a person's income-generating activity, from
//! business plan to sustained at 12 months, and the rules that keep them
//! consistent. The current stage is derived from them, never typed.

use crate::codes::MilestoneKind;
use crate::erasure::Scrub::{Empty, Null};
use crate::error::{Checker, FieldError, Result};
use crate::kinds::{Field, Kind, Ty, ROW_ORIGIN};
use crate::money::Mad;
use crate::store::log::Entity;
use crate::validate::req_str;
use crate::visit::parse_id;
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A milestone's fields, declared once (kinds.rs): what [`Milestone`]
/// checks (the `custom` rules are its code's, and its order among the
/// IGA's other milestones), and what the fields a correction may change,
/// the table's columns, the export's columns, what an erasure leaves and
/// the data dictionary follow from. A test keeps [`Milestone`]'s serde
/// names equal to it.
pub static KIND: Kind = Kind {
    entity: Entity::Milestone,
    fields: &[
        Field::new("beneficiary_id", Ty::Person)
            .required()
            .fixed()
            .column()
            .pseudonymised_as("beneficiary")
            .custom("as for a visit"),
        Field::new("iga_id", Ty::Ref(Entity::Iga)).fixed().later().column().not_exported().custom(
            "one of her live IGAs (`not_her_iga`); when not given, her only live IGA (`iga_needed` with several), \
             or her first IGA, made then; absent from milestones recorded before IGAs were records",
        ),
        Field::new("kind", Ty::Code("milestone", MilestoneKind::CODES))
            .required()
            .fixed()
            .column()
            .custom("each kind once per IGA but `iga_stopped` (`milestone_exists`)"),
        Field::new("date", Ty::Date)
            .required()
            .column()
            .pseudonymised_as("month")
            .custom("in order with the IGA's other milestones (`milestone_order`, `milestone_requires`)"),
        Field::new("amount", Ty::Money).column().exported_as("amount_mad"),
        Field::new("reason", Ty::Text(500))
            .identifying(Empty)
            .custom("required for `iga_stopped` (`reason_required`); an erasure leaves it empty"),
        Field::new("notes", Ty::Text(4000)).identifying(Null),
    ],
    origin_columns: ROW_ORIGIN,
    rules: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub id: Uuid,
    pub beneficiary_id: Uuid,
    /// The IGA it is a step of. Absent from milestones recorded before
    /// IGAs were records: they belong to the person's first IGA
    /// (`programme::first_iga_id`), which their row names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iga_id: Option<Uuid>,
    pub kind: MilestoneKind,
    pub date: NaiveDate,
    /// Financing requested or obtained, or monthly revenue, in MAD.
    pub amount: Option<Mad>,
    /// Why an IGA stopped.
    pub reason: Option<String>,
    pub notes: Option<String>,
    pub created_at: String,
    pub created_by: Uuid,
    pub archived_at: Option<String>,
    /// Why it was withdrawn (voided): entered by mistake, a duplicate…
    /// Absent from records never voided, so records and bundles of
    /// earlier versions read and compare as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_reason: Option<String>,
}

/// The fields of a milestone that a correction may change (never its
/// person, its IGA or its kind): [`KIND`]'s editable ones.
pub fn editable() -> &'static [&'static str] {
    KIND.editable_list()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneInput {
    pub beneficiary_id: Option<String>,
    /// The IGA it is a step of; the person's first IGA when not given.
    #[serde(default)]
    pub iga_id: Option<String>,
    pub kind: Option<String>,
    pub date: Option<String>,
    /// A string (`"12500.50"`, `"12 500,50"`) or a JSON number.
    pub amount: Option<Value>,
    pub reason: Option<String>,
    pub notes: Option<String>,
}

impl MilestoneInput {
    pub fn validate(&self, today: NaiveDate, origin: crate::beneficiary::Origin) -> Result<Milestone> {
        let mut c = Checker::default();
        let beneficiary_id = c.take(parse_id("beneficiary_id", &self.beneficiary_id));
        let iga_id = c.take(match crate::validate::opt_str(&self.iga_id) {
            None => Ok(None),
            Some(s) => {
                Uuid::parse_str(s).map(Some).map_err(|_| FieldError::new("iga_id", "unknown_record").with("id", s))
            }
        });
        let kind = c.take(req_str("kind", &self.kind).and_then(|k| MilestoneKind::parse("kind", k)));
        let date = c.take(KIND.date("date", &self.date, today)).flatten();
        let amount = c.take(match &self.amount {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Mad::parse("amount", s).map(Some),
            Some(Value::Number(n)) => Mad::parse("amount", &n.to_string()).map(Some),
            Some(_) => Err(FieldError::new("amount", "invalid_amount")),
        });
        let reason = c.take(KIND.text("reason", &self.reason));
        if kind == Some(MilestoneKind::IgaStopped) && matches!(reason, Some(None)) {
            c.push(FieldError::new("reason", "reason_required"));
        }
        let notes = c.take(KIND.text("notes", &self.notes));
        c.finish(|| {
            Some(Milestone {
                id: origin.id,
                beneficiary_id: beneficiary_id?,
                iga_id: iga_id?,
                kind: kind?,
                date: date?,
                amount: amount?,
                reason: reason?,
                notes: notes?,
                created_at: origin.created_at,
                created_by: origin.created_by,
                archived_at: None,
                archive_reason: None,
            })
        })
    }
}

impl Milestone {
    /// The input that would give this record again (see `Visit::to_input`).
    pub fn to_input(&self) -> MilestoneInput {
        MilestoneInput {
            beneficiary_id: Some(self.beneficiary_id.to_string()),
            iga_id: self.iga_id.map(|i| i.to_string()),
            kind: Some(self.kind.to_string()),
            date: Some(self.date.to_string()),
            amount: self.amount.map(|a| Value::String(a.0.to_string())),
            reason: self.reason.clone(),
            notes: self.notes.clone(),
        }
    }
}

/// `later` must come at least `months` after `earlier`.
struct Order {
    earlier: MilestoneKind,
    later: MilestoneKind,
    months: u32,
    /// `later` cannot exist without `earlier`.
    requires: bool,
}

const ORDERS: &[Order] = &[
    Order {
        earlier: MilestoneKind::FinancingRequested,
        later: MilestoneKind::FinancingObtained,
        months: 0,
        requires: false,
    },
    Order { earlier: MilestoneKind::IgaLaunched, later: MilestoneKind::FirstSale, months: 0, requires: true },
    Order { earlier: MilestoneKind::IgaLaunched, later: MilestoneKind::Operating6Months, months: 6, requires: true },
    Order { earlier: MilestoneKind::IgaLaunched, later: MilestoneKind::Sustained12Months, months: 12, requires: true },
    Order { earlier: MilestoneKind::BusinessPlan, later: MilestoneKind::IgaLaunched, months: 0, requires: false },
];

/// Refuses a milestone that contradicts the person's others: a kind already
/// recorded, dates out of the lifecycle's order, or a step whose earlier
/// step is missing.
pub fn check_against(new: &Milestone, existing: &[Milestone]) -> Result<(), FieldError> {
    check_order(new, existing, true)
}

/// The kind that must be recorded before `kind`, if any.
pub fn requirement(kind: MilestoneKind) -> Option<MilestoneKind> {
    ORDERS.iter().find(|o| o.later == kind && o.requires).map(|o| o.earlier)
}

/// [`check_against`], with the missing earlier step an error only when
/// `require`: an import checks a laptop's milestones against the ones it
/// recorded itself, and the earlier step may have been recorded elsewhere.
pub fn check_order(new: &Milestone, existing: &[Milestone], require: bool) -> Result<(), FieldError> {
    let live = || existing.iter().filter(|m| m.archived_at.is_none() && m.id != new.id);
    if new.kind != MilestoneKind::IgaStopped && live().any(|m| m.kind == new.kind) {
        return Err(FieldError::new("kind", "milestone_exists").with("kind", new.kind));
    }
    for o in ORDERS {
        let rule = if o.months == 0 { "not before".to_string() } else { format!("at least {} months after", o.months) };
        let clash = |other: &Milestone, earlier: NaiveDate, later: NaiveDate| {
            let min = earlier.checked_add_months(Months::new(o.months)).unwrap_or(earlier);
            (later < min).then(|| {
                FieldError::new("date", "milestone_order")
                    .with("other_kind", other.kind)
                    .with("other_date", other.date)
                    .with("rule", format!("{} must be {} {}", o.later, rule, o.earlier))
            })
        };
        if new.kind == o.later {
            let earlier = live().find(|m| m.kind == o.earlier);
            match earlier {
                Some(e) => {
                    if let Some(err) = clash(e, e.date, new.date) {
                        return Err(err);
                    }
                }
                None if o.requires && require => {
                    return Err(FieldError::new("kind", "milestone_requires")
                        .with("kind", new.kind)
                        .with("other_kind", o.earlier))
                }
                None => {}
            }
        }
        if new.kind == o.earlier {
            if let Some(l) = live().find(|m| m.kind == o.later) {
                if let Some(err) = clash(l, new.date, l.date) {
                    return Err(err);
                }
            }
        }
    }
    Ok(())
}

/// A person's stage, from her IGAs: the furthest stage of those still
/// going; `iga_stopped` only when every IGA she started stopped. Each
/// IGA's own stage is [`stage`] of its milestones.
pub fn person_stage(milestones: &[Milestone]) -> Option<MilestoneKind> {
    let mut by_iga: std::collections::BTreeMap<Option<Uuid>, Vec<Milestone>> = std::collections::BTreeMap::new();
    for m in milestones {
        by_iga.entry(m.iga_id).or_default().push(m.clone());
    }
    let stages: Vec<MilestoneKind> = by_iga.values().filter_map(|ms| stage(ms)).collect();
    stages
        .iter()
        .filter(|s| **s != MilestoneKind::IgaStopped)
        .max_by_key(|s| s.rank())
        .or_else(|| stages.first())
        .copied()
}

/// The current IGA stage: the furthest step reached, or `iga_stopped` when
/// the IGA stopped after its last step.
pub fn stage(milestones: &[Milestone]) -> Option<MilestoneKind> {
    let live: Vec<&Milestone> = milestones.iter().filter(|m| m.archived_at.is_none()).collect();
    let furthest = live.iter().filter(|m| m.kind != MilestoneKind::IgaStopped).max_by_key(|m| (m.kind.rank(), m.date));
    let stopped = live.iter().filter(|m| m.kind == MilestoneKind::IgaStopped).max_by_key(|m| m.date);
    match (furthest, stopped) {
        (Some(f), Some(s)) if s.date >= f.date => Some(MilestoneKind::IgaStopped),
        (None, Some(_)) => Some(MilestoneKind::IgaStopped),
        (Some(f), _) => Some(f.kind),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// A field added to the record and not to its declaration (or the
    /// other way round) fails here; the later ones are those a record
    /// lacks until they hold a value.
    #[test]
    fn a_milestone_s_names_are_its_declared_fields() {
        let m = |iga: Option<Uuid>| Milestone {
            id: Uuid::nil(),
            beneficiary_id: Uuid::nil(),
            iga_id: iga,
            kind: MilestoneKind::IgaStopped,
            date: NaiveDate::MIN,
            amount: Some(Mad(rust_decimal::Decimal::ONE)),
            reason: Some("x".into()),
            notes: Some("x".into()),
            created_at: String::new(),
            created_by: Uuid::nil(),
            archived_at: None,
            archive_reason: None,
        };
        let keys = |m: Milestone| -> BTreeSet<String> {
            let Value::Object(m) = serde_json::to_value(m).unwrap() else { panic!() };
            let origin = ["id", "created_at", "created_by", "archived_at", "archive_reason"];
            m.keys().filter(|k| !origin.contains(&k.as_str())).cloned().collect()
        };
        let declared: BTreeSet<String> = KIND.fields.iter().map(|f| f.name.to_string()).collect();
        assert_eq!(keys(m(Some(Uuid::nil()))), declared);
        let always: BTreeSet<String> = KIND.fields.iter().filter(|f| !f.later).map(|f| f.name.to_string()).collect();
        assert_eq!(keys(m(None)), always);
        assert_eq!(editable(), ["date", "amount", "reason", "notes"]);
    }
}
