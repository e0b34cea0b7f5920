//! Consent withdrawn: a person's identifying data erased on request, on
//! every machine, for good (issue 9).
//!
//! **What is erased.** Her names, CIN, phone, the day and month of her
//! birth (the year stays), her commune and douar (region and province
//! stay), and every free text about her: her notes and archive reason, her
//! visits' place, topics, notes and next steps, her milestones' notes and
//! reasons. What indicators count stays: her id, sex, year of birth,
//! region, province, cohort, phase, sector, consent date, and the dates,
//! kinds and amounts of her visits and milestones, so that she is still
//! counted, anonymously. Each kind's declaration says it, field by field
//! (`Field::identifying`, kinds.rs; [`identifying`]).
//!
//! **How.** An erasure is a logged record (entity `erasure`, whose id is
//! hers, carrying only a reason that must name nobody), so it travels in
//! bundles like any record and lands on every machine. Where it lands,
//! every stored change of her records (her own, the visits and milestones
//! recorded for her, the resolutions of their conflicts) is *scrubbed*:
//! each identifying value in the change's `fields` and `old` is replaced
//! by what an erasure leaves (names empty — a value no form writes —,
//! other identifying values `null`, the birth date `YYYY-01-01`, a
//! milestone's reason empty). Her records are folded again from the
//! scrubbed log, so rows, search words, duplicate candidates and conflicts
//! follow; the search index is merged, the file rebuilt (`VACUUM`) and its
//! write-ahead log emptied so that no freed page keeps the erased text,
//! and every backup is scrubbed the same way.
//!
//! **Convergence.** Scrubbing is a function of each value alone, so two
//! machines holding the same changes hold the same scrubbed log and fold
//! it to the same records, whatever order the changes came in. A change of
//! hers that arrives after the erasure (made on a laptop that had not
//! heard of it, or in a late bundle) is scrubbed before it is stored. A
//! change held scrubbed here and sent again unscrubbed by a late bundle
//! (or the other way round) is the same change, not a forgery: it is
//! recognised as held and never brings the values back
//! ([`same_but_scrubbed`]). And a scrubbed change reaching a machine that
//! has not heard of the erasure yet passes the bundle checks: they judge
//! the values an erasure leaves as such ([`stand_in`]).
//!
//! One edge waits: a correction of one of her visits that arrives before
//! the visit's creation cannot be known to be hers until the creation
//! arrives; it is scrubbed then (with the rest of that visit's changes).

use crate::access::Action;
use crate::beneficiary::{Beneficiary, MAX_AGE, MIN_AGE};
use crate::error::{Error, FieldError, Result};
use crate::store::log::{self, Change, Deferred, Entity, Op, CHANGE_COLUMNS};
use crate::store::{register_device, Device, Store};
use crate::sync::bundle::Line;
use chrono::{Datelike, NaiveDate};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use uuid::Uuid;

/// The longest reason, in characters.
pub const REASON_MAX: usize = 500;

/// An erasure, as logged: whose (its id is the person's), why, by which
/// device, when. Nothing else: the reason is a code or a short text that
/// names nobody (the window says so where it is typed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Erasure {
    pub id: Uuid,
    pub reason: String,
    pub created_at: String,
    pub created_by: Uuid,
}

/// What an erasure leaves of an identifying value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scrub {
    /// Text that a record requires: empty, a value no form writes (blank
    /// means no value), so an erased value is never taken for a typed one.
    Empty,
    /// `null`.
    Null,
    /// A date reduced to its year: `YYYY-01-01`.
    Year,
    /// A list emptied.
    NoItems,
    /// Text another field makes required (why she dropped out, why an
    /// IGA stopped operating): replaced by a dash, which names nobody and
    /// keeps the record valid for the form's own rules, so a bundle
    /// carrying it is never refused.
    Dash,
}

/// What [`Scrub::Dash`] leaves.
pub const DASH: &str = "—";

/// The identifying fields of a kind of record and what an erasure leaves
/// of each: those its declaration marks (`Field::identifying`, kinds.rs,
/// the one declaration the scrubbing, the refusal of edits, the bundle
/// checks and docs/data-dictionary.md follow), and the reason a record
/// was withdrawn (free text, it may name someone).
pub fn identifying(entity: Entity) -> &'static [(&'static str, Scrub)] {
    crate::kinds::of(entity).map_or(&[], |k| k.scrubbed())
}

fn rule(entity: Entity, field: &str) -> Option<Scrub> {
    identifying(entity).iter().find(|(f, _)| *f == field).map(|(_, s)| *s)
}

