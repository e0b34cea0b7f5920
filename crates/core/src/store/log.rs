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
//! change, after which they fold back. An erasure (consent withdrawn,
//! erasure.rs) is logged too; it rewrites the stored values of her changes
//! themselves, so that what they fold to no longer identifies her.

use crate::beneficiary::Beneficiary;
use crate::clock::Hlc;
use crate::erasure::Erasure;
use crate::error::{Error, Result};
use crate::milestone::{self, Milestone};
use crate::sync::conflict::Resolution;
use crate::sync::merge::{self as merging, Decision};
use crate::target::Target;
use crate::text::fold;
use crate::visit::Visit;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;
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
    /// A person's identifying data erased on withdrawn consent; its id is
    /// hers (erasure.rs).
    Erasure,
    /// The kinds declared field by field (programme.rs): an income-generating
    /// activity, its follow-up surveys, a migration season, a referral, a
    /// partner, a group session, a person's attendance at one.
    Iga,
    IgaFollowup,
    Season,
    Referral,
    Partner,
    Session,
    Attendance,
}

impl Entity {
    pub const ALL: [Entity; 14] = [
        Entity::Beneficiary,
        Entity::Visit,
        Entity::Milestone,
        Entity::Target,
        Entity::Resolution,
        Entity::Merge,
        Entity::Erasure,
        Entity::Iga,
        Entity::IgaFollowup,
        Entity::Season,
        Entity::Referral,
        Entity::Partner,
        Entity::Session,
        Entity::Attendance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Beneficiary => "beneficiary",
            Entity::Visit => "visit",
            Entity::Milestone => "milestone",
            Entity::Target => "target",
            Entity::Resolution => "resolution",
            Entity::Merge => "merge",
            Entity::Erasure => "erasure",
            Entity::Iga => "iga",
            Entity::IgaFollowup => "iga_followup",
            Entity::Season => "season",
            Entity::Referral => "referral",
            Entity::Partner => "partner",
            Entity::Session => "session",
            Entity::Attendance => "attendance",
        }
    }

    /// The declaration of a kind declared field by field (kinds.rs).
    pub fn declared(self) -> Option<&'static crate::kinds::Kind> {
        crate::programme::kind(self)
    }

    /// Whether its records belong to a person (`beneficiary_id`): they
    /// wait for her to arrive, follow her merges, go with her erasure and
    /// refresh her summary.
    pub fn of_person(self) -> bool {
        matches!(self, Entity::Visit | Entity::Milestone) || self.declared().is_some_and(|k| k.of_person())
    }

    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The table's columns read from the record's JSON (generated from its
    /// `body`, schema V9; `id` is the row's key): a declared kind's from
    /// its declaration (`Kind::columns`).
    fn columns(self) -> &'static [&'static str] {
        if let Some(kind) = crate::kinds::of(self) {
            return kind.columns();
        }
        match self {
            Entity::Target => {
                &["id", "indicator", "region", "year", "sex", "baseline", "target", "created_at", "archived_at"]
            }
            Entity::Resolution => &["id", "conflict_id", "created_at", "archived_at"],
            Entity::Merge => &["id", "kept", "other", "status", "created_at", "archived_at"],
            Entity::Erasure => &["id", "created_at"],
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Create,
    Update,
    /// Archives a record (`archived_at` an instant, with a reason for a
    /// person, a voided visit or milestone), or restores an archived
    /// person (`archived_at` and `archive_reason` both `null`).
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

/// A change as its row holds it: its JSON objects as text.
pub struct ChangeRow<'a> {
    pub device_id: Uuid,
    pub seq: i64,
    pub hlc: Hlc,
    pub entity: Entity,
    pub record_id: Uuid,
    pub op: Op,
    pub fields: &'a str,
    pub old: &'a str,
    pub base: &'a str,
    pub at: &'a str,
    pub coordinator: &'a str,
}

/// The log's table (schema V8): devices by number, the stamp in its parts;
/// the `change` view gives the rows back as text.
///
/// `old` and `base` are NULL when empty, `at` as [`stored_at`] gives it
/// (schema V9).
const INSERT_CHANGE: &str =
    "INSERT INTO change_log (device, seq, hlc_ms, hlc_n, hlc_node, entity, record_id, op, fields, old, base, at,
         coordinator, rcv)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, nullif(?10, '{}'), nullif(?11, '{}'), ?12, ?13, ?14)";

/// A change's `at` as text, in SQL, from `change_log c`: the same text as
/// the `change` view gives (schema V9 writes it once more, as migrations
/// are never edited).
pub(crate) const AT_TEXT_SQL: &str =
    "CASE typeof(c.at) WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ', c.at / 1000.0, 'unixepoch') ELSE c.at END";

/// A change's `at` as the log stores it: its milliseconds when it is in the
/// one form this program writes (`2026-12-01T11:14:35.558Z`, from 1970 on)
/// and [`AT_TEXT_SQL`] gives it back from them exactly, else its text as it
/// came. Checked by formatting the milliseconds back; that this formatting
/// is SQLite's too is a test (`tests::sqlite_writes_an_instant_as_rust_does`).
fn stored_at(at: &str) -> SqlValue {
    let millis = (at.len() == 24 && at.ends_with('Z'))
        .then(|| chrono::NaiveDateTime::parse_from_str(&at[..23], "%Y-%m-%dT%H:%M:%S%.3f").ok())
        .flatten()
        .map(|t| t.and_utc().timestamp_millis())
        .filter(|ms| *ms >= 0 && at_text(*ms).as_deref() == Some(at));
    millis.map_or_else(|| SqlValue::Text(at.to_string()), SqlValue::Integer)
}

