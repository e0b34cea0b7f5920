//! The change log and how it folds into records.
//!
//! A change sets some fields of one record. Folding every change of a
//! record in clock order, the greatest stamp winning each field, gives the
//! record; the result does not depend on the order changes arrived in,
//! which is what lets laptops exchange changes in any order.
//!
//! Besides people, visits, milestones and targets, the log holds the
//! decisions of the consolidation (conflict resolutions, duplicate merges),
//! so that they travel in bundles like any record. A merge takes effect
//! here, when records are folded: the merged-away person is hidden and her
//! visits and milestones land under the person kept; undoing it is one more
//! change, after which they fold back.

use crate::beneficiary::Beneficiary;
use crate::clock::Hlc;
use crate::error::{Error, Result};
use crate::milestone::{self, Milestone};
use crate::sync::conflict::Resolution;
use crate::sync::merge::{self as merging, Decision};
use crate::target::Target;
use crate::text::fold;
use crate::visit::Visit;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The kinds of record the log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Beneficiary,
    Visit,
    Milestone,
    Target,
    /// A person settled a conflict (sync/conflict.rs).
    Resolution,
    /// A person's decision on a pair of possible duplicates (sync/merge.rs).
    Merge,
}

impl Entity {
    pub const ALL: [Entity; 6] =
        [Entity::Beneficiary, Entity::Visit, Entity::Milestone, Entity::Target, Entity::Resolution, Entity::Merge];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Beneficiary => "beneficiary",
            Entity::Visit => "visit",
            Entity::Milestone => "milestone",
            Entity::Target => "target",
            Entity::Resolution => "resolution",
            Entity::Merge => "merge",
        }
    }

    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The table's columns that are copied from the record's JSON.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Entity::Beneficiary => &[
                "id",
                "first_name",
                "last_name",
                "name_ar",
                "sex",
                "birth_date",
                "cin",
                "phone",
                "region",
                "province",
                "commune",
                "destination_country",
                "phase",
                "iga_sector",
                "cohort",
                "created_at",
                "created_by",
                "archived_at",
            ],
            Entity::Visit => &["id", "beneficiary_id", "date", "kind", "next_visit_date", "created_at", "archived_at"],
            Entity::Milestone => &["id", "beneficiary_id", "kind", "date", "amount", "created_at", "archived_at"],
            Entity::Target => &["id", "indicator", "region", "baseline", "target", "created_at", "archived_at"],
            Entity::Resolution => &["id", "conflict_id", "created_at", "archived_at"],
            Entity::Merge => &["id", "kept", "other", "status", "created_at", "archived_at"],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Create,
    Update,
    Archive,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Archive => "archive",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        [Op::Create, Op::Update, Op::Archive].into_iter().find(|o| o.as_str() == s)
    }
}

/// One write, as stored and as carried in bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub device_id: Uuid,
    pub seq: i64,
    pub hlc: Hlc,
    pub entity: Entity,
    pub record_id: Uuid,
    pub op: Op,
    pub fields: Map<String, Value>,
    #[serde(default)]
    pub old: Map<String, Value>,
    #[serde(default)]
    pub base: Map<String, Value>,
    pub at: String,
    pub coordinator: String,
}

pub(crate) const CHANGE_COLUMNS: &str =
    "device_id, seq, hlc, entity, record_id, op, fields, old, base, at, coordinator";

pub(crate) fn change_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Change> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, format!("bad {what}").into())
    };
    let text = |i: usize| row.get::<_, String>(i);
    let json = |i: usize| -> rusqlite::Result<Map<String, Value>> {
        serde_json::from_str(&text(i)?).map_err(|_| bad(i, "JSON"))
    };
    Ok(Change {
        device_id: Uuid::parse_str(&text(0)?).map_err(|_| bad(0, "device id"))?,
        seq: row.get(1)?,
        hlc: text(2)?.parse().map_err(|_| bad(2, "clock"))?,
        entity: Entity::parse(&text(3)?).ok_or_else(|| bad(3, "entity"))?,
        record_id: Uuid::parse_str(&text(4)?).map_err(|_| bad(4, "record id"))?,
        op: Op::parse(&text(5)?).ok_or_else(|| bad(5, "op"))?,
        fields: json(6)?,
        old: json(7)?,
        base: json(8)?,
        at: text(9)?,
        coordinator: text(10)?,
    })
}

