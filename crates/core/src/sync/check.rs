//! What a change from a bundle must be before it is taken in: what the
//! form and the CLI would have written. Nothing here restates a rule: a
//! change is read into its typed record and checked by that record's own
//! `to_input().validate(…)`, the function the form calls.
//!
//! A change is judged on what it carries alone, never on the records the
//! importing machine happens to hold: two stations that hold different
//! things must accept and refuse the same bundles, or one would refuse for
//! ever what the other passes on. So:
//!
//! - a **creation** carries a whole record: all of it is checked, and must
//!   be in the canonical form the form stores (a phone in E.164, an amount
//!   with two decimals…);
//! - an **update** may carry only fields that can change after creation
//!   (the editable fields of each kind's declaration; never `id`, `created_by`,
//!   `created_at`, the person a visit or milestone belongs to, or
//!   `archived_at`); each value is checked by the same validation, set
//!   over a valid record of that kind, and only the errors about the
//!   fields it carries count (a rule across two fields, such as a province
//!   within its region, when it carries both);
//! - an **archive** carries `archived_at` (an instant) and, for a person,
//!   her `archive_reason`, nothing else;
//! - dates are judged on the day the change was made (its stamp), not the
//!   day it is imported: an age checked then stays valid;
//! - an **erasure** (consent withdrawn) is a creation carrying only a
//!   reason (no control characters, at most 500 characters) and who made
//!   it when; it is never changed or archived. A change of an erased
//!   person, scrubbed by the erasure, holds values no form writes (empty
//!   names, a birth date reduced to `YYYY-01-01`, an empty reason): when
//!   every identifying value it carries is as an erasure leaves it, it is
//!   judged with stand-ins for those (a year of birth stands for a day of
//!   that year the age rule accepts), erasure.rs.
//!
//! Rules that relate a record to others (a milestone's order among the
//! person's milestones, a visit's person existing) depend on what else a
//! machine holds, and two laptops may each rightly record what together
//! breaks them (both record the launch, offline). They are not grounds to
//! refuse a bundle: the fold keeps every change and what follows is shown
//! (records waiting for their person on the sync screen, conflicts).
//!
//! **Rules change between versions.** A bundle states the schema version
//! that made it; a change is checked by the rules of this program. A rule
//! made stricter must never block a laptop for good, so a new version that
//! tightens one (a shorter maximum, a new required field) migrates the
//! stored records and keeps accepting, in bundles of an older schema
//! version, the values that version wrote (an exception here, keyed on the
//! manifest's `schema_version`; docs/sync.md). A bundle of a newer schema
//! than this program knows is refused whole before this point, saying which
//! version to install.

use crate::beneficiary::{Beneficiary, Origin};
use crate::clock::Hlc;
use crate::codes::{MilestoneKind, Phase, Sex, VisitKind};
use crate::erasure::Erasure;
use crate::error::{Error, FieldError, Result};
use crate::milestone::Milestone;
use crate::store::log::{Entity, Op};
use crate::sync::bundle::{Line, Refusal};
use crate::sync::conflict::Resolution;
use crate::sync::merge::{pair_id, Decision, Status};
use crate::target::Target;
use crate::visit::Visit;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::OnceLock;
use uuid::Uuid;

/// The fields an update may carry, per kind of record.
pub fn editable(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Target => &["baseline", "target"],
        Entity::Merge => &["kept", "other", "status", "decided_at", "decided_by", "taken"],
        Entity::Resolution | Entity::Erasure => &[],
        declared => crate::kinds::of(declared).map_or(&[], |k| k.editable_list()),
    }
}

/// Checks one change of a bundle; the refusal names the laptop (by
/// `device_name`), the record and the field.
pub fn check_line(line: &Line, device_name: &str) -> Result<()> {
    // A change as an erasure left it holds values the form never writes
    // (empty names, a year of birth): judged with stand-ins for them.
    let erased = |e: FieldError| {
        let today = stamp_day(line.hlc).succ_opt().unwrap_or(NaiveDate::MAX);
        match crate::erasure::stand_in(line, today) {
            Some(stand_in) => check(&stand_in).map_err(|_| e),
            None => Err(e),
        }
    };
    check(line).or_else(erased).map_err(|e| {
        Error::Refused(Refusal::InvalidRecord(format!(
            "{device_name} ({}), change {}: {} {}: {e}",
            line.device_id,
            line.seq,
            line.entity.as_str(),
            line.record_id
        )))
    })
}