/// The text [`AT_TEXT_SQL`] makes of milliseconds since 1970.
fn at_text(millis: i64) -> Option<String> {
    Some(chrono::DateTime::from_timestamp_millis(millis)?.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// The receipt number the next change this database takes in gets: one
/// more than any so far (`rcv` is the log's key).
pub fn next_rcv(tx: &Transaction<'_>) -> Result<i64> {
    Ok(tx.prepare_cached("SELECT coalesce(max(rcv), 0) + 1 FROM change_log")?.query_row([], |r| r.get(0))?)
}

/// The log's number for a device identity (a change's writer or its
/// stamp's node), given one the first time it is named.
fn device_number(tx: &Transaction<'_>, id: Uuid) -> Result<i64> {
    let text = id.to_string();
    let known: Option<i64> = tx
        .prepare_cached("SELECT no FROM device_no WHERE id = ?1")?
        .query_row(params![text], |r| r.get(0))
        .optional()?;
    match known {
        Some(no) => Ok(no),
        None => {
            tx.prepare_cached("INSERT INTO device_no (id) VALUES (?1)")?.execute(params![text])?;
            Ok(tx.last_insert_rowid())
        }
    }
}

/// A change's clock stamp as text, in SQL, from `change_log c` joined to
/// `device_no n` on the stamp's node: the same text as the `change` view
/// gives (schema V8 writes it once more, as migrations are never edited).
pub(crate) const STAMP_TEXT_SQL: &str = "printf('%015d-%06d-%s', c.hlc_ms, c.hlc_n, replace(n.id, '-', ''))";

/// The greatest clock stamp in the log, read through the stamp's index
/// (the view's text stamp has none).
pub fn last_stamp(conn: &rusqlite::Connection) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(&format!(
            "WITH top AS (SELECT hlc_ms, hlc_n FROM change_log ORDER BY hlc_ms DESC, hlc_n DESC LIMIT 1)
             SELECT max({STAMP_TEXT_SQL})
             FROM top JOIN change_log c ON c.hlc_ms = top.hlc_ms AND c.hlc_n = top.hlc_n
             JOIN device_no n ON n.no = c.hlc_node"
        ))?
        .query_row([], |r| r.get(0))?)
}

/// Puts every create's content back into the log (schema V8 keeps it in
/// the record's row while the row still holds it): for a change that
/// rewrites or rebuilds record tables by hand, as a migration or a test
/// that makes an old database may.
pub fn keep_all_content(conn: &rusqlite::Connection) -> Result<()> {
    conn.execute(
        "UPDATE change_log SET fields = (SELECT v.fields FROM change v WHERE v.rcv = change_log.rcv)
         WHERE fields IS NULL",
        [],
    )?;
    Ok(())
}

/// Appends a change made here; gives false when the log had it already
/// (same device and number), which makes replays harmless.
pub fn insert_change(tx: &Transaction<'_>, c: &Change) -> Result<bool> {
    let (fields, old, base) =
        (serde_json::to_string(&c.fields)?, serde_json::to_string(&c.old)?, serde_json::to_string(&c.base)?);
    let row = ChangeRow {
        device_id: c.device_id,
        seq: c.seq,
        hlc: c.hlc,
        entity: c.entity,
        record_id: c.record_id,
        op: c.op,
        fields: &fields,
        old: &old,
        base: &base,
        at: &c.at,
        coordinator: &c.coordinator,
    };
    let rcv = next_rcv(tx)?;
    let device = device_number(tx, c.device_id)?;
    let node = device_number(tx, c.hlc.device)?;
    let mut stmt = tx.prepare_cached(&format!("{INSERT_CHANGE} ON CONFLICT (device, seq) DO NOTHING"))?;
    Ok(execute_change(&mut stmt, &row, (device, node), rcv)? == 1)
}

/// Appends a change the log is known not to hold (an import checked), as
/// received `rcv`-th: a plain insert, which SQLite makes without a
/// statement journal.
pub fn append_change(tx: &Transaction<'_>, row: &ChangeRow<'_>, rcv: i64) -> Result<()> {
    let numbers = (device_number(tx, row.device_id)?, device_number(tx, row.hlc.device)?);
    execute_change(&mut tx.prepare_cached(INSERT_CHANGE)?, row, numbers, rcv)?;
    Ok(())
}

/// `numbers`: the log's numbers of the change's device and of its stamp's.
fn execute_change(
    stmt: &mut rusqlite::CachedStatement<'_>,
    c: &ChangeRow<'_>,
    (device, node): (i64, i64),
    rcv: i64,
) -> Result<usize> {
    Ok(stmt.execute(params![
        device,
        c.seq,
        c.hlc.millis,
        c.hlc.counter,
        node,
        c.entity.as_str(),
        c.record_id.to_string(),
        c.op.as_str(),
        c.fields,
        c.old,
        c.base,
        stored_at(c.at),
        c.coordinator,
        rcv,
    ])?)
}

