//! Reading: one person, the searchable list, a profile with its timeline
//! and history, the follow-up plan, and the likely duplicates of a person.

use super::log::{change_from_row, Entity, Op, CHANGE_COLUMNS};
use super::write::{doc_from_row, doc_of};
use super::{Store, Writer};
use crate::access::Action;
use crate::beneficiary::{age_on, Beneficiary, BeneficiaryInput};
use crate::codes::{MilestoneKind, Phase, Sex};
use crate::error::{Error, Result};
use crate::identity::{parse_cin, parse_phone};
use crate::milestone::Milestone;
use crate::text::{fold, levenshtein, name_key, similar_names};
use crate::visit::Visit;
use chrono::{Datelike, NaiveDate};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The records of `entity` a query gives as (id, body) rows, in its order.
fn records_of<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    entity: Entity,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let (id, body) = id_and_body(row, 0)?;
        out.push(doc_from_row(conn, entity, id, body)?);
    }
    Ok(out)
}

/// A row's id and body, as they lie in it, from column `first` on.
fn id_and_body<'r>(row: &'r rusqlite::Row<'_>, first: usize) -> rusqlite::Result<(&'r str, &'r [u8])> {
    Ok((row.get_ref(first)?.as_str()?, row.get_ref(first + 1)?.as_blob()?))
}

pub(crate) fn beneficiary(conn: &Connection, id: Uuid) -> Result<Beneficiary> {
    doc_of(conn, Entity::Beneficiary, id)
}

pub(crate) fn milestones_of(conn: &Connection, id: Uuid) -> Result<Vec<Milestone>> {
    records_of(
        conn,
        Entity::Milestone,
        "SELECT id, body FROM milestone WHERE beneficiary_id = ?1 AND archived_at IS NULL ORDER BY date, created_at",
        params![id.to_string()],
    )
}

fn visits_of(conn: &Connection, id: Uuid) -> Result<Vec<Visit>> {
    records_of(
        conn,
        Entity::Visit,
        "SELECT id, body FROM visit WHERE beneficiary_id = ?1 AND archived_at IS NULL
         ORDER BY date DESC, created_at DESC",
        params![id.to_string()],
    )
}

impl Writer<'_> {
    pub fn beneficiary(&self, id: Uuid) -> Result<Beneficiary> {
        beneficiary(&self.tx, id)
    }
}

/// How the list is sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Name,
    /// Longest without a visit first.
    LastVisit,
    /// Furthest IGA stage first.
    Stage,
}

/// Filters of the beneficiary list; all optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub search: Option<String>,
    pub region: Option<String>,
    pub province: Option<String>,
    pub phase: Option<Phase>,
    /// An IGA stage, or `none` for people with no milestone yet.
    pub stage: Option<String>,
    pub sex: Option<Sex>,
    pub cohort: Option<String>,
    pub include_archived: bool,
    /// Only the archived (not those merged into another person): the
    /// list's "Archivées" filter, where one is restored.
    pub archived_only: bool,
    pub sort: Sort,
    /// At most this many rows (all when `None`).
    pub limit: Option<usize>,
    pub offset: usize,
}

/// A person in the list, with what is derived from her visits and
/// milestones.
#[derive(Debug, Clone, Serialize)]
pub struct ListRow {
    #[serde(flatten)]
    pub beneficiary: Beneficiary,
    pub stage: Option<MilestoneKind>,
    pub last_visit_date: Option<NaiveDate>,
    pub next_visit_date: Option<NaiveDate>,
    pub visit_count: u32,
    /// Her identifying data was erased (consent withdrawn): shown as an
    /// erased person.
    pub erased: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// How many people match, beyond the rows returned.
    pub total: usize,
    pub rows: Vec<ListRow>,
}

const ROW_COLUMNS: &str = "b.id, b.body, b.stage, b.last_visit_date, b.next_visit_date, b.visit_count";

/// A list row from its columns (`ROW_COLUMNS`, from `first` on).
fn list_row(conn: &Connection, r: &rusqlite::Row<'_>, first: usize) -> Result<ListRow> {
    let date = |i: usize| -> Result<Option<NaiveDate>> {
        let text: Option<String> = r.get(first + i)?;
        Ok(text.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()))
    };
    let stage: Option<String> = r.get(first + 2)?;
    let (id, body) = id_and_body(r, first)?;
    let beneficiary: Beneficiary = doc_from_row(conn, Entity::Beneficiary, id, body)?;
    Ok(ListRow {
        erased: beneficiary.is_erased(),
        beneficiary,
        stage: stage.as_deref().and_then(MilestoneKind::from_code),
        last_visit_date: date(3)?,
        next_visit_date: date(4)?,
        visit_count: r.get(first + 5)?,
    })
}