/// What is wrong with a change, as one field error.
fn check(line: &Line) -> std::result::Result<(), FieldError> {
    // The day the change was made, plus one for the time zones: the form
    // refuses a date after its laptop's today.
    let today = stamp_day(line.hlc).succ_opt().unwrap_or(NaiveDate::MAX);
    if let Some(kind) = line.entity.declared() {
        return check_declared(kind, line, today);
    }
    if line.op == Op::Create {
        return check_create(line, today);
    }
    let fields: Map<String, Value> = serde_json::from_str(line.fields.get())
        .map_err(|e| FieldError::new("fields", "invalid_type").with("detail", e))?;
    match line.op {
        Op::Update => check_update(line, fields, today),
        _ => check_archive(line.entity, &fields),
    }
}

/// A change of a kind declared field by field (kinds.rs): a creation
/// carries every field, as the form stores it, made by the laptop that
/// sends it; an update editable fields; an archive (a withdrawal, with its
/// reason) or a restore as for visits.
fn check_declared(kind: &crate::kinds::Kind, line: &Line, today: NaiveDate) -> std::result::Result<(), FieldError> {
    let fields: Map<String, Value> = serde_json::from_str(line.fields.get())
        .map_err(|e| FieldError::new("fields", "invalid_type").with("detail", e))?;
    match line.op {
        Op::Create => {
            kind.check_carried(&fields, today, true)?;
            let by = fields.get("created_by").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
            if by != Some(line.device_id) {
                return Err(FieldError::new("created_by", "not_editable"));
            }
            if line.entity == Entity::Attendance {
                let id = |k: &str| fields.get(k).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
                let (Some(session), Some(person)) = (id("session_id"), id("beneficiary_id")) else {
                    return Err(FieldError::new("session_id", "required"));
                };
                if crate::programme::attendance_id(session, person) != line.record_id {
                    return Err(FieldError::new("id", "not_this_pair"));
                }
            }
            Ok(())
        }
        Op::Update if fields.is_empty() => Err(FieldError::new("fields", "required")),
        Op::Update => kind.check_carried(&fields, today, false),
        Op::Archive => check_archive(line.entity, &fields),
    }
}

fn stamp_day(hlc: Hlc) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(hlc.millis).map_or(NaiveDate::MIN, |t| t.date_naive())
}

/// A creation: exactly the record's fields, read straight from the text
/// into the typed record, which validation must give back unchanged (an
/// import checks tens of thousands: no JSON tree in between).
fn check_create(line: &Line, today: NaiveDate) -> std::result::Result<(), FieldError> {
    let text = line.fields.get();
    let keys = crate::store::log::keys_of(text).ok_or_else(|| FieldError::new("fields", "invalid_type"))?;
    let names = field_names(line.entity);
    if let Some(k) = keys.iter().find(|k| *k == "id" || !names.contains(&k.as_ref())) {
        return Err(FieldError::new(k.as_ref(), "unknown_field"));
    }
    // A decision of an older version names no fields taken; a field its
    // declaration asks later is absent until it holds a value (a person
    // with an exact birth date carries no `birth_date_approx`, a milestone
    // of an older version names no IGA).
    let later = later_fields(line.entity);
    let optional = |n: &str| (line.entity == Entity::Merge && n == "taken") || later.contains(&n);
    if let Some(k) = names.iter().find(|n| !optional(n) && !keys.iter().any(|k| k == *n)) {
        return Err(FieldError::new(*k, "required"));
    }
    let record =
        crate::store::log::with_id(line.record_id, text).ok_or_else(|| FieldError::new("fields", "invalid_type"))?;
    fn typed<T: DeserializeOwned>(text: &str) -> std::result::Result<T, FieldError> {
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(|e| {
            let field = e.path().to_string();
            FieldError::new(field, "invalid_type").with("detail", e.into_inner())
        })
    }
    fn origin(id: Uuid, created_at: &str, created_by: Uuid) -> Origin {
        Origin { id, created_at: created_at.to_string(), created_by }
    }
    /// The record validation gives back must be the record itself.
    fn same<T: PartialEq + Serialize>(record: &T, validated: Result<T>) -> std::result::Result<(), FieldError> {
        let validated = match validated {
            Ok(v) => v,
            Err(Error::Invalid(i)) => {
                return Err(i.0.into_iter().next().unwrap_or(FieldError::new("fields", "invalid")))
            }
            Err(e) => return Err(FieldError::new("fields", "invalid_type").with("detail", e)),
        };
        if validated == *record {
            return Ok(());
        }
        // Only on the way to a refusal: which field differs.
        let (Ok(Value::Object(want)), Ok(Value::Object(got))) =
            (serde_json::to_value(&validated), serde_json::to_value(record))
        else {
            return Err(FieldError::new("fields", "not_canonical"));
        };
        let field = got.iter().find(|(k, v)| want.get(*k) != Some(*v)).map_or("fields", |(k, _)| k.as_str());
        Err(FieldError::new(field, "not_canonical").with("expected", want.get(field).cloned().unwrap_or(Value::Null)))
    }
    let (created_by, created_at) = match line.entity {
        Entity::Beneficiary => {
            let b: Beneficiary = typed(&record)?;
            same(&b, b.to_input().validate(today, origin(b.id, &b.created_at, b.created_by)))?;
            (b.created_by, b.created_at)
        }
        Entity::Visit => {
            let v: Visit = typed(&record)?;
            same(&v, v.to_input().validate(today, origin(v.id, &v.created_at, v.created_by), &v.coordinator))?;
            (v.created_by, v.created_at)
        }
        Entity::Milestone => {
            let m: Milestone = typed(&record)?;
            same(&m, m.to_input().validate(today, origin(m.id, &m.created_at, m.created_by)))?;
            (m.created_by, m.created_at)
        }
        Entity::Target => {
            let t: Target = typed(&record)?;
            same(&t, t.to_input().validate(origin(t.id, &t.created_at, t.created_by)))?;
            (t.created_by, t.created_at)
        }
        Entity::Merge => {
            let value: Value = typed(&record)?;
            validated(line.entity, &value, today, None)?;
            let d: Decision = typed(&record)?;
            if d.archived_at.is_some() {
                return Err(FieldError::new("archived_at", "not_editable"));
            }
            (d.created_by, d.created_at)
        }
        Entity::Resolution => {
            let value: Value = typed(&record)?;
            validated(line.entity, &value, today, None)?;
            let r: Resolution = typed(&record)?;
            if r.archived_at.is_some() {
                return Err(FieldError::new("archived_at", "not_editable"));
            }
            (r.created_by, r.created_at)
        }
        Entity::Erasure => {
            let value: Value = typed(&record)?;
            validated(line.entity, &value, today, None)?;
            let e: Erasure = typed(&record)?;
            (e.created_by, e.created_at)
        }
        // Checked by check_declared.
        _ => return Err(FieldError::new("fields", "invalid_type")),
    };
    if created_by != line.device_id {
        return Err(FieldError::new("created_by", "not_editable"));
    }
    instant("created_at", Some(&Value::String(created_at)))
}

