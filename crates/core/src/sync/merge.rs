//! Duplicate persons: the same person registered on two laptops. The
//! `duplicate` table lists the likely pairs (same CIN, same phone, similar
//! name with the same birth date or commune: `store::match_reasons`, the
//! registration warning's rule), re-scored whenever a person's row is
//! written, so it is a function of the records; a person decides: merge,
//! not the same person, or undo.
//!
//! A decision is a logged record (entity `merge`), one per pair (its id
//! derives from the pair), so decisions travel and fold like any record.
//! A merge takes effect when records are folded (store/log.rs): the
//! merged-away person is hidden as if archived, with `merged_into` set, and
//! her visits and milestones land under the person kept. Undoing is one
//! more change to the decision; everything folds back.

use crate::access::Action;
use crate::audit::{Act, Note};
use crate::beneficiary::{editable, Beneficiary};
use crate::error::{Error, FieldError, Result};
use crate::store::log::{self, Entity, Op};
use crate::store::{edited_beneficiary, match_candidates, match_reasons, Communes, NameKey, Store, Writer};
use crate::text::fold;
use chrono::Datelike;
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
    /// The fields of the person kept that took the other's value when
    /// they were merged (names only; the values travel as an ordinary
    /// edit of the person kept). Absent from decisions of older versions.
    #[serde(default)]
    pub taken: Vec<String>,
}

/// The id of the decision on a pair, the same on every machine.
pub fn pair_id(a: Uuid, b: Uuid) -> Uuid {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    super::derived_id(&format!("wafira/merge/{lo}/{hi}"))
}

/// Every merged-away person → (person kept, when decided): the merges in
/// effect. A function of the decisions and of which people are here, so
/// every machine that holds the same changes reads the same:
///
/// - a decision takes effect once the person kept is here (until then the
///   other stays visible with her visits: nobody is hidden behind someone
///   who has not arrived);
/// - one person merged into two (decisions on two pairs): the smaller id
///   of the two kept wins;
/// - decisions made apart that form a cycle (A into B at one station, B
///   into C then C into A at another): the cycle is cut at its smallest id,
///   who stays visible with everyone's visits. The decision cut is listed
///   as not in effect ([`DuplicatePair::in_effect`]) for a person to settle.
pub(crate) fn merged_map(conn: &Connection) -> Result<HashMap<Uuid, (Uuid, String)>> {
    let mut map: HashMap<Uuid, (Uuid, String)> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT m.other, m.kept, json_extract(m.body, '$.decided_at') FROM merge m
         WHERE m.status = 'merged' AND m.archived_at IS NULL
           AND EXISTS (SELECT 1 FROM beneficiary b WHERE b.id = m.kept)
         ORDER BY m.other, m.kept",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    for row in rows {
        let (other, kept, at) = row?;
        if let (Ok(other), Ok(kept)) = (Uuid::parse_str(&other), Uuid::parse_str(&kept)) {
            if other != kept {
                map.entry(other).or_insert((kept, at));
            }
        }
    }
    break_cycles(&mut map);
    Ok(map)
}

/// Cuts every cycle of `map` (each person has at most one person kept, so
/// cycles never share anyone) at its smallest id; gives the ids cut.
fn break_cycles(map: &mut HashMap<Uuid, (Uuid, String)>) -> Vec<Uuid> {
    #[derive(PartialEq)]
    enum Seen {
        OnPath,
        Done,
    }
    let mut seen: HashMap<Uuid, Seen> = HashMap::new();
    let mut starts: Vec<Uuid> = map.keys().copied().collect();
    starts.sort();
    let mut cut = Vec::new();
    for start in starts {
        let mut path = Vec::new();
        let mut cur = start;
        loop {
            match seen.get(&cur) {
                Some(Seen::OnPath) => {
                    if let Some(pos) = path.iter().position(|p| *p == cur) {
                        if let Some(min) = path[pos..].iter().min() {
                            cut.push(*min);
                        }
                    }
                    break;
                }
                Some(Seen::Done) => break,
                None => {}
            }
            seen.insert(cur, Seen::OnPath);
            path.push(cur);
            match map.get(&cur) {
                Some((next, _)) => cur = *next,
                None => break,
            }
        }
        for p in path {
            seen.insert(p, Seen::Done);
        }
    }
    for c in &cut {
        map.remove(c);
    }
    cut
}