/// Turns what a person types into an FTS5 query: every word a prefix.
/// A number typed with spaces or dots (`06 12 34`) is one token.
pub fn search_expression(text: &str) -> Option<String> {
    let looks_like_phone =
        text.chars().all(|c| c.is_ascii_digit() || " +.-()".contains(c)) && text.chars().any(|c| c.is_ascii_digit());
    let words: Vec<String> = if looks_like_phone {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        vec![digits.strip_prefix("00").map(str::to_string).unwrap_or(digits)]
    } else {
        fold(text).split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect()
    };
    if words.is_empty() {
        return None;
    }
    Some(words.iter().map(|w| format!("\"{}\"*", w.replace('"', ""))).collect::<Vec<_>>().join(" "))
}

/// Up to this many search matches, the list reads each match's row (one
/// lookup each); beyond, it walks an index in its sort order and stops at
/// the page's end, which costs the same however many people match.
const FEW_MATCHES: i64 = 2000;

/// The list: a page of people and how many match. Rows are wide (each
/// carries its JSON and field clocks), so counts and sorts read narrow
/// indexes that hold every filter column (`beneficiary_list_*`), and only
/// the page's rows are read whole.
pub(crate) fn list(conn: &Connection, q: &ListQuery) -> Result<Page> {
    let mut wheres: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    let arg = |v: SqlValue, args: &mut Vec<SqlValue>| {
        args.push(v);
        format!("?{}", args.len())
    };
    for (col, val) in [
        ("b.region", q.region.clone()),
        ("b.province", q.province.clone()),
        ("b.phase", q.phase.map(|p| p.to_string())),
        ("b.sex", q.sex.map(|s| s.to_string())),
        ("b.cohort", q.cohort.clone()),
    ] {
        if let Some(v) = val.filter(|v| !v.is_empty()) {
            let p = arg(SqlValue::Text(v), &mut args);
            wheres.push(format!("{col} = {p}"));
        }
    }
    match q.stage.as_deref() {
        None | Some("") => {}
        Some("none") => wheres.push("b.stage IS NULL".into()),
        Some(s) => {
            let p = arg(SqlValue::Text(s.to_string()), &mut args);
            wheres.push(format!("b.stage = {p}"));
        }
    }
    if q.archived_only {
        wheres.push("b.archived_at IS NOT NULL AND b.merged_into IS NULL".into());
    }
    let filtered = !wheres.is_empty();
    if !q.include_archived && !q.archived_only {
        wheres.push("b.archived_at IS NULL".into());
    }
    let search = q.search.as_deref().and_then(search_expression);
    let matches: Option<i64> = match &search {
        Some(expr) => Some(
            conn.prepare_cached("SELECT count(*) FROM beneficiary_fts WHERE beneficiary_fts MATCH ?1")?
                .query_row(params![expr], |r| r.get(0))?,
        ),
        None => None,
    };
    let mut search_arg = None;
    if let Some(expr) = &search {
        let p = arg(SqlValue::Text(expr.clone()), &mut args);
        wheres.push(format!("b.rowid IN (SELECT rowid FROM beneficiary_fts WHERE beneficiary_fts MATCH {p})"));
        search_arg = Some(p);
    }
    let where_sql = if wheres.is_empty() { String::new() } else { format!("WHERE {}", wheres.join(" AND ")) };
    let (order, index) = match q.sort {
        Sort::Name => ("b.sort_name, b.id", "beneficiary_list_name"),
        // Never visited first (NULL sorts first), then the longest ago.
        Sort::LastVisit => ("b.last_visit_date, b.sort_name, b.id", "beneficiary_list_visit"),
        Sort::Stage => ("b.stage_rank DESC, b.sort_name, b.id", "beneficiary_list_stage"),
    };
    let ids = |sql: &str| -> Result<Vec<i64>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let ids = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<Vec<i64>>>()?)
    };
    let (total, page) = if matches.is_some_and(|m| m <= FEW_MATCHES) {
        let all = ids(&format!("SELECT b.rowid FROM beneficiary b {where_sql} ORDER BY {order}"))?;
        let page = all.iter().skip(q.offset).take(q.limit.unwrap_or(usize::MAX)).copied().collect();
        (all.len(), page)
    } else {
        let total = match (matches, &search_arg) {
            // A search alone: the index's count, less the archived among its matches.
            (Some(m), Some(p)) if !filtered => {
                let archived: i64 = if q.include_archived {
                    0
                } else {
                    conn.prepare_cached(&format!(
                        "SELECT count(*) FROM beneficiary b INDEXED BY beneficiary_live
                         WHERE b.archived_at IS NOT NULL
                           AND b.rowid IN (SELECT rowid FROM beneficiary_fts WHERE beneficiary_fts MATCH {p})"
                    ))?
                    .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
                };
                m - archived
            }
            // Everyone: SQLite counts a table's entries without reading
            // them; the archived are few.
            (None, _) if !filtered => conn
                .prepare_cached(&format!(
                    "SELECT (SELECT count(*) FROM beneficiary) - (SELECT count(*) FROM beneficiary INDEXED BY
                     beneficiary_live WHERE archived_at IS NOT NULL AND {})",
                    if q.include_archived { "0" } else { "1" }
                ))?
                .query_row([], |r| r.get(0))?,
            _ => conn
                .prepare_cached(&format!(
                    "SELECT count(*) FROM beneficiary b INDEXED BY beneficiary_list_name {where_sql}"
                ))?
                .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?,
        };
        let limit = q.limit.map_or(-1, |l| l as i64);
        let page = ids(&format!(
            "SELECT b.rowid FROM beneficiary b INDEXED BY {index} {where_sql} ORDER BY {order} LIMIT {limit} OFFSET {}",
            q.offset
        ))?;
        (total.max(0) as usize, page)
    };
    Ok(Page { total, rows: rows_by_rowid(conn, &page)? })
}

