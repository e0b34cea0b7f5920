//! Conflicts: one field of one record changed on two laptops since they
//! last agreed. Each change carries the stamp of the value it replaced
//! (`base`); two changes of a field with the same base (not two archives)
//! are a fork. An archive carries the stamps of every field, so archiving
//! while another laptop edits is a fork too.
//!
//! The winner is the greatest stamp (the fold, store/log.rs), the same on
//! every machine; the fork is kept here, keyed by (entity, record, field,
//! base), so any import order finds the same conflicts. Each side shows
//! where its branch ended (a laptop may have edited again after the fork). A person settles
//! one by keeping a value or entering another: a normal change plus a
//! logged `resolution` record, so that both travel.

use crate::access::Action;
use crate::audit::{Act, Note};
use crate::beneficiary::{BeneficiaryInput, Origin};
use crate::error::{Error, FieldError, Result};
use crate::store::log::{self, Change, Entity, Op, CHANGE_COLUMNS};
use crate::store::{Store, Writer};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A settled conflict, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub id: Uuid,
    pub conflict_id: String,
    pub entity: Entity,
    pub record_id: Uuid,
    pub field: String,
    /// The value chosen (`null` when an archive was kept as it is).
    pub value: Value,
    pub resolved_by: String,
    pub created_at: String,
    pub created_by: Uuid,
    pub archived_at: Option<String>,
}

/// The id of a conflict, the same on every machine.
pub fn conflict_id(entity: Entity, record: Uuid, field: &str, base: &str) -> String {
    let h = super::sha256_hex(format!("{}/{record}/{field}/{base}", entity.as_str()).as_bytes());
    format!("c-{}", &h[..16])
}

fn base_text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or("").to_string()
}

/// The changes a fork can be among: edits and archives, and for a decision
/// on a pair its creations too (its id derives from the pair, so two
/// stations deciding apart both create it).
fn changes_of(conn: &Connection, entity: Entity, id: Uuid) -> Result<Vec<Change>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CHANGE_COLUMNS} FROM change
         WHERE entity = ?1 AND record_id = ?2 AND (op <> 'create' OR entity = 'merge') ORDER BY hlc"
    ))?;
    let rows = stmt.query_map(params![entity.as_str(), id.to_string()], log::change_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// What a person decides about a pair of possible duplicates.
const DECISION_FIELDS: [&str; 6] = ["kept", "other", "status", "decided_at", "decided_by", "taken"];

/// The forks among the changes of one record: (field, base) → changes.
fn forks(changes: &[Change]) -> BTreeMap<(String, String), Vec<&Change>> {
    let mut groups: BTreeMap<(String, String), Vec<&Change>> = BTreeMap::new();
    for c in changes {
        if c.op == Op::Create {
            // A decision created where none was known replaced nothing: its
            // base is "". Two creations of one decision are a fork.
            for field in DECISION_FIELDS.iter().filter(|f| c.fields.contains_key(**f)) {
                groups.entry((field.to_string(), String::new())).or_default().push(c);
            }
            continue;
        }
        for (field, base) in &c.base {
            // An archive replaced every field; an update, those it sets.
            if c.op == Op::Update && !c.fields.contains_key(field) {
                continue;
            }
            groups.entry((field.clone(), base_text(Some(base)))).or_default().push(c);
        }
    }
    // Even two equal values are a fork: each branch may go on differently,
    // and the set of forks only grows as changes arrive, so every import
    // order finds the same. Two archives agree, unless they give different
    // reasons: then the reason is a conflict (one would be lost silently).
    groups.retain(|(field, _), cs| {
        let reasons_differ = || {
            field == "archive_reason"
                && cs.iter().any(|c| c.fields.get("archive_reason") != cs[0].fields.get("archive_reason"))
        };
        cs.len() > 1 && (cs.iter().any(|c| c.op != Op::Archive) || reasons_differ())
    });
    groups
}

/// Records the conflicts of one record that its changes now show; gives
/// how many are new.
pub(crate) fn detect(tx: &Transaction<'_>, entity: Entity, id: Uuid) -> Result<usize> {
    let changes = changes_of(tx, entity, id)?;
    let mut new = 0;
    let mut insert = tx.prepare_cached(
        "INSERT INTO conflict (id, entity, record_id, field, base) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO NOTHING",
    )?;
    for (field, base) in forks(&changes).into_keys() {
        let cid = conflict_id(entity, id, &field, &base);
        new += insert.execute(params![cid, entity.as_str(), id.to_string(), field, base])?;
    }
    Ok(new)
}

/// One side of a conflict: what one laptop did.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub hlc: String,
    pub device_id: Uuid,
    pub device_name: String,
    pub coordinator: String,
    pub at: String,
    pub op: Op,
    /// The value written (`null` for an archive).
    pub value: Value,
    /// Whether this side's value is the one in the record now.
    pub current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Settled {
    pub by: String,
    pub at: String,
    pub value: Value,
}

/// A conflict as listed: the record, the field, both sides, the value now.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictView {
    pub id: String,
    pub entity: Entity,
    pub record_id: Uuid,
    /// A person's name, or the record's own label.
    pub label: String,
    pub field: String,
    pub current: Value,
    pub sides: Vec<Side>,
    pub resolved: Option<Settled>,
}