/// Follows merges from `id` to the person finally kept; `None` when `id`
/// is not merged. `map` has no cycle ([`merged_map`]); the walk is bounded
/// all the same.
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
    refold_people(tx, &[kept, other])
}

/// The people decisions name as kept or merged away together with `id`
/// (the other side of each of her decisions).
pub(crate) fn decided_with(tx: &Transaction<'_>, id: Uuid) -> Result<Vec<Uuid>> {
    let mut stmt = tx.prepare_cached(
        "SELECT CASE WHEN kept = ?1 THEN other ELSE kept END FROM merge WHERE kept = ?1 OR other = ?1",
    )?;
    let rows = stmt.query_map(params![id.to_string()], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for r in rows {
        if let Ok(p) = Uuid::parse_str(&r?) {
            out.push(p);
        }
    }
    Ok(out)
}

/// People linked by any merge decision on their pair, whatever it says now.
pub(crate) struct Linked(HashMap<Uuid, Vec<Uuid>>);

impl Linked {
    pub(crate) fn load(conn: &Connection) -> Result<Linked> {
        let mut links: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let mut stmt = conn.prepare_cached("SELECT kept, other FROM merge")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (a, b) = row?;
            if let (Ok(a), Ok(b)) = (Uuid::parse_str(&a), Uuid::parse_str(&b)) {
                links.entry(a).or_default().push(b);
                links.entry(b).or_default().push(a);
            }
        }
        Ok(Linked(links))
    }

    /// `start` and everyone linked to them, through any number of decisions.
    pub(crate) fn group(&self, start: &[Uuid]) -> HashSet<Uuid> {
        let mut seen: HashSet<Uuid> = HashSet::new();
        let mut todo: Vec<Uuid> = start.to_vec();
        while let Some(p) = todo.pop() {
            if seen.insert(p) {
                todo.extend(self.0.get(&p).into_iter().flatten().copied());
            }
        }
        seen
    }
}

/// Folds again `people`, anyone whose chain of decisions touches them
/// (merged into them, or in a cycle with them), all their visits and
/// milestones, then their summaries.
pub(crate) fn refold_people(tx: &Transaction<'_>, start: &[Uuid]) -> Result<()> {
    // Every decision's two people, linked: what one decision changes can
    // change where anyone in the same group of decisions lands.
    let people = Linked::load(tx)?.group(start);
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
    // Their visits, milestones and other records (IGAs, surveys, seasons,
    // referrals, attendance): each shows under, or waits for, someone of
    // the group (where her own decisions send it).
    let sql = {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        SQL.get_or_init(|| {
            let mut parts: Vec<String> = Entity::ALL
                .iter()
                .filter(|e| e.of_person())
                .map(|e| format!("SELECT '{0}', id FROM {0} WHERE beneficiary_id = ?1", e.as_str()))
                .collect();
            parts.push("SELECT entity, record_id FROM waiting WHERE parent_id = ?1".into());
            parts.join(" UNION ")
        })
    };
    let mut stmt = tx.prepare_cached(sql)?;
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
    children.sort();
    children.dedup();
    for (e, rid) in children {
        log::materialise(tx, e, rid)?;
    }
    for p in &people {
        if tx.prepare_cached("SELECT 1 FROM beneficiary WHERE id = ?1")?.exists(params![p.to_string()])? {
            log::refresh_summary(tx, *p)?;
        }
    }
    Ok(())
}

/// What scoring needs of one person, computed once.
struct Probe {
    b: Beneficiary,
    name: NameKey,
}