/// Appends a change; gives false when the log had it already (same device
/// and number), which makes replays harmless.
pub fn insert_change(tx: &Transaction<'_>, c: &Change) -> Result<bool> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO change (device_id, seq, hlc, entity, record_id, op, fields, old, base, at, coordinator)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (device_id, seq) DO NOTHING",
    )?;
    let n = stmt.execute(params![
        c.device_id.to_string(),
        c.seq,
        c.hlc.to_string(),
        c.entity.as_str(),
        c.record_id.to_string(),
        c.op.as_str(),
        serde_json::to_string(&c.fields)?,
        serde_json::to_string(&c.old)?,
        serde_json::to_string(&c.base)?,
        c.at,
        c.coordinator,
    ])?;
    Ok(n == 1)
}

/// Every change of one record, in clock order.
pub fn changes_of(tx: &Transaction<'_>, entity: Entity, id: Uuid) -> Result<Vec<Change>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {CHANGE_COLUMNS} FROM change WHERE entity = ?1 AND record_id = ?2 ORDER BY hlc"
    ))?;
    let rows = stmt.query_map(params![entity.as_str(), id.to_string()], change_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// A record's fields and the stamp of each, folded from its changes.
pub struct Folded {
    pub fields: Map<String, Value>,
    pub clocks: Map<String, Value>,
    pub created: bool,
}

/// Folds changes (in any order): per field, the greatest stamp wins.
pub fn fold_changes(changes: &[Change]) -> Folded {
    let mut fields = Map::new();
    let mut clocks: Map<String, Value> = Map::new();
    let mut stamps: std::collections::HashMap<&str, Hlc> = std::collections::HashMap::new();
    let mut created = false;
    for c in changes {
        created |= c.op == Op::Create;
        for (k, v) in &c.fields {
            if stamps.get(k.as_str()).is_none_or(|s| c.hlc > *s) {
                stamps.insert(k, c.hlc);
                fields.insert(k.clone(), v.clone());
                clocks.insert(k.clone(), Value::String(c.hlc.to_string()));
            }
        }
    }
    Folded { fields, clocks, created }
}

/// What became of a record after its changes were folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Materialised {
    Done,
    /// Only updates so far: its creation has not arrived.
    NotCreated,
    /// A visit or milestone whose person is not here yet.
    Waiting,
}

/// What an import postpones to its end, and what it remembers meanwhile:
/// a person's summary is refreshed once, not once per visit, and her
/// presence and merges are looked up once.
#[derive(Default)]
pub struct Deferred {
    /// People whose summary (visits, stage) must be refreshed.
    pub summaries: HashSet<Uuid>,
    present: HashMap<Uuid, bool>,
    merged: Option<HashMap<Uuid, (Uuid, String)>>,
}

impl Deferred {
    /// Refreshes every summary postponed so far.
    pub fn finish(&mut self, tx: &Transaction<'_>) -> Result<()> {
        for id in std::mem::take(&mut self.summaries) {
            refresh_summary(tx, id)?;
        }
        Ok(())
    }

    /// Forgets what merges were known (a merge decision just landed).
    pub fn forget_merges(&mut self) {
        self.merged = None;
        self.present.clear();
    }

    fn is_present(&mut self, tx: &Transaction<'_>, id: Uuid) -> Result<bool> {
        if let Some(p) = self.present.get(&id) {
            return Ok(*p);
        }
        let p = beneficiary_present(tx, id)?;
        self.present.insert(id, p);
        Ok(p)
    }