fn check_update(line: &Line, fields: Map<String, Value>, today: NaiveDate) -> std::result::Result<(), FieldError> {
    if fields.is_empty() {
        return Err(FieldError::new("fields", "required"));
    }
    let allowed = editable(line.entity);
    for k in fields.keys() {
        if !allowed.contains(&k.as_str()) {
            let code = if field_names(line.entity).contains(&k.as_str()) || k == "id" {
                "not_editable"
            } else {
                "unknown_field"
            };
            return Err(FieldError::new(k, code));
        }
    }
    if line.entity == Entity::Merge {
        return check_decision_update(line, &fields);
    }
    let mut record = template(line.entity).clone();
    for (k, v) in &fields {
        record.insert(k.clone(), v.clone());
    }
    // The other field of a two-field rule, when the change does not carry
    // it, is set so that the rule holds: only what is carried is judged.
    match line.entity {
        Entity::Beneficiary if !fields.contains_key("region") => {
            let province = fields.get("province").and_then(Value::as_str).unwrap_or_default();
            if let Some(r) = crate::reference::regions().iter().find(|r| r.has_province(province.trim())) {
                record.insert("region".into(), Value::String(r.code.clone()));
            }
        }
        Entity::Visit if !fields.contains_key("date") => {
            record.insert("date".into(), Value::String(crate::validate::MIN_DATE.to_string()));
        }
        _ => {}
    }
    let record = Value::Object(record);
    let carried: Vec<&str> = fields.keys().map(String::as_str).collect();
    let canonical = validated(line.entity, &record, today, Some(&carried))?;
    same_values(&record, &canonical, Some(&carried))
}