impl Probe {
    fn new(b: Beneficiary) -> Probe {
        Probe { name: NameKey::new(&b.last_name, b.name_ar.as_deref()), b }
    }
}

/// A pair of possible duplicates (smaller id first), and its score and reasons.
type Pair = ((Uuid, Uuid), (u32, Vec<String>));
/// Pairs of possible duplicates (smaller id first) → score and reasons.
type Pairs = BTreeMap<(Uuid, Uuid), (u32, Vec<String>)>;

/// The row two people make in the `duplicate` table, if any: both live,
/// registered on different devices, and `match_reasons` gives a reason.
/// A function of the two records alone.
fn pair_of(p: &Beneficiary, q: &Beneficiary) -> Option<Pair> {
    if p.id == q.id || p.created_by == q.created_by || p.archived_at.is_some() || q.archived_at.is_some() {
        return None;
    }
    let (lo, hi) = if p.id < q.id { (p, q) } else { (q, p) };
    let (score, reasons) = match_reasons(lo, hi);
    (!reasons.is_empty()).then_some(((lo.id, hi.id), (score, reasons)))
}

/// Up to this many people, or while they are at most one in
/// `INDEXED_SHARE` of the people stored, [`rescore`] looks each one's
/// candidates up through the indexes (her CIN, phone, birth date and
/// commune: a local edit never reads everyone); beyond, it reads every
/// live person once and scores on two cores (an import of thousands).
/// Both give the same pairs.
const INDEXED_UP_TO: usize = 64;
const INDEXED_SHARE: usize = 100;

/// Scores `people` again after they changed (arrived, were edited,
/// archived, merged away or back): removes every pair they are in, then
/// pairs each with everyone live. The `duplicate` table is thus a function
/// of the records, the same on every machine that holds the same changes
/// whatever the order they came in: every pair of live people registered
/// on different devices to whom `match_reasons` gives a reason, once
/// (smaller id first), and nothing else. Call it with everyone whose row
/// changed, once the rows are written. Gives how many pairs are new.
pub(crate) fn rescore(tx: &Transaction<'_>, people: &[Uuid]) -> Result<usize> {
    let mut people = people.to_vec();
    people.sort_unstable();
    people.dedup();
    if people.is_empty() {
        return Ok(0);
    }
    let stored: i64 = tx.query_row("SELECT coalesce(max(rowid), 0) FROM beneficiary", [], |r| r.get(0))?;
    let found = if people.len() <= INDEXED_UP_TO || people.len().saturating_mul(INDEXED_SHARE) <= stored as usize {
        scored_by_index(tx, &people)?
    } else {
        scored_in_bulk(tx, Some(&people))?
    };
    write_pairs(tx, Some(&people), found)
}

/// Recomputes the whole `duplicate` table from the records: the table
/// [`rescore`] keeps, made from scratch (a repair, and what tests compare
/// with). Gives how many pairs were not there before.
pub fn rebuild_duplicates(tx: &Transaction<'_>) -> Result<usize> {
    let found = scored_in_bulk(tx, None)?;
    write_pairs(tx, None, found)
}

/// A live person's record.
fn live_record(tx: &Transaction<'_>, id: Uuid) -> Result<Option<Beneficiary>> {
    let doc: Option<String> = tx
        .prepare_cached("SELECT doc FROM beneficiary WHERE id = ?1 AND archived_at IS NULL")?
        .query_row(params![id.to_string()], |r| r.get(0))
        .optional()?;
    Ok(match doc {
        Some(d) => Some(serde_json::from_str(&d)?),
        None => None,
    })
}

