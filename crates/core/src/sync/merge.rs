//! Duplicate persons: the same woman registered on two laptops. Imports
//! list the likely pairs (same CIN, same phone, similar name with the same
//! birth date or commune: `store::match_reasons`, the registration
//! warning's rule); a person decides: merge, not the same person, or undo.
//!
//! A decision is a logged record (entity `merge`), one per pair (its id
//! derives from the pair), so decisions travel and fold like any record.
//! A merge takes effect when records are folded (store/log.rs): the
//! merged-away person is hidden as if archived, with `merged_into` set, and
//! her visits and milestones land under the person kept. Undoing is one
//! more change to the decision; everything folds back.

use crate::beneficiary::Beneficiary;
use crate::error::{Error, FieldError, Result};
use crate::store::log::{self, Entity, Op};
use crate::store::{match_reasons, Store, Writer};
use crate::text::{fold, levenshtein, name_key};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// `other` is shown as part of `kept`.
    Merged,
    /// A person said they are two different people.
    Distinct,
    /// No decision, or a merge undone.
    Open,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Merged => "merged",
            Status::Distinct => "distinct",
            Status::Open => "open",
        }
    }
}

/// The decision on one pair, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub id: Uuid,
    pub kept: Uuid,
    pub other: Uuid,
    pub status: Status,
    pub decided_at: String,
    pub decided_by: String,
    pub created_at: String,
    pub created_by: Uuid,
    pub archived_at: Option<String>,
}

/// The id of the decision on a pair, the same on every machine.
pub fn pair_id(a: Uuid, b: Uuid) -> Uuid {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    super::derived_id(&format!("wafira/merge/{lo}/{hi}"))
}

/// Every merged-away person → (person kept, when decided). When one person
/// was merged into two (decisions on two pairs), the smaller id is kept, so
/// that every machine reads the same.
pub(crate) fn merged_map(conn: &Connection) -> Result<HashMap<Uuid, (Uuid, String)>> {
    let mut map: HashMap<Uuid, (Uuid, String)> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT other, kept, json_extract(doc, '$.decided_at') FROM merge
         WHERE status = 'merged' AND archived_at IS NULL ORDER BY other, kept",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    for row in rows {
        let (other, kept, at) = row?;
        if let (Ok(other), Ok(kept)) = (Uuid::parse_str(&other), Uuid::parse_str(&kept)) {
            map.entry(other).or_insert((kept, at));
        }
    }
    Ok(map)
}

/// Follows merges from `id` to the person finally kept; `None` when `id`
/// is not merged. A loop of decisions stops where it would come back.
pub(crate) fn resolve(map: &HashMap<Uuid, (Uuid, String)>, id: Uuid) -> Option<(Uuid, String)> {
    let (mut kept, at) = map.get(&id)?.clone();
    let mut seen = HashSet::from([id]);
    while let Some((next, _)) = map.get(&kept) {
        if !seen.insert(kept) || *next == id {
            break;
        }
        kept = *next;
    }
    Some((kept, at))
}

/// Whom `id` is merged into, read from the database.
pub(crate) fn merged_into(conn: &Connection, id: Uuid) -> Result<Option<(Uuid, String)>> {
    let any: bool = conn.prepare_cached("SELECT 1 FROM merge WHERE status = 'merged' LIMIT 1")?.exists([])?;
    if !any {
        return Ok(None);
    }
    Ok(resolve(&merged_map(conn)?, id))
}