/// The list rows of these people, in the order given.
fn rows_by_rowid(conn: &Connection, rowids: &[i64]) -> Result<Vec<ListRow>> {
    if rowids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: std::collections::HashMap<i64, ListRow> = std::collections::HashMap::with_capacity(rowids.len());
    // SQLite takes at most 32,766 parameters in a statement: a list with
    // no limit (the CLI's, 100,000 people) is read a thousand at a time.
    for chunk in rowids.chunks(1000) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut stmt = conn
            .prepare_cached(&format!("SELECT b.rowid, {ROW_COLUMNS} FROM beneficiary b WHERE b.rowid IN ({marks})"))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(chunk.iter()))?;
        while let Some(r) = rows.next()? {
            found.insert(r.get(0)?, list_row(conn, r, 1)?);
        }
    }
    Ok(rowids.iter().filter_map(|id| found.remove(id)).collect())
}

/// One line of a record's history: a field that changed, or its creation
/// or archiving.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// What record changed: the person, or one of her visits or milestones.
    pub entity: Entity,
    pub record_id: Uuid,
    pub at: String,
    pub hlc: String,
    pub device_id: Uuid,
    pub device_name: String,
    pub coordinator: String,
    pub op: Op,
    pub field: Option<String>,
    pub old: Value,
    pub new: Value,
}

/// A value a settled conflict set aside: what one laptop wrote and the
/// person who settled it did not keep. The profile's history shows it
/// ("value X from Portable Y set aside on … by …").
#[derive(Debug, Clone, Serialize)]
pub struct SetAside {
    pub entity: Entity,
    pub record_id: Uuid,
    pub field: String,
    /// The value set aside, and the one kept.
    pub value: Value,
    pub kept: Value,
    pub conflict_id: String,
    /// The laptop that wrote it, who used it, when.
    pub device_id: Uuid,
    pub device_name: String,
    pub coordinator: String,
    pub written_at: String,
    /// When and by whom it was set aside (the resolution), and its stamp,
    /// for ordering among the history.
    pub settled_at: String,
    pub settled_by: String,
    pub hlc: String,
}

/// Everything about one person, for her profile.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub beneficiary: Beneficiary,
    pub age: i64,
    pub stage: Option<MilestoneKind>,
    /// Where she is in the migration cycle today: from her latest season
    /// when she has one, else the phase typed at registration.
    pub phase_now: crate::codes::Phase,
    /// Whether she has a disability (Washington Group, or yes/no), none
    /// when not asked.
    pub disability: Option<bool>,
    pub last_visit_date: Option<NaiveDate>,
    pub next_visit_date: Option<NaiveDate>,
    pub visits: Vec<Visit>,
    pub milestones: Vec<Milestone>,
    pub history: Vec<HistoryEntry>,
    /// The values settled conflicts of her records set aside.
    pub set_aside: Vec<SetAside>,
    /// Her identifying data was erased (consent withdrawn): when, why, by whom.
    pub erased: bool,
    pub erasure: Option<crate::erasure::ErasureView>,
    /// Decisions on duplicates she is in (merges, undone, two people),
    /// in clock order: her history shows them among its lines.
    pub merges: Vec<crate::sync::merge::MergeEvent>,
    /// The person she was merged into, when she was (her profile links there).
    pub merged_into: Option<crate::sync::merge::MergedInto>,
}