fn view(conn: &Connection, id: &str) -> Result<Option<ConflictView>> {
    let row: Option<(String, String, String, String)> = conn
        .prepare_cached("SELECT entity, record_id, field, base FROM conflict WHERE id = ?1")?
        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((entity, record, field, base)) = row else { return Ok(None) };
    let (Some(entity), Ok(record)) = (Entity::parse(&entity), Uuid::parse_str(&record)) else { return Ok(None) };
    let names = super::devices::device_names(conn)?;
    let (doc, clocks) = current_of(conn, entity, record)?;
    let current = doc.get(&field).cloned().unwrap_or(Value::Null);
    let current_stamp = clocks.get(&field).and_then(Value::as_str).unwrap_or("").to_string();
    let changes = changes_of(conn, entity, record)?;
    let sides = forks(&changes)
        .remove(&(field.clone(), base))
        .unwrap_or_default()
        .into_iter()
        .map(|c| head(&changes, c, &field))
        .map(|c| {
            let value = if c.op != Op::Archive || field == "archive_reason" {
                c.fields.get(&field).cloned().unwrap_or(Value::Null)
            } else {
                Value::Null
            };
            side_of(c, &names, value, c.hlc.to_string() == current_stamp)
        })
        .collect();
    let resolved = conn
        .prepare_cached("SELECT doc FROM resolution WHERE conflict_id = ?1 AND archived_at IS NULL ORDER BY created_at DESC LIMIT 1")?
        .query_row(params![id], |r| r.get::<_, String>(0))
        .optional()?
        .map(|d| serde_json::from_str::<Resolution>(&d))
        .transpose()?
        .map(|r| Settled { by: r.resolved_by, at: r.created_at, value: r.value });
    Ok(Some(ConflictView {
        id: id.to_string(),
        entity,
        record_id: record,
        label: label_of(entity, &doc),
        field,
        current,
        sides,
        resolved,
    }))
}

/// A change as one side of a conflict, showing `value`.
fn side_of(c: &Change, names: &BTreeMap<String, String>, value: Value, current: bool) -> Side {
    Side {
        hlc: c.hlc.to_string(),
        device_id: c.device_id,
        device_name: names.get(&c.device_id.to_string()).cloned().unwrap_or_default(),
        coordinator: c.coordinator.clone(),
        at: c.at.clone(),
        op: c.op,
        value,
        current,
    }
}