fn check_archive(entity: Entity, fields: &Map<String, Value>) -> std::result::Result<(), FieldError> {
    if entity == Entity::Erasure {
        // An erasure is final.
        return Err(FieldError::new("archived_at", "not_editable"));
    }
    for k in fields.keys() {
        // A person's archive, and a visit's or milestone's withdrawal
        // (void), say why.
        let with_reason =
            matches!(entity, Entity::Beneficiary | Entity::Visit | Entity::Milestone) || entity.declared().is_some();
        let allowed = k == "archived_at" || (with_reason && k == "archive_reason");
        if !allowed {
            return Err(FieldError::new(k, "not_editable"));
        }
    }
    // A person or a record of a declared kind restored: both `null`,
    // nothing else.
    let restore = (entity == Entity::Beneficiary || entity.declared().is_some())
        && fields.get("archived_at").is_some_and(Value::is_null)
        && fields.get("archive_reason").is_none_or(Value::is_null);
    if !restore {
        instant("archived_at", fields.get("archived_at"))?;
    }
    if let Some(reason) = fields.get("archive_reason").filter(|v| !v.is_null()) {
        let text = reason.as_str().map(str::to_string);
        if text.is_none() {
            return Err(FieldError::new("archive_reason", "invalid_type"));
        }
        crate::validate::opt_text("archive_reason", &text, 500)?;
    }
    Ok(())
}

/// A decision may change its status and who decided, or swap which of its
/// two people is kept; never become a decision on another pair.
fn check_decision_update(line: &Line, fields: &Map<String, Value>) -> std::result::Result<(), FieldError> {
    let id = |k: &str| -> std::result::Result<Option<Uuid>, FieldError> {
        match fields.get(k) {
            None => Ok(None),
            Some(v) => {
                v.as_str().and_then(|s| Uuid::parse_str(s).ok()).map(Some).ok_or(FieldError::new(k, "invalid_type"))
            }
        }
    };
    match (id("kept")?, id("other")?) {
        (None, None) => {}
        (Some(kept), Some(other)) => decision_pair(line.record_id, kept, other)?,
        (Some(_), None) => return Err(FieldError::new("other", "required")),
        (None, Some(_)) => return Err(FieldError::new("kept", "required")),
    }
    if let Some(s) = fields.get("status") {
        serde_json::from_value::<Status>(s.clone()).map_err(|_| FieldError::new("status", "unknown_code"))?;
    }
    if let Some(at) = fields.get("decided_at") {
        instant("decided_at", Some(at))?;
    }
    if let Some(by) = fields.get("decided_by") {
        crate::validate::req_text("decided_by", &by.as_str().map(str::to_string), 100)?;
    }
    if let Some(t) = fields.get("taken") {
        taken(
            &serde_json::from_value::<Vec<String>>(t.clone()).map_err(|_| FieldError::new("taken", "invalid_type"))?,
        )?;
    }
    Ok(())
}

/// The fields a merge took: fields a person's edit may change, each once,
/// in the order the app writes them.
fn taken(fields: &[String]) -> std::result::Result<(), FieldError> {
    let editable = crate::beneficiary::editable();
    if let Some(f) = fields.iter().find(|f| !editable.contains(&f.as_str())) {
        return Err(FieldError::new("taken", "unknown_field").with("field", f));
    }
    let canonical: Vec<&str> = editable.iter().copied().filter(|e| fields.iter().any(|f| f == e)).collect();
    if canonical != fields.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(FieldError::new("taken", "not_canonical"));
    }
    Ok(())
}

/// Two different people, and the decision's id is the one of their pair.
fn decision_pair(id: Uuid, kept: Uuid, other: Uuid) -> std::result::Result<(), FieldError> {
    if kept == other {
        return Err(FieldError::new("other", "same_person"));
    }
    if pair_id(kept, other) != id {
        return Err(FieldError::new("other", "not_this_pair"));
    }
    Ok(())
}

/// A UTC instant as the app writes them.
pub(crate) fn instant(field: &str, v: Option<&Value>) -> std::result::Result<(), FieldError> {
    let text = v.and_then(Value::as_str).ok_or_else(|| FieldError::new(field, "required"))?;
    let ok = text.len() <= 40 && text.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(text).is_ok();
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(field, "invalid_date"))
    }
}