/// The history of a person: every change of her record, and the creation,
/// edits and archiving of her visits and milestones, in clock order.
pub(crate) fn person_history(conn: &Connection, id: Uuid) -> Result<Vec<HistoryEntry>> {
    let mut out = history(conn, Entity::Beneficiary, id)?;
    // Every record of hers: visits, milestones, IGAs and their surveys,
    // seasons, referrals, attendance.
    for entity in Entity::ALL.into_iter().filter(|e| e.of_person()) {
        let ids: Vec<String> = conn
            .prepare_cached(&format!("SELECT id FROM {} WHERE beneficiary_id = ?1", entity.as_str()))?
            .query_map(params![id.to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for rid in ids.iter().filter_map(|r| Uuid::parse_str(r).ok()) {
            out.extend(history(conn, entity, rid)?);
        }
    }
    out.sort_by(|a, b| a.hlc.cmp(&b.hlc));
    Ok(out)
}

pub(crate) fn history(conn: &Connection, entity: Entity, id: Uuid) -> Result<Vec<HistoryEntry>> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for row in conn.prepare_cached("SELECT id, name FROM device")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (id, name): (String, String) = row?;
        names.insert(id, name);
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CHANGE_COLUMNS} FROM change WHERE entity = ?1 AND record_id = ?2 ORDER BY hlc"
    ))?;
    let changes = stmt.query_map(params![entity.as_str(), id.to_string()], change_from_row)?;
    let mut out = Vec::new();
    for c in changes {
        let c = c?;
        let entry = |field: Option<String>, old: Value, new: Value| HistoryEntry {
            entity,
            record_id: id,
            at: c.at.clone(),
            hlc: c.hlc.to_string(),
            device_id: c.device_id,
            device_name: names.get(&c.device_id.to_string()).cloned().unwrap_or_default(),
            coordinator: c.coordinator.clone(),
            op: c.op,
            field,
            old,
            new,
        };
        match c.op {
            Op::Update => {
                for (k, v) in &c.fields {
                    out.push(entry(Some(k.clone()), c.old.get(k).cloned().unwrap_or(Value::Null), v.clone()));
                }
            }
            // A restore: `archived_at` back to null, said as such.
            Op::Archive if c.fields.get("archived_at").is_some_and(Value::is_null) => {
                let old = c.old.get("archive_reason").cloned().unwrap_or(Value::Null);
                out.push(entry(Some("archived_at".into()), old, Value::Null));
            }
            Op::Archive => {
                let new = c.fields.get("archive_reason").cloned().unwrap_or(Value::Null);
                out.push(entry(None, Value::Null, new));
            }
            // A person's creation needs no detail (her record is the
            // profile); a visit's or milestone's says which one it was.
            Op::Create => {
                let new = match entity {
                    Entity::Visit | Entity::Milestone => {
                        let pick = |k: &str| c.fields.get(k).cloned().unwrap_or(Value::Null);
                        serde_json::json!({ "kind": pick("kind"), "date": pick("date") })
                    }
                    _ => Value::Null,
                };
                out.push(entry(None, Value::Null, new));
            }
        }
    }
    Ok(out)
}

