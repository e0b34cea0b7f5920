//! Records of the kinds declared field by field (programme.rs): IGAs and
//! their follow-up surveys, migration seasons, referrals, partners, group
//! sessions and attendance. Added, corrected, withdrawn (with a reason)
//! and restored through the one write path, so they travel in bundles and
//! fold like every record; read back for the profile, the session screen
//! and the CLI.
//!
//! What the declaration cannot say, because it relates a record to
//! others, is checked here, on this machine's records: the person is
//! here and live, an IGA's members too, a survey's IGA is hers, a
//! referral's partner and an attendance's session exist.

use super::log::{self, Entity, Op};
use super::{Store, Writer};
use crate::access::Action;
use crate::audit::{Act, Note};
use crate::error::{Error, FieldError, Result};
use crate::kinds::{Kind, Origin};
use crate::programme;
use rusqlite::params;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Which records of a kind to list.
#[derive(Debug, Clone, Default)]
pub struct RecordQuery {
    pub beneficiary_id: Option<Uuid>,
    pub iga_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    /// Withdrawn ones too.
    pub archived: bool,
}

/// A session's attendance after a list was taken.
#[derive(Debug, Clone, Serialize)]
pub struct AttendanceTaken {
    pub session_id: Uuid,
    /// The people on the list now.
    pub present: Vec<Uuid>,
    pub ticked: usize,
    pub unticked: usize,
}

/// A partner as the forms offer it: built in (`code`) or added by a manager.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerView {
    pub id: Uuid,
    /// The built-in partner's code (`code.partner.<code>` names it in the
    /// window); none for one a manager added.
    pub code: Option<&'static str>,
    pub name: String,
    pub kind: String,
    pub archived: bool,
}

fn declared(entity: Entity) -> Result<&'static Kind> {
    entity.declared().ok_or_else(|| Error::Other(format!("internal: {} is not a declared kind", entity.as_str())))
}

/// The action adding or correcting a record of this kind needs.
fn action_for(entity: Entity) -> Action {
    if entity == Entity::Partner {
        Action::ManageReference
    } else {
        Action::Record
    }
}

fn invalid(field: &str, code: &str, id: impl ToString) -> Error {
    Error::invalid(vec![FieldError::new(field, code).with("id", id)])
}