/// What an erasure leaves of `value`. Idempotent; `null` stays `null`.
fn scrub_value(how: Scrub, value: &Value) -> Value {
    match (how, value) {
        (_, Value::Null) => Value::Null,
        (Scrub::Null, _) => Value::Null,
        (Scrub::Empty, Value::String(_)) => Value::String(String::new()),
        (Scrub::Year, Value::String(s)) => match s.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit())) {
            Some(year) => Value::String(format!("{year}-01-01")),
            None => Value::Null,
        },
        (Scrub::NoItems, Value::Array(_)) => Value::Array(Vec::new()),
        (Scrub::Dash, Value::String(_)) => Value::String(DASH.into()),
        // A value of another type than its field's: no record holds one.
        _ => Value::Null,
    }
}

/// Scrubs the identifying values of a change's `fields` or `old` (or of a
/// record) of this kind, in place; whether anything changed. A
/// resolution's chosen value is scrubbed by the rule of the field it
/// settled.
pub fn scrub_map(entity: Entity, fields: &mut Map<String, Value>) -> bool {
    let mut changed = false;
    let mut set = |fields: &mut Map<String, Value>, key: &str, how: Scrub| {
        if let Some(v) = fields.get_mut(key) {
            let scrubbed = scrub_value(how, v);
            if scrubbed != *v {
                *v = scrubbed;
                changed = true;
            }
        }
    };
    if entity == Entity::Resolution {
        let settled = fields.get("entity").and_then(Value::as_str).and_then(Entity::parse);
        let field = fields.get("field").and_then(Value::as_str).map(str::to_string);
        if let Some(how) = settled.zip(field).and_then(|(e, f)| rule(e, &f)) {
            set(fields, "value", how);
        }
    } else {
        for (key, how) in identifying(entity) {
            set(fields, key, *how);
        }
    }
    changed
}

fn scrubbed(entity: Entity, fields: &Map<String, Value>) -> Map<String, Value> {
    let mut out = fields.clone();
    scrub_map(entity, &mut out);
    out
}

/// Whether a stored change (`held`: its `fields` and `old` texts) and one
/// received with the same device and number (`came`) are the same change,
/// one of them scrubbed by an erasure: then the received one is taken as
/// held (and never brings values back), not refused as a forgery.
pub(crate) fn same_but_scrubbed(entity: Entity, held: (&str, &str), came: (&str, &str)) -> bool {
    let parse = |s: &str| serde_json::from_str::<Map<String, Value>>(s).ok();
    let (Some(hf), Some(ho), Some(cf), Some(co)) = (parse(held.0), parse(held.1), parse(came.0), parse(came.1)) else {
        return false;
    };
    (hf == scrubbed(entity, &cf) && ho == scrubbed(entity, &co))
        || (cf == scrubbed(entity, &hf) && co == scrubbed(entity, &ho))
}

/// A change in the form an erasure leaves it, with stand-ins for the
/// values that validation refuses but an erasure writes (empty names, an
/// empty reason, a birth date reduced to its year): what the bundle checks
/// judge instead when the change as sent is refused (sync/check.rs). None
/// when the change is not in that form. The stand-ins are only taken for a
/// change whose identifying values are all as an erasure leaves them, and
/// a year of birth only when some day of that year gives an age the form
/// accepts on `today`.
pub(crate) fn stand_in(line: &Line, today: NaiveDate) -> Option<Line> {
    let mut fields: Map<String, Value> = serde_json::from_str(line.fields.get()).ok()?;
    let empty = Value::String(String::new());
    match line.entity {
        Entity::Beneficiary => {
            let names = ["first_name", "last_name"];
            let erased = names.iter().any(|k| fields.get(*k) == Some(&empty));
            let year = fields
                .get("birth_date")
                .and_then(Value::as_str)
                .filter(|d| d.len() == 10 && d.ends_with("-01-01"))
                .and_then(|d| d[..4].parse::<i32>().ok());
            if (!erased && year.is_none()) || (erased && scrubbed(line.entity, &fields) != fields) {
                return None;
            }
            for (k, stand_in) in names.iter().zip(["X", "Y"]) {
                if fields.get(*k) == Some(&empty) {
                    fields.insert(k.to_string(), Value::String(stand_in.into()));
                }
            }
            // An approximate birth date is a year already: the form wrote it.
            let approx = fields.get("birth_date_approx") == Some(&Value::Bool(true));
            if let Some(year) = year.filter(|_| !approx) {
                fields.insert("birth_date".into(), Value::String(birth_in(year, today)?.to_string()));
            }
        }
        Entity::Milestone => {
            if fields.get("reason") != Some(&empty) || scrubbed(line.entity, &fields) != fields {
                return None;
            }
            fields.insert("reason".into(), Value::String("X".into()));
        }
        _ => return None,
    }
    let text = serde_json::value::RawValue::from_string(serde_json::to_string(&fields).ok()?).ok()?;
    Some(Line {
        device_id: line.device_id,
        seq: line.seq,
        hlc: line.hlc,
        entity: line.entity,
        record_id: line.record_id,
        op: line.op,
        fields: text,
        old: line.old.clone(),
        base: line.base.clone(),
        at: line.at.clone(),
        coordinator: line.coordinator.clone(),
    })
}