/// The pairs `people` are in, each person's candidates read through the
/// indexes (`store::match_candidates`): those sharing her CIN, phone,
/// birth date or commune, never the whole table.
fn scored_by_index(tx: &Transaction<'_>, people: &[Uuid]) -> Result<Pairs> {
    let mut found = Pairs::new();
    let mut communes = Communes::default();
    let mut read: HashMap<Uuid, Option<Beneficiary>> = HashMap::new();
    for p in people {
        let Some(pb) = live_record(tx, *p)? else { continue };
        for q in match_candidates(tx, &pb, Some(pb.created_by), &mut communes)? {
            let key = if *p < q { (*p, q) } else { (q, *p) };
            if q == *p || found.contains_key(&key) {
                continue;
            }
            let qb = match read.entry(q) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(live_record(tx, q)?),
            };
            if let Some((key, value)) = qb.as_ref().and_then(|qb| pair_of(&pb, qb)) {
                found.insert(key, value);
            }
        }
    }
    Ok(found)
}

/// The pairs `people` (everyone when `None`) are in, every live person
/// read once: for an import of many people, and for a rebuild.
fn scored_in_bulk(tx: &Transaction<'_>, people: Option<&[Uuid]>) -> Result<Pairs> {
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
    // Where only a year is known, the year is compared (`same_birth`):
    // everyone by year of birth, and those known by their year alone.
    let mut by_year: HashMap<i32, Vec<usize>> = HashMap::new();
    let mut approx_by_year: HashMap<i32, Vec<usize>> = HashMap::new();
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
        by_year.entry(p.b.birth_date.year()).or_default().push(i);
        if p.b.birth_date_approx {
            approx_by_year.entry(p.b.birth_date.year()).or_default().push(i);
        }
        if let Some(c) = &p.b.commune {
            by_commune.entry(fold(c)).or_default().push(i);
        }
    }
    // Everyone scores only against those after her: each pair once.
    let everyone = people.is_none();
    let scored: Vec<usize> = match people {
        Some(ids) => ids.iter().filter_map(|id| index.get(id).copied()).collect(),
        None => (0..all.len()).collect(),
    };
    // Scoring the pairs is the costly part and touches no database: the
    // people are scored on two cores, half each.
    let score = |mine: &[usize]| -> Pairs {
        let mut found = Pairs::new();
        let empty = Vec::new();
        for &i in mine {
            let p = &all[i];
            let mut candidates: Vec<usize> = Vec::new();
            candidates.extend(p.b.cin.as_deref().and_then(|c| by_cin.get(c)).unwrap_or(&empty));
            candidates.extend(p.b.phone.as_deref().and_then(|c| by_phone.get(c)).unwrap_or(&empty));
            // A birth date or a commune in common counts only with a
            // similar name; a pair sharing a CIN or phone came in above.
            let year = p.b.birth_date.year();
            let birth = if p.b.birth_date_approx {
                by_year.get(&year).unwrap_or(&empty)
            } else {
                by_birth.get(&p.b.birth_date).unwrap_or(&empty)
            };
            candidates.extend(birth.iter().filter(|j| p.name.may_match(&all[**j].name)));
            if !p.b.birth_date_approx {
                let approx = approx_by_year.get(&year).unwrap_or(&empty);
                candidates.extend(approx.iter().filter(|j| p.name.may_match(&all[**j].name)));
            }
            let commune = p.b.commune.as_deref().map(fold);
            if let Some(bucket) = commune.as_ref().and_then(|c| by_commune.get(c)) {
                candidates.extend(bucket.iter().filter(|j| p.name.may_match(&all[**j].name)));
            }
            for j in candidates {
                if (everyone && j <= i) || all[j].b.created_by == p.b.created_by {
                    continue;
                }
                if let Some((key, value)) = pair_of(&p.b, &all[j].b) {
                    found.entry(key).or_insert(value);
                }
            }
        }
        found
    };
    let (first, second) = scored.split_at(scored.len() / 2);
    let (mut found, other) = std::thread::scope(|s| {
        let other = s.spawn(|| score(second));
        (score(first), other.join())
    });
    found.extend(other.map_err(|_| Error::Other("internal: scoring possible duplicates failed".into()))?);
    Ok(found)
}