/// Every change of one record, in clock order.
pub fn changes_of(tx: &Transaction<'_>, entity: Entity, id: Uuid) -> Result<Vec<Change>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {CHANGE_COLUMNS} FROM change WHERE entity = ?1 AND record_id = ?2 ORDER BY hlc"
    ))?;
    let rows = stmt.query_map(params![entity.as_str(), id.to_string()], change_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The stamps of the fields a fold set.
pub enum Stamps {
    /// Every field carries this one stamp: a record made by a single change.
    One(Hlc),
    /// Field → stamp (as text), the greatest of each field.
    Each(Map<String, Value>),
}

/// A record's fields and the stamp of each, folded from its changes.
pub struct Folded {
    pub fields: Map<String, Value>,
    pub stamps: Stamps,
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
    Folded { fields, stamps: Stamps::Each(clocks), created }
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
/// presence and merges are looked up once. Her search words are written
/// at the end too, all together: the full-text index flushes what it
/// holds at every statement that may need undoing, so writing them
/// between visits would cut it into thousands of tiny segments.
#[derive(Default)]
pub struct Deferred {
    /// People whose summary (visits, stage) must be refreshed.
    pub summaries: HashSet<Uuid>,
    /// People whose row was written: their possible duplicates are scored
    /// again at the end.
    rescore: HashSet<Uuid>,
    /// Search words per person's rowid, and whether older ones go first.
    search: BTreeMap<i64, (String, bool)>,
    present: HashMap<Uuid, bool>,
    merged: Option<HashMap<Uuid, (Uuid, String)>>,
}

impl Deferred {
    /// Refreshes every summary postponed so far, indexes the people who
    /// landed for search and scores their possible duplicates again; gives
    /// how many pairs of possible duplicates are new.
    pub fn finish(&mut self, tx: &Transaction<'_>) -> Result<usize> {
        for id in std::mem::take(&mut self.summaries) {
            refresh_summary(tx, id)?;
        }
        for (rowid, (text, replace)) in std::mem::take(&mut self.search) {
            write_search_words(tx, rowid, &text, replace)?;
        }
        let people: Vec<Uuid> = std::mem::take(&mut self.rescore).into_iter().collect();
        merging::rescore(tx, &people)
    }

    /// Forgets what merges were known (a merge decision just landed).
    pub fn forget_merges(&mut self) {
        self.merged = None;
        self.present.clear();
    }

    /// People were folded again without postponing (a merge took effect):
    /// what is remembered may be stale, and their search words may be
    /// written already, so the ones postponed replace them.
    fn written_behind(&mut self) {
        self.forget_merges();
        for entry in self.search.values_mut() {
            entry.1 = true;
        }
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
    land(tx, entity, id, folded, Landing::Refold, deferred)
}

/// How a folded record's row is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landing {
    /// Folded from its whole log: its row may exist (it is replaced) and
    /// it may have been waiting (it stops).
    Refold,
    /// An import brought its creation alone, and it was not waiting: its
    /// row is inserted. Should a row exist after all, its whole log is
    /// folded instead, so the shortcut never changes the outcome.
    New,
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
    landing: Landing,
    deferred: Option<&mut Deferred>,
) -> Result<Materialised> {
    let Folded { mut fields, stamps, .. } = folded;
    let had_id = fields.contains_key("id");
    fields.insert("id".into(), Value::String(id.to_string()));
    let folded_value = Value::Object(fields);
    // Through the typed record: the row holds only what the domain
    // accepts, in canonical form.
    let doc = canonical(entity, &folded_value, id)?;
    let Value::Object(mut fields) = folded_value else {
        return Err(Error::Other("internal: a fold is not a JSON object".into()));
    };
    if !had_id {
        fields.remove("id");
    }
    let clocks = encode_clocks(&doc, &fields, &stamps);
    place(tx, Canonical::new(entity, id, &doc, clocks)?, landing, deferred)
}

/// A record in canonical form, as its row holds it: its id, the text of
/// its `body` (the record less its id), its `clocks`, and the values of its
/// columns (which the row generates from `body`; the store reads them
/// here). Made without the database, so that an import makes them on
/// another core.
pub struct Canonical {
    entity: Entity,
    id: Uuid,
    /// The values of [`Entity::columns`], in order.
    columns: Vec<SqlValue>,
    /// The record without its id, canonical JSON text: what a create that
    /// made it alone holds as `fields`.
    body: String,
    /// As [`encode_clocks`] makes it.
    clocks: String,
}

impl Canonical {
    fn new(entity: Entity, id: Uuid, doc: &Map<String, Value>, clocks: String) -> Result<Canonical> {
        let columns = entity.columns().iter().map(|c| sql_value(doc.get(*c))).collect();
        Ok(Canonical { entity, id, columns, body: json_text(doc)?, clocks })
    }

    fn column(&self, name: &str) -> &SqlValue {
        let i = self.entity.columns().iter().position(|c| *c == name);
        i.and_then(|i| self.columns.get(i)).unwrap_or(&SqlValue::Null)
    }

    /// A text column's value, or "".
    fn text_of(&self, name: &str) -> &str {
        match self.column(name) {
            SqlValue::Text(s) => s,
            _ => "",
        }
    }

    /// The record, its id included.
    fn doc(&self) -> Result<Map<String, Value>> {
        let mut doc: Map<String, Value> = serde_json::from_str(&self.body)?;
        doc.insert("id".into(), Value::String(self.id.to_string()));
        Ok(doc)
    }

    /// The same record with one field set otherwise (stamps unchanged).
    fn with(self, field: &str, value: Value) -> Result<Canonical> {
        let mut doc = self.doc()?;
        doc.insert(field.into(), value);
        Canonical::new(self.entity, self.id, &doc, self.clocks)
    }
}

/// The row of a record an import brings with its creation alone, read
/// straight from the text of the change's `fields` into its typed record.
/// None when the text holds anything that read would treat otherwise than
/// a fold does (a field the record does not know, one it lacks, no valid
/// record at all): [`land_created`] folds it then. Touches no database, so
/// an import prepares these on another core while it writes the log.
pub fn prepare_created(entity: Entity, id: Uuid, fields: &str, hlc: Hlc) -> Option<Canonical> {
    let doc = canonical_from_text(entity, id, fields)?;
    if !keys_of(fields).is_some_and(|keys| doc.keys().filter(|k| *k != "id").eq(keys.iter())) {
        return None;
    }
    // `{"*":"<stamp>"}`, as encode_clocks writes it: a stamp needs no escaping.
    let clocks = format!("{{\"*\":\"{hlc}\"}}");
    Canonical::new(entity, id, &doc, clocks).ok()
}

/// Lands a record an import brought with its creation alone and that was
/// not waiting ([`Landing::New`]): as [`prepare_created`] made it, or
/// folded from its `fields` when it could not. The outcome is the same
/// either way.
pub fn land_created(
    tx: &Transaction<'_>,
    entity: Entity,
    id: Uuid,
    fields: &str,
    hlc: Hlc,
    prepared: Option<Canonical>,
    deferred: &mut Deferred,
) -> Result<Materialised> {
    match prepared.filter(|p| p.entity == entity && p.id == id) {
        Some(p) => place(tx, p, Landing::New, Some(deferred)),
        None => {
            let folded = Folded { fields: serde_json::from_str(fields)?, stamps: Stamps::One(hlc), created: true };
            land(tx, entity, id, folded, Landing::New, Some(deferred))
        }
    }
}

/// The record a change's `fields` text makes with its id, in canonical
/// form; None if it makes none.
fn canonical_from_text(entity: Entity, id: Uuid, fields: &str) -> Option<Map<String, Value>> {
    fn typed<T: serde::de::DeserializeOwned + Serialize>(text: &str) -> Option<Value> {
        serde_json::to_value(serde_json::from_str::<T>(text).ok()?).ok()
    }
    let text = with_id(id, fields)?;
    let canonical = match entity {
        Entity::Beneficiary => typed::<Beneficiary>(&text)?,
        Entity::Visit => typed::<Visit>(&text)?,
        Entity::Milestone => typed::<Milestone>(&text)?,
        Entity::Target => typed::<Target>(&text)?,
        Entity::Resolution => typed::<Resolution>(&text)?,
        Entity::Merge => typed::<Decision>(&text)?,
        Entity::Erasure => typed::<Erasure>(&text)?,
        declared => {
            let kind = declared.declared()?;
            Value::Object(kind.canonical(&serde_json::from_str(&text).ok()?, id).ok()?)
        }
    };
    match canonical {
        Value::Object(doc) => Some(doc),
        _ => None,
    }
}

/// A change's `fields` text with the record's `id` put first: the text of
/// the record it creates. None if `fields` is not an object.
pub(crate) fn with_id(id: Uuid, fields: &str) -> Option<String> {
    let body = fields.trim_start().strip_prefix('{')?.trim_start();
    let mut text = String::with_capacity(body.len() + 48);
    text.push_str("{\"id\":\"");
    text.push_str(id.as_hyphenated().encode_lower(&mut Uuid::encode_buffer()));
    text.push('"');
    if !body.starts_with('}') {
        text.push(',');
    }
    text.push_str(body);
    Some(text)
}

/// The keys of a JSON object's text, sorted, without reading its values
/// into anything.
pub(crate) fn keys_of(text: &str) -> Option<Vec<std::borrow::Cow<'_, str>>> {
    struct Keys<'a>(Vec<std::borrow::Cow<'a, str>>);
    impl<'de> serde::Deserialize<'de> for Keys<'de> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> std::result::Result<Keys<'de>, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((Borrowed(k), _)) = map.next_entry::<Borrowed<'de>, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visitor)
        }
    }
    /// A key, borrowed from the text unless it holds escapes.
    struct Borrowed<'a>(std::borrow::Cow<'a, str>);
    impl<'de> serde::Deserialize<'de> for Borrowed<'de> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Borrowed<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a key")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Borrowed<'de>, E> {
                    Ok(Borrowed(std::borrow::Cow::Borrowed(v)))
                }
                fn visit_str<E>(self, v: &str) -> std::result::Result<Borrowed<'de>, E> {
                    Ok(Borrowed(std::borrow::Cow::Owned(v.to_string())))
                }
            }
            d.deserialize_str(Visitor)
        }
    }
    let mut keys = serde_json::from_str::<Keys<'_>>(text).ok()?.0;
    keys.sort_unstable();
    keys.dedup();
    Some(keys)
}