/// A day of `year` that gives an age the form accepts on `today`, if any.
fn birth_in(year: i32, today: NaiveDate) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31)?.min(today);
    [first, last].into_iter().filter(|d| *d <= today).find(|d| {
        let age = crate::beneficiary::age_on(*d, today);
        (MIN_AGE..=MAX_AGE).contains(&age)
    })
}

/// Whether anyone is erased here (most databases: nobody, and then no
/// write looks further).
fn anyone(conn: &Connection) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM erasure LIMIT 1")?.exists([])?)
}

/// Whether this person is erased here.
pub fn is_erased(conn: &Connection, person: Uuid) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM erasure WHERE id = ?1")?.exists(params![person.to_string()])?)
}

/// The people erased here.
fn erased_people(conn: &Connection) -> Result<HashSet<Uuid>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM erasure")?;
    let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = HashSet::new();
    for id in ids {
        out.extend(Uuid::parse_str(&id?).ok());
    }
    Ok(out)
}

/// The person a visit or milestone was recorded for, from its creation
/// in the log (not where a merge shows it).
fn recorded_for(conn: &Connection, entity: Entity, id: Uuid) -> Result<Option<Uuid>> {
    let person: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT json_extract(fields, '$.beneficiary_id') FROM change
             WHERE entity = ?1 AND record_id = ?2 AND op = 'create' LIMIT 1",
        )?
        .query_row(params![entity.as_str(), id.to_string()], |r| r.get(0))
        .optional()?;
    Ok(person.flatten().and_then(|p| Uuid::parse_str(&p).ok()))
}

/// The person whose data a change of this record is: hers for her own
/// record, the one a visit or milestone was recorded for, the one of the
/// record a resolution settled. `fields` are the change's own, which
/// name her in a creation.
fn person_of(conn: &Connection, entity: Entity, id: Uuid, fields: &Map<String, Value>) -> Result<Option<Uuid>> {
    let named = |k: &str| fields.get(k).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
    match entity {
        Entity::Beneficiary => Ok(Some(id)),
        e if e.of_person() => match named("beneficiary_id") {
            Some(p) => Ok(Some(p)),
            None => recorded_for(conn, entity, id),
        },
        Entity::Resolution => {
            let settled = fields.get("entity").and_then(Value::as_str).and_then(Entity::parse);
            match (settled, named("record_id")) {
                (Some(Entity::Beneficiary), Some(r)) => Ok(Some(r)),
                (Some(e), Some(r)) if e.of_person() => recorded_for(conn, e, r),
                _ => Ok(None),
            }
        }
        _ => Ok(None),
    }
}

/// A change about to be logged here, of a record of an erased person: its
/// identifying values are scrubbed first (an archive's reason, a value
/// chosen for a conflict). The one write path ([`crate::store::Writer::emit`])
/// calls it, so nothing identifying is ever written for her again.
pub(crate) fn scrub_outgoing(
    conn: &Connection,
    entity: Entity,
    id: Uuid,
    fields: &mut Map<String, Value>,
    old: &mut Map<String, Value>,
) -> Result<()> {
    let hers = entity.of_person() || matches!(entity, Entity::Beneficiary | Entity::Resolution);
    if !hers || !anyone(conn)? {
        return Ok(());
    }
    if let Some(person) = person_of(conn, entity, id, fields)? {
        if is_erased(conn, person)? {
            scrub_map(entity, fields);
            scrub_map(entity, old);
        }
    }
    Ok(())
}

/// Refuses, naming each field, an edit of an erased person's identifying
/// fields: they cannot be entered again.
pub(crate) fn refuse_identifying<'a>(entity: Entity, fields: impl IntoIterator<Item = &'a String>) -> Result<()> {
    let refused: Vec<FieldError> =
        fields.into_iter().filter(|f| rule(entity, f).is_some()).map(|f| FieldError::new(f, "erased")).collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(refused))
    }
}

/// An erased person's record as the form's input, with stand-ins for the
/// values an erasure left that the form would refuse (her names, her
/// birth date reduced to its year), so that an edit of her other fields
/// is checked as any edit; [`keep_identity`] puts the erased values back.
pub(crate) fn stand_in_identity(input: &mut Map<String, Value>, today: NaiveDate) {
    input.insert("first_name".into(), Value::String("X".into()));
    input.insert("last_name".into(), Value::String("Y".into()));
    if let Some(d) = today.year().checked_sub(40).and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1)) {
        input.insert("birth_date".into(), Value::String(d.to_string()));
    }
}

