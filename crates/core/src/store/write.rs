//! The writes a coordinator makes: register, edit and archive a person, log
//! a visit, record a milestone. Each checks its input, then emits one
//! change through [`Writer::emit`], the single path that logs and folds.

use super::log::{self, Change, Entity, Op};
use super::{Store, Writer};
use crate::access::Action;
use crate::audit::{Act, Note};
use crate::beneficiary::{Beneficiary, BeneficiaryInput, Origin};
use crate::clock::Hlc;
use crate::error::{Error, FieldError, Result};
use crate::milestone::{self, Milestone, MilestoneInput};
use crate::target::{Target, TargetInput};
use crate::validate::from_json;
use crate::visit::{Visit, VisitInput};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

impl Writer<'_> {
    /// Logs one change of this device and folds it into its record.
    pub fn emit(
        &mut self,
        entity: Entity,
        record_id: Uuid,
        op: Op,
        mut fields: Map<String, Value>,
        mut old: Map<String, Value>,
        base: Map<String, Value>,
    ) -> Result<Change> {
        // Nothing identifying is written for an erased person again.
        crate::erasure::scrub_outgoing(&self.tx, entity, record_id, &mut fields, &mut old)?;
        let seq: i64 = self
            .tx
            .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM change_log WHERE device = (SELECT no FROM device_no WHERE id = ?1)")?
            .query_row(params![self.device.id.to_string()], |r| r.get(0))?;
        let hlc = self.tick()?;
        let change = Change {
            device_id: self.device.id,
            seq,
            hlc,
            entity,
            record_id,
            op,
            fields,
            old,
            base,
            // The wall clock, for people: the stamp may run ahead of it
            // after a laptop with a wrong date was accepted.
            at: crate::now_utc(),
            coordinator: self.device.coordinator.clone(),
        };
        log::insert_change(&self.tx, &change)?;
        log::materialise(&self.tx, entity, record_id)?;
        Ok(change)
    }

    fn origin(&self) -> Origin {
        Origin { id: Uuid::now_v7(), created_at: crate::now_utc(), created_by: self.device.id }
    }

    /// Emits the creation of a record: all its fields but the id.
    fn create<T: Serialize>(&mut self, entity: Entity, id: Uuid, record: &T) -> Result<()> {
        let Value::Object(mut fields) = serde_json::to_value(record)? else {
            return Err(Error::Other("internal: a record is not a JSON object".into()));
        };
        fields.remove("id");
        self.emit(entity, id, Op::Create, fields, Map::new(), Map::new())?;
        Ok(())
    }

    /// Emits the fields of `new` that differ from `current`, with the values
    /// and stamps they replace. Gives the names of the fields changed (none
    /// when nothing changed).
    pub(crate) fn update<T: Serialize>(
        &mut self,
        entity: Entity,
        id: Uuid,
        current: &T,
        new: &T,
    ) -> Result<Vec<String>> {
        let (Value::Object(cur), Value::Object(new)) = (serde_json::to_value(current)?, serde_json::to_value(new)?)
        else {
            return Err(Error::Other("internal: a record is not a JSON object".into()));
        };
        let clocks = log::clocks_of(&self.tx, entity, id)?.unwrap_or_default();
        let (mut fields, mut old, mut base) = (Map::new(), Map::new(), Map::new());
        // A field left out of the new record (an optional one skipped when
        // empty, as `birth_date_approx`) is cleared: `null`.
        let gone: Vec<(String, Value)> =
            cur.keys().filter(|k| !new.contains_key(*k)).map(|k| (k.clone(), Value::Null)).collect();
        for (k, v) in new.into_iter().chain(gone) {
            let before = cur.get(&k).cloned().unwrap_or(Value::Null);
            if before != v {
                base.insert(k.clone(), clocks.get(&k).cloned().unwrap_or(Value::Null));
                old.insert(k.clone(), before);
                fields.insert(k, v);
            }
        }
        if fields.is_empty() {
            return Ok(Vec::new());
        }
        let changed = fields.keys().cloned().collect();
        self.emit(entity, id, Op::Update, fields, old, base)?;
        Ok(changed)
    }

    /// Archives a record: kept, hidden, never erased. The change carries the
    /// stamps of every field, so that an edit made elsewhere meanwhile shows
    /// as a conflict.
    fn archive(&mut self, entity: Entity, id: Uuid, reason: Option<String>) -> Result<()> {
        let base = log::clocks_of(&self.tx, entity, id)?.unwrap_or_default();
        let mut fields = Map::new();
        fields.insert("archived_at".into(), Value::String(crate::now_utc()));
        if entity == Entity::Beneficiary {
            fields.insert("archive_reason".into(), reason.map_or(Value::Null, Value::String));
        }
        self.emit(entity, id, Op::Archive, fields, Map::new(), base)?;
        Ok(())
    }

    /// Refuses a CIN being set (a registration, or an edit that changes
    /// it: `current` is the record before) that another live record of
    /// this laptop carries, naming her. A CIN kept as it was is never
    /// refused: the same CIN from two laptops is a pair in the duplicates
    /// list awaiting a decision, and must not block editing either record.
    fn check_cin_free(&self, b: &Beneficiary, current: Option<&Beneficiary>) -> Result<()> {
        let Some(cin) = &b.cin else { return Ok(()) };
        if current.is_some_and(|c| c.cin.as_ref() == Some(cin)) {
            return Ok(());
        }
        match cin_taken(&self.tx, cin, Some(b.id))? {
            Some(taken) => Err(Error::invalid(vec![taken])),
            None => Ok(()),
        }
    }

    /// The person a visit or milestone is for: she must exist and be live.
    pub(crate) fn check_beneficiary_live(&self, id: Uuid) -> Result<()> {
        let archived: Option<Option<String>> = self
            .tx
            .prepare_cached("SELECT archived_at FROM beneficiary WHERE id = ?1")?
            .query_row(params![id.to_string()], |r| r.get(0))
            .optional()?;
        let code = match archived {
            None => "unknown_beneficiary",
            Some(Some(_)) => "archived_beneficiary",
            // Her consent was withdrawn: nothing more is recorded about her.
            Some(None) if crate::erasure::is_erased(&self.tx, id)? => "erased_beneficiary",
            Some(None) => return Ok(()),
        };
        Err(Error::invalid(vec![FieldError::new("beneficiary_id", code).with("id", id)]))
    }
}