/// Writes the row of a record in canonical form (`doc`, `clocks` as
/// [`encode_clocks`] made them), then what follows from it: merges, the
/// waiting list, search words, the visits that waited for a person,
/// summaries.
fn place(
    tx: &Transaction<'_>,
    mut record: Canonical,
    landing: Landing,
    mut deferred: Option<&mut Deferred>,
) -> Result<Materialised> {
    let (entity, id) = (record.entity, record.id);
    let mut merged_into = None;
    let mut parent = None;
    let mut awaited_by: Option<Vec<Uuid>> = None;
    match entity {
        e if e.of_person() => {
            let Ok(own) = Uuid::parse_str(record.text_of("beneficiary_id")) else {
                return Err(Error::Other(format!("{} {id} has no person", entity.as_str())));
            };
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
                tx.prepare_cached(
                    "INSERT INTO waiting (entity, record_id, parent_id) VALUES (?1, ?2, ?3)
                     ON CONFLICT (entity, record_id) DO UPDATE SET parent_id = excluded.parent_id",
                )?
                .execute(params![entity.as_str(), id.to_string(), effective.to_string()])?;
                // A row it had under someone else (a merge now sends it to a
                // person not here yet) goes: rows show only what can land,
                // whatever order decisions and people arrived in.
                let previous: Option<String> = tx
                    .prepare_cached(&format!("DELETE FROM {} WHERE id = ?1 RETURNING beneficiary_id", entity.as_str()))?
                    .query_row(params![id.to_string()], |r| r.get(0))
                    .optional()?;
                if let Some(prev) = previous.and_then(|p| Uuid::parse_str(&p).ok()) {
                    summary_of(tx, prev, deferred)?;
                }
                return Ok(Materialised::Waiting);
            }
            // A milestone recorded before IGAs were records belongs to
            // the IGA that holds the person's earlier milestones.
            if entity == Entity::Milestone && *record.column("iga_id") == SqlValue::Null {
                let first = crate::programme::first_iga_id(own);
                record = record.with("iga_id", Value::String(first.to_string()))?;
            }
            if effective != own {
                record = record.with("beneficiary_id", Value::String(effective.to_string()))?;
            }
            parent = Some(effective);
        }
        Entity::Beneficiary => {
            // Decisions that wait for her to arrive take effect with her.
            if landing == Landing::New || !beneficiary_present(tx, id)? {
                let decided = merging::decided_with(tx, id)?;
                if !decided.is_empty() {
                    awaited_by = Some(decided);
                }
            }
            let merged = match deferred.as_deref_mut() {
                Some(d) => d.merged_into(tx, id)?,
                None => merging::merged_into(tx, id)?,
            };
            if let Some((kept, at)) = merged {
                // Hidden from lists and plans, as an archived record is.
                if *record.column("archived_at") == SqlValue::Null {
                    record = record.with("archived_at", Value::String(at))?;
                }
                merged_into = Some(kept.to_string());
            }
        }
        _ => {}
    }
    let rowid = match write_row(tx, &record, merged_into.as_deref(), landing)? {
        Written::Inserted(rowid) => Some(rowid),
        Written::Replaced => None,
        // A row exists after all: fold the record's whole log.
        Written::AlreadyThere => return materialise_with(tx, entity, id, deferred),
    };
    if landing == Landing::Refold {
        tx.prepare_cached("DELETE FROM waiting WHERE entity = ?1 AND record_id = ?2")?
            .execute(params![entity.as_str(), id.to_string()])?;
    }
    match entity {
        Entity::Beneficiary => {
            let words = search_words(&record);
            let rowid = match rowid {
                Some(r) => r,
                None => tx
                    .prepare_cached("SELECT rowid FROM beneficiary WHERE id = ?1")?
                    .query_row(params![id.to_string()], |r| r.get(0))?,
            };
            let replace = landing == Landing::Refold;
            // Her possible duplicates depend on her row: scored again once
            // it is written (the `duplicate` table follows the records).
            match deferred.as_deref_mut() {
                Some(d) => {
                    let entry = d.search.entry(rowid).or_insert_with(|| (String::new(), false));
                    *entry = (words, entry.1 || replace);
                    d.present.insert(id, true);
                    d.rescore.insert(id);
                }
                None => {
                    write_search_words(tx, rowid, &words, replace)?;
                    merging::rescore(tx, &[id])?;
                }
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
                summary_of(tx, id, deferred.as_deref_mut())?;
            }
            if let Some(mut people) = awaited_by {
                people.push(id);
                merging::refold_people(tx, &people)?;
                if let Some(d) = deferred {
                    d.written_behind();
                }
            }
        }
        e if e.of_person() => {
            if let Some(parent) = parent {
                summary_of(tx, parent, deferred)?;
            }
        }
        Entity::Merge => {
            merging::apply(tx, &record.doc()?)?;
            if let Some(d) = deferred {
                d.written_behind();
            }
        }
        _ => {}
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

/// The record a fold makes, in canonical form (its typed record as JSON),
/// or why it is none.
fn canonical(entity: Entity, value: &Value, id: Uuid) -> Result<Map<String, Value>> {
    fn typed<T: serde::de::DeserializeOwned + Serialize>(value: &Value, entity: Entity, id: Uuid) -> Result<Value> {
        let record = T::deserialize(value).map_err(|e| {
            Error::Other(format!("the changes of {} {id} do not make a valid record: {e}", entity.as_str()))
        })?;
        Ok(serde_json::to_value(record)?)
    }
    let canonical = match entity {
        Entity::Beneficiary => typed::<Beneficiary>(value, entity, id)?,
        Entity::Visit => typed::<Visit>(value, entity, id)?,
        Entity::Milestone => typed::<Milestone>(value, entity, id)?,
        Entity::Target => typed::<Target>(value, entity, id)?,
        Entity::Resolution => typed::<Resolution>(value, entity, id)?,
        Entity::Merge => typed::<Decision>(value, entity, id)?,
        Entity::Erasure => typed::<Erasure>(value, entity, id)?,
        declared => match declared.declared() {
            Some(kind) => Value::Object(kind.canonical(value, id)?),
            None => return Err(Error::Other(format!("internal: {} is declared nowhere", entity.as_str()))),
        },
    };
    match canonical {
        Value::Object(doc) => Ok(doc),
        _ => Err(Error::Other("internal: a record is not a JSON object".into())),
    }
}

/// A record's JSON text without its id (its row's `body`), allocated
/// once at its size: written into a buffer kept per thread, then copied
/// (growing a fresh string as it is written cost a fifth of preparing an
/// import's rows).
fn json_text(doc: &Map<String, Value>) -> Result<String> {
    struct WithoutId<'a>(&'a Map<String, Value>);
    impl Serialize for WithoutId<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().filter(|(k, _)| *k != "id"))
        }
    }
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        serde_json::to_writer(&mut *buf, &WithoutId(doc))?;
        String::from_utf8(buf.clone()).map_err(|e| Error::Other(format!("internal: {e}")))
    })
}