/// Makes the `duplicate` rows that `people` are in (all rows when
/// `None`) those of `found`: adds, rescores, removes. Gives how many
/// pairs are new.
fn write_pairs(tx: &Transaction<'_>, people: Option<&[Uuid]>, found: Pairs) -> Result<usize> {
    let ids: Option<HashSet<String>> = people.map(|ps| ps.iter().map(Uuid::to_string).collect());
    // One pass over the table: it has no index by its second person.
    let mut old: HashMap<(String, String), (i64, String)> = HashMap::new();
    {
        let mut stmt = tx.prepare_cached("SELECT a, b, score, reasons FROM duplicate")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        for row in rows {
            let (a, b, score, reasons): (String, String, i64, String) = row?;
            if ids.as_ref().is_none_or(|ids| ids.contains(&a) || ids.contains(&b)) {
                old.insert((a, b), (score, reasons));
            }
        }
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO duplicate (a, b, score, reasons) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (a, b) DO UPDATE SET score = excluded.score, reasons = excluded.reasons",
    )?;
    let mut new_pairs = 0;
    for ((a, b), (score, reasons)) in found {
        let key = (a.to_string(), b.to_string());
        let reasons = serde_json::to_string(&reasons)?;
        let was = old.remove(&key);
        if was.as_ref().is_some_and(|(s, r)| *s == i64::from(score) && *r == reasons) {
            continue;
        }
        if was.is_none() {
            new_pairs += 1;
        }
        upsert.execute(params![key.0, key.1, score, reasons])?;
    }
    let mut delete = tx.prepare_cached("DELETE FROM duplicate WHERE a = ?1 AND b = ?2")?;
    for (a, b) in old.into_keys() {
        delete.execute(params![a, b])?;
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
    /// False for a merge that does not take effect (see [`merged_map`]):
    /// the person kept has not arrived, another decision on the same
    /// person wins, or decisions made apart formed a cycle. A person
    /// should look at it again.
    pub in_effect: bool,
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
    let effective = merged_map(conn)?;
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
            in_effect: decision
                .as_ref()
                .filter(|d| d.status == Status::Merged)
                .is_none_or(|d| effective.get(&d.other).is_some_and(|(k, _)| *k == d.kept)),
            a: ca,
            b: cb,
        });
    }
    Ok(out)
}