fn uuid_of(doc: &Map<String, Value>, field: &str) -> Option<Uuid> {
    doc.get(field).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

impl Writer<'_> {
    /// A record's row, as JSON.
    pub(crate) fn declared_doc(&self, entity: Entity, id: Uuid) -> Result<Map<String, Value>> {
        self.record_doc(entity, id)
    }

    /// Whether a live record of this kind with this id is here.
    fn live(&self, entity: Entity, id: Uuid) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1 AND archived_at IS NULL", entity.as_str()))?
            .exists(params![id.to_string()])?)
    }

    /// Why a record may not name `id` of `entity` in `field`: it was
    /// withdrawn (put it back first: nothing is added to what counts
    /// nowhere, as a withdrawn IGA's surveys or a withdrawn session's
    /// list), or it is not here at all.
    pub(crate) fn refused_ref(&self, entity: Entity, field: &str, id: Uuid) -> Result<Error> {
        let here = self
            .tx
            .prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", entity.as_str()))?
            .exists(params![id.to_string()])?;
        Ok(invalid(field, if here { "withdrawn_record" } else { "unknown_record" }, id))
    }

    /// The relations of a record with others, checked on this machine.
    fn check_related(&self, kind: &Kind, doc: &Map<String, Value>) -> Result<()> {
        if let Some(person) = uuid_of(doc, "beneficiary_id") {
            self.check_beneficiary_live(person)?;
        }
        for f in kind.fields {
            let Some(id) = uuid_of(doc, f.name) else { continue };
            match f.ty {
                crate::kinds::Ty::Ref(Entity::Partner)
                    if programme::built_in_partner(id).is_none() && !self.live(Entity::Partner, id)? =>
                {
                    return Err(self.refused_ref(Entity::Partner, f.name, id)?);
                }
                crate::kinds::Ty::Ref(target) if target != Entity::Partner && !self.live(target, id)? => {
                    return Err(self.refused_ref(target, f.name, id)?);
                }
                _ => {}
            }
        }
        for m in doc.get("members").and_then(Value::as_array).into_iter().flatten() {
            if let Some(id) = m.as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                self.check_beneficiary_live(id).map_err(|_| invalid("members", "unknown_beneficiary", id))?;
            }
        }
        // A survey is of one of her own IGAs.
        if let (Some(iga), Some(person)) = (uuid_of(doc, "iga_id"), uuid_of(doc, "beneficiary_id")) {
            if kind.entity == Entity::IgaFollowup {
                let owner = uuid_of(&self.declared_doc(Entity::Iga, iga)?, "beneficiary_id");
                if owner != Some(person) {
                    return Err(invalid("iga_id", "not_her_iga", iga));
                }
            }
        }
        Ok(())
    }

    /// Adds a record of a declared kind from a form's input.
    pub fn add_record(&mut self, entity: Entity, mut input: Map<String, Value>) -> Result<Map<String, Value>> {
        let kind = declared(entity)?;
        // A survey is for the person whose IGA it is.
        if entity == Entity::IgaFollowup && input.get("beneficiary_id").is_none_or(Value::is_null) {
            if let Some(iga) = input.get("iga_id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()) {
                if let Ok(doc) = self.declared_doc(Entity::Iga, iga) {
                    input.insert("beneficiary_id".into(), doc.get("beneficiary_id").cloned().unwrap_or(Value::Null));
                }
            }
        }
        let mut origin = Origin { id: Uuid::now_v7(), created_at: crate::now_utc(), created_by: self.device.id };
        let doc = kind.validate(&input, Store::today(), &origin)?;
        if entity == Entity::Attendance {
            if let (Some(s), Some(p)) = (uuid_of(&doc, "session_id"), uuid_of(&doc, "beneficiary_id")) {
                origin.id = programme::attendance_id(s, p);
            }
        }
        self.check_related(kind, &doc)?;
        let mut fields = doc;
        fields.remove("id");
        self.emit(entity, origin.id, Op::Create, fields, Map::new(), Map::new())?;
        self.declared_doc(entity, origin.id)
    }

    /// Corrects a record: the fields of `patch` (editable ones), checked
    /// again as a whole. Gives the record and the fields changed.
    pub fn correct_record(
        &mut self,
        entity: Entity,
        id: Uuid,
        patch: &Map<String, Value>,
    ) -> Result<(Map<String, Value>, Vec<String>)> {
        let kind = declared(entity)?;
        let current = self.declared_doc(entity, id)?;
        if current.get("archived_at").is_some_and(|v| !v.is_null()) {
            return Err(invalid("id", "voided", id));
        }
        let new = kind.corrected(&current, patch, Store::today())?;
        self.check_related(kind, &new)?;
        let changed = self.update(entity, id, &current, &new)?;
        Ok((self.declared_doc(entity, id)?, changed))
    }

    /// Withdraws a record (archived with a reason) or puts a withdrawn one
    /// back (`reason` none). Gives whether anything changed.
    pub fn set_withdrawn(&mut self, entity: Entity, id: Uuid, reason: Option<String>) -> Result<bool> {
        let current = self.declared_doc(entity, id)?;
        let withdrawn = current.get("archived_at").is_some_and(|v| !v.is_null());
        let clocks = log::clocks_of(&self.tx, entity, id)?.unwrap_or_default();
        let mut fields = Map::new();
        let mut old = Map::new();
        match reason {
            Some(reason) => {
                if withdrawn {
                    return Ok(false);
                }
                let reason = crate::validate::req_text("archive_reason", &Some(reason), 500)
                    .map_err(|e| Error::invalid(vec![e]))?;
                fields.insert("archived_at".into(), Value::String(crate::now_utc()));
                fields.insert("archive_reason".into(), Value::String(reason));
                self.emit(entity, id, Op::Archive, fields, old, clocks)?;
            }
            None => {
                if !withdrawn {
                    return Ok(false);
                }
                let mut base = Map::new();
                for k in ["archived_at", "archive_reason"] {
                    fields.insert(k.into(), Value::Null);
                    old.insert(k.into(), current.get(k).cloned().unwrap_or(Value::Null));
                    base.insert(k.into(), clocks.get(k).cloned().unwrap_or(Value::Null));
                }
                self.emit(entity, id, Op::Archive, fields, old, base)?;
            }
        }
        Ok(true)
    }
}