/// Reads `record` into its typed record and validates it as the form
/// would; gives it in canonical form. With `carried`, only errors about
/// those fields count.
fn validated(
    entity: Entity,
    record: &Value,
    today: NaiveDate,
    carried: Option<&[&str]>,
) -> std::result::Result<Value, FieldError> {
    fn typed<T: DeserializeOwned>(record: &Value) -> std::result::Result<T, FieldError> {
        serde_path_to_error::deserialize(record).map_err(|e| {
            let field = e.path().to_string();
            FieldError::new(field, "invalid_type").with("detail", e.into_inner())
        })
    }
    fn keep(errors: Vec<FieldError>, carried: Option<&[&str]>) -> Vec<FieldError> {
        let Some(carried) = carried else { return errors };
        errors
            .into_iter()
            .filter(|e| {
                // A rule across two fields counts when the change carries both.
                let partner = match e.code.as_str() {
                    "province_not_in_region" => Some("region"),
                    "before_date" => e.params.get("other_field").map(String::as_str),
                    _ => None,
                };
                carried.contains(&e.field.as_str()) && partner.is_none_or(|p| carried.contains(&p))
            })
            .collect()
    }
    fn outcome<T: Serialize>(
        result: Result<T>,
        carried: Option<&[&str]>,
    ) -> std::result::Result<Option<Value>, FieldError> {
        match result {
            Ok(v) => Ok(Some(
                serde_json::to_value(v).map_err(|e| FieldError::new("fields", "invalid_type").with("detail", e))?,
            )),
            Err(Error::Invalid(i)) => match keep(i.0, carried).into_iter().next() {
                Some(e) => Err(e),
                // Only errors about fields the change does not carry: its
                // own values are good; nothing canonical to compare with.
                None => Ok(None),
            },
            Err(other) => Err(FieldError::new("fields", "invalid_type").with("detail", other)),
        }
    }
    let canonical = match entity {
        Entity::Beneficiary => {
            let b: Beneficiary = typed(record)?;
            let origin = Origin { id: b.id, created_at: b.created_at.clone(), created_by: b.created_by };
            outcome(b.to_input().validate(today, origin), carried)?
        }
        Entity::Visit => {
            let v: Visit = typed(record)?;
            let origin = Origin { id: v.id, created_at: v.created_at.clone(), created_by: v.created_by };
            outcome(v.to_input().validate(today, origin, &v.coordinator), carried)?
        }
        Entity::Milestone => {
            let m: Milestone = typed(record)?;
            let origin = Origin { id: m.id, created_at: m.created_at.clone(), created_by: m.created_by };
            outcome(m.to_input().validate(today, origin), carried)?
        }
        Entity::Target => {
            let t: Target = typed(record)?;
            let origin = Origin { id: t.id, created_at: t.created_at.clone(), created_by: t.created_by };
            outcome(t.to_input().validate(origin), carried)?
        }
        Entity::Merge => {
            let d: Decision = typed(record)?;
            decision_pair(d.id, d.kept, d.other)?;
            taken(&d.taken)?;
            instant("decided_at", Some(&Value::String(d.decided_at.clone())))?;
            crate::validate::req_text("decided_by", &Some(d.decided_by.clone()), 100)?;
            Some(serde_json::to_value(d).map_err(|e| FieldError::new("fields", "invalid_type").with("detail", e))?)
        }
        Entity::Resolution => {
            let r: Resolution = typed(record)?;
            if !field_names(r.entity).contains(&r.field.as_str()) {
                return Err(FieldError::new("field", "unknown_field").with("detail", r.field));
            }
            crate::validate::req_text("resolved_by", &Some(r.resolved_by.clone()), 100)?;
            Some(serde_json::to_value(r).map_err(|e| FieldError::new("fields", "invalid_type").with("detail", e))?)
        }
        Entity::Erasure => {
            // Only a reason: a short text with no control characters,
            // stored trimmed.
            let e: Erasure = typed(record)?;
            let reason = crate::validate::req_text("reason", &Some(e.reason.clone()), crate::erasure::REASON_MAX)?;
            if reason != e.reason {
                return Err(FieldError::new("reason", "not_canonical").with("expected", reason));
            }
            Some(serde_json::to_value(e).map_err(|e| FieldError::new("fields", "invalid_type").with("detail", e))?)
        }
        // Checked by check_declared, field by field.
        _ => None,
    };
    Ok(canonical.unwrap_or(Value::Null))
}

/// Each field (or each `carried` one) holds what validation made of it:
/// a change holds values as the form stores them.
fn same_values(record: &Value, canonical: &Value, carried: Option<&[&str]>) -> std::result::Result<(), FieldError> {
    let Value::Object(canonical) = canonical else { return Ok(()) };
    let Value::Object(record) = record else { return Ok(()) };
    for (k, v) in record {
        if carried.is_some_and(|c| !c.contains(&k.as_str())) {
            continue;
        }
        // Fields the validation does not produce (archive fields, origin).
        let Some(want) = canonical.get(k) else { continue };
        if want != v && !(want.is_null() && v.is_null()) {
            return Err(FieldError::new(k, "not_canonical").with("expected", want));
        }
    }
    Ok(())
}

/// The fields a record of this kind has (its JSON names, without `id`).
/// The fields a record of this kind leaves out until they hold a value
/// (its declaration's, a target's year and sex).
fn later_fields(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Target => crate::target::LATER_FIELDS,
        e => crate::kinds::of(e).map_or(&[], |k| k.later_list()),
    }
}

