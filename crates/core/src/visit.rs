//! A coaching visit (or call, or training session) with one beneficiary.

use crate::codes::VisitKind;
use crate::error::{Checker, FieldError, Result};
use crate::validate::{in_range, opt_date, opt_str, opt_text, past_date, req_date, req_str};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
/// it was with).
pub const EDITABLE: &[&str] =
    &["date", "kind", "location", "duration_minutes", "topics", "notes", "next_steps", "next_visit_date"];

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
        let date = c.take(req_date("date", &self.date).and_then(|d| past_date("date", d, today)));
        let kind = c.take(req_str("kind", &self.kind).and_then(|k| VisitKind::parse("kind", k)));
        let location = c.take(opt_text("location", &self.location, 200));
        let duration_minutes = c.take(
            self.duration_minutes.map(|m| in_range("duration_minutes", m, 1, 24 * 60).map(|m| m as u32)).transpose(),
        );
        let mut topics = Vec::new();
        for t in self.topics.iter().flatten() {
            match opt_text("topics", &Some(t.clone()), 100) {
                Ok(Some(t)) => topics.push(t),
                Ok(None) => {}
                Err(e) => c.push(e),
            }
        }
        let notes = c.take(opt_text("notes", &self.notes, 4000));
        let next_steps = c.take(opt_text("next_steps", &self.next_steps, 2000));
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