    fn merged_into(&mut self, tx: &Transaction<'_>, id: Uuid) -> Result<Option<(Uuid, String)>> {
        if self.merged.is_none() {
            self.merged = Some(merging::merged_map(tx)?);
        }
        Ok(self.merged.as_ref().and_then(|m| merging::resolve(m, id)))
    }
}

fn beneficiary_present(tx: &Transaction<'_>, id: Uuid) -> Result<bool> {
    Ok(tx.prepare_cached("SELECT 1 FROM beneficiary WHERE id = ?1")?.exists(params![id.to_string()])?)
}

/// Rebuilds the row of one record from the log. With [`land`], the only
/// code that writes record tables.
pub fn materialise(tx: &Transaction<'_>, entity: Entity, id: Uuid) -> Result<Materialised> {
    materialise_with(tx, entity, id, None)
}

/// [`materialise`], with the person summaries postponed into `deferred`
/// when given (an import).
pub fn materialise_with(
    tx: &Transaction<'_>,
    entity: Entity,
    id: Uuid,
    deferred: Option<&mut Deferred>,
) -> Result<Materialised> {
    let changes = changes_of(tx, entity, id)?;
    let folded = fold_changes(&changes);
    if !folded.created {
        // Remembered, so that an import knows her creation will need the
        // whole log and not only itself.
        tx.prepare_cached("INSERT OR IGNORE INTO waiting (entity, record_id, parent_id) VALUES (?1, ?2, '')")?
            .execute(params![entity.as_str(), id.to_string()])?;
        return Ok(Materialised::NotCreated);
    }
    land(tx, entity, id, folded, deferred)
}