pub fn field_names(entity: Entity) -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
    let all = NAMES.get_or_init(|| {
        Entity::ALL
            .iter()
            .map(|e| {
                let mut names: Vec<&'static str> = template(*e)
                    .keys()
                    .filter(|k| *k != "id")
                    .map(|k| &*Box::leak(k.clone().into_boxed_str()))
                    .collect();
                // Absent from the template until they hold a value (its
                // birth date is exact, its milestone names no IGA).
                let later = later_fields(*e);
                for n in later {
                    if !names.contains(n) {
                        names.push(n);
                    }
                }
                names
            })
            .collect()
    });
    Entity::ALL.iter().position(|e| *e == entity).map_or(&[], |i| all[i].as_slice())
}

/// A valid record of each kind, as JSON: what an update's values are set
/// over to be checked.
fn template(entity: Entity) -> &'static Map<String, Value> {
    static TEMPLATES: OnceLock<Vec<Map<String, Value>>> = OnceLock::new();
    let all = TEMPLATES.get_or_init(|| Entity::ALL.iter().map(|e| make_template(*e)).collect());
    &all[Entity::ALL.iter().position(|e| *e == entity).unwrap_or(0)]
}

fn make_template(entity: Entity) -> Map<String, Value> {
    let (id, at, by) = (Uuid::nil(), "2000-01-01T00:00:00.000Z".to_string(), Uuid::nil());
    let day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let value = match entity {
        Entity::Beneficiary => serde_json::to_value(Beneficiary {
            id,
            first_name: "A".into(),
            last_name: "B".into(),
            name_ar: None,
            sex: Sex::F,
            birth_date: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(day),
            birth_date_approx: false,
            cin: None,
            phone: None,
            region: "01".into(),
            province: None,
            commune: None,
            douar: None,
            destination_country: None,
            seasons_abroad: None,
            phase: Phase::PreDeparture,
            iga_sector: None,
            consent: true,
            consent_date: Some(day),
            cohort: None,
            notes: None,
            created_at: at,
            created_by: by,
            archived_at: None,
            archive_reason: None,
            more: Default::default(),
            answers: Default::default(),
        }),
        Entity::Visit => serde_json::to_value(Visit {
            id,
            beneficiary_id: id,
            date: day,
            kind: VisitKind::FollowUp,
            location: None,
            duration_minutes: None,
            topics: Vec::new(),
            notes: None,
            next_steps: None,
            next_visit_date: None,
            coordinator: "C".into(),
            created_at: at,
            created_by: by,
            archived_at: None,
            archive_reason: None,
        }),
        Entity::Milestone => serde_json::to_value(Milestone {
            id,
            iga_id: None,
            beneficiary_id: id,
            kind: MilestoneKind::BusinessPlan,
            date: day,
            amount: None,
            reason: None,
            notes: None,
            created_at: at,
            created_by: by,
            archived_at: None,
            archive_reason: None,
        }),
        Entity::Target => serde_json::to_value(Target {
            id,
            indicator: "beneficiaries_registered".into(),
            region: None,
            year: None,
            sex: None,
            baseline: None,
            target: Decimal::ONE,
            created_at: at,
            created_by: by,
            archived_at: None,
        }),
        Entity::Merge => serde_json::to_value(Decision {
            id,
            kept: id,
            other: id,
            status: Status::Open,
            decided_at: at.clone(),
            decided_by: "C".into(),
            created_at: at,
            created_by: by,
            archived_at: None,
            taken: Vec::new(),
        }),
        Entity::Erasure => serde_json::to_value(Erasure { id, reason: "R".into(), created_at: at, created_by: by }),
        Entity::Resolution => serde_json::to_value(Resolution {
            id,
            conflict_id: String::new(),
            entity: Entity::Beneficiary,
            record_id: id,
            field: "phone".into(),
            value: Value::Null,
            resolved_by: "C".into(),
            created_at: at,
            created_by: by,
            archived_at: None,
        }),
        // Its declared fields and origin (values are never read).
        declared => Ok(Value::Object(
            declared
                .declared()
                .map(|k| k.fields.iter().map(|f| f.name).chain(crate::kinds::ORIGIN_FIELDS))
                .into_iter()
                .flatten()
                .map(|n| (n.to_string(), Value::Null))
                .collect(),
        )),
    };
    match value {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Rules that relate a record to others, checked where a bundle lets them
/// be decided for sure: for the visits and milestones its **source**
/// laptop recorded itself, once this machine holds every earlier bundle of
/// that laptop (or the bundle is full). Then this machine holds everything
/// the laptop knew when it recorded them, and the form of that laptop
/// would have refused:
///
/// - a visit or milestone for a person nobody has (it would wait for ever);
/// - a milestone of a kind the laptop had already recorded for her, or
///   dated against the order of the ones it recorded (checked only while
///   nobody else corrected those: a correction made elsewhere may not have
///   reached the laptop);
/// - a step whose earlier step exists nowhere (a first sale without any
///   launch, recorded on any laptop, archived or not).
///
/// With an earlier bundle missing, the records are taken and the gap shows
/// on the sync screen; a record of another laptop passed on by this one is
/// judged when that laptop's own bundles arrive.
pub(crate) fn check_relations(
    tx: &rusqlite::Transaction<'_>,
    m: &crate::sync::Manifest,
    lines: &[Line],
    fresh: &[usize],
) -> Result<()> {
    use rusqlite::OptionalExtension;
    use std::collections::{HashMap, HashSet};
    let source = m.source.id;
    let own: Vec<&Line> = fresh
        .iter()
        .map(|i| &lines[*i])
        .filter(|c| {
            c.device_id == source && c.op == Op::Create && matches!(c.entity, Entity::Visit | Entity::Milestone)
        })
        .collect();
    if own.is_empty() || !chain_complete(tx, m)? {
        return Ok(());
    }
    let refuse = |c: &Line, e: FieldError| {
        Error::Refused(Refusal::InvalidRecord(format!(
            "{} ({}), change {}: {} {}: {e}",
            m.source.name,
            source,
            c.seq,
            c.entity.as_str(),
            c.record_id
        )))
    };
    // Records that could not land wait for their person.
    let waiting: HashSet<String> = tx
        .prepare_cached("SELECT record_id FROM waiting WHERE parent_id <> ''")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for c in &own {
        if waiting.contains(&c.record_id.to_string()) {
            let person = serde_json::from_str::<Map<String, Value>>(c.fields.get())
                .ok()
                .and_then(|f| f.get("beneficiary_id").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            return Err(refuse(c, FieldError::new("beneficiary_id", "unknown_beneficiary").with("id", person)));
        }
    }
    let new: Vec<&&Line> = own.iter().filter(|c| c.entity == Entity::Milestone).collect();
    if new.is_empty() {
        return Ok(());
    }
    // The milestones of the people concerned (all of them when many
    // arrive), each with the laptop that recorded it, when, and whether
    // another laptop corrected it.
    // Each milestone is judged against the person the laptop recorded it
    // for (its creation's `beneficiary_id`), not where a merge made since
    // shows it: the laptop did not know of that merge.
    const SQL: &str = "SELECT m.doc, ch.device_id, ch.hlc, json_extract(ch.fields, '$.beneficiary_id')
         FROM milestone m JOIN change ch ON ch.entity = 'milestone' AND ch.record_id = m.id AND ch.op = 'create'";
    // Milestones another laptop than the one that recorded them corrected.
    let corrected: HashSet<String> = tx
        .prepare_cached(
            "SELECT DISTINCT u.record_id FROM change u
             JOIN change c ON c.entity = 'milestone' AND c.record_id = u.record_id AND c.op = 'create'
             WHERE u.entity = 'milestone' AND u.op = 'update' AND u.device_id <> c.device_id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // People linked by any merge decision, whatever it says now: a laptop
    // may have seen a person's milestones under another one.
    let linked = crate::sync::merge::Linked::load(tx)?;
    let group = |start: Uuid| linked.group(&[start]);
    let recorded_for = |c: &Line| -> Option<Uuid> {
        serde_json::from_str::<Map<String, Value>>(c.fields.get())
            .ok()?
            .get("beneficiary_id")?
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
    };
    let mut by_person: HashMap<Uuid, Vec<Recorded>> = HashMap::new();
    let mut add = |row: &rusqlite::Row<'_>| -> Result<()> {
        let m: Milestone = serde_json::from_str(&row.get::<_, String>(0)?)?;
        let by = Uuid::parse_str(&row.get::<_, String>(1)?).unwrap_or_default();
        let hlc: Hlc = row.get::<_, String>(2)?.parse().unwrap_or(Hlc::ZERO);
        let person =
            row.get::<_, Option<String>>(3)?.and_then(|p| Uuid::parse_str(&p).ok()).unwrap_or(m.beneficiary_id);
        let corrected = corrected.contains(&m.id.to_string());
        by_person.entry(person).or_default().push(Recorded { m, by, hlc, corrected });
        Ok(())
    };
    if new.len() > 64 {
        let mut stmt = tx.prepare(SQL)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            add(row)?;
        }
    } else {
        // The milestones shown under anyone of each new one's group.
        let mut loaded = HashSet::new();
        let mut stmt = tx.prepare_cached(&format!("{SQL} WHERE m.beneficiary_id = ?1"))?;
        for c in &new {
            for p in recorded_for(c).map(&group).unwrap_or_default() {
                if loaded.insert(p) {
                    let mut rows = stmt.query([p.to_string()])?;
                    while let Some(row) = rows.next()? {
                        add(row)?;
                    }
                }
            }
        }
    }
    let by_id: HashMap<Uuid, &Recorded> = by_person.values().flatten().map(|r| (r.m.id, r)).collect();
    for c in new {
        let (Some(this), Some(person)) = (by_id.get(&c.record_id), recorded_for(c)) else { continue };
        // Milestones are steps of one IGA: judged against that IGA's.
        let same_iga = |o: &&Recorded| o.m.iga_id == this.m.iga_id;
        let hers = by_person.get(&person).map(Vec::as_slice).unwrap_or_default();
        let others = || hers.iter().filter(|o| o.m.id != this.m.id).filter(same_iga);
        // The IGA it names is hers (or of someone the laptop may have seen
        // as her), when its creation is here.
        let named = serde_json::from_str::<Map<String, Value>>(c.fields.get())
            .ok()
            .and_then(|f| f.get("iga_id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()));
        if let Some(iga) = named {
            let owner: Option<Option<String>> = tx
                .prepare_cached(
                    "SELECT json_extract(fields, '$.beneficiary_id') FROM change
                     WHERE entity = 'iga' AND record_id = ?1 AND op = 'create' LIMIT 1",
                )?
                .query_row([iga.to_string()], |r| r.get(0))
                .optional()?;
            if let Some(owner) = owner.flatten().and_then(|o| Uuid::parse_str(&o).ok()) {
                if !group(person).contains(&owner) {
                    return Err(refuse(c, FieldError::new("iga_id", "not_her_iga").with("id", iga)));
                }
            }
        }
        // What the laptop itself had recorded for her before it.
        let earlier_own = || others().filter(|o| o.by == source && o.hlc < this.hlc);
        let kind = this.m.kind;
        if kind != MilestoneKind::IgaStopped && earlier_own().any(|o| o.m.kind == kind && o.m.archived_at.is_none()) {
            return Err(refuse(c, FieldError::new("kind", "milestone_exists").with("kind", kind)));
        }
        if !this.corrected {
            let uncorrected: Vec<Milestone> = earlier_own().filter(|o| !o.corrected).map(|o| o.m.clone()).collect();
            crate::milestone::check_order(&this.m, &uncorrected, false).map_err(|e| refuse(c, e))?;
        }
        // The earlier step may have been recorded anywhere, for anyone the
        // laptop may have seen as her.
        let kin: Vec<&Recorded> = group(person)
            .iter()
            .filter_map(|p| by_person.get(p))
            .flatten()
            .filter(|o| o.m.id != this.m.id)
            .filter(same_iga)
            .collect();
        if let Some(required) = crate::milestone::requirement(kind) {
            if !kin.iter().any(|o| o.m.kind == required) {
                return Err(refuse(
                    c,
                    FieldError::new("kind", "milestone_requires").with("kind", kind).with("other_kind", required),
                ));
            }
        }
    }
    Ok(())
}

/// A milestone as the relation checks see it.
struct Recorded {
    m: Milestone,
    /// The laptop that recorded it, and when.
    by: Uuid,
    hlc: Hlc,
    /// Another laptop changed it since.
    corrected: bool,
}

/// Whether this machine holds every bundle of the source before this one
/// (a full one covering those before it), or the bundle is itself full.
fn chain_complete(tx: &rusqlite::Transaction<'_>, m: &crate::sync::Manifest) -> Result<bool> {
    if m.full {
        return Ok(true);
    }
    let source = m.source.id.to_string();
    let last_full: i64 = tx
        .prepare_cached(
            "SELECT coalesce(max(number), 0) FROM bundle_import WHERE source = ?1 AND full AND number < ?2",
        )?
        .query_row(rusqlite::params![source, m.number], |r| r.get(0))?;
    let held: i64 = tx
        .prepare_cached(
            "SELECT count(DISTINCT number) FROM bundle_import WHERE source = ?1 AND number > ?2 AND number < ?3",
        )?
        .query_row(rusqlite::params![source, last_full, m.number], |r| r.get(0))?;
    Ok(held == m.number.saturating_sub(last_full).saturating_sub(1))
}