/// The person `id` as she is, and as `patch` (editable fields only, in
/// the form's shape) would make her, checked as a whole as an edit is.
/// Writes nothing.
pub(crate) fn edited_beneficiary(
    conn: &Connection,
    id: Uuid,
    patch: Map<String, Value>,
) -> Result<(Beneficiary, Beneficiary)> {
    let today = Store::today();
    let current = super::query::beneficiary(conn, id)?;
    if current.archived_at.is_some() {
        return Err(Error::invalid(vec![FieldError::new("id", "archived_beneficiary").with("id", id)]));
    }
    // Her identifying data was erased: it cannot be entered again;
    // her other fields are checked with stand-ins for it.
    let erased = current.is_erased() || crate::erasure::is_erased(conn, id)?;
    if erased {
        crate::erasure::refuse_identifying(Entity::Beneficiary, patch.keys())?;
    }
    let mut merged = match serde_json::to_value(current.to_input())? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    merged.extend(patch);
    if erased {
        crate::erasure::stand_in_identity(&mut merged, today);
    }
    let input: BeneficiaryInput = from_json(Value::Object(merged))?;
    let origin = Origin { id, created_at: current.created_at.clone(), created_by: current.created_by };
    let mut new = input.validate(today, origin)?;
    if erased {
        crate::erasure::keep_identity(&mut new, &current)?;
    }
    new.archived_at = current.archived_at.clone();
    new.archive_reason = current.archive_reason.clone();
    Ok((current, new))
}

impl Writer<'_> {
    /// Logs an edit [`edited_beneficiary`] made, once the CIN rule
    /// holds; gives the names of the fields changed.
    pub(crate) fn save_edit(&mut self, current: &Beneficiary, new: &Beneficiary) -> Result<Vec<String>> {
        self.check_cin_free(new, Some(current))?;
        self.update(Entity::Beneficiary, current.id, current, new)
    }
}