/// A JSON value as an SQL value.
fn sql_value(v: Option<&Value>) -> SqlValue {
    match v {
        None | Some(Value::Null) => SqlValue::Null,
        Some(Value::String(s)) => SqlValue::Text(s.clone()),
        Some(Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
        Some(Value::Number(n)) => n.as_i64().map_or_else(|| SqlValue::Text(n.to_string()), SqlValue::Integer),
        Some(other) => SqlValue::Text(other.to_string()),
    }
}

/// The statements that write a table's rows, made once: `id`, `body`
/// (stored as JSONB), `clocks`, and for people `sort_name` and
/// `merged_into`; the other columns are generated from `body`.
struct RowSql {
    /// Replaces the row if there is one.
    upsert: String,
    /// Fails if there is a row. A plain one-row insert checks every
    /// constraint before writing, so SQLite needs no statement journal
    /// for it (an upsert needs one).
    insert: String,
}

fn row_sql(entity: Entity) -> &'static RowSql {
    static SQL: OnceLock<Vec<RowSql>> = OnceLock::new();
    let all = SQL.get_or_init(|| {
        Entity::ALL
            .iter()
            .map(|e| {
                let mut cols = vec!["id", "body", "clocks"];
                if *e == Entity::Beneficiary {
                    cols.extend(["sort_name", "merged_into"]);
                }
                let placeholders: Vec<String> = (1..=cols.len())
                    .map(|i| if cols[i - 1] == "body" { format!("jsonb(?{i})") } else { format!("?{i}") })
                    .collect();
                let insert = format!(
                    "INSERT INTO {table} ({cols}) VALUES ({ph})",
                    table = e.as_str(),
                    cols = cols.join(", "),
                    ph = placeholders.join(", "),
                );
                let updates: Vec<String> = cols.iter().skip(1).map(|c| format!("{c} = excluded.{c}")).collect();
                RowSql { upsert: format!("{insert} ON CONFLICT (id) DO UPDATE SET {}", updates.join(", ")), insert }
            })
            .collect()
    });
    &all[Entity::ALL.iter().position(|e| *e == entity).unwrap_or(0)]
}

/// What [`write_row`] did.
enum Written {
    Inserted(i64),
    Replaced,
    /// [`Landing::New`] found a row: nothing written.
    AlreadyThere,
}