/// After a decision landed: folds again the two people, anyone merged
/// into them, and all their visits and milestones, so that they show where
/// the decision now says.
pub(crate) fn apply(tx: &Transaction<'_>, doc: &Map<String, Value>) -> Result<()> {
    let id = |k: &str| doc.get(k).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
    let (Some(kept), Some(other)) = (id("kept"), id("other")) else { return Ok(()) };
    let map = merged_map(tx)?;
    let mut people: HashSet<Uuid> = HashSet::from([kept, other]);
    // Anyone whose chain of merges passes through one of the two.
    for start in map.keys() {
        let mut cur = *start;
        let mut seen = HashSet::new();
        while let Some((next, _)) = map.get(&cur) {
            if !seen.insert(cur) {
                break;
            }
            if *next == kept || *next == other {
                people.insert(*start);
                break;
            }
            cur = *next;
        }
    }
    let mut people: Vec<Uuid> = people.into_iter().collect();
    people.sort();
    for p in &people {
        let logged: bool = tx
            .prepare_cached("SELECT 1 FROM change WHERE entity = 'beneficiary' AND record_id = ?1 LIMIT 1")?
            .exists(params![p.to_string()])?;
        if logged {
            log::materialise(tx, Entity::Beneficiary, *p)?;
        }
    }
    let mut stmt = tx.prepare_cached(
        "SELECT DISTINCT entity, record_id FROM change
         WHERE op = 'create' AND entity IN ('visit', 'milestone') AND json_extract(fields, '$.beneficiary_id') = ?1",
    )?;
    let mut children = Vec::new();
    for p in &people {
        for row in stmt.query_map(params![p.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (e, rid) = row?;
            if let (Some(e), Ok(rid)) = (Entity::parse(&e), Uuid::parse_str(&rid)) {
                children.push((e, rid));
            }
        }
    }
    drop(stmt);
    for (e, rid) in children {
        log::materialise(tx, e, rid)?;
    }
    for p in &people {
        log::refresh_summary(tx, *p)?;
    }
    Ok(())
}

/// What a name comparison needs, computed once per person.
struct Probe {
    b: Beneficiary,
    last: String,
    last_key: String,
    name_ar: Option<String>,
}

impl Probe {
    fn new(b: Beneficiary) -> Probe {
        Probe {
            last: fold(&b.last_name).replace(' ', ""),
            last_key: name_key(&b.last_name),
            name_ar: b.name_ar.as_deref().map(fold),
            b,
        }
    }

    /// Cheap test that lets through every pair `match_reasons` could find
    /// similar by name (last names within two edits, or same Arabic name).
    fn may_share_name(&self, o: &Probe) -> bool {
        let len = |s: &str| s.chars().count();
        self.last == o.last
            || self.last_key == o.last_key
            || (len(&self.last).abs_diff(len(&o.last)) <= 2 && levenshtein(&self.last, &o.last) <= 2)
            || (self.name_ar.is_some() && self.name_ar == o.name_ar)
    }
}

/// Looks for people of other laptops who may be the same as `people` (just
/// brought by an import); records each pair found. Gives how many pairs
/// are new.
pub(crate) fn find_candidates(tx: &Transaction<'_>, people: &[Uuid]) -> Result<usize> {
    if people.is_empty() {
        return Ok(0);
    }
    let mut all: Vec<Probe> = Vec::new();
    {
        let mut stmt = tx.prepare_cached("SELECT doc FROM beneficiary WHERE archived_at IS NULL")?;
        for doc in stmt.query_map([], |r| r.get::<_, String>(0))? {
            all.push(Probe::new(serde_json::from_str(&doc?)?));
        }
    }
    let mut by_cin: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_phone: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_birth: HashMap<chrono::NaiveDate, Vec<usize>> = HashMap::new();
    let mut by_commune: HashMap<String, Vec<usize>> = HashMap::new();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for (i, p) in all.iter().enumerate() {
        index.insert(p.b.id, i);
        if let Some(c) = &p.b.cin {
            by_cin.entry(c).or_default().push(i);
        }
        if let Some(ph) = &p.b.phone {
            by_phone.entry(ph).or_default().push(i);
        }
        by_birth.entry(p.b.birth_date).or_default().push(i);
        if let Some(c) = &p.b.commune {
            by_commune.entry(fold(c)).or_default().push(i);
        }
    }
    // Scoring the pairs is the costly part and touches no database: the
    // people are scored on two cores, half each.
    let scored = |people: &[Uuid]| -> Vec<(usize, usize, u32, Vec<String>)> {
        let mut found = Vec::new();
        let mut done: HashSet<(usize, usize)> = HashSet::new();
        for id in people {
            let Some(&i) = index.get(id) else { continue };
            let p = &all[i];
            let mut candidates: Vec<usize> = Vec::new();
            let empty = Vec::new();
            candidates.extend(p.b.cin.as_deref().and_then(|c| by_cin.get(c)).unwrap_or(&empty));
            candidates.extend(p.b.phone.as_deref().and_then(|c| by_phone.get(c)).unwrap_or(&empty));
            // A birth date or a commune in common counts only with a
            // similar name; a pair sharing a CIN or phone came in above.
            let birth = by_birth.get(&p.b.birth_date).unwrap_or(&empty);
            candidates.extend(birth.iter().filter(|j| p.may_share_name(&all[**j])));
            let commune = p.b.commune.as_deref().map(fold);
            if let Some(bucket) = commune.as_ref().and_then(|c| by_commune.get(c)) {
                candidates.extend(bucket.iter().filter(|j| p.may_share_name(&all[**j])));
            }
            for j in candidates {
                let q = &all[j];
                if j == i || q.b.created_by == p.b.created_by || !done.insert((i.min(j), i.max(j))) {
                    continue;
                }
                let (score, reasons) = match_reasons(&p.b, &q.b);
                if !reasons.is_empty() {
                    found.push((i.min(j), i.max(j), score, reasons));
                }
            }
        }
        found
    };
    let (first, second) = people.split_at(people.len() / 2);
    let (mut found, other) = std::thread::scope(|s| {
        let other = s.spawn(|| scored(second));
        (scored(first), other.join())
    });
    found.extend(other.map_err(|_| Error::Other("internal: scoring possible duplicates failed".into()))?);
    // A pair may be found from both of its people.
    found.sort_by_key(|f| (f.0, f.1));
    found.dedup_by_key(|f| (f.0, f.1));
    let mut insert = tx.prepare_cached(
        "INSERT INTO duplicate (a, b, score, reasons) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (a, b) DO NOTHING",
    )?;
    let mut update = tx.prepare_cached("UPDATE duplicate SET score = ?3, reasons = ?4 WHERE a = ?1 AND b = ?2")?;
    let mut new_pairs = 0;
    for (i, j, score, reasons) in found {
        let (p, q) = (&all[i].b.id, &all[j].b.id);
        let (a, b) = if p < q { (p.to_string(), q.to_string()) } else { (q.to_string(), p.to_string()) };
        let reasons = serde_json::to_string(&reasons)?;
        if insert.execute(params![a, b, score, reasons])? == 1 {
            new_pairs += 1;
        } else {
            update.execute(params![a, b, score, reasons])?;
        }
    }
    Ok(new_pairs)
}

/// A person as the duplicates screen shows her.
#[derive(Debug, Clone, Serialize)]
pub struct PersonCard {
    #[serde(flatten)]
    pub beneficiary: Beneficiary,
    pub device_name: String,
    pub visit_count: i64,
    pub milestone_count: i64,
    pub merged_into: Option<Uuid>,
}

/// A pair of possible duplicates and what was decided.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePair {
    /// The id of the pair's decision record.
    pub id: Uuid,
    pub a: PersonCard,
    pub b: PersonCard,
    /// 0–100, and the reasons (`same_cin`…), as the registration warning gives them.
    pub score: u32,
    pub reasons: Vec<String>,
    pub status: Status,
    pub kept: Option<Uuid>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

fn card(conn: &Connection, id: Uuid, names: &BTreeMap<String, String>) -> Result<Option<PersonCard>> {
    let row: Option<(String, Option<String>, i64, i64)> = conn
        .prepare_cached(
            "SELECT doc, merged_into, visit_count,
                    (SELECT count(*) FROM milestone m WHERE m.beneficiary_id = b.id AND m.archived_at IS NULL)
             FROM beneficiary b WHERE id = ?1",
        )?
        .query_row(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((doc, merged_into, visit_count, milestone_count)) = row else { return Ok(None) };
    let b: Beneficiary = serde_json::from_str(&doc)?;
    Ok(Some(PersonCard {
        device_name: names.get(&b.created_by.to_string()).cloned().unwrap_or_default(),
        visit_count,
        milestone_count,
        merged_into: merged_into.and_then(|m| Uuid::parse_str(&m).ok()),
        beneficiary: b,
    }))
}

fn decisions(conn: &Connection) -> Result<HashMap<Uuid, Decision>> {
    let mut out = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT doc FROM merge")?;
    for doc in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let d: Decision = serde_json::from_str(&doc?)?;
        out.insert(d.id, d);
    }
    Ok(out)
}

/// The pairs to look at: undecided ones and merges (which can be undone);
/// with `all`, also those said to be two people.
pub(crate) fn list(conn: &Connection, all: bool) -> Result<Vec<DuplicatePair>> {
    let names = crate::sync::devices::device_names(conn)?;
    let mut decided = decisions(conn)?;
    let mut pairs: Vec<(Uuid, Uuid, u32, Vec<String>)> = Vec::new();
    {
        let mut stmt = conn.prepare_cached("SELECT a, b, score, reasons FROM duplicate ORDER BY score DESC, a, b")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, u32>(2)?, r.get::<_, String>(3)?))
        })?;
        for row in rows {
            let (a, b, score, reasons) = row?;
            if let (Ok(a), Ok(b)) = (Uuid::parse_str(&a), Uuid::parse_str(&b)) {
                pairs.push((a, b, score, serde_json::from_str(&reasons).unwrap_or_default()));
            }
        }
    }
    // Merges decided without the pair being found (by id, from the CLI).
    let listed: HashSet<Uuid> = pairs.iter().map(|(a, b, ..)| pair_id(*a, *b)).collect();
    let mut manual: Vec<&Decision> = decided.values().filter(|d| !listed.contains(&d.id)).collect();
    manual.sort_by_key(|d| d.id);
    let manual: Vec<(Uuid, Uuid, u32, Vec<String>)> = manual
        .into_iter()
        .map(|d| {
            let (a, b) = if d.kept < d.other { (d.kept, d.other) } else { (d.other, d.kept) };
            (a, b, 0, Vec::new())
        })
        .collect();
    pairs.extend(manual);
    let mut out = Vec::new();
    for (a, b, score, reasons) in pairs {
        let id = pair_id(a, b);
        let decision = decided.remove(&id);
        let status = decision.as_ref().map_or(Status::Open, |d| d.status);
        if status == Status::Distinct && !all {
            continue;
        }
        let (Some(ca), Some(cb)) = (card(conn, a, &names)?, card(conn, b, &names)?) else { continue };
        // A pair where one was archived (not merged) is no longer a question.
        let gone = |c: &PersonCard| c.beneficiary.archived_at.is_some() && c.merged_into.is_none();
        if status == Status::Open && (gone(&ca) || gone(&cb)) && !all {
            continue;
        }
        let (score, reasons) =
            if reasons.is_empty() { match_reasons(&ca.beneficiary, &cb.beneficiary) } else { (score, reasons) };
        out.push(DuplicatePair {
            id,
            score,
            reasons,
            status,
            kept: decision.as_ref().filter(|d| d.status == Status::Merged).map(|d| d.kept),
            decided_by: decision.as_ref().filter(|d| d.status != Status::Open).map(|d| d.decided_by.clone()),
            decided_at: decision.as_ref().filter(|d| d.status != Status::Open).map(|d| d.decided_at.clone()),
            a: ca,
            b: cb,
        });
    }
    Ok(out)
}