impl Writer<'_> {
    pub fn add_beneficiary(&mut self, input: &BeneficiaryInput) -> Result<Beneficiary> {
        let b = input.validate(Store::today(), self.origin())?;
        self.check_cin_free(&b, None)?;
        // Her possible duplicates are scored where her row is written (log::place).
        self.create(Entity::Beneficiary, b.id, &b)?;
        Ok(b)
    }

    pub fn add_visit(&mut self, input: &VisitInput) -> Result<Visit> {
        let coordinator = self.device.coordinator.clone();
        let v = input.validate(Store::today(), self.origin(), &coordinator)?;
        self.check_beneficiary_live(v.beneficiary_id)?;
        self.create(Entity::Visit, v.id, &v)?;
        Ok(v)
    }

    pub fn add_milestone(&mut self, input: &MilestoneInput) -> Result<Milestone> {
        let mut m = input.validate(Store::today(), self.origin())?;
        self.check_beneficiary_live(m.beneficiary_id)?;
        let iga = self.iga_for_milestone(m.beneficiary_id, m.iga_id)?;
        m.iga_id = Some(iga);
        let existing = of_iga(super::query::milestones_of(&self.tx, m.beneficiary_id)?, iga);
        milestone::check_against(&m, &existing).map_err(|e| Error::invalid(vec![e]))?;
        self.create(Entity::Milestone, m.id, &m)?;
        Ok(m)
    }
}

impl Writer<'_> {
    /// Sets the target of an indicator (for a region or programme-wide, a
    /// year or the end of the project, women, men or everyone): edits the
    /// live one if there is one, so there is one target per key.
    pub fn set_target(&mut self, input: &TargetInput) -> Result<Target> {
        let new = input.validate(self.origin())?;
        let current: Option<String> = self
            .tx
            .prepare_cached(
                "SELECT doc FROM target WHERE indicator = ?1 AND region IS ?2 AND year IS ?3 AND sex IS ?4
                 AND archived_at IS NULL ORDER BY created_at, id LIMIT 1",
            )?
            .query_row(params![new.indicator, new.region, new.year, new.sex.map(|s| s.as_str())], |r| r.get(0))
            .optional()?;
        match current {
            Some(doc) => {
                let current: Target = serde_json::from_str(&doc)?;
                let updated = Target {
                    id: current.id,
                    created_at: current.created_at.clone(),
                    created_by: current.created_by,
                    ..new
                };
                self.update(Entity::Target, current.id, &current, &updated)?;
                Ok(updated)
            }
            None => {
                self.create(Entity::Target, new.id, &new)?;
                Ok(new)
            }
        }
    }
}

impl Store {
    pub fn set_target_json(&mut self, input: Value) -> Result<Target> {
        self.require(Action::SetTargets)?;
        let input: TargetInput = from_json(input)?;
        self.write_noted(|w| {
            let t = w.set_target(&input)?;
            let region = t.region.as_deref().map(|r| format!(", region {r}")).unwrap_or_default();
            let year = t.year.map(|y| format!(", year {y}")).unwrap_or_default();
            let sex = t.sex.map(|s| format!(", sex {s}")).unwrap_or_default();
            let note = Note::new(Act::TargetSet, t.id).detail(format!("{}{region}{year}{sex}", t.indicator));
            Ok((t, Some(note)))
        })
    }