impl Writer<'_> {
    /// Logs a decision on the pair: creates its record the first time,
    /// else changes it (with the stamps it replaces, so that two opposite
    /// decisions made apart show as a conflict). `taken`: the fields a
    /// merge took from the other (`None` leaves them as they were).
    fn decide(&mut self, kept: Uuid, other: Uuid, status: Status, taken: Option<&[String]>) -> Result<Decision> {
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
        if let Some(taken) = taken {
            fields.insert("taken".into(), serde_json::to_value(taken)?);
        }
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
        self.require(Action::Read)?;
        list(self.conn(), all)
    }

    /// Merges `other` into `kept`: one identity, `kept`'s, showing the
    /// visits and milestones of both; the fields `kept` lacks take the
    /// other's values. Never done without a person asking.
    pub fn merge_persons(&mut self, kept: Uuid, other: Uuid) -> Result<Decision> {
        self.merge_persons_taking(kept, other, &[], true)
    }

    /// Merges `other` into `kept`, `kept` taking the other's value of each
    /// field of `take` (and, with `fill_empty`, of each field `kept` lacks
    /// and the other has, where the record stays valid: see
    /// [`Store::merge_preview`]). In one transaction: an ordinary edit of
    /// the person kept (it travels and folds like any edit, conflicts
    /// included) and the decision, which names the fields taken.
    pub fn merge_persons_taking(
        &mut self,
        kept: Uuid,
        other: Uuid,
        take: &[String],
        fill_empty: bool,
    ) -> Result<Decision> {
        self.require(Action::Settle)?;
        if kept == other {
            return Err(Error::invalid(vec![FieldError::new("other", "same_person")]));
        }
        check_take(take)?;
        self.write_noted(|w| {
            let mut errors = Vec::new();
            for (field, id) in [("kept", kept), ("other", other)] {
                if let Err(Error::Invalid(i)) = w.live_person(field, id) {
                    errors.extend(i.0);
                }
            }
            if !errors.is_empty() {
                return Err(Error::invalid(errors));
            }
            let plan = plan(w.tx(), kept, other, take, fill_empty)?;
            // The decision first: the other is then merged into the person
            // kept, so a CIN taken from her is not "already used" by her.
            let d = w.decide(kept, other, Status::Merged, Some(&plan.taken))?;
            w.save_edit(&plan.current, &plan.new)?;
            // Field names only, never their values.
            let took = if d.taken.is_empty() { String::new() } else { format!("; took {}", d.taken.join(", ")) };
            let note = Note::new(Act::DuplicateMerge, d.id).detail(format!("kept {}, other {}{took}", d.kept, d.other));
            Ok((d, Some(note)))
        })
    }

    /// Both people side by side before a merge of `other` into `kept`:
    /// every field that differs, and whether the other's value is taken
    /// unless a person chooses otherwise (where `kept` has none and the
    /// record stays valid with it).
    pub fn merge_preview(&self, kept: Uuid, other: Uuid) -> Result<MergePreview> {
        self.require(Action::Read)?;
        if kept == other {
            return Err(Error::invalid(vec![FieldError::new("other", "same_person")]));
        }
        let conn = self.conn();
        let names = crate::sync::devices::device_names(conn)?;
        let not_found = |id: Uuid| Error::NotFound { entity: "beneficiary", id: id.to_string() };
        let kept_card = card(conn, kept, &names)?.ok_or_else(|| not_found(kept))?;
        let other_card = card(conn, other, &names)?.ok_or_else(|| not_found(other))?;
        let taken = match plan(conn, kept, other, &[], true) {
            Ok(p) => p.taken,
            // The person kept cannot be edited as she is (archived,
            // merged): nothing is proposed; the merge will say why.
            Err(Error::Invalid(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        let (a, b) = (stored(&kept_card.beneficiary)?, stored(&other_card.beneficiary)?);
        let fields = editable()
            .iter()
            .filter(|f| a.get(**f) != b.get(**f))
            .map(|f| FieldChoice {
                field: f.to_string(),
                kept: a.get(*f).cloned().unwrap_or(Value::Null),
                other: b.get(*f).cloned().unwrap_or(Value::Null),
                take: taken.iter().any(|t| t == f),
            })
            .collect();
        Ok(MergePreview { kept: kept_card, other: other_card, fields })
    }

    /// Undoes a merge of the pair: both show as before, the pair is open again.
    pub fn unmerge_persons(&mut self, a: Uuid, b: Uuid) -> Result<Decision> {
        self.require(Action::Settle)?;
        self.write_noted(|w| match w.status_of(a, b)? {
            Some(d) if d.status == Status::Merged => {
                w.decide(d.kept, d.other, Status::Open, None).map(|d| noted(Act::DuplicateUnmerge, d))
            }
            _ => Err(Error::invalid(vec![FieldError::new("other", "not_merged")])),
        })
    }

    /// Records that the pair are two different people: no longer listed.
    pub fn dismiss_duplicate(&mut self, a: Uuid, b: Uuid) -> Result<Decision> {
        self.require(Action::Settle)?;
        if a == b {
            return Err(Error::invalid(vec![FieldError::new("other", "same_person")]));
        }
        self.write_noted(|w| match w.status_of(a, b)? {
            Some(d) if d.status == Status::Merged => {
                Err(Error::invalid(vec![FieldError::new("other", "already_merged").with("id", d.other)]))
            }
            Some(d) => w.decide(d.kept, d.other, Status::Distinct, None).map(|d| noted(Act::DuplicateDismiss, d)),
            None => {
                for id in [a, b] {
                    if crate::store::log::clocks_of(w.tx(), Entity::Beneficiary, id)?.is_none() {
                        return Err(Error::invalid(vec![
                            FieldError::new("other", "unknown_beneficiary").with("id", id)
                        ]));
                    }
                }
                w.decide(a, b, Status::Distinct, None).map(|d| noted(Act::DuplicateDismiss, d))
            }
        })
    }
}

/// One field of the side-by-side merge: both values (as stored), and
/// whether the other's is taken unless a person chooses otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct FieldChoice {
    pub field: String,
    pub kept: Value,
    pub other: Value,
    pub take: bool,
}

/// Two people before a merge: the one kept, the other, and the fields
/// where they differ.
#[derive(Debug, Clone, Serialize)]
pub struct MergePreview {
    pub kept: PersonCard,
    pub other: PersonCard,
    pub fields: Vec<FieldChoice>,
}

/// What a merge does to the person kept: her record before and after,
/// and the fields that change (in the order of `editable()`).
struct Plan {
    current: Beneficiary,
    new: Beneficiary,
    taken: Vec<String>,
}

/// Every name of `take` is a field a merge can take (a field a person's
/// edit may change).
pub(crate) fn check_take(take: &[String]) -> Result<()> {
    let errors: Vec<FieldError> = take
        .iter()
        .filter(|f| !editable().contains(&f.as_str()))
        .map(|f| FieldError::new("take", "unknown_field").with("field", f))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(errors))
    }
}