impl Writer<'_> {
    /// Logs a decision on the pair: creates its record the first time,
    /// else changes it (with the stamps it replaces, so that two opposite
    /// decisions made apart show as a conflict).
    fn decide(&mut self, kept: Uuid, other: Uuid, status: Status) -> Result<Decision> {
        let id = pair_id(kept, other);
        let now = crate::now_utc();
        let current: Option<String> = self
            .tx()
            .prepare_cached("SELECT doc FROM merge WHERE id = ?1")?
            .query_row(params![id.to_string()], |r| r.get(0))
            .optional()?;
        let mut fields = Map::new();
        fields.insert("kept".into(), Value::String(kept.to_string()));
        fields.insert("other".into(), Value::String(other.to_string()));
        fields.insert("status".into(), Value::String(status.as_str().into()));
        fields.insert("decided_at".into(), Value::String(now.clone()));
        fields.insert("decided_by".into(), Value::String(self.device.coordinator.clone()));
        match current {
            None => {
                fields.insert("created_at".into(), Value::String(now));
                fields.insert("created_by".into(), Value::String(self.device.id.to_string()));
                fields.insert("archived_at".into(), Value::Null);
                self.emit(Entity::Merge, id, Op::Create, fields, Map::new(), Map::new())?;
            }
            Some(doc) => {
                let Value::Object(cur) = serde_json::from_str::<Value>(&doc)? else {
                    return Err(Error::Other("internal: a decision is not a JSON object".into()));
                };
                let clocks = log::clocks_of(self.tx(), Entity::Merge, id)?.unwrap_or_default();
                let (mut new, mut old, mut base) = (Map::new(), Map::new(), Map::new());
                for (k, v) in fields {
                    let before = cur.get(&k).cloned().unwrap_or(Value::Null);
                    if before != v {
                        base.insert(k.clone(), clocks.get(&k).cloned().unwrap_or(Value::Null));
                        old.insert(k.clone(), before);
                        new.insert(k, v);
                    }
                }
                self.emit(Entity::Merge, id, Op::Update, new, old, base)?;
            }
        }
        let doc: String = self
            .tx()
            .prepare_cached("SELECT doc FROM merge WHERE id = ?1")?
            .query_row(params![id.to_string()], |r| r.get(0))?;
        Ok(serde_json::from_str(&doc)?)
    }

    fn live_person(&self, field: &str, id: Uuid) -> Result<()> {
        let row: Option<(Option<String>, Option<String>)> = self
            .tx()
            .prepare_cached("SELECT archived_at, merged_into FROM beneficiary WHERE id = ?1")?
            .query_row(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let code = match row {
            None => "unknown_beneficiary",
            Some((_, Some(_))) => "already_merged",
            Some((Some(_), None)) => "archived_beneficiary",
            Some((None, None)) => return Ok(()),
        };
        Err(Error::invalid(vec![FieldError::new(field, code).with("id", id)]))
    }

    fn status_of(&self, a: Uuid, b: Uuid) -> Result<Option<Decision>> {
        let doc: Option<String> = self
            .tx()
            .prepare_cached("SELECT doc FROM merge WHERE id = ?1")?
            .query_row(params![pair_id(a, b).to_string()], |r| r.get(0))
            .optional()?;
        Ok(match doc {
            Some(d) => Some(serde_json::from_str(&d)?),
            None => None,
        })
    }
}