/// Puts back into `new` the identifying values `erased` holds (see
/// [`stand_in_identity`]): every identifying field of her declaration.
pub(crate) fn keep_identity(new: &mut Beneficiary, erased: &Beneficiary) -> Result<()> {
    let (Value::Object(mut doc), Value::Object(old)) = (serde_json::to_value(&*new)?, serde_json::to_value(erased)?)
    else {
        return Err(Error::Other("internal: a record is not a JSON object".into()));
    };
    for (field, _) in identifying(Entity::Beneficiary) {
        match old.get(*field) {
            Some(v) => doc.insert(field.to_string(), v.clone()),
            None => doc.remove(*field),
        };
    }
    *new = serde_json::from_value(Value::Object(doc))?;
    Ok(())
}

/// The records holding `people`'s data, people first: each person's own
/// (when it has changes here), the visits and milestones recorded for
/// them, and the resolutions of those records' conflicts.
fn records_of(conn: &Connection, people: &HashSet<Uuid>) -> Result<BTreeSet<(Entity, Uuid)>> {
    let mut out = BTreeSet::new();
    for p in people {
        let logged = conn
            .prepare_cached("SELECT 1 FROM change WHERE entity = 'beneficiary' AND record_id = ?1 LIMIT 1")?
            .exists(params![p.to_string()])?;
        if logged {
            out.insert((Entity::Beneficiary, *p));
        }
    }
    let parse = |e: &str, id: &str| Entity::parse(e).zip(Uuid::parse_str(id).ok());
    let mut stmt = conn.prepare_cached(
        "SELECT entity, record_id, json_extract(fields, '$.beneficiary_id') FROM change
         WHERE entity IN ('visit', 'milestone', 'iga', 'iga_followup', 'season', 'referral', 'attendance')
           AND op = 'create'",
    )?;
    let rows =
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)))?;
    for row in rows {
        let (e, id, person) = row?;
        let hers = person.and_then(|p| Uuid::parse_str(&p).ok()).is_some_and(|p| people.contains(&p));
        if let (true, Some(record)) = (hers, parse(&e, &id)) {
            out.insert(record);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT record_id, json_extract(fields, '$.entity'), json_extract(fields, '$.record_id') FROM change
         WHERE entity = 'resolution' AND op = 'create'",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?))
    })?;
    let mut settled = Vec::new();
    for row in rows {
        let (id, e, target) = row?;
        if let (Ok(id), Some(target)) = (Uuid::parse_str(&id), e.zip(target).and_then(|(e, t)| parse(&e, &t))) {
            settled.push((id, target));
        }
    }
    for (id, target) in settled {
        if out.contains(&target) {
            out.insert((Entity::Resolution, id));
        }
    }
    Ok(out)
}