/// Writes a record's row.
fn write_row(tx: &Transaction<'_>, record: &Canonical, merged_into: Option<&str>, landing: Landing) -> Result<Written> {
    let sql = row_sql(record.entity);
    let clocks = stored_clocks(tx, &record.clocks)?;
    let mut values: Vec<ToSqlOutput<'_>> = vec![
        ToSqlOutput::Owned(SqlValue::Text(record.id.to_string())),
        ToSqlOutput::Borrowed(ValueRef::Text(record.body.as_bytes())),
        ToSqlOutput::Owned(SqlValue::Text(clocks)),
    ];
    if record.entity == Entity::Beneficiary {
        let sort_name = fold(&format!("{} {}", record.text_of("last_name"), record.text_of("first_name")));
        values.push(ToSqlOutput::Owned(SqlValue::Text(sort_name)));
        values.push(
            merged_into
                .map_or(ToSqlOutput::Owned(SqlValue::Null), |m| ToSqlOutput::Borrowed(ValueRef::Text(m.as_bytes()))),
        );
    }
    if landing == Landing::Refold {
        tx.prepare_cached(&sql.upsert)?.execute(rusqlite::params_from_iter(values))?;
        return Ok(Written::Replaced);
    }
    match tx.prepare_cached(&sql.insert)?.execute(rusqlite::params_from_iter(values)) {
        Ok(_) => Ok(Written::Inserted(tx.last_insert_rowid())),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            Ok(Written::AlreadyThere)
        }
        Err(e) => Err(e.into()),
    }
}

/// The words a search can find her by: names in both scripts, CIN, phone.
fn search_words(record: &Canonical) -> String {
    let s = |k: &str| record.text_of(k);
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
    text
}

/// Indexes a person's row for search; `replace` when it may have been indexed before.
fn write_search_words(tx: &Transaction<'_>, rowid: i64, words: &str, replace: bool) -> Result<()> {
    if replace {
        tx.prepare_cached("DELETE FROM beneficiary_fts WHERE rowid = ?1")?.execute(params![rowid])?;
    }
    tx.prepare_cached("INSERT INTO beneficiary_fts (rowid, text) VALUES (?1, ?2)")?.execute(params![rowid, words])?;
    Ok(())
}

/// Recomputes what a person's row derives from her visits and milestones:
/// visit count, last and next visit, IGA stage. Her visits are read once
/// (the next visit is the one of her latest visit, the latest entered on a
/// tie, then the greatest id, the same on every machine). The steps of a
/// withdrawn IGA give no stage, as they count in no figure; an IGA is hers,
/// so withdrawing or restoring it refreshes this.
pub fn refresh_summary(tx: &Transaction<'_>, id: Uuid) -> Result<()> {
    let id = id.to_string();
    let milestones: Vec<Milestone> = tx
        .prepare_cached(
            "SELECT m.doc FROM milestone m WHERE m.beneficiary_id = ?1 AND m.archived_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM iga i WHERE i.id = m.iga_id AND i.archived_at IS NOT NULL)",
        )?
        .query_map(params![id], |r| r.get::<_, String>(0))?
        .filter_map(|d| d.ok().and_then(|d| serde_json::from_str(&d).ok()))
        .collect();
    let stage = milestone::person_stage(&milestones);
    let mut count = 0_i64;
    // (date, created_at, id) of the latest visit, and its next visit date.
    let mut latest: Option<((String, String, String), Option<String>)> = None;
    let mut stmt = tx.prepare_cached(
        "SELECT date, created_at, id, next_visit_date FROM visit WHERE beneficiary_id = ?1 AND archived_at IS NULL",
    )?;
    let mut rows = stmt.query(params![id])?;
    while let Some(r) = rows.next()? {
        count += 1;
        let key: (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if latest.as_ref().is_none_or(|(k, _)| key > *k) {
            latest = Some((key, r.get(3)?));
        }
    }
    let (last, next) = match latest {
        Some(((date, _, _), next)) => (Some(date), next),
        None => (None, None),
    };
    tx.prepare_cached(
        "UPDATE beneficiary SET visit_count = ?2, last_visit_date = ?3, next_visit_date = ?4, stage = ?5, stage_rank = ?6
         WHERE id = ?1",
    )?
    .execute(params![id, count, last, next, stage.map(|s| s.as_str()), stage.map_or(0, |s| i64::from(s.rank()))])?;
    Ok(())
}

/// The current stamp of each field of a record, if it exists.
pub fn clocks_of(tx: &Transaction<'_>, entity: Entity, id: Uuid) -> Result<Option<Map<String, Value>>> {
    Ok(current(tx, entity, id)?.map(|(_, clocks)| clocks))
}

/// A record as its row holds it (`doc`), and the stamp of each of its fields.
pub type Current = (Map<String, Value>, Map<String, Value>);

/// A record and its fields' stamps as its row holds them now; None if it
/// has no row.
pub fn current(conn: &rusqlite::Connection, entity: Entity, id: Uuid) -> Result<Option<Current>> {
    let row: Option<(String, String)> = conn
        .prepare_cached(&format!("SELECT doc, clocks FROM {} WHERE id = ?1", entity.as_str()))?
        .query_row(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((doc, clocks)) = row else { return Ok(None) };
    let doc: Map<String, Value> = serde_json::from_str(&doc)?;
    let clocks = expand_clocks(&doc, &full_clocks(conn, &clocks)?)?;
    Ok(Some((doc, clocks)))
}

/// The `clocks` column of a row: the stamp most of the record's fields
/// share, once, as `"*"`, and under `"+"` the fields that differ (`null`
/// for a field of the record that no change set). A record made by one
/// change stores `{"*":"<stamp>"}`, not its stamp once per field. What
/// `"*"` stands for is the fields of the row's `doc`, so read it back with
/// [`expand_clocks`] and that `doc`.
///
/// `fields` are the fields the fold set, `stamps` their stamps.
pub fn encode_clocks(doc: &Map<String, Value>, fields: &Map<String, Value>, stamps: &Stamps) -> String {
    if let Stamps::One(h) = stamps {
        // The usual case, made short: the change set exactly the record's fields.
        if doc.keys().filter(|k| *k != "id").eq(fields.keys()) {
            let mut out = Map::new();
            out.insert("*".into(), Value::String(h.to_string()));
            return Value::Object(out).to_string();
        }
    }
    let one = match stamps {
        Stamps::One(h) => h.to_string(),
        Stamps::Each(_) => String::new(),
    };
    let stamp_of = |k: &str| -> Option<&str> {
        match stamps {
            Stamps::One(_) => fields.contains_key(k).then_some(one.as_str()),
            Stamps::Each(m) => m.get(k).and_then(Value::as_str),
        }
    };
    let stamped: Vec<&str> = match stamps {
        Stamps::One(_) => fields.keys().map(String::as_str).collect(),
        Stamps::Each(m) => m.keys().map(String::as_str).collect(),
    };
    // The stamp most fields of the record carry (the greatest, on a tie).
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for k in doc.keys().filter(|k| *k != "id") {
        if let Some(s) = stamp_of(k) {
            match counts.iter_mut().find(|(c, _)| *c == s) {
                Some((_, n)) => *n += 1,
                None => counts.push((s, 1)),
            }
        }
    }
    let star = counts.iter().max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0))).map(|(s, _)| *s);
    let mut differ = Map::new();
    if let Some(star) = star {
        for k in doc.keys().filter(|k| *k != "id") {
            match stamp_of(k) {
                Some(s) if s == star => {}
                Some(s) => {
                    differ.insert(k.clone(), Value::String(s.to_string()));
                }
                None => {
                    differ.insert(k.clone(), Value::Null);
                }
            }
        }
    }
    for k in stamped.into_iter().filter(|k| *k == "id" || !doc.contains_key(*k)) {
        if let Some(s) = stamp_of(k) {
            differ.insert(k.to_string(), Value::String(s.to_string()));
        }
    }
    let mut out = Map::new();
    if let Some(star) = star {
        out.insert("*".into(), Value::String(star.to_string()));
    }
    if !differ.is_empty() {
        out.insert("+".into(), Value::Object(differ));
    }
    Value::Object(out).to_string()
}