/// The values that settled conflicts of these records set aside: one
/// entry per side not kept, at the resolution's stamp, said by whom it was
/// settled. Derived from the log (the resolution and both sides' changes
/// are in it), so every machine shows the same.
pub(crate) fn set_aside(conn: &Connection, records: &[Uuid]) -> Result<Vec<SetAside>> {
    let mut ids: Vec<Uuid> = records.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT r.doc, c.hlc, c.device_id, c.seq FROM resolution r
         JOIN change c ON c.entity = 'resolution' AND c.record_id = r.id AND c.op = 'create'
         WHERE r.archived_at IS NULL AND json_extract(r.body, '$.record_id') = ?1",
    )?;
    // The value a settlement wrote is in the change made just before it,
    // as stored (a phone in E.164), not as the person typed it.
    let mut written = conn.prepare_cached(
        "SELECT fields FROM change WHERE device_id = ?1 AND seq = ?2 AND entity = ?3 AND record_id = ?4",
    )?;
    for id in ids {
        let rows: Vec<(String, String, String, i64)> = stmt
            .query_map(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (doc, hlc, device, seq) in rows {
            let mut r: crate::sync::conflict::Resolution = serde_json::from_str(&doc)?;
            let before: Option<String> = written
                .query_row(params![device, seq - 1, r.entity.as_str(), r.record_id.to_string()], |row| row.get(0))
                .optional()?;
            if let Some(v) = before
                .and_then(|f| serde_json::from_str::<serde_json::Map<String, Value>>(&f).ok())
                .and_then(|f| f.get(&r.field).cloned())
            {
                r.value = v;
            }
            let sides = crate::sync::conflict::fork_sides(conn, &r.conflict_id)?;
            for side in sides.into_iter().filter(|s| s.value != r.value) {
                out.push(SetAside {
                    entity: r.entity,
                    record_id: r.record_id,
                    field: r.field.clone(),
                    value: side.value,
                    kept: r.value.clone(),
                    conflict_id: r.conflict_id.clone(),
                    device_id: side.device_id,
                    device_name: side.device_name,
                    coordinator: side.coordinator,
                    written_at: side.at,
                    settled_at: r.created_at.clone(),
                    settled_by: r.resolved_by.clone(),
                    hlc: hlc.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.hlc.cmp(&b.hlc));
    Ok(out)
}

/// Why a person is on the follow-up plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowupReason {
    /// The planned next visit is past.
    Overdue,
    /// The planned next visit falls within the coming week.
    Due,
    /// No visit for longer than the threshold (or never, since registration).
    NoRecentVisit,
}

#[derive(Debug, Clone, Serialize)]
pub struct Followup {
    #[serde(flatten)]
    pub person: ListRow,
    pub reason: FollowupReason,
    /// Days since her last visit (or since registration, if none).
    pub days_without_visit: i64,
}

/// People of one commune to see on the next mission.
#[derive(Debug, Clone, Serialize)]
pub struct FollowupGroup {
    pub region: String,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub people: Vec<Followup>,
}

/// Where a follow-up plan is for, each part optional: a region, one of
/// its provinces, a commune (compared as people type it: case and accents
/// aside).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Place {
    pub region: Option<String>,
    pub province: Option<String>,
    pub commune: Option<String>,
}

impl Place {
    /// Whether the people of `g` are in this place.
    pub fn holds(&self, g: &FollowupGroup) -> bool {
        let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let same = |want: &Option<String>, have: &Option<String>| match blank(want) {
            None => true,
            Some(w) => have.as_deref().is_some_and(|h| crate::text::fold(h) == crate::text::fold(&w)),
        };
        same(&self.region, &Some(g.region.clone()))
            && same(&self.province, &g.province)
            && same(&self.commune, &g.commune)
    }
}

pub(crate) fn followups(conn: &Connection, days: i64, today: NaiveDate) -> Result<Vec<FollowupGroup>> {
    let soon = today + chrono::Days::new(7);
    let since = today - chrono::Days::new(days.max(0) as u64);
    // Only people followed now: not abroad for the season (said so, or
    // a season of hers under way), graduated, dropped out or moved away.
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM beneficiary b INDEXED BY beneficiary_followup
         WHERE b.archived_at IS NULL
           AND (b.next_visit_date <= ?1
                OR coalesce(b.last_visit_date, substr(b.created_at, 1, 10)) < ?2)
           AND coalesce(json_extract(b.body, '$.status'), 'active') = 'active'
           AND NOT EXISTS (SELECT 1 FROM season s
                           WHERE s.beneficiary_id = b.id AND s.archived_at IS NULL
                             AND s.departure_date <= ?3 AND (s.return_date IS NULL OR s.return_date > ?3))
         ORDER BY b.region, b.province, b.commune, b.sort_name"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![soon.to_string(), since.to_string(), today.to_string()])?;
    let mut groups: Vec<FollowupGroup> = Vec::new();
    while let Some(row) = rows.next()? {
        let person = list_row(conn, row, 0)?;
        // Consent withdrawn: nobody to visit or call.
        if person.erased {
            continue;
        }
        let b = &person.beneficiary;
        let registered = NaiveDate::parse_from_str(b.created_at.get(..10).unwrap_or(""), "%Y-%m-%d").unwrap_or(today);
        let last = person.last_visit_date.unwrap_or(registered);
        let reason = match person.next_visit_date {
            Some(d) if d < today => FollowupReason::Overdue,
            Some(d) if d <= soon => FollowupReason::Due,
            _ => FollowupReason::NoRecentVisit,
        };
        let key = (b.region.clone(), b.province.clone(), b.commune.clone());
        let follow = Followup { days_without_visit: (today - last).num_days(), reason, person };
        match groups.last_mut() {
            Some(g) if (g.region.clone(), g.province.clone(), g.commune.clone()) == key => g.people.push(follow),
            _ => groups.push(FollowupGroup { region: key.0, province: key.1, commune: key.2, people: vec![follow] }),
        }
    }
    for g in &mut groups {
        g.people.sort_by(|a, b| a.reason.cmp(&b.reason).then(b.days_without_visit.cmp(&a.days_without_visit)));
    }
    Ok(groups)
}

/// A person who may be the same as another, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    #[serde(flatten)]
    pub person: ListRow,
    /// 0–100: how sure.
    pub score: u32,
    /// `same_cin`, `same_phone`, `similar_name_same_birth_date`,
    /// `similar_name_same_commune`.
    pub reasons: Vec<String>,
}

/// What two records share that makes them likely one person; the rule of
/// both the registration warning and the consolidation's duplicate list.
pub fn match_reasons(a: &Beneficiary, b: &Beneficiary) -> (u32, Vec<String>) {
    // An erased person has nothing left to match on (and empty names would
    // match each other).
    if a.is_erased() || b.is_erased() {
        return (0, Vec::new());
    }
    let mut reasons = Vec::new();
    let mut score = 0;
    if a.cin.is_some() && a.cin == b.cin {
        reasons.push("same_cin".to_string());
        score += 90;
    }
    if a.phone.is_some() && a.phone == b.phone {
        reasons.push("same_phone".to_string());
        score += 50;
    }
    let names = similar_names(&a.first_name, &b.first_name) && similar_names(&a.last_name, &b.last_name);
    let names_ar = a.name_ar.is_some()
        && b.name_ar.is_some()
        && fold(a.name_ar.as_deref().unwrap_or("")) == fold(b.name_ar.as_deref().unwrap_or(""));
    if names || names_ar {
        if a.same_birth(b) {
            reasons.push("similar_name_same_birth_date".to_string());
            score += 70;
        }
        if a.commune.is_some() && a.commune.as_deref().map(fold) == b.commune.as_deref().map(fold) {
            reasons.push("similar_name_same_commune".to_string());
            score += 40;
        }
    }
    (score.min(100), reasons)
}

/// The cheap half of a name comparison: lets through every pair whose
/// names [`match_reasons`] could find similar (last names within two
/// edits or of one key, or the same Arabic name), and few others.
pub(crate) struct NameKey {
    /// Folded, without spaces.
    last: String,
    key: String,
    ar: Option<String>,
}

impl NameKey {
    pub(crate) fn new(last_name: &str, name_ar: Option<&str>) -> NameKey {
        NameKey { last: fold(last_name).replace(' ', ""), key: name_key(last_name), ar: name_ar.map(fold) }
    }

    pub(crate) fn may_match(&self, o: &NameKey) -> bool {
        let len = |s: &str| s.chars().count();
        self.last == o.last
            || self.key == o.key
            || (len(&self.last).abs_diff(len(&o.last)) <= 2 && levenshtein(&self.last, &o.last) <= 2)
            || (self.ar.is_some() && self.ar == o.ar)
    }
}

/// The communes written in the database, by their folded form: two
/// spellings of one commune (`Aït-Benhaddou`, `ait benhaddou`) are the
/// same commune to [`match_reasons`]. Read once, on first use, by hopping
/// along the commune index from one distinct value to the next (one seek
/// per commune, however many people live there).
#[derive(Default)]
pub(crate) struct Communes(Option<HashMap<String, Vec<String>>>);

impl Communes {
    fn spellings(&mut self, conn: &Connection, commune: &str) -> Result<&[String]> {
        if self.0.is_none() {
            let mut all: HashMap<String, Vec<String>> = HashMap::new();
            let mut stmt = conn.prepare_cached(
                "WITH RECURSIVE walk(commune) AS (
                     SELECT min(commune) FROM beneficiary
                     UNION ALL
                     SELECT (SELECT min(b.commune) FROM beneficiary b WHERE b.commune > walk.commune)
                     FROM walk WHERE walk.commune IS NOT NULL
                 )
                 SELECT commune FROM walk WHERE commune IS NOT NULL",
            )?;
            for c in stmt.query_map([], |r| r.get::<_, String>(0))? {
                let c = c?;
                all.entry(fold(&c)).or_default().push(c);
            }
            self.0 = Some(all);
        }
        Ok(self.0.as_ref().and_then(|m| m.get(&fold(commune))).map_or(&[], Vec::as_slice))
    }
}