    /// Registers a person from a JSON object (form or CLI).
    /// Every problem a registration would be refused for, at once, without
    /// writing anything: the form's field errors and a CIN already used
    /// here (naming whose it is), so that the window shows them all
    /// together with the duplicate warning.
    pub fn check_new_beneficiary(&self, input: Value) -> Result<()> {
        self.require(Action::Record)?;
        let input: BeneficiaryInput = from_json(input)?;
        let me = self.device()?.id;
        let origin = Origin { id: Uuid::now_v7(), created_at: crate::now_utc(), created_by: me };
        let mut errors = match input.validate(Store::today(), origin) {
            Ok(_) => Vec::new(),
            Err(Error::Invalid(i)) => i.0,
            Err(e) => return Err(e),
        };
        let cin = input.cin.as_deref().and_then(|c| crate::identity::parse_cin("cin", c).ok());
        if let Some(cin) = cin {
            errors.extend(cin_taken(self.conn(), &cin, None)?);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(errors))
        }
    }

    pub fn add_beneficiary_json(&mut self, input: Value) -> Result<Beneficiary> {
        self.require(Action::Record)?;
        self.add_beneficiary(&from_json(input)?)
    }

    pub fn add_beneficiary(&mut self, input: &BeneficiaryInput) -> Result<Beneficiary> {
        self.require(Action::Record)?;
        self.write_noted(|w| {
            let b = w.add_beneficiary(input)?;
            let note = Note::new(Act::PersonAdd, b.id);
            Ok((b, Some(note)))
        })
    }

    /// Changes some fields of a person; `patch` holds only those fields
    /// (`null` clears one). The whole record is checked again.
    pub fn update_beneficiary(&mut self, id: Uuid, patch: Value) -> Result<Beneficiary> {
        self.require(Action::Record)?;
        let Value::Object(patch) = patch else {
            return Err(Error::field("input", "invalid_type"));
        };
        let mut errors = Vec::new();
        for k in patch.keys() {
            if !crate::beneficiary::editable().contains(&k.as_str()) {
                let code = if is_record_field(k) { "not_editable" } else { "unknown_field" };
                errors.push(FieldError::new(k, code));
            }
        }
        if !errors.is_empty() {
            return Err(Error::invalid(errors));
        }
        self.write_noted(|w| {
            let (current, new) = edited_beneficiary(w.tx(), id, patch)?;
            let changed = w.save_edit(&current, &new)?;
            // The audit names the fields changed, never their values.
            let note = (!changed.is_empty()).then(|| Note::new(Act::PersonUpdate, id).detail(changed.join(", ")));
            Ok((w.beneficiary(id)?, note))
        })
    }

    /// Archives a registration made by mistake: kept, never erased. The
    /// reason is required, so that whoever reads the history later knows
    /// why she left the list.
    pub fn archive_beneficiary(&mut self, id: Uuid, reason: Option<String>) -> Result<Beneficiary> {
        self.require(Action::Record)?;
        let reason = crate::validate::req_text("archive_reason", &reason, 500).map_err(|e| Error::invalid(vec![e]))?;
        self.write_noted(|w| {
            let current = w.beneficiary(id)?;
            if current.archived_at.is_some() {
                return Ok((current, None));
            }
            // Not the reason: free text, it may name someone.
            w.archive(Entity::Beneficiary, id, Some(reason))?;
            Ok((w.beneficiary(id)?, Some(Note::new(Act::PersonArchive, id))))
        })
    }

    pub fn add_visit_json(&mut self, input: Value) -> Result<Visit> {
        self.require(Action::Record)?;
        self.add_visit(&from_json(input)?)
    }

    pub fn add_visit(&mut self, input: &VisitInput) -> Result<Visit> {
        self.require(Action::Record)?;
        self.write_noted(|w| {
            let v = w.add_visit(input)?;
            let note = Note::new(Act::VisitAdd, v.id).detail(format!("person {}", v.beneficiary_id));
            Ok((v, Some(note)))
        })
    }

    pub fn add_milestone_json(&mut self, input: Value) -> Result<Milestone> {
        self.require(Action::Record)?;
        self.add_milestone(&from_json(input)?)
    }

    pub fn add_milestone(&mut self, input: &MilestoneInput) -> Result<Milestone> {
        self.require(Action::Record)?;
        self.write_noted(|w| {
            let m = w.add_milestone(input)?;
            let note =
                Note::new(Act::MilestoneAdd, m.id).detail(format!("person {}, {}", m.beneficiary_id, m.kind.as_str()));
            Ok((m, Some(note)))
        })
    }

    /// Archives a visit or milestone entered by mistake.
    pub fn archive_record(&mut self, entity: Entity, id: Uuid) -> Result<()> {
        self.require(Action::Record)?;
        self.write_noted(|w| {
            let exists: bool =
                w.tx.prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", entity.as_str()))?
                    .exists(params![id.to_string()])?;
            if !exists {
                return Err(Error::NotFound { entity: entity.as_str(), id: id.to_string() });
            }
            w.archive(entity, id, None)?;
            let note = match entity {
                Entity::Visit => Note::new(Act::VisitArchive, id),
                Entity::Milestone => Note::new(Act::MilestoneArchive, id),
                Entity::Beneficiary => Note::new(Act::PersonArchive, id),
                other => Note::new(Act::RecordArchive, id).detail(other.as_str()),
            };
            Ok(((), Some(note)))
        })
    }

    /// The last stamp this device gave or saw.
    pub fn clock(&self) -> Result<Hlc> {
        super::clock_get(&self.conn)
    }
}