/// The stamp of each field, from a row's `doc` and `clocks` columns (see
/// [`encode_clocks`]). A `clocks` object with neither `"*"` nor `"+"` is
/// already one stamp per field.
pub fn expand_clocks(doc: &Map<String, Value>, clocks: &str) -> Result<Map<String, Value>> {
    let mut stored: Map<String, Value> = serde_json::from_str(clocks)?;
    if !stored.contains_key("*") && !stored.contains_key("+") {
        return Ok(stored);
    }
    let star = stored.remove("*");
    let differ = match stored.remove("+") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut out = Map::new();
    for k in doc.keys().filter(|k| *k != "id") {
        match differ.get(k) {
            Some(Value::Null) => {}
            Some(s) => {
                out.insert(k.clone(), s.clone());
            }
            None => {
                if let Some(s) = &star {
                    out.insert(k.clone(), s.clone());
                }
            }
        }
    }
    for (k, s) in differ {
        if !s.is_null() && (k == "id" || !doc.contains_key(&k)) {
            out.insert(k, s);
        }
    }
    Ok(out)
}

/// The `clocks` column as a row stores it (schema V9): [`encode_clocks`]'s
/// text with each stamp written with its node's number here
/// (`<ms>.<counter>.<no>`, `device_no`) instead of its 32-digit device,
/// and a record whose fields all share one stamp as that stamp alone.
/// [`full_clocks`] gives the text back.
fn stored_clocks(tx: &Transaction<'_>, clocks: &str) -> Result<String> {
    let short = |stamp: &str| -> Result<String> {
        let hlc: Hlc = stamp.parse().map_err(|e| Error::Other(format!("internal: a clock stamp: {e}")))?;
        Ok(format!("{}.{}.{}", hlc.millis, hlc.counter, device_number(tx, hlc.device)?))
    };
    // The usual case, `{"*":"<stamp>"}`, without reading it as JSON.
    if let Some(stamp) = clocks.strip_prefix("{\"*\":\"").and_then(|r| r.strip_suffix("\"}")) {
        if !stamp.contains('"') {
            return short(stamp);
        }
    }
    let mut value: Value = serde_json::from_str(clocks)?;
    map_stamps(&mut value, &short)?;
    Ok(value.to_string())
}

/// The text [`encode_clocks`] made, from a row's `clocks` as
/// [`stored_clocks`] wrote it (or as rows written before schema V9 hold
/// it: full stamps, given back as they are).
pub fn full_clocks(conn: &rusqlite::Connection, stored: &str) -> Result<String> {
    let full = |stamp: &str| -> Result<String> {
        let mut parts = stamp.splitn(3, '.');
        let mut next = || parts.next().and_then(|p| p.parse::<i64>().ok());
        let (Some(millis), Some(counter), Some(no)) = (next(), next(), next()) else {
            return Ok(stamp.to_string());
        };
        let device: String = conn
            .prepare_cached("SELECT id FROM device_no WHERE no = ?1")?
            .query_row(params![no], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::Other(format!("a clock names device number {no}, which this database lacks")))?;
        let device = Uuid::parse_str(&device).map_err(|e| Error::Other(format!("device number {no}: {e}")))?;
        let counter = u32::try_from(counter).map_err(|e| Error::Other(format!("a clock stamp: {e}")))?;
        Ok(Hlc { millis, counter, device }.to_string())
    };
    if !stored.starts_with('{') {
        let mut out = Map::new();
        out.insert("*".into(), Value::String(full(stored)?));
        return Ok(Value::Object(out).to_string());
    }
    let mut value: Value = serde_json::from_str(stored)?;
    map_stamps(&mut value, &full)?;
    Ok(value.to_string())
}