/// Scrubs the stored changes of one record; how many it rewrote.
fn scrub_record(tx: &Transaction<'_>, entity: Entity, id: Uuid) -> Result<usize> {
    let rows: Vec<(String, i64, String, String)> = tx
        .prepare_cached("SELECT device_id, seq, fields, old FROM change WHERE entity = ?1 AND record_id = ?2")?
        .query_map(params![entity.as_str(), id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut rewritten = 0;
    let mut update = tx.prepare_cached("UPDATE change_log SET fields = ?3, old = nullif(?4, '{}') WHERE device = (SELECT no FROM device_no WHERE id = ?1) AND seq = ?2")?;
    for (device, seq, fields, old) in rows {
        let mut fields: Map<String, Value> = serde_json::from_str(&fields)?;
        let mut old: Map<String, Value> = serde_json::from_str(&old)?;
        let changed = scrub_map(entity, &mut fields) | scrub_map(entity, &mut old);
        if changed {
            update.execute(params![device, seq, serde_json::to_string(&fields)?, serde_json::to_string(&old)?])?;
            rewritten += 1;
        }
    }
    Ok(rewritten)
}

/// Folds records again once their changes were scrubbed (rows, search
/// words, duplicate candidates, summaries), and finds their conflicts
/// again from the scrubbed changes: two archives whose reasons differed
/// no longer differ once both reasons are erased, and every machine must
/// hold the same conflicts whether the erasure came before or after them.
fn refold(tx: &Transaction<'_>, records: &BTreeSet<(Entity, Uuid)>, mut deferred: Option<&mut Deferred>) -> Result<()> {
    for (entity, id) in records {
        log::materialise_with(tx, *entity, *id, deferred.as_deref_mut())?;
    }
    for (entity, id) in records {
        tx.prepare_cached("DELETE FROM conflict WHERE entity = ?1 AND record_id = ?2")?
            .execute(params![entity.as_str(), id.to_string()])?;
        crate::sync::conflict::detect(tx, *entity, *id)?;
    }
    Ok(())
}

/// Records per kind, in what an erasure reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    pub beneficiaries: usize,
    pub visits: usize,
    pub milestones: usize,
    pub resolutions: usize,
}

impl RecordCounts {
    fn of(records: &BTreeSet<(Entity, Uuid)>) -> RecordCounts {
        let n = |e: Entity| records.iter().filter(|(k, _)| *k == e).count();
        RecordCounts {
            beneficiaries: n(Entity::Beneficiary),
            visits: n(Entity::Visit),
            milestones: n(Entity::Milestone),
            resolutions: n(Entity::Resolution),
        }
    }
}

/// Scrubs every stored change of `people`'s records and folds them again;
/// gives the records and how many changes were rewritten.
fn apply(tx: &Transaction<'_>, people: &HashSet<Uuid>) -> Result<(BTreeSet<(Entity, Uuid)>, usize)> {
    let records = records_of(tx, people)?;
    let mut changes = 0;
    for (entity, id) in &records {
        changes += scrub_record(tx, *entity, *id)?;
    }
    refold(tx, &records, None)?;
    Ok((records, changes))
}

/// What an import does about erasures, worked out before it writes: the
/// people its bundle erases, and its changes of erased people's records,
/// scrubbed before they are stored.
#[derive(Default)]
pub(crate) struct Incoming {
    /// People the bundle erases who were not erased here.
    pub new_people: HashSet<Uuid>,
    /// The `fields` and `old` texts to store instead of the received ones,
    /// by the change's place in the bundle.
    pub scrubbed: HashMap<usize, (String, String)>,
    /// The records of erased people the bundle changes: folded from the
    /// log, never from the received text.
    pub records: BTreeSet<(Entity, Uuid)>,
}

/// The ids a change's `fields` text names: the person of a visit or
/// milestone, the record a resolution settled.
#[derive(Deserialize)]
struct Ties {
    beneficiary_id: Option<Value>,
    entity: Option<Value>,
    record_id: Option<Value>,
}

impl Incoming {
    /// Looks at the fresh changes of a bundle (by their place in `lines`).
    /// Costs one query when nobody is erased here or by the bundle.
    pub fn prepare(conn: &Connection, lines: &[Line], fresh: &[usize]) -> Result<Incoming> {
        let mut erased = if anyone(conn)? { erased_people(conn)? } else { HashSet::new() };
        let new_people: HashSet<Uuid> = fresh
            .iter()
            .map(|i| &lines[*i])
            .filter(|c| c.entity == Entity::Erasure && c.op == Op::Create && !erased.contains(&c.record_id))
            .map(|c| c.record_id)
            .collect();
        erased.extend(&new_people);
        let mut out = Incoming { new_people, ..Incoming::default() };
        if erased.is_empty() {
            return Ok(out);
        }
        let ties = |c: &Line| serde_json::from_str::<Ties>(c.fields.get()).ok();
        let id_of = |v: Option<Value>| v.as_ref().and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
        // Whom the visits and milestones created in the bundle are for.
        let mut created_for: HashMap<(Entity, Uuid), Uuid> = HashMap::new();
        for c in lines.iter().filter(|c| c.op == Op::Create && c.entity.of_person()) {
            if let Some(p) = ties(c).and_then(|t| id_of(t.beneficiary_id)) {
                created_for.insert((c.entity, c.record_id), p);
            }
        }
        let person_for = |entity: Entity, id: Uuid| -> Result<Option<Uuid>> {
            match entity {
                Entity::Beneficiary => Ok(Some(id)),
                e if e.of_person() => match created_for.get(&(entity, id)) {
                    Some(p) => Ok(Some(*p)),
                    None => recorded_for(conn, entity, id),
                },
                _ => Ok(None),
            }
        };
        for i in fresh {
            let c = &lines[*i];
            let person = match c.entity {
                e if e == Entity::Beneficiary || e.of_person() => person_for(c.entity, c.record_id)?,
                Entity::Resolution => {
                    let t = ties(c);
                    let settled =
                        t.as_ref().and_then(|t| t.entity.as_ref()).and_then(Value::as_str).and_then(Entity::parse);
                    match (settled, t.and_then(|t| id_of(t.record_id))) {
                        (Some(e), Some(r)) => person_for(e, r)?,
                        _ => None,
                    }
                }
                _ => None,
            };
            if !person.is_some_and(|p| erased.contains(&p)) {
                continue;
            }
            out.records.insert((c.entity, c.record_id));
            let parse = |s: &str| serde_json::from_str::<Map<String, Value>>(s).ok();
            // A change that is not an object is refused by the checks.
            if let (Some(mut fields), Some(mut old)) = (parse(c.fields.get()), parse(c.old.get())) {
                if scrub_map(c.entity, &mut fields) | scrub_map(c.entity, &mut old) {
                    out.scrubbed.insert(*i, (serde_json::to_string(&fields)?, serde_json::to_string(&old)?));
                }
            }
        }
        Ok(out)
    }

    /// Once the bundle's changes are stored: scrubs the changes held of the
    /// records of the people it erases and of its records of erased people
    /// (a visit's creation arriving after its corrections); gives the
    /// records to fold again and how many held changes were rewritten.
    pub fn scrub_held(&self, tx: &Transaction<'_>) -> Result<(BTreeSet<(Entity, Uuid)>, usize)> {
        let mut records = self.records.clone();
        if !self.new_people.is_empty() {
            records.extend(records_of(tx, &self.new_people)?);
        }
        let mut rewritten = 0;
        for (entity, id) in &records {
            rewritten += scrub_record(tx, *entity, *id)?;
        }
        Ok((records, rewritten))
    }

    /// Folds the records again once the import folded its own (see
    /// [`refold`]).
    pub fn refold(records: &BTreeSet<(Entity, Uuid)>, tx: &Transaction<'_>, deferred: &mut Deferred) -> Result<()> {
        refold(tx, records, Some(deferred))
    }
}

/// What erasing a person did, in counts: never a value.
#[derive(Debug, Clone, Serialize)]
pub struct Erased {
    /// The person asked for.
    pub id: Uuid,
    /// The people erased: her, and anyone merged into her (the same person
    /// registered twice).
    pub people: usize,
    /// The records whose values were scrubbed.
    pub records: RecordCounts,
    /// Stored changes (history) whose values were scrubbed.
    pub changes_scrubbed: usize,
    #[serde(flatten)]
    pub secured: Secured,
}

/// What was done so that the erased values survive nowhere on this
/// machine.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Secured {
    /// The file was rebuilt and its write-ahead log emptied. False when
    /// another window or command held the database open meanwhile: then
    /// it is done at the next erasure or import that scrubs.
    pub compacted: bool,
    /// Backups scrubbed the same way.
    pub backups_scrubbed: usize,
    /// Backups that could not be scrubbed (not readable with this
    /// database's key): deleted, as no restore could use them either.
    pub backups_removed: usize,
}