/// What each side of a conflict wrote at the fork itself (not where its
/// branch ended, which after a settlement is the value kept): the values
/// a settlement may set aside, for the person's history (store/query.rs).
/// Each side's `current` is false: the caller compares with what was kept.
pub(crate) fn fork_sides(conn: &Connection, id: &str) -> Result<Vec<Side>> {
    let row: Option<(String, String, String, String)> = conn
        .prepare_cached("SELECT entity, record_id, field, base FROM conflict WHERE id = ?1")?
        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((entity, record, field, base)) = row else { return Ok(Vec::new()) };
    let (Some(entity), Ok(record)) = (Entity::parse(&entity), Uuid::parse_str(&record)) else { return Ok(Vec::new()) };
    let names = super::devices::device_names(conn)?;
    let changes = changes_of(conn, entity, record)?;
    let sides = forks(&changes)
        .remove(&(field.clone(), base))
        .unwrap_or_default()
        .into_iter()
        .map(|c| side_of(c, &names, c.fields.get(&field).cloned().unwrap_or(Value::Null), false))
        .collect();
    Ok(sides)
}

/// The latest change of the branch that starts at `c`: a laptop may have
/// changed the field again after the fork; its side shows where it ended.
fn head<'a>(changes: &'a [Change], mut c: &'a Change, field: &str) -> &'a Change {
    let mut steps = 0;
    while let Some(next) = changes
        .iter()
        .filter(|d| d.base.get(field).and_then(Value::as_str) == Some(c.hlc.to_string().as_str()))
        .filter(|d| d.op == Op::Archive || d.fields.contains_key(field))
        .max_by_key(|d| d.hlc)
    {
        c = next;
        steps += 1;
        if steps > changes.len() {
            break;
        }
    }
    c
}

fn current_of(conn: &Connection, entity: Entity, id: Uuid) -> Result<log::Current> {
    Ok(log::current(conn, entity, id)?.unwrap_or_default())
}

fn label_of(entity: Entity, doc: &Map<String, Value>) -> String {
    let s = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("");
    match entity {
        Entity::Beneficiary => format!("{} {}", s("first_name"), s("last_name")),
        Entity::Visit | Entity::Milestone => format!("{} {}", s("date"), s("kind")),
        Entity::Target => {
            let year = doc.get("year").filter(|y| !y.is_null()).map(|y| format!(" {y}")).unwrap_or_default();
            let sex = doc.get("sex").and_then(Value::as_str).map(|x| format!(" {x}")).unwrap_or_default();
            format!("{} {}{year}{sex}", s("indicator"), s("region"))
        }
        Entity::IgaFollowup | Entity::Referral | Entity::Session => format!("{} {}", s("date"), s("kind")),
        Entity::Iga => format!("{} {}", s("activity"), s("sector")),
        Entity::Season => format!("{} {}", s("country"), doc.get("year").map(Value::to_string).unwrap_or_default()),
        Entity::Partner => s("name").to_string(),
        Entity::Resolution | Entity::Merge | Entity::Erasure | Entity::Attendance => s("id").to_string(),
    }
}

pub(crate) fn list(conn: &Connection, all: bool) -> Result<Vec<ConflictView>> {
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT c.id FROM conflict c
             WHERE ?1 OR NOT EXISTS (SELECT 1 FROM resolution r WHERE r.conflict_id = c.id AND r.archived_at IS NULL)
             ORDER BY c.entity, c.record_id, c.field, c.base",
        )?
        .query_map(params![all], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for id in ids {
        out.extend(view(conn, &id)?);
    }
    Ok(out)
}

/// How a person settles a conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    /// Keep the value of the side with this stamp.
    Keep(String),
    /// Enter another value.
    Value(Value),
}

