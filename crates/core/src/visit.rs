//! A coaching visit (or call, or training session) with one beneficiary.

use crate::codes::VisitKind;
use crate::erasure::Scrub::{NoItems, Null};
use crate::error::{Checker, FieldError, Result};
use crate::kinds::{Field, Kind, Ty, ROW_ORIGIN};
use crate::store::log::Entity;
use crate::validate::{opt_date, opt_str, req_str};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A visit's fields, declared once (kinds.rs): what [`Visit`] checks
/// (the `custom` rules are its code's), and what the fields a correction
/// may change, the table's columns, the export's columns, what an erasure
/// leaves and the data dictionary follow from. A test keeps [`Visit`]'s
/// serde names equal to it.
pub static KIND: Kind = Kind {
    entity: Entity::Visit,
    fields: &[
        Field::new("beneficiary_id", Ty::Person)
            .required()
            .fixed()
            .column()
            .pseudonymised_as("beneficiary")
            .custom("a person of this laptop (`unknown_beneficiary`), not archived (`archived_beneficiary`)"),
        Field::new("date", Ty::Date).required().column().pseudonymised_as("month"),
        Field::new("kind", Ty::Code("visit", VisitKind::CODES)).required().column(),
        Field::new("location", Ty::Text(200)).identifying(Null),
        Field::new("duration_minutes", Ty::Int(1, 24 * 60)),
        Field::new("topics", Ty::Texts(100)).identifying(NoItems).pseudonymised_as("topics"),
        Field::new("notes", Ty::Text(4000)).identifying(Null),
        Field::new("next_steps", Ty::Text(2000)).identifying(Null),
        Field::new("next_visit_date", Ty::AnyDate)
            .column()
            .pseudonymised_as("next_visit_month")
            .custom("the one date that may be in the future; not before `date` (`before_date`)"),
        Field::new("coordinator", Ty::Text(100))
            .fixed()
            .custom("who made it: the laptop's coordinator (≤ 100, `wafira init`) when not given"),
    ],
    origin_columns: ROW_ORIGIN,
    rules: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub id: Uuid,
    pub beneficiary_id: Uuid,
    pub date: NaiveDate,
    pub kind: VisitKind,
    pub location: Option<String>,
    pub duration_minutes: Option<u32>,
    #[serde(default)]
    pub topics: Vec<String>,
    pub notes: Option<String>,
    pub next_steps: Option<String>,
    /// The one date that may be in the future: when to come back.
    pub next_visit_date: Option<NaiveDate>,
    pub coordinator: String,
    pub created_at: String,
    pub created_by: Uuid,
    pub archived_at: Option<String>,
    /// Why it was withdrawn (voided): entered by mistake, a duplicate…
    /// Absent from records never voided, so records and bundles of
    /// earlier versions read and compare as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_reason: Option<String>,
}