/// A person's record as stored, as a JSON object.
fn stored(b: &Beneficiary) -> Result<Map<String, Value>> {
    match serde_json::to_value(b)? {
        Value::Object(m) => Ok(m),
        _ => Err(Error::Other("internal: a record is not a JSON object".into())),
    }
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

/// The edit a merge of `other` into `kept` makes: the other's value for
/// each field of `take`, and with `fill_empty` for each field `kept` lacks
/// and the other has. A field filled by default that the record's rules
/// refuse (a province of another region) is left as it is; a field asked
/// for that they refuse refuses the merge. Writes nothing.
fn plan(conn: &Connection, kept: Uuid, other: Uuid, take: &[String], fill_empty: bool) -> Result<Plan> {
    let (k, o) = (crate::store::beneficiary(conn, kept)?, crate::store::beneficiary(conn, other)?);
    let (ks, os) = (stored(&k)?, stored(&o)?);
    let Value::Object(input) = serde_json::to_value(o.to_input())? else {
        return Err(Error::Other("internal: an input is not a JSON object".into()));
    };
    let asked: Vec<&str> =
        editable().iter().copied().filter(|f| take.iter().any(|t| t == f) && ks.get(*f) != os.get(*f)).collect();
    let mut defaults: Vec<&str> = if fill_empty {
        editable()
            .iter()
            .copied()
            .filter(|f| !asked.contains(f) && is_empty(ks.get(*f)) && !is_empty(os.get(*f)))
            .collect()
    } else {
        Vec::new()
    };
    loop {
        let patch: Map<String, Value> = asked
            .iter()
            .chain(defaults.iter())
            .map(|f| (f.to_string(), input.get(*f).cloned().unwrap_or(Value::Null)))
            .collect();
        match edited_beneficiary(conn, kept, patch) {
            Ok((current, new)) => {
                let (before, after) = (stored(&current)?, stored(&new)?);
                let taken =
                    editable().iter().filter(|f| before.get(**f) != after.get(**f)).map(|f| f.to_string()).collect();
                return Ok(Plan { current, new, taken });
            }
            Err(Error::Invalid(errors)) => {
                let before = defaults.len();
                defaults.retain(|f| !errors.fields().any(|e| e == *f));
                if defaults.len() == before {
                    return Err(Error::Invalid(errors));
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// One decision on a pair a person is in, as her profile shows it: what
/// it said after one of its changes (merged, undone, two people), who the
/// other person is, the fields taken, and who decided, where and when.
#[derive(Debug, Clone, Serialize)]
pub struct MergeEvent {
    pub decision_id: Uuid,
    pub at: String,
    pub hlc: String,
    pub device_id: Uuid,
    pub device_name: String,
    pub coordinator: String,
    pub status: Status,
    pub kept: Uuid,
    pub other: Uuid,
    /// The other person of the pair, and her name.
    pub with: Uuid,
    pub with_name: String,
    pub taken: Vec<String>,
}

/// The decisions on `person`'s pairs, one event per change of a
/// decision, in clock order.
pub(crate) fn events_of(conn: &Connection, person: Uuid) -> Result<Vec<MergeEvent>> {
    let ids: Vec<String> = conn
        .prepare_cached("SELECT id FROM merge WHERE kept = ?1 OR other = ?1")?
        .query_map(params![person.to_string()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let names = crate::sync::devices::device_names(conn)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM change WHERE entity = 'merge' AND record_id = ?1 ORDER BY hlc",
        log::CHANGE_COLUMNS
    ))?;
    for id in ids.iter().filter_map(|i| Uuid::parse_str(i).ok()) {
        // What the decision said after each change, its changes laid one
        // over the other in clock order.
        let mut state = Map::new();
        let changes: Vec<log::Change> =
            stmt.query_map(params![id.to_string()], log::change_from_row)?.collect::<rusqlite::Result<_>>()?;
        for c in changes {
            state.extend(c.fields.clone());
            let s = |k: &str| state.get(k).and_then(Value::as_str).and_then(|v| Uuid::parse_str(v).ok());
            let (Some(kept), Some(other)) = (s("kept"), s("other")) else { continue };
            let Some(status) = state.get("status").and_then(|v| serde_json::from_value::<Status>(v.clone()).ok())
            else {
                continue;
            };
            let with = if kept == person { other } else { kept };
            let with_name: Option<String> = conn
                .prepare_cached("SELECT trim(first_name || ' ' || last_name) FROM beneficiary WHERE id = ?1")?
                .query_row(params![with.to_string()], |r| r.get(0))
                .optional()?;
            out.push(MergeEvent {
                decision_id: id,
                at: c.at.clone(),
                hlc: c.hlc.to_string(),
                device_id: c.device_id,
                device_name: names.get(&c.device_id.to_string()).cloned().unwrap_or_default(),
                coordinator: c.coordinator.clone(),
                status,
                kept,
                other,
                with,
                with_name: with_name.unwrap_or_default(),
                taken: state.get("taken").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default(),
            });
        }
    }
    out.sort_by(|a, b| a.hlc.cmp(&b.hlc));
    Ok(out)
}

/// The person `id` is merged into, for her profile's link.
#[derive(Debug, Clone, Serialize)]
pub struct MergedInto {
    pub id: Uuid,
    pub name: String,
    /// When the decision was made.
    pub at: String,
}

/// Whom `id` is merged into now (the merge in effect), if anyone.
pub(crate) fn merged_into_view(conn: &Connection, id: Uuid) -> Result<Option<MergedInto>> {
    let Some((kept, at)) = merged_into(conn, id)? else { return Ok(None) };
    let name: Option<String> = conn
        .prepare_cached("SELECT trim(first_name || ' ' || last_name) FROM beneficiary WHERE id = ?1")?
        .query_row(params![kept.to_string()], |r| r.get(0))
        .optional()?;
    Ok(Some(MergedInto { id: kept, name: name.unwrap_or_default(), at }))
}

/// A decision on a pair, with its audit entry: the pair's decision id,
/// and the two people by id.
fn noted(act: Act, d: Decision) -> (Decision, Option<Note>) {
    let note = Note::new(act, d.id).detail(format!("kept {}, other {}", d.kept, d.other));
    (d, Some(note))
}