/// Writes the row of a record whose changes are folded: checks it is a
/// valid record, applies merges, indexes a person for search, lands the
/// visits and milestones that waited for her, refreshes summaries (now, or
/// at the end of an import when `deferred` is given).
pub fn land(
    tx: &Transaction<'_>,
    entity: Entity,
    id: Uuid,
    folded: Folded,
    mut deferred: Option<&mut Deferred>,
) -> Result<Materialised> {
    let mut fields = folded.fields;
    fields.insert("id".into(), Value::String(id.to_string()));
    let value = Value::Object(fields);
    // Round-trip through the typed record: the row holds only what the
    // domain accepts, in canonical form.
    let canonical = match entity {
        Entity::Beneficiary => serde_json::to_value(typed::<Beneficiary>(value, entity, id)?)?,
        Entity::Visit => serde_json::to_value(typed::<Visit>(value, entity, id)?)?,
        Entity::Milestone => serde_json::to_value(typed::<Milestone>(value, entity, id)?)?,
        Entity::Target => serde_json::to_value(typed::<Target>(value, entity, id)?)?,
        Entity::Resolution => serde_json::to_value(typed::<Resolution>(value, entity, id)?)?,
        Entity::Merge => serde_json::to_value(typed::<Decision>(value, entity, id)?)?,
    };
    let Value::Object(mut doc) = canonical else {
        return Err(Error::Other("internal: a record is not a JSON object".into()));
    };
    let mut extra: Vec<(&str, SqlValue)> = Vec::new();
    let mut parent = None;
    match entity {
        Entity::Visit | Entity::Milestone => {
            let own = doc.get("beneficiary_id").and_then(Value::as_str).and_then(|p| Uuid::parse_str(p).ok());
            let Some(own) = own else { return Err(Error::Other(format!("{} {id} has no person", entity.as_str()))) };
            // A merged-away person's visits show under the person kept.
            let merged = match deferred.as_deref_mut() {
                Some(d) => d.merged_into(tx, own)?,
                None => merging::merged_into(tx, own)?,
            };
            let effective = merged.map_or(own, |(kept, _)| kept);
            let present = match deferred.as_deref_mut() {
                Some(d) => d.is_present(tx, effective)?,
                None => beneficiary_present(tx, effective)?,
            };
            if !present {
                tx.prepare_cached("INSERT OR IGNORE INTO waiting (entity, record_id, parent_id) VALUES (?1, ?2, ?3)")?
                    .execute(params![entity.as_str(), id.to_string(), effective.to_string()])?;
                return Ok(Materialised::Waiting);
            }
            doc.insert("beneficiary_id".into(), Value::String(effective.to_string()));
            parent = Some(effective);
        }
        Entity::Beneficiary => {
            let merged = match deferred.as_deref_mut() {
                Some(d) => d.merged_into(tx, id)?,
                None => merging::merged_into(tx, id)?,
            };
            if let Some((kept, at)) = &merged {
                // Hidden from lists and plans, as an archived record is.
                if doc.get("archived_at").is_none_or(Value::is_null) {
                    doc.insert("archived_at".into(), Value::String(at.clone()));
                }
                extra.push(("merged_into", SqlValue::Text(kept.to_string())));
            } else {
                extra.push(("merged_into", SqlValue::Null));
            }
        }
        Entity::Target | Entity::Resolution | Entity::Merge => {}
    }
    upsert(tx, entity, &doc, &folded.clocks, &extra)?;
    tx.prepare_cached("DELETE FROM waiting WHERE entity = ?1 AND record_id = ?2")?
        .execute(params![entity.as_str(), id.to_string()])?;
    match entity {
        Entity::Beneficiary => {
            index_for_search(tx, &doc)?;
            if let Some(d) = deferred.as_deref_mut() {
                d.present.insert(id, true);
            }
            // Her visits and milestones that came first can land now.
            let waiting: Vec<(String, String)> = tx
                .prepare_cached("SELECT entity, record_id FROM waiting WHERE parent_id = ?1")?
                .query_map(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (e, rid) in &waiting {
                if let (Some(e), Ok(rid)) = (Entity::parse(e), Uuid::parse_str(rid)) {
                    materialise_with(tx, e, rid, deferred.as_deref_mut())?;
                }
            }
            if !waiting.is_empty() {
                summary_of(tx, id, deferred)?;
            }
        }
        Entity::Visit | Entity::Milestone => {
            if let Some(parent) = parent {
                summary_of(tx, parent, deferred)?;
            }
        }
        Entity::Merge => {
            merging::apply(tx, &doc)?;
            if let Some(d) = deferred {
                d.forget_merges();
            }
        }
        Entity::Target | Entity::Resolution => {}
    }
    Ok(Materialised::Done)
}

fn summary_of(tx: &Transaction<'_>, id: Uuid, deferred: Option<&mut Deferred>) -> Result<()> {
    match deferred {
        Some(d) => {
            d.summaries.insert(id);
            Ok(())
        }
        None => refresh_summary(tx, id),
    }
}

fn typed<T: serde::de::DeserializeOwned>(value: Value, entity: Entity, id: Uuid) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| Error::Other(format!("the changes of {} {id} do not make a valid record: {e}", entity.as_str())))
}