/// The live people who may be the same as `probe`: everyone to whom
/// [`match_reasons`] gives a reason, and a few more; with `other_than`,
/// only those registered on another device. Read through the indexes,
/// never the whole table: those who share her CIN or her phone, and, when
/// their name may be similar (read from the row, without its JSON), those
/// born the same day or living in the same commune (any spelling of it).
/// `probe` herself is among them if she is live.
pub(crate) fn match_candidates(
    conn: &Connection,
    probe: &Beneficiary,
    other_than: Option<Uuid>,
    communes: &mut Communes,
) -> Result<Vec<Uuid>> {
    let mut out: Vec<Uuid> = Vec::new();
    let device = other_than.map(|d| d.to_string());
    // `+archived_at`: the live are nearly everyone, so SQLite must not
    // choose the index on archived_at over the one the lookup is for.
    for (sql, value) in [
        (
            "SELECT id FROM beneficiary
             WHERE cin = ?1 AND +archived_at IS NULL AND (?2 IS NULL OR created_by <> ?2)",
            &probe.cin,
        ),
        (
            "SELECT id FROM beneficiary
             WHERE phone = ?1 AND +archived_at IS NULL AND (?2 IS NULL OR created_by <> ?2)",
            &probe.phone,
        ),
    ] {
        if let Some(v) = value {
            for id in conn.prepare_cached(sql)?.query_map(params![v, device], |r| r.get::<_, String>(0))? {
                out.extend(Uuid::parse_str(&id?).ok());
            }
        }
    }
    let key = NameKey::new(&probe.last_name, probe.name_ar.as_deref());
    let mut by_name = |stmt: &mut rusqlite::CachedStatement<'_>, value: &str| -> Result<()> {
        let rows = stmt.query_map(params![value, device], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
        })?;
        for r in rows {
            let (id, last, ar) = r?;
            if key.may_match(&NameKey::new(&last, ar.as_deref())) {
                out.extend(Uuid::parse_str(&id).ok());
            }
        }
        Ok(())
    };
    // The same day, or the same year where either knows only the year (an
    // approximate date is 1 January of its year): `match_reasons` decides.
    let year = probe.birth_date.year();
    let days = if probe.birth_date_approx {
        vec![probe.birth_date.to_string()]
    } else {
        let first = format!("{year:04}-01-01");
        let day = probe.birth_date.to_string();
        if day == first {
            vec![day]
        } else {
            vec![day, first]
        }
    };
    let mut stmt = conn.prepare_cached(
        "SELECT id, last_name, name_ar FROM beneficiary
         WHERE birth_date = ?1 AND +archived_at IS NULL AND (?2 IS NULL OR created_by <> ?2)",
    )?;
    for day in &days {
        by_name(&mut stmt, day)?;
    }
    if probe.birth_date_approx {
        by_name(
            &mut conn.prepare_cached(
                "SELECT id, last_name, name_ar FROM beneficiary
                 WHERE birth_date >= ?1 || '-01-02' AND birth_date <= ?1 || '-12-31'
                   AND +archived_at IS NULL AND (?2 IS NULL OR created_by <> ?2)",
            )?,
            &format!("{year:04}"),
        )?;
    }
    if let Some(commune) = &probe.commune {
        let mut stmt = conn.prepare_cached(
            "SELECT id, last_name, name_ar FROM beneficiary
             WHERE commune = ?1 AND +archived_at IS NULL AND (?2 IS NULL OR created_by <> ?2)",
        )?;
        for spelling in communes.spellings(conn, commune)? {
            by_name(&mut stmt, spelling)?;
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The registration warning: live people `probe` may be (every one to
/// whom [`match_reasons`] gives a reason), surest first.
pub(crate) fn similar(conn: &Connection, probe: &Beneficiary, exclude: Option<Uuid>) -> Result<Vec<Candidate>> {
    let skip = exclude.unwrap_or(probe.id);
    let mut stmt = conn.prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM beneficiary b WHERE b.id = ?1"))?;
    let mut out = Vec::new();
    for id in match_candidates(conn, probe, None, &mut Communes::default())? {
        if id == skip {
            continue;
        }
        let mut rows = stmt.query(params![id.to_string()])?;
        let Some(row) = rows.next()? else { continue };
        let person = list_row(conn, row, 0)?;
        let (score, reasons) = match_reasons(probe, &person.beneficiary);
        if !reasons.is_empty() {
            out.push(Candidate { person, score, reasons });
        }
    }
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.person.beneficiary.id.cmp(&b.person.beneficiary.id)));
    Ok(out)
}

impl Store {
    pub fn beneficiary(&self, id: Uuid) -> Result<Beneficiary> {
        self.require(Action::Read)?;
        beneficiary(&self.conn, id)
    }

    pub fn list_beneficiaries(&self, q: &ListQuery) -> Result<Page> {
        self.require(Action::Read)?;
        list(&self.conn, q)
    }

    pub fn profile(&self, id: Uuid) -> Result<Profile> {
        self.require(Action::Read)?;
        let b = beneficiary(&self.conn, id)?;
        let (stage, last, next): (Option<String>, Option<String>, Option<String>) = self.conn.query_row(
            "SELECT stage, last_visit_date, next_visit_date FROM beneficiary WHERE id = ?1",
            params![id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let date = |s: Option<String>| s.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
        let history = person_history(&self.conn, id)?;
        let records: Vec<Uuid> = std::iter::once(id).chain(history.iter().map(|e| e.record_id)).collect();
        let set_aside = set_aside(&self.conn, &records)?;
        Ok(Profile {
            phase_now: crate::programme::phase_of(&self.conn, id, Store::today())?.unwrap_or(b.phase),
            disability: b.has_disability(),
            age: age_on(b.birth_date, Store::today()),
            stage: stage.as_deref().and_then(MilestoneKind::from_code),
            last_visit_date: date(last),
            next_visit_date: date(next),
            visits: visits_of(&self.conn, id)?,
            milestones: milestones_of(&self.conn, id)?,
            history,
            set_aside,
            erasure: crate::erasure::view(&self.conn, id)?,
            erased: b.is_erased() || crate::erasure::is_erased(&self.conn, id)?,
            merges: crate::sync::merge::events_of(&self.conn, id)?,
            merged_into: crate::sync::merge::merged_into_view(&self.conn, id)?,
            beneficiary: b,
        })
    }

    /// The plan for the next mission: overdue or due visits, and people
    /// without a visit for `days` days, grouped by region, province, commune.
    /// `days` is checked as the setting is (1 to 365).
    pub fn followups(&self, days: i64) -> Result<Vec<FollowupGroup>> {
        self.require(Action::Read)?;
        crate::validate::in_range("followup_days", days, 1, 365).map_err(|e| Error::invalid(vec![e]))?;
        followups(&self.conn, days, Store::today())
    }

    /// The plan for one place only (a mission to a region, a province, a
    /// commune).
    pub fn followups_at(&self, days: i64, place: &Place) -> Result<Vec<FollowupGroup>> {
        let mut groups = self.followups(days)?;
        groups.retain(|g| place.holds(g));
        Ok(groups)
    }

    /// Likely matches of a person about to be registered (the input need
    /// not be valid as a whole: what can be read is compared).
    pub fn possible_duplicates(&self, input: &BeneficiaryInput) -> Result<Vec<Candidate>> {
        self.require(Action::Read)?;
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        // Without a readable birth date, a date nobody has: then only CIN,
        // phone or a similar name in the same commune can match.
        let (birth_date, birth_date_approx) =
            crate::beneficiary::parse_birth(&input.birth_date, input.birth_date_approx)
                .unwrap_or((NaiveDate::MIN, false));
        let probe = Beneficiary {
            id: Uuid::nil(),
            first_name: text(&input.first_name),
            last_name: text(&input.last_name),
            name_ar: input.name_ar.clone().filter(|s| !s.trim().is_empty()),
            sex: Sex::F,
            birth_date,
            birth_date_approx,
            cin: input.cin.as_deref().and_then(|c| parse_cin("cin", c).ok()),
            phone: input.phone.as_deref().and_then(|p| parse_phone("phone", p).ok()),
            region: text(&input.region),
            province: None,
            commune: input.commune.clone().filter(|s| !s.trim().is_empty()),
            douar: None,
            destination_country: None,
            seasons_abroad: None,
            phase: Phase::PreDeparture,
            iga_sector: None,
            consent: true,
            consent_date: None,
            cohort: None,
            notes: None,
            created_at: String::new(),
            created_by: Uuid::nil(),
            archived_at: None,
            archive_reason: None,
            more: Default::default(),
            answers: Default::default(),
        };
        similar(&self.conn, &probe, None)
    }
}