/// After values were scrubbed in the stored log: the search index merged
/// (deleted words stay in its older segments until then), the file
/// rebuilt so that no freed page keeps erased text, the write-ahead log
/// emptied, and every backup scrubbed of every erasure known here.
///
/// The erasure is committed before: a file another reader holds is
/// reported (`compacted` false), not an error that would make the person
/// think nothing was erased.
pub(crate) fn secure(store: &Store) -> Result<Secured> {
    let conn = store.conn();
    let compacted = compact(conn).is_ok();
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)).unwrap_or(1);
    let (backups_scrubbed, backups_removed) = scrub_backups(store)?;
    Ok(Secured { compacted: compacted && busy == 0, backups_scrubbed, backups_removed })
}

/// Merges the search index's segments and rebuilds the file.
fn compact(conn: &Connection) -> Result<()> {
    conn.execute_batch("INSERT INTO beneficiary_fts (beneficiary_fts) VALUES ('optimize'); VACUUM;")?;
    Ok(())
}

/// Every erasure this database holds, as logged, with the devices that
/// made them.
fn known(conn: &Connection) -> Result<(Vec<Change>, Vec<Device>)> {
    let changes: Vec<Change> = conn
        .prepare_cached(&format!("SELECT {CHANGE_COLUMNS} FROM change WHERE entity = 'erasure' ORDER BY hlc"))?
        .query_map([], log::change_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let makers: BTreeSet<Uuid> = changes.iter().map(|c| c.device_id).collect();
    let mut devices = Vec::new();
    for id in makers {
        let row: Option<(String, String, Option<String>)> = conn
            .prepare_cached("SELECT name, coordinator, successor_of FROM device WHERE id = ?1")?
            .query_row(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        if let Some((name, coordinator, successor_of)) = row {
            let successor_of = successor_of.and_then(|s| Uuid::parse_str(&s).ok());
            devices.push(Device { id, name, coordinator, successor_of });
        }
    }
    Ok((changes, devices))
}

/// Takes `erasures` into the database open on `tx` (an older copy of
/// this one) and scrubs what they erase; gives how many changes were
/// rewritten and whether an erasure was new there.
fn take_in(tx: &Transaction<'_>, erasures: &[Change], devices: &[Device]) -> Result<(usize, bool)> {
    for d in devices {
        register_device(tx, d)?;
    }
    let mut new = false;
    for c in erasures {
        if log::insert_change(tx, c)? {
            log::materialise(tx, Entity::Erasure, c.record_id)?;
            new = true;
        }
    }
    let people: HashSet<Uuid> = erasures.iter().map(|c| c.record_id).collect();
    let (_, changes) = apply(tx, &people)?;
    Ok((changes, new))
}

/// Scrubs every backup of every erasure this database holds; gives how
/// many were scrubbed and how many had to be deleted.
fn scrub_backups(store: &Store) -> Result<(usize, usize)> {
    let (erasures, devices) = known(store.conn())?;
    if erasures.is_empty() {
        return Ok((0, 0));
    }
    // Each restore point is made whole and scrubbed, then kept whole (a
    // point that cannot be is removed: no restore could use it either).
    let (scrubbed, removed) =
        crate::sync::backup::scrub_all(store, |path| scrub_copy(store, path, &erasures, &devices))?;
    Ok((scrubbed, removed))
}

/// Scrubs one backup: brought to this schema (as a restore would), the
/// erasures taken in and applied, rebuilt, its log emptied.
fn scrub_copy(store: &Store, path: &Path, erasures: &[Change], devices: &[Device]) -> Result<()> {
    let mut conn = crate::sync::backup::open_copy(store, path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    crate::store::schema::migrate(&mut conn)?;
    let tx = conn.transaction()?;
    let (changes, new) = take_in(&tx, erasures, devices)?;
    tx.commit()?;
    // A copy that held nothing to scrub (taken after the erasures, or
    // scrubbed before) is left as it is.
    if changes > 0 || new {
        compact(&conn)?;
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0))?;
    Ok(())
}

/// After a restore: the erasures the database held before are taken in
/// again and applied, so that a copy taken before an erasure never brings
/// her data back (backups are scrubbed when she is erased; this holds
/// even for one that was not).
pub(crate) fn after_restore(store: &mut Store, before: (Vec<Change>, Vec<Device>)) -> Result<()> {
    let (erasures, devices) = before;
    if erasures.is_empty() {
        return Ok(());
    }
    let (changes, new) = store.write(|w| take_in(w.tx(), &erasures, &devices))?;
    if changes > 0 || new {
        secure(store)?;
    }
    Ok(())
}

/// Every erasure this database holds: what [`after_restore`] takes in
/// again.
pub(crate) fn before_restore(store: &Store) -> Result<(Vec<Change>, Vec<Device>)> {
    known(store.conn())
}

/// An erasure as a person's profile shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureView {
    pub reason: String,
    /// When, UTC.
    pub at: String,
    /// Who erased, and on which device.
    pub coordinator: String,
    pub device_name: String,
}

/// The erasure of a person, if she is erased here.
pub(crate) fn view(conn: &Connection, person: Uuid) -> Result<Option<ErasureView>> {
    let row: Option<(String, String, String)> = conn
        .prepare_cached(
            "SELECT e.doc, c.coordinator, coalesce(d.name, '') FROM erasure e
             JOIN change c ON c.entity = 'erasure' AND c.record_id = e.id
             LEFT JOIN device d ON d.id = c.device_id
             WHERE e.id = ?1 ORDER BY c.hlc LIMIT 1",
        )?
        .query_row(params![person.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((doc, coordinator, device_name)) = row else { return Ok(None) };
    let e: Erasure = serde_json::from_str(&doc)?;
    Ok(Some(ErasureView { reason: e.reason, at: e.created_at, coordinator, device_name }))
}

impl Store {
    /// Erases a person's identifying data on withdrawn consent, for good:
    /// the erasure is logged (with `reason`, which must name nobody), her
    /// records and their whole history scrubbed here, the file rebuilt,
    /// every backup scrubbed; it travels in the next bundle and does the
    /// same on every machine. Anyone merged into her (the same person
    /// registered twice) is erased with her. Refused, changing nothing, for
    /// a role that may not erase, an empty or overlong reason, a person
    /// not here or already erased.
    pub fn erase_beneficiary(&mut self, id: Uuid, reason: &str) -> Result<Erased> {
        self.require(Action::Erase)?;
        let reason = crate::validate::req_text("reason", &Some(reason.to_string()), REASON_MAX)
            .map_err(|e| Error::invalid(vec![e]))?;
        let actor = self.actor().clone();
        // Freed space is zeroed as the erasure writes, besides the rebuild
        // that follows (which another reader may hold off).
        let secure_delete: i64 = self.conn().pragma_query_value(None, "secure_delete", |r| r.get(0))?;
        self.conn().pragma_update(None, "secure_delete", 1)?;
        let done = self.write(|w| {
            w.beneficiary(id)?;
            if is_erased(w.tx(), id)? {
                return Err(Error::invalid(vec![FieldError::new("id", "already_erased").with("id", id)]));
            }
            // Everyone merged into her is her, registered twice.
            let merged = crate::sync::merge::merged_map(w.tx())?;
            let mut people: BTreeSet<Uuid> = merged
                .keys()
                .filter(|p| crate::sync::merge::resolve(&merged, **p).is_some_and(|(kept, _)| kept == id))
                .copied()
                .collect();
            people.insert(id);
            let mut erasing = HashSet::new();
            for p in people {
                if p != id && is_erased(w.tx(), p)? {
                    continue;
                }
                let mut fields = Map::new();
                fields.insert("reason".into(), Value::String(reason.clone()));
                fields.insert("created_at".into(), Value::String(crate::now_utc()));
                fields.insert("created_by".into(), Value::String(w.device.id.to_string()));
                w.emit(Entity::Erasure, p, Op::Create, fields, Map::new(), Map::new())?;
                crate::audit::log_erase(w, &actor, p, &reason)?;
                erasing.insert(p);
            }
            let (records, changes) = apply(w.tx(), &erasing)?;
            Ok(Erased {
                id,
                people: erasing.len(),
                records: RecordCounts::of(&records),
                changes_scrubbed: changes,
                secured: Secured::default(),
            })
        });
        self.conn().pragma_update(None, "secure_delete", secure_delete)?;
        let mut erased = done?;
        erased.secured = secure(self)?;
        Ok(erased)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn scrubbing_keeps_what_indicators_count_and_is_idempotent() {
        let mut person = map(json!({
            "first_name": "Fatima", "last_name": "Zahra", "name_ar": "فاطمة", "birth_date": "1988-04-12",
            "cin": "BK123456", "phone": "+212612345678", "commune": "Mnasra", "douar": "Laghdira",
            "notes": "ne pas appeler le mari", "archive_reason": null, "sex": "F", "region": "04",
            "province": "Kénitra", "cohort": "2026-A", "phase": "returned"
        }));
        assert!(scrub_map(Entity::Beneficiary, &mut person));
        assert_eq!(
            Value::Object(person.clone()),
            json!({
                "first_name": "", "last_name": "", "name_ar": null, "birth_date": "1988-01-01", "cin": null,
                "phone": null, "commune": null, "douar": null, "notes": null, "archive_reason": null, "sex": "F",
                "region": "04", "province": "Kénitra", "cohort": "2026-A", "phase": "returned"
            })
        );
        assert!(!scrub_map(Entity::Beneficiary, &mut person), "scrubbing twice changes nothing");
        let mut visit = map(json!({"date": "2026-01-02", "kind": "follow_up", "location": "chez elle",
            "topics": ["budget"], "notes": "x", "next_steps": "y", "coordinator": "Samira"}));
        scrub_map(Entity::Visit, &mut visit);
        assert_eq!(
            Value::Object(visit),
            json!({"date": "2026-01-02", "kind": "follow_up", "location": null, "topics": [], "notes": null,
                "next_steps": null, "coordinator": "Samira"})
        );
        let mut settled = map(json!({"entity": "beneficiary", "field": "phone", "value": "+212612345678"}));
        assert!(scrub_map(Entity::Resolution, &mut settled));
        assert_eq!(settled["value"], Value::Null);
        let mut other = map(json!({"entity": "beneficiary", "field": "cohort", "value": "2026-A"}));
        assert!(!scrub_map(Entity::Resolution, &mut other), "a resolution of a field she keeps stays");
    }

    #[test]
    fn a_change_held_scrubbed_is_the_same_as_it_unscrubbed_and_no_other() {
        let sent = (r#"{"phone":"+212612345678","cohort":"A"}"#, r#"{"phone":null,"cohort":"B"}"#);
        let held = (r#"{"phone":null,"cohort":"A"}"#, r#"{"phone":null,"cohort":"B"}"#);
        assert!(same_but_scrubbed(Entity::Beneficiary, held, sent));
        assert!(same_but_scrubbed(Entity::Beneficiary, sent, held));
        let forged = (r#"{"phone":null,"cohort":"Z"}"#, r#"{"phone":null,"cohort":"B"}"#);
        assert!(!same_but_scrubbed(Entity::Beneficiary, forged, sent), "a value she keeps must match");
    }

    #[test]
    fn a_year_of_birth_stands_for_a_day_of_it_that_the_form_accepts() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        // Born in 1945: 80 on a day after March 1st, 81 before.
        assert_eq!(birth_in(1945, today), NaiveDate::from_ymd_opt(1945, 12, 31));
        assert_eq!(birth_in(1988, today), NaiveDate::from_ymd_opt(1988, 1, 1));
        assert_eq!(birth_in(1900, today), None);
        assert_eq!(birth_in(2011, today), NaiveDate::from_ymd_opt(2011, 1, 1));
        assert_eq!(birth_in(2026, today), None);
    }
}