impl Writer<'_> {
    /// Brings milestones recorded before IGAs were records (here, or on a
    /// laptop of an older version whose bundle just arrived) under their
    /// person's first IGA: their rows name it once folded again, and the
    /// IGA is made where no machine made it yet. Gives how many IGAs were
    /// made. Cheap when there is nothing to do.
    pub(crate) fn upgrade_milestones(&mut self) -> Result<usize> {
        let unfolded: Vec<String> = self
            .tx
            .prepare_cached("SELECT id FROM milestone WHERE iga_id IS NULL")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in unfolded.iter().filter_map(|i| Uuid::parse_str(i).ok()) {
            log::materialise(&self.tx, Entity::Milestone, id)?;
        }
        // The people whose milestones name an IGA that is not here, as
        // their laptop recorded them (a merge may show them elsewhere).
        let people: Vec<String> = self
            .tx
            .prepare_cached(
                "SELECT DISTINCT json_extract(c.fields, '$.beneficiary_id')
                 FROM milestone m
                 JOIN change c ON c.entity = 'milestone' AND c.record_id = m.id AND c.op = 'create'
                 WHERE m.iga_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM iga i WHERE i.id = m.iga_id)",
            )?
            .query_map([], |r| r.get::<_, Option<String>>(0))?
            .filter_map(|p| p.transpose())
            .collect::<rusqlite::Result<_>>()?;
        let mut made = 0;
        for person in people.iter().filter_map(|p| Uuid::parse_str(p).ok()) {
            let first = programme::first_iga_id(person);
            let names_first = self
                .tx
                .prepare_cached("SELECT 1 FROM milestone WHERE iga_id = ?1")?
                .exists(params![first.to_string()])?;
            if names_first && self.ensure_first_iga(person)? {
                made += 1;
            }
        }
        Ok(made)
    }
}

impl Store {
    /// Runs [`Writer::upgrade_milestones`] when there is anything to do
    /// (a database opened for the first time by this version), once: the
    /// check reads every milestone (a third of a second at 100,000
    /// people, at every unlock), and after it only an import can bring a
    /// milestone without its IGA, which upgrades its own. A database made
    /// by this version is marked done when it is made, so that opening it
    /// writes nothing.
    pub(crate) fn upgrade_records(&mut self) -> Result<()> {
        if self.device.is_none() || super::meta_get(self.conn(), super::MILESTONES_UPGRADED)?.is_some() {
            return Ok(());
        }
        let pending = self.conn().prepare_cached("SELECT 1 FROM milestone WHERE iga_id IS NULL LIMIT 1")?.exists([])?
            || self
                .conn()
                .prepare_cached(
                    "SELECT 1 FROM milestone m WHERE NOT EXISTS (SELECT 1 FROM iga i WHERE i.id = m.iga_id) LIMIT 1",
                )?
                .exists([])?;
        if pending {
            self.write(|w| w.upgrade_milestones())?;
        }
        super::meta_set(self.conn(), super::MILESTONES_UPGRADED, "1")
    }

    /// Adds a record of a declared kind (an IGA, a follow-up survey, a
    /// season, a referral, a partner, a session) from a form's JSON.
    pub fn add_record(&mut self, entity: Entity, input: Value) -> Result<Map<String, Value>> {
        self.require(action_for(entity))?;
        let Value::Object(input) = input else {
            return Err(Error::invalid(vec![FieldError::new("input", "invalid_type")]));
        };
        self.write_noted(|w| {
            let doc = w.add_record(entity, input)?;
            let id = uuid_of(&doc, "id").unwrap_or_default();
            let detail = match uuid_of(&doc, "beneficiary_id") {
                Some(p) => format!("{}, person {p}", entity.as_str()),
                None => entity.as_str().to_string(),
            };
            Ok((doc, Some(Note::new(Act::RecordAdd, id).detail(detail))))
        })
    }