/// Rewrites every stamp of a clocks object: `"*"`, the fields under
/// `"+"`, or each field of a clocks object of one stamp per field.
fn map_stamps(value: &mut Value, f: &dyn Fn(&str) -> Result<String>) -> Result<()> {
    let Value::Object(map) = value else {
        return Err(Error::Other("internal: clocks are not a JSON object".into()));
    };
    for (k, v) in map.iter_mut() {
        match v {
            Value::String(stamp) => *stamp = f(stamp)?,
            Value::Object(differ) if k == "+" => {
                for stamp in differ.values_mut() {
                    if let Value::String(s) = stamp {
                        *s = f(s)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A row's clocks name devices by their number here, and read back as
    /// encode_clocks wrote them, in every form it writes.
    #[test]
    fn clocks_are_stored_short_and_read_back_whole() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        let tx = conn.transaction().unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let s1 = Hlc { millis: 1_796_123_675_558, counter: 2, device: a }.to_string();
        let s2 = Hlc { millis: 1_796_123_675_600, counter: 0, device: b }.to_string();
        for full in [
            format!(r#"{{"*":"{s1}"}}"#),
            format!(r#"{{"*":"{s1}","+":{{"date":"{s2}","notes":null}}}}"#),
            format!(r#"{{"date":"{s2}","kind":"{s1}"}}"#),
            "{}".to_string(),
        ] {
            let stored = stored_clocks(&tx, &full).unwrap();
            assert!(!stored.contains(&a.simple().to_string()) && stored.len() < full.len().max(3), "{stored}");
            assert_eq!(full_clocks(&tx, &stored).unwrap(), full);
            // A row written before schema 9 holds the full text.
            assert_eq!(full_clocks(&tx, &full).unwrap(), full);
        }
        let one = stored_clocks(&tx, &format!(r#"{{"*":"{s1}"}}"#)).unwrap();
        assert_eq!(one, "1796123675558.2.1");
        assert!(full_clocks(&tx, "1.0.99").is_err(), "a device this database lacks");
    }

    /// The view writes a stored instant with SQLite's strftime; the log
    /// stores one as milliseconds only when Rust's formatting gives its
    /// text back: the two must agree on every millisecond they may meet.
    #[test]
    fn sqlite_writes_an_instant_as_rust_does() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut stmt = conn.prepare(&format!("SELECT {AT_TEXT_SQL} FROM (SELECT ?1 AS at) c")).unwrap();
        let last = 253_402_300_799_999_i64; // 9999-12-31T23:59:59.999Z
        let mut edges = vec![0, 1, 999, 1000, 59_999, 86_399_999, 951_782_400_000, 1_796_123_675_558, last];
        // A spread of instants: a linear congruential walk over the range.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            edges.push((x % (last as u64 + 1)) as i64);
        }
        for ms in edges {
            let rust = at_text(ms).unwrap();
            let sqlite: String = stmt.query_row([ms], |r| r.get(0)).unwrap();
            assert_eq!(sqlite, rust, "{ms}");
            assert_eq!(stored_at(&rust), SqlValue::Integer(ms), "{rust}");
        }
        for text in
            ["2026-12-01T11:14:35Z", "2026-12-01T23:59:60.000Z", "2026-02-30T10:00:00.000Z", "1969-12-31T23:59:59.999Z"]
        {
            assert_eq!(stored_at(text), SqlValue::Text(text.into()), "{text}");
        }
    }

    /// A change's `at` is stored as milliseconds only when the view gives
    /// its text back from them; any other text is kept as it came.
    #[test]
    fn a_change_keeps_its_time_as_written() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        let device = Uuid::now_v7();
        conn.execute(
            "INSERT INTO device (id, name, coordinator, first_seen) VALUES (?1, 'A', 'A', 'now')",
            [device.to_string()],
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        let times = [
            ("2026-12-01T11:14:35.558Z", "integer"),
            ("1970-01-01T00:00:00.000Z", "integer"),
            ("2026-12-01T23:59:59.999Z", "integer"),
            ("2026-12-01T11:14:35Z", "text"),
            ("2026-12-01T11:14:35.558+01:00", "text"),
            ("1796123675558", "text"),
            ("2459000.5", "text"),
            ("", "text"),
            ("hier soir", "text"),
        ];
        for (seq, (at, _)) in times.iter().enumerate() {
            let seq = seq as i64 + 1;
            let row = ChangeRow {
                device_id: device,
                seq,
                hlc: Hlc { millis: seq, counter: 0, device },
                entity: Entity::Visit,
                record_id: Uuid::now_v7(),
                op: Op::Update,
                fields: "{}",
                old: "{}",
                base: if seq == 1 { r#"{"a":"b"}"# } else { "{}" },
                at,
                coordinator: "A",
            };
            append_change(&tx, &row, seq).unwrap();
        }
        for (seq, (at, stored)) in times.iter().enumerate() {
            let (kind, text, old, base): (String, String, String, String) = tx
                .query_row(
                    "SELECT typeof(c.at), v.at, v.old, v.base FROM change_log c JOIN change v ON v.rcv = c.rcv
                     WHERE c.rcv = ?1",
                    [seq as i64 + 1],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .unwrap();
            assert_eq!((kind.as_str(), text.as_str()), (*stored, *at));
            assert_eq!(old, "{}");
            assert_eq!(base, if seq == 0 { r#"{"a":"b"}"# } else { "{}" });
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_record_made_by_one_change_stores_its_stamp_once() {
        let h = Hlc::tick(Hlc::ZERO, 1_000, Uuid::now_v7());
        let doc = map(json!({"id": "x", "date": "2024-01-02", "kind": "follow_up", "notes": null}));
        let fields = map(json!({"date": "2024-01-02", "kind": "follow_up", "notes": null}));
        let stored = encode_clocks(&doc, &fields, &Stamps::One(h));
        assert_eq!(stored, json!({"*": h.to_string()}).to_string());
        let each: Map<String, Value> = fields.keys().map(|k| (k.clone(), Value::String(h.to_string()))).collect();
        assert_eq!(expand_clocks(&doc, &stored).unwrap(), each);
        assert_eq!(encode_clocks(&doc, &fields, &Stamps::Each(each)), stored, "one text whichever way it was folded");
    }

    #[test]
    fn stamps_that_differ_and_fields_without_a_stamp_read_back_as_they_were() {
        let doc = map(json!({"id": "x", "a": 1, "b": 2, "c": 3, "d": 4}));
        // `d` was never set by a change; `e` and `id` were, though the record has no `e`.
        let each = map(json!({"a": "s1", "b": "s1", "c": "s2", "e": "s3", "id": "s4"}));
        let stored = encode_clocks(&doc, &each, &Stamps::Each(each.clone()));
        assert_eq!(expand_clocks(&doc, &stored).unwrap(), each);
        assert_eq!(serde_json::from_str::<Value>(&stored).unwrap()["*"], json!("s1"));
        assert_eq!(expand_clocks(&doc, "{}").unwrap(), Map::new());
        let per_field = json!({"a": "s1", "b": "s2"}).to_string();
        assert_eq!(expand_clocks(&doc, &per_field).unwrap(), map(json!({"a": "s1", "b": "s2"})));
    }
}