fn is_record_field(k: &str) -> bool {
    matches!(k, "id" | "created_at" | "created_by" | "archived_at" | "archive_reason")
}

/// Corrections: a visit or milestone entered wrongly is corrected (a
/// patch of its editable fields, checked again as a whole and, for a
/// milestone, against the person's others) or withdrawn (voided) with a
/// reason, and an archived person is restored. Each is one more change in
/// the log, so it travels, shows in the history and the derived summaries
/// follow; a refused one writes nothing.
impl Writer<'_> {
    pub(crate) fn record_doc<T: serde::de::DeserializeOwned>(&self, entity: Entity, id: Uuid) -> Result<T> {
        doc_of(&self.tx, entity, id)
    }

    /// The record's input with `patch` set over it, after checking that the
    /// patch names only fields a correction may change.
    fn patched<I: Serialize, O: serde::de::DeserializeOwned>(
        input: &I,
        patch: Map<String, Value>,
        editable: &[&str],
    ) -> Result<O> {
        check_patch(&patch, editable)?;
        let Value::Object(mut merged) = serde_json::to_value(input)? else {
            return Err(Error::Other("internal: an input is not a JSON object".into()));
        };
        merged.extend(patch);
        from_json(Value::Object(merged))
    }

    /// A visit corrected by `patch`; gives the fields changed.
    pub fn correct_visit(&mut self, id: Uuid, patch: Map<String, Value>) -> Result<(Visit, Vec<String>)> {
        let current: Visit = self.record_doc(Entity::Visit, id)?;
        refuse_voided(current.archived_at.is_some(), id)?;
        let input: VisitInput = Self::patched(&current.to_input(), patch, crate::visit::editable())?;
        let origin = Origin { id, created_at: current.created_at.clone(), created_by: current.created_by };
        let new = input.validate(Store::today(), origin, &current.coordinator)?;
        let changed = self.update(Entity::Visit, id, &current, &new)?;
        Ok((self.record_doc(Entity::Visit, id)?, changed))
    }

    /// A milestone corrected by `patch`, checked against the person's
    /// other live milestones as the corrected set; gives the fields changed.
    pub fn correct_milestone(&mut self, id: Uuid, patch: Map<String, Value>) -> Result<(Milestone, Vec<String>)> {
        let current: Milestone = self.record_doc(Entity::Milestone, id)?;
        refuse_voided(current.archived_at.is_some(), id)?;
        let input: MilestoneInput = Self::patched(&current.to_input(), patch, crate::milestone::editable())?;
        let origin = Origin { id, created_at: current.created_at.clone(), created_by: current.created_by };
        let new = input.validate(Store::today(), origin)?;
        let others = super::query::milestones_of(&self.tx, current.beneficiary_id)?;
        let others = match current.iga_id {
            Some(iga) => of_iga(others, iga),
            None => others,
        };
        milestone::check_against(&new, &others).map_err(|e| Error::invalid(vec![e]))?;
        let changed = self.update(Entity::Milestone, id, &current, &new)?;
        Ok((self.record_doc(Entity::Milestone, id)?, changed))
    }

    /// Withdraws a visit or milestone with a reason (an archive that says
    /// why). A milestone another one needs (the launch of a first sale)
    /// is not withdrawn while that one stays. Gives whether it was live.
    pub fn void(&mut self, entity: Entity, id: Uuid, reason: &Option<String>) -> Result<bool> {
        let reason = crate::validate::req_text("archive_reason", reason, 500).map_err(|e| Error::invalid(vec![e]))?;
        let archived = match entity {
            Entity::Visit => self.record_doc::<Visit>(entity, id)?.archived_at.is_some(),
            Entity::Milestone => {
                let m: Milestone = self.record_doc(entity, id)?;
                let others: Vec<Milestone> = super::query::milestones_of(&self.tx, m.beneficiary_id)?
                    .into_iter()
                    .filter(|o| o.id != id && o.iga_id == m.iga_id)
                    .collect();
                let needed_by = others.iter().find(|o| {
                    milestone::requirement(o.kind) == Some(m.kind) && !others.iter().any(|e| e.kind == m.kind)
                });
                if let (None, Some(o)) = (&m.archived_at, needed_by) {
                    return Err(Error::invalid(vec![FieldError::new("kind", "milestone_needed")
                        .with("kind", m.kind)
                        .with("other_kind", o.kind)]));
                }
                m.archived_at.is_some()
            }
            other => return Err(Error::Other(format!("internal: a {} is not voided", other.as_str()))),
        };
        if archived {
            return Ok(false);
        }
        let base = log::clocks_of(&self.tx, entity, id)?.unwrap_or_default();
        let mut fields = Map::new();
        fields.insert("archived_at".into(), Value::String(crate::now_utc()));
        fields.insert("archive_reason".into(), Value::String(reason));
        self.emit(entity, id, Op::Archive, fields, Map::new(), base)?;
        Ok(true)
    }

    /// Puts an archived person back on the lists. Refused while another
    /// live person of this laptop holds her CIN (given meanwhile), naming
    /// her; a person merged into another is not restored (undo the merge).
    pub fn restore_beneficiary(&mut self, id: Uuid) -> Result<Option<Beneficiary>> {
        let current = self.beneficiary(id)?;
        if current.archived_at.is_none() {
            return Ok(None);
        }
        if crate::sync::merge::merged_into(&self.tx, id)?.is_some() {
            return Err(Error::invalid(vec![FieldError::new("id", "merged_beneficiary").with("id", id)]));
        }
        self.check_cin_free(&current, None)?;
        let clocks = log::clocks_of(&self.tx, Entity::Beneficiary, id)?.unwrap_or_default();
        let (mut fields, mut old, mut base) = (Map::new(), Map::new(), Map::new());
        for (k, now) in [("archived_at", &current.archived_at), ("archive_reason", &current.archive_reason)] {
            fields.insert(k.into(), Value::Null);
            old.insert(k.into(), now.clone().map_or(Value::Null, Value::String));
            base.insert(k.into(), clocks.get(k).cloned().unwrap_or(Value::Null));
        }
        // An archive that sets both back to null: it travels and is checked
        // as one (sync/check.rs), and an archive made elsewhere meanwhile
        // with its reason is a conflict on the reason (sync/conflict.rs).
        self.emit(Entity::Beneficiary, id, Op::Archive, fields, old, base)?;
        Ok(Some(self.beneficiary(id)?))
    }
}