    /// Corrects a record of a declared kind: the fields of `patch`.
    pub fn update_record(&mut self, entity: Entity, id: Uuid, patch: Value) -> Result<Map<String, Value>> {
        self.require(action_for(entity))?;
        let Value::Object(patch) = patch else {
            return Err(Error::invalid(vec![FieldError::new("input", "invalid_type")]));
        };
        self.write_noted(|w| {
            let (doc, changed) = w.correct_record(entity, id, &patch)?;
            let note = (!changed.is_empty()).then(|| {
                Note::new(Act::RecordUpdate, id).detail(format!("{}: {}", entity.as_str(), changed.join(", ")))
            });
            Ok((doc, note))
        })
    }

    /// Withdraws a record entered by mistake, saying why; it stays in the
    /// history.
    pub fn void_record(&mut self, entity: Entity, id: Uuid, reason: Option<String>) -> Result<Map<String, Value>> {
        self.require(action_for(entity))?;
        let reason = crate::validate::req_text("archive_reason", &reason, 500).map_err(|e| Error::invalid(vec![e]))?;
        self.write_noted(|w| {
            declared(entity)?;
            let changed = w.set_withdrawn(entity, id, Some(reason.clone()))?;
            let note =
                changed.then(|| Note::new(Act::RecordArchive, id).detail(format!("{}: {reason}", entity.as_str())));
            Ok((w.declared_doc(entity, id)?, note))
        })
    }

    /// Puts a withdrawn record back.
    pub fn restore_record(&mut self, entity: Entity, id: Uuid) -> Result<Map<String, Value>> {
        self.require(action_for(entity))?;
        self.write_noted(|w| {
            let kind = declared(entity)?;
            let doc = w.declared_doc(entity, id)?;
            w.check_related(kind, &doc)?;
            let changed = w.set_withdrawn(entity, id, None)?;
            let note =
                changed.then(|| Note::new(Act::RecordUpdate, id).detail(format!("{}: restored", entity.as_str())));
            Ok((w.declared_doc(entity, id)?, note))
        })
    }

    /// One record of a declared kind.
    pub fn record(&self, entity: Entity, id: Uuid) -> Result<Map<String, Value>> {
        self.require(Action::Read)?;
        declared(entity)?;
        super::write::doc_of(self.conn(), entity, id)
    }