fn sql_value(v: Option<&Value>) -> SqlValue {
    match v {
        None | Some(Value::Null) => SqlValue::Null,
        Some(Value::String(s)) => SqlValue::Text(s.clone()),
        Some(Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
        Some(Value::Number(n)) => n.as_i64().map_or_else(|| SqlValue::Text(n.to_string()), SqlValue::Integer),
        Some(other) => SqlValue::Text(other.to_string()),
    }
}

fn upsert(
    tx: &Transaction<'_>,
    entity: Entity,
    doc: &Map<String, Value>,
    clocks: &Map<String, Value>,
    extra: &[(&str, SqlValue)],
) -> Result<()> {
    let mut cols: Vec<&str> = entity.columns().to_vec();
    let mut values: Vec<SqlValue> = cols.iter().map(|c| sql_value(doc.get(*c))).collect();
    cols.extend(["doc", "clocks"]);
    values.push(SqlValue::Text(serde_json::to_string(doc)?));
    values.push(SqlValue::Text(serde_json::to_string(clocks)?));
    if entity == Entity::Beneficiary {
        let name = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("");
        cols.push("sort_name");
        values.push(SqlValue::Text(fold(&format!("{} {}", name("last_name"), name("first_name")))));
    }
    for (c, v) in extra {
        cols.push(c);
        values.push(v.clone());
    }
    let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = cols.iter().skip(1).map(|c| format!("{c} = excluded.{c}")).collect();
    let sql = format!(
        "INSERT INTO {table} ({cols}) VALUES ({ph}) ON CONFLICT (id) DO UPDATE SET {upd}",
        table = entity.as_str(),
        cols = cols.join(", "),
        ph = placeholders.join(", "),
        upd = updates.join(", ")
    );
    tx.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// The words a search can find her by: names in both scripts, CIN, phone.
fn index_for_search(tx: &Transaction<'_>, doc: &Map<String, Value>) -> Result<()> {
    let s = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("");
    let mut text = fold(&format!("{} {} {}", s("first_name"), s("last_name"), s("name_ar")));
    if !s("cin").is_empty() {
        text.push(' ');
        text.push_str(&s("cin").to_lowercase());
    }
    if !s("phone").is_empty() {
        for t in crate::identity::phone_search_tokens(s("phone")) {
            text.push(' ');
            text.push_str(&t);
        }
    }
    let rowid: i64 =
        tx.prepare_cached("SELECT rowid FROM beneficiary WHERE id = ?1")?.query_row(params![s("id")], |r| r.get(0))?;
    tx.prepare_cached("DELETE FROM beneficiary_fts WHERE rowid = ?1")?.execute(params![rowid])?;
    tx.prepare_cached("INSERT INTO beneficiary_fts (rowid, text) VALUES (?1, ?2)")?.execute(params![rowid, text])?;
    Ok(())
}

/// Recomputes what a person's row derives from her visits and milestones:
/// visit count, last and next visit, IGA stage.
pub fn refresh_summary(tx: &Transaction<'_>, id: Uuid) -> Result<()> {
    let id = id.to_string();
    let milestones: Vec<Milestone> = tx
        .prepare_cached("SELECT doc FROM milestone WHERE beneficiary_id = ?1 AND archived_at IS NULL")?
        .query_map(params![id], |r| r.get::<_, String>(0))?
        .filter_map(|d| d.ok().and_then(|d| serde_json::from_str(&d).ok()))
        .collect();
    let stage = milestone::stage(&milestones);
    tx.prepare_cached(
        "UPDATE beneficiary SET
            visit_count = (SELECT count(*) FROM visit WHERE beneficiary_id = ?1 AND archived_at IS NULL),
            last_visit_date = (SELECT max(date) FROM visit WHERE beneficiary_id = ?1 AND archived_at IS NULL),
            next_visit_date = (SELECT next_visit_date FROM visit WHERE beneficiary_id = ?1 AND archived_at IS NULL
                               ORDER BY date DESC, created_at DESC LIMIT 1),
            stage = ?2,
            stage_rank = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, stage.map(|s| s.as_str()), stage.map_or(0, |s| i64::from(s.rank()))])?;
    Ok(())
}

/// The current stamp of each field of a record, if it exists.
pub fn clocks_of(tx: &Transaction<'_>, entity: Entity, id: Uuid) -> Result<Option<Map<String, Value>>> {
    let text: Option<String> = tx
        .prepare_cached(&format!("SELECT clocks FROM {} WHERE id = ?1", entity.as_str()))?
        .query_row(params![id.to_string()], |r| r.get(0))
        .optional()?;
    Ok(match text {
        Some(t) => Some(serde_json::from_str(&t)?),
        None => None,
    })
}