/// The fields of a visit that a correction may change (never the person
/// it was with, nor who made it): [`KIND`]'s editable ones.
pub fn editable() -> &'static [&'static str] {
    KIND.editable_list()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitInput {
    pub beneficiary_id: Option<String>,
    pub date: Option<String>,
    pub kind: Option<String>,
    pub location: Option<String>,
    pub duration_minutes: Option<i64>,
    pub topics: Option<Vec<String>>,
    pub notes: Option<String>,
    pub next_steps: Option<String>,
    pub next_visit_date: Option<String>,
    pub coordinator: Option<String>,
}

/// Parses a record id given as text.
pub fn parse_id(field: &str, value: &Option<String>) -> Result<Uuid, FieldError> {
    let s = req_str(field, value)?;
    Uuid::parse_str(s).map_err(|_| FieldError::new(field, "unknown_beneficiary").with("id", s))
}

impl VisitInput {
    /// Checks every field; `coordinator` defaults to the laptop's.
    pub fn validate(&self, today: NaiveDate, origin: crate::beneficiary::Origin, coordinator: &str) -> Result<Visit> {
        let mut c = Checker::default();
        let beneficiary_id = c.take(parse_id("beneficiary_id", &self.beneficiary_id));
        let date = c.take(KIND.date("date", &self.date, today)).flatten();
        let kind = c.take(req_str("kind", &self.kind).and_then(|k| VisitKind::parse("kind", k)));
        let location = c.take(KIND.text("location", &self.location));
        let duration_minutes = c.take(KIND.int("duration_minutes", self.duration_minutes).map(|m| m.map(|m| m as u32)));
        // Each topic as a text of the declared length; all problems at once.
        let mut topics = Vec::new();
        for t in self.topics.iter().flatten() {
            match KIND.text("topics", &Some(t.clone())) {
                Ok(Some(t)) => topics.push(t),
                Ok(None) => {}
                Err(e) => c.push(e),
            }
        }
        let notes = c.take(KIND.text("notes", &self.notes));
        let next_steps = c.take(KIND.text("next_steps", &self.next_steps));
        let next_visit_date = c.take(opt_date("next_visit_date", &self.next_visit_date));
        if let (Some(Some(next)), Some(d)) = (next_visit_date, date) {
            if next < d {
                c.push(FieldError::new("next_visit_date", "before_date").with("other_field", "date").with("other", d));
            }
        }
        let coordinator = opt_str(&self.coordinator).unwrap_or(coordinator).to_string();
        c.finish(|| {
            Some(Visit {
                id: origin.id,
                beneficiary_id: beneficiary_id?,
                date: date?,
                kind: kind?,
                location: location?,
                duration_minutes: duration_minutes?,
                topics,
                notes: notes?,
                next_steps: next_steps?,
                next_visit_date: next_visit_date?,
                coordinator,
                created_at: origin.created_at,
                created_by: origin.created_by,
                archived_at: None,
                archive_reason: None,
            })
        })
    }
}

impl Visit {
    /// The input that would give this record again: how a visit that
    /// arrives in a bundle is checked by the form's own rules.
    pub fn to_input(&self) -> VisitInput {
        VisitInput {
            beneficiary_id: Some(self.beneficiary_id.to_string()),
            date: Some(self.date.to_string()),
            kind: Some(self.kind.to_string()),
            location: self.location.clone(),
            duration_minutes: self.duration_minutes.map(i64::from),
            topics: Some(self.topics.clone()),
            notes: self.notes.clone(),
            next_steps: self.next_steps.clone(),
            next_visit_date: self.next_visit_date.map(|d| d.to_string()),
            coordinator: Some(self.coordinator.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// A field added to the record and not to its declaration (or the
    /// other way round) fails here.
    #[test]
    fn a_visit_s_names_are_its_declared_fields() {
        let day = NaiveDate::MIN;
        let v = Visit {
            id: Uuid::nil(),
            beneficiary_id: Uuid::nil(),
            date: day,
            kind: VisitKind::FollowUp,
            location: Some("x".into()),
            duration_minutes: Some(1),
            topics: vec!["x".into()],
            notes: Some("x".into()),
            next_steps: Some("x".into()),
            next_visit_date: Some(day),
            coordinator: "x".into(),
            created_at: String::new(),
            created_by: Uuid::nil(),
            archived_at: None,
            archive_reason: None,
        };
        let serde_json::Value::Object(m) = serde_json::to_value(v).unwrap() else { panic!() };
        let origin = ["id", "created_at", "created_by", "archived_at", "archive_reason"];
        let keys: BTreeSet<&str> = m.keys().map(String::as_str).filter(|k| !origin.contains(k)).collect();
        let declared: BTreeSet<&str> = KIND.fields.iter().map(|f| f.name).collect();
        assert_eq!(keys, declared);
        assert_eq!(
            editable(),
            ["date", "kind", "location", "duration_minutes", "topics", "notes", "next_steps", "next_visit_date"]
        );
    }
}