    /// The records of a declared kind, newest first where they are dated.
    pub fn records(&self, entity: Entity, q: &RecordQuery) -> Result<Vec<Map<String, Value>>> {
        self.require(Action::Read)?;
        let kind = declared(entity)?;
        let mut sql = format!("SELECT doc FROM {} WHERE 1 = 1", entity.as_str());
        let mut args: Vec<String> = Vec::new();
        for (column, value) in
            [("beneficiary_id", q.beneficiary_id), ("iga_id", q.iga_id), ("session_id", q.session_id)]
        {
            if let Some(v) = value {
                if !kind.columns().contains(&column) {
                    return Ok(Vec::new());
                }
                args.push(v.to_string());
                sql.push_str(&format!(" AND {column} = ?{}", args.len()));
            }
        }
        if !q.archived {
            sql.push_str(" AND archived_at IS NULL");
        }
        let order = if kind.columns().contains(&"date") {
            "date DESC, created_at DESC"
        } else if kind.columns().contains(&"year") {
            "year DESC, created_at DESC"
        } else if kind.columns().contains(&"name") {
            "name COLLATE NOCASE"
        } else {
            "created_at"
        };
        sql.push_str(&format!(" ORDER BY {order}, id"));
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| r.get::<_, String>(0))?;
        let mut out: Vec<Map<String, Value>> = rows.map(|d| Ok(serde_json::from_str(&d?)?)).collect::<Result<_>>()?;
        // What the lists show besides the record itself, derived here:
        // an IGA's stage from its own milestones, a session's attendance.
        for doc in &mut out {
            let id = doc.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            match entity {
                Entity::Iga => {
                    let milestones: Vec<crate::milestone::Milestone> = self
                        .conn()
                        .prepare_cached("SELECT doc FROM milestone WHERE iga_id = ?1 AND archived_at IS NULL")?
                        .query_map(params![id], |r| r.get::<_, String>(0))?
                        .filter_map(|d| d.ok().and_then(|d| serde_json::from_str(&d).ok()))
                        .collect();
                    let stage = crate::milestone::stage(&milestones);
                    doc.insert("stage".into(), stage.map_or(Value::Null, |s| Value::String(s.to_string())));
                }
                Entity::Session => {
                    let n: i64 = self
                        .conn()
                        .prepare_cached(
                            "SELECT count(*) FROM attendance WHERE session_id = ?1 AND archived_at IS NULL",
                        )?
                        .query_row(params![id], |r| r.get(0))?;
                    doc.insert("attendance".into(), Value::from(n));
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Takes a session's attendance: the people `present` are ticked (a
    /// record each, made or put back), everyone else on its list unticked
    /// (withdrawn). One transaction; a person not here refuses it whole.
    pub fn take_attendance(&mut self, session: Uuid, present: &[Uuid]) -> Result<AttendanceTaken> {
        self.require(Action::Record)?;
        self.write_noted(|w| {
            if !w.live(Entity::Session, session)? {
                return Err(w.refused_ref(Entity::Session, "session_id", session)?);
            }
            let mut wanted: Vec<Uuid> = present.to_vec();
            wanted.sort();
            wanted.dedup();
            // Each row with its own id: after a merge a row shows under the
            // person kept, while its id follows from the person ticked.
            let listed: Vec<(Uuid, Uuid, bool)> =
                w.tx.prepare_cached(
                    "SELECT id, beneficiary_id, archived_at IS NOT NULL FROM attendance WHERE session_id = ?1",
                )?
                .query_map(params![session.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?))
                })?
                .filter_map(|row| match row {
                    Ok((id, p, archived)) => {
                        Some(Ok((Uuid::parse_str(&id).ok()?, Uuid::parse_str(&p).ok()?, archived)))
                    }
                    Err(e) => Some(Err(e)),
                })
                .collect::<rusqlite::Result<_>>()?;
            let (mut ticked, mut unticked) = (0, 0);
            for person in &wanted {
                match listed.iter().find(|(_, p, _)| p == person) {
                    Some((_, _, false)) => {}
                    Some((id, _, true)) => {
                        w.check_beneficiary_live(*person)?;
                        w.set_withdrawn(Entity::Attendance, *id, None)?;
                        ticked += 1;
                    }
                    None => {
                        let mut input = Map::new();
                        input.insert("session_id".into(), Value::String(session.to_string()));
                        input.insert("beneficiary_id".into(), Value::String(person.to_string()));
                        w.add_record(Entity::Attendance, input)?;
                        ticked += 1;
                    }
                }
            }
            for (id, person, archived) in &listed {
                if !archived && !wanted.contains(person) {
                    w.set_withdrawn(Entity::Attendance, *id, Some("unticked".into()))?;
                    unticked += 1;
                }
            }
            let note = (ticked + unticked > 0)
                .then(|| Note::new(Act::AttendanceSet, session).detail(format!("+{ticked} -{unticked}")));
            Ok((AttendanceTaken { session_id: session, present: wanted, ticked, unticked }, note))
        })
    }

    /// The partners a referral or a session may name: the built-in ones,
    /// then those managers added, by name.
    pub fn partners(&self) -> Result<Vec<PartnerView>> {
        self.require(Action::Read)?;
        let mut out: Vec<PartnerView> = programme::BUILT_IN_PARTNERS
            .iter()
            .map(|(code, name, kind)| PartnerView {
                id: programme::built_in_partner_id(code),
                code: Some(code),
                name: name.to_string(),
                kind: kind.to_string(),
                archived: false,
            })
            .collect();
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, name, kind, archived_at IS NOT NULL FROM partner ORDER BY name COLLATE NOCASE",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
        })?;
        for row in rows {
            let (id, name, kind, archived) = row?;
            if let Ok(id) = Uuid::parse_str(&id) {
                out.push(PartnerView { id, code: None, name, kind, archived });
            }
        }
        Ok(out)
    }
}