/// The milestones of one IGA.
fn of_iga(milestones: Vec<Milestone>, iga: Uuid) -> Vec<Milestone> {
    milestones.into_iter().filter(|m| m.iga_id == Some(iga)).collect()
}

impl Writer<'_> {
    /// The IGA a new milestone of `person` is a step of: the one named,
    /// which must be hers and live; else her only live IGA; else, when she
    /// has none, her first IGA, made now. With several, one must be named.
    /// A withdrawn IGA takes no step (`withdrawn_record`): its steps count
    /// nowhere until it is put back.
    fn iga_for_milestone(&mut self, person: Uuid, given: Option<Uuid>) -> Result<Uuid> {
        let refuse = |code: &str, id: Uuid| Error::invalid(vec![FieldError::new("iga_id", code).with("id", id)]);
        let withdrawn = |doc: &Map<String, Value>| doc.get("archived_at").is_some_and(|v| !v.is_null());
        if let Some(iga) = given {
            let doc = self.declared_doc(Entity::Iga, iga).map_err(|_| refuse("unknown_record", iga))?;
            if doc.get("beneficiary_id").and_then(Value::as_str) != Some(person.to_string().as_str()) {
                return Err(refuse("not_her_iga", iga));
            }
            if withdrawn(&doc) {
                return Err(refuse("withdrawn_record", iga));
            }
            return Ok(iga);
        }
        let live: Vec<String> = self
            .tx
            .prepare_cached(
                "SELECT id FROM iga WHERE beneficiary_id = ?1 AND archived_at IS NULL ORDER BY created_at, id",
            )?
            .query_map(params![person.to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        match live.as_slice() {
            [] => {
                self.ensure_first_iga(person)?;
                let first = crate::programme::first_iga_id(person);
                // Her first IGA was withdrawn: not silently a step of it.
                if self.declared_doc(Entity::Iga, first).is_ok_and(|doc| withdrawn(&doc)) {
                    return Err(refuse("withdrawn_record", first));
                }
                Ok(first)
            }
            [one] => Uuid::parse_str(one).map_err(|_| refuse("unknown_record", person)),
            _ => Err(Error::invalid(vec![FieldError::new("iga_id", "iga_needed")])),
        }
    }

    /// Makes the person's first IGA, the one that holds the milestones
    /// recorded before IGAs were records (and a first milestone recorded
    /// without naming one), unless it exists here or its creation arrived.
    /// Its id and fields follow from her alone, so two machines making it
    /// make one record.
    pub(crate) fn ensure_first_iga(&mut self, person: Uuid) -> Result<bool> {
        let id = crate::programme::first_iga_id(person);
        let known = self
            .tx
            .prepare_cached("SELECT 1 FROM change WHERE entity = 'iga' AND record_id = ?1")?
            .exists(params![id.to_string()])?;
        if known {
            return Ok(false);
        }
        let row: Option<(Option<String>, Option<String>, Option<String>)> = self
            .tx
            .prepare_cached("SELECT iga_sector, region, province FROM beneficiary WHERE id = ?1")?
            .query_row(params![person.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((sector, region, province)) = row else { return Ok(false) };
        let text = |v: Option<String>| v.map_or(Value::Null, Value::String);
        let mut fields: Map<String, Value> =
            crate::programme::IGA.fields.iter().map(|f| (f.name.to_string(), Value::Null)).collect();
        fields.insert("beneficiary_id".into(), Value::String(person.to_string()));
        fields.insert("sector".into(), Value::String(sector.unwrap_or_else(|| "other".into())));
        fields.insert("form".into(), Value::String("individual".into()));
        fields.insert("legal_status".into(), Value::String("informal".into()));
        // Her place is a Moroccan region only when she lives in Morocco.
        if region.as_deref().is_some_and(|r| crate::reference::region(r).is_some()) {
            fields.insert("region".into(), text(region));
            fields.insert("province".into(), text(province));
        }
        fields.insert("created_at".into(), Value::String(crate::now_utc()));
        fields.insert("created_by".into(), Value::String(self.device.id.to_string()));
        fields.insert("archived_at".into(), Value::Null);
        self.emit(Entity::Iga, id, Op::Create, fields, Map::new(), Map::new())?;
        Ok(true)
    }
}

/// A record's row as stored, read into `T` (`doc_from_row`).
pub(crate) fn doc_of<T: serde::de::DeserializeOwned>(conn: &Connection, entity: Entity, id: Uuid) -> Result<T> {
    let id = id.to_string();
    let body: Option<Vec<u8>> = conn
        .prepare_cached(&format!("SELECT body FROM {} WHERE id = ?1", entity.as_str()))?
        .query_row(params![id], |r| r.get(0))
        .optional()?;
    match body {
        Some(body) => doc_from_row(conn, entity, &id, &body),
        None => Err(Error::NotFound { entity: entity.as_str(), id }),
    }
}

/// A record from its row's id and body, read in Rust (`store::body`);
/// from SQLite's text of it (`doc`) when the body holds what only SQLite
/// reads, so a record reads the same either way.
pub(crate) fn doc_from_row<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    entity: Entity,
    id: &str,
    body: &[u8],
) -> Result<T> {
    match super::body::read(body, id) {
        Ok(record) => Ok(record),
        Err(_) => {
            let doc: String = conn
                .prepare_cached(&format!("SELECT doc FROM {} WHERE id = ?1", entity.as_str()))?
                .query_row(params![id], |r| r.get(0))?;
            Ok(serde_json::from_str(&doc)?)
        }
    }
}

fn refuse_voided(voided: bool, id: Uuid) -> Result<()> {
    if voided {
        return Err(Error::invalid(vec![FieldError::new("id", "voided").with("id", id)]));
    }
    Ok(())
}

/// Refuses a correction naming a field it may not change, all at once.
fn check_patch(patch: &Map<String, Value>, editable: &[&str]) -> Result<()> {
    let errors: Vec<FieldError> = patch
        .keys()
        .filter(|k| !editable.contains(&k.as_str()))
        .map(|k| {
            let known = is_record_field(k) || matches!(k.as_str(), "beneficiary_id" | "kind" | "coordinator");
            FieldError::new(k, if known { "not_editable" } else { "unknown_field" })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(errors))
    }
}

impl Store {
    /// Corrects a visit; `patch` holds only the fields to change (`null`
    /// clears one).
    pub fn update_visit(&mut self, id: Uuid, patch: Value) -> Result<Visit> {
        self.require(Action::Record)?;
        let Value::Object(patch) = patch else { return Err(Error::field("input", "invalid_type")) };
        self.write_noted(|w| {
            let (v, changed) = w.correct_visit(id, patch)?;
            let note = (!changed.is_empty()).then(|| Note::new(Act::VisitUpdate, id).detail(changed.join(", ")));
            Ok((v, note))
        })
    }

    /// Corrects a milestone; `patch` as for [`Store::update_visit`].
    pub fn update_milestone(&mut self, id: Uuid, patch: Value) -> Result<Milestone> {
        self.require(Action::Record)?;
        let Value::Object(patch) = patch else { return Err(Error::field("input", "invalid_type")) };
        self.write_noted(|w| {
            let (m, changed) = w.correct_milestone(id, patch)?;
            let note = (!changed.is_empty()).then(|| Note::new(Act::MilestoneUpdate, id).detail(changed.join(", ")));
            Ok((m, note))
        })
    }

    /// Withdraws (voids) a visit entered by mistake, saying why: kept in
    /// the history, out of the counts. Voiding it again changes nothing.
    pub fn void_visit(&mut self, id: Uuid, reason: Option<String>) -> Result<Visit> {
        self.require(Action::Record)?;
        self.write_noted(|w| {
            let voided = w.void(Entity::Visit, id, &reason)?;
            Ok((w.record_doc(Entity::Visit, id)?, voided.then(|| Note::new(Act::VisitArchive, id))))
        })
    }

    /// Withdraws (voids) a milestone; its kind can then be entered again.
    pub fn void_milestone(&mut self, id: Uuid, reason: Option<String>) -> Result<Milestone> {
        self.require(Action::Record)?;
        self.write_noted(|w| {
            let voided = w.void(Entity::Milestone, id, &reason)?;
            Ok((w.record_doc(Entity::Milestone, id)?, voided.then(|| Note::new(Act::MilestoneArchive, id))))
        })
    }

    /// Puts an archived person back on the lists (see
    /// [`Writer::restore_beneficiary`]); restoring a live one changes nothing.
    pub fn restore_beneficiary(&mut self, id: Uuid) -> Result<Beneficiary> {
        self.require(Action::Record)?;
        self.write_noted(|w| match w.restore_beneficiary(id)? {
            Some(b) => Ok((b, Some(Note::new(Act::PersonRestore, id)))),
            None => Ok((w.beneficiary(id)?, None)),
        })
    }
}

/// The error for `cin` when another live person here holds it (other than
/// `except`, the record being saved), naming her.
fn cin_taken(conn: &Connection, cin: &str, except: Option<Uuid>) -> Result<Option<FieldError>> {
    let other: Option<(String, String, String)> = conn
        .prepare_cached(
            "SELECT id, first_name, last_name FROM beneficiary
             WHERE cin = ?1 AND id IS NOT ?2 AND archived_at IS NULL ORDER BY created_at, id LIMIT 1",
        )?
        .query_row(params![cin, except.map(|id| id.to_string())], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(other.map(|(id, first, last)| {
        FieldError::new("cin", "cin_taken").with("id", id).with("name", format!("{first} {last}"))
    }))
}