impl Writer<'_> {
    /// Sets one field of a record to `value`, replacing the current winner;
    /// a person's record is checked as a whole, as an edit is.
    fn set_field(&mut self, entity: Entity, id: Uuid, field: &str, value: Value) -> Result<()> {
        let (doc, clocks) = current_of(self.tx(), entity, id)?;
        let current = doc.get(field).cloned().unwrap_or(Value::Null);
        if current == value {
            return Ok(());
        }
        if entity == Entity::Beneficiary {
            let b = self.beneficiary(id)?;
            let Value::Object(mut input) = serde_json::to_value(b.to_input())? else {
                return Err(Error::Other("internal: an input is not a JSON object".into()));
            };
            if !crate::beneficiary::editable().contains(&field) {
                return Err(Error::invalid(vec![FieldError::new(field, "not_editable")]));
            }
            // Her identifying data was erased: never entered again; her
            // other fields are checked with stand-ins for it.
            if b.is_erased() {
                crate::erasure::refuse_identifying(entity, [&field.to_string()])?;
                crate::erasure::stand_in_identity(&mut input, Store::today());
            }
            input.insert(field.to_string(), value);
            let input: BeneficiaryInput = crate::validate::from_json(Value::Object(input))?;
            let origin = Origin { id, created_at: b.created_at.clone(), created_by: b.created_by };
            let checked = serde_json::to_value(input.validate(Store::today(), origin)?)?;
            let value = checked.get(field).cloned().unwrap_or(Value::Null);
            return self.replace(entity, id, field, current, value, &clocks);
        }
        self.replace(entity, id, field, current, value, &clocks).map_err(|e| match e {
            Error::Other(_) => Error::invalid(vec![FieldError::new("value", "invalid_type").with("detail", field)]),
            other => other,
        })
    }

    fn replace(
        &mut self,
        entity: Entity,
        id: Uuid,
        field: &str,
        current: Value,
        value: Value,
        clocks: &Map<String, Value>,
    ) -> Result<()> {
        if current == value {
            return Ok(());
        }
        let one = |v: Value| Map::from_iter([(field.to_string(), v)]);
        let base = clocks.get(field).cloned().unwrap_or(Value::Null);
        self.emit(entity, id, Op::Update, one(value), one(current), one(base))?;
        Ok(())
    }
}

impl Store {
    /// Conflicts to settle; with `all`, settled ones too.
    pub fn conflicts(&self, all: bool) -> Result<Vec<ConflictView>> {
        self.require(Action::Read)?;
        list(self.conn(), all)
    }

    /// Settles a conflict: keeps one side's value or sets another, and
    /// logs the decision. An archive stays an archive: keeping it, or a
    /// value, leaves the record archived.
    pub fn resolve_conflict(&mut self, id: &str, choice: Choice) -> Result<ConflictView> {
        self.require(Action::Settle)?;
        let not_found = || Error::NotFound { entity: "conflict", id: id.to_string() };
        let conflict = view(self.conn(), id)?.ok_or_else(not_found)?;
        let value = match &choice {
            Choice::Keep(stamp) => {
                let side = conflict.sides.iter().find(|s| &s.hlc == stamp).ok_or_else(|| {
                    Error::invalid(vec![FieldError::new("keep", "unknown_side").with("value", stamp)])
                })?;
                (side.op == Op::Update).then(|| side.value.clone())
            }
            Choice::Value(v) => Some(v.clone()),
        };
        self.write_noted(|w| {
            let archived = current_of(w.tx(), conflict.entity, conflict.record_id)?
                .0
                .get("archived_at")
                .is_some_and(|v| !v.is_null());
            if let Some(v) = &value {
                if !archived {
                    w.set_field(conflict.entity, conflict.record_id, &conflict.field, v.clone())?;
                }
            }
            let now = crate::now_utc();
            let record = Resolution {
                id: Uuid::now_v7(),
                conflict_id: conflict.id.clone(),
                entity: conflict.entity,
                record_id: conflict.record_id,
                field: conflict.field.clone(),
                value: value.clone().unwrap_or(Value::Null),
                resolved_by: w.device.coordinator.clone(),
                created_at: now,
                created_by: w.device.id,
                archived_at: None,
            };
            let Value::Object(mut fields) = serde_json::to_value(&record)? else {
                return Err(Error::Other("internal: a resolution is not a JSON object".into()));
            };
            fields.remove("id");
            w.emit(Entity::Resolution, record.id, Op::Create, fields, Map::new(), Map::new())?;
            // The conflict and the field settled, not the value kept.
            let how = if matches!(choice, Choice::Keep(_)) { "a side kept" } else { "another value" };
            let detail = format!("{} {} {}: {how}", conflict.entity.as_str(), conflict.record_id, conflict.field);
            Ok(((), Some(Note::new(Act::ConflictResolve, &conflict.id).detail(detail))))
        })?;
        view(self.conn(), id)?.ok_or_else(not_found)
    }
}