impl Store {
    /// Pairs of possible duplicates (see [`list`]).
    pub fn duplicates(&self, all: bool) -> Result<Vec<DuplicatePair>> {
        list(self.conn(), all)
    }

    /// Merges `other` into `kept`: one identity, `kept`'s, showing the
    /// visits and milestones of both. Never done without a person asking.
    pub fn merge_persons(&mut self, kept: Uuid, other: Uuid) -> Result<Decision> {
        if kept == other {
            return Err(Error::invalid(vec![FieldError::new("other", "same_person")]));
        }
        self.write(|w| {
            let mut errors = Vec::new();
            for (field, id) in [("kept", kept), ("other", other)] {
                if let Err(Error::Invalid(i)) = w.live_person(field, id) {
                    errors.extend(i.0);
                }
            }
            if !errors.is_empty() {
                return Err(Error::invalid(errors));
            }
            w.decide(kept, other, Status::Merged)
        })
    }

    /// Undoes a merge of the pair: both show as before, the pair is open again.
    pub fn unmerge_persons(&mut self, a: Uuid, b: Uuid) -> Result<Decision> {
        self.write(|w| match w.status_of(a, b)? {
            Some(d) if d.status == Status::Merged => w.decide(d.kept, d.other, Status::Open),
            _ => Err(Error::invalid(vec![FieldError::new("other", "not_merged")])),
        })
    }

    /// Records that the pair are two different people: no longer listed.
    pub fn dismiss_duplicate(&mut self, a: Uuid, b: Uuid) -> Result<Decision> {
        if a == b {
            return Err(Error::invalid(vec![FieldError::new("other", "same_person")]));
        }
        self.write(|w| match w.status_of(a, b)? {
            Some(d) if d.status == Status::Merged => {
                Err(Error::invalid(vec![FieldError::new("other", "already_merged").with("id", d.other)]))
            }
            Some(d) => w.decide(d.kept, d.other, Status::Distinct),
            None => {
                for id in [a, b] {
                    if crate::store::log::clocks_of(w.tx(), Entity::Beneficiary, id)?.is_none() {
                        return Err(Error::invalid(vec![
                            FieldError::new("other", "unknown_beneficiary").with("id", id)
                        ]));
                    }
                }
                w.decide(a, b, Status::Distinct)
            }
        })
    }
}
