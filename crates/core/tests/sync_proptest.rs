//! Property: laptops and stations making random edits (the same fields of
//! the same people, archives, visits, new people, merges and unmerges,
//! erasures on withdrawn consent, at several machines), exchanging
//! **incremental** bundles in random orders (stations exporting between
//! imports, bundles arriving late or twice, laptop-to-laptop hand-overs),
//! restoring backups and running copies of their databases, end with the same database once every machine has
//! imported every bundle made; what each built step by step is what its
//! change log folds to from scratch; nobody is hidden behind nobody; and no
//! write is silently lost: each is the value now, or was replaced by
//! someone who saw it (history), or sits in a conflict.
//!
//! `WAFIRA_PROPTEST_CASES=2000 cargo test -p wafira-core --release --test
//! sync_proptest` runs a longer search by hand.

mod sync_support;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use sync_support::*;
use uuid::Uuid;
use wafira_core::store::log::Entity;
use wafira_core::store::records::RecordQuery;

/// Laptops are machines 0–2, stations 3 and 4; copies come after.
const MACHINES: usize = 5;
const MAX_COPIES: usize = 2;

#[derive(Debug, Clone)]
enum Step {
    Edit {
        on: usize,
        person: usize,
        field: usize,
        value: usize,
    },
    Archive {
        on: usize,
        person: usize,
    },
    Visit {
        on: usize,
        person: usize,
        day: u32,
    },
    /// A step of her IGA (refused like the form refuses it, when out of order).
    Milestone {
        on: usize,
        person: usize,
        kind: usize,
        day: u32,
    },
    /// A second IGA of hers, or a follow-up survey of one, or a season, or
    /// a correction of her first IGA (the results framework's records).
    Programme {
        on: usize,
        person: usize,
        what: usize,
        value: usize,
    },
    /// A session held at one laptop and who attended, ticked anywhere.
    Attend {
        on: usize,
        person: usize,
        present: bool,
    },
    /// Withdraw a milestone entered by mistake.
    ArchiveMilestone {
        on: usize,
        person: usize,
    },
    Register {
        on: usize,
    },
    Merge {
        on: usize,
        kept: usize,
        other: usize,
    },
    Unmerge {
        on: usize,
        a: usize,
        b: usize,
    },
    Export {
        on: usize,
    },
    /// Import a bundle exported earlier (any of them, again or not).
    Import {
        on: usize,
        bundle: usize,
    },
    /// Erase a person's identifying data (consent withdrawn).
    Erase {
        on: usize,
        person: usize,
    },
    /// Put back the newest backup (taken before an import or a restore).
    Restore {
        on: usize,
    },
    /// A copy of a machine's database goes on as another machine.
    Copy {
        from: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let on = 0..MACHINES + MAX_COPIES;
    prop_oneof![
        4 => (on.clone(), 0..5usize, 0..3usize, 0..3usize)
            .prop_map(|(on, person, field, value)| Step::Edit { on, person, field, value }),
        1 => (on.clone(), 0..5usize).prop_map(|(on, person)| Step::Archive { on, person }),
        2 => (on.clone(), 0..5usize, 1..28u32).prop_map(|(on, person, day)| Step::Visit { on, person, day }),
        2 => (on.clone(), 0..5usize, 0..4usize, 1..28u32)
            .prop_map(|(on, person, kind, day)| Step::Milestone { on, person, kind, day }),
        1 => (on.clone(), 0..5usize).prop_map(|(on, person)| Step::ArchiveMilestone { on, person }),
        2 => (on.clone(), 0..5usize, 0..4usize, 0..3usize)
            .prop_map(|(on, person, what, value)| Step::Programme { on, person, what, value }),
        1 => (on.clone(), 0..5usize, proptest::bool::ANY)
            .prop_map(|(on, person, present)| Step::Attend { on, person, present }),
        1 => on.clone().prop_map(|on| Step::Register { on }),
        2 => (on.clone(), 0..5usize, 0..5usize).prop_map(|(on, kept, other)| Step::Merge { on, kept, other }),
        1 => (on.clone(), 0..5usize, 0..5usize).prop_map(|(on, a, b)| Step::Unmerge { on, a, b }),
        4 => on.clone().prop_map(|on| Step::Export { on }),
        6 => (on.clone(), 0..64usize).prop_map(|(on, bundle)| Step::Import { on, bundle }),
        1 => (on.clone(), 0..5usize).prop_map(|(on, person)| Step::Erase { on, person }),
        1 => on.clone().prop_map(|on| Step::Restore { on }),
        1 => (0..MACHINES).prop_map(|from| Step::Copy { from }),
    ]
}

const FIELDS: [&str; 3] = ["phone", "commune", "cohort"];
const VALUES: [[&str; 3]; 3] =
    [["0611111111", "0622222222", "0633333333"], ["Zirara", "Mnasra", "Azla"], ["2024-A", "2024-B", "2025-A"]];

fn live(m: &Machine, person: Uuid) -> bool {
    m.store.beneficiary(person).map(|b| b.archived_at.is_none() && !b.is_erased()).unwrap_or(false)
}

struct World {
    machines: Vec<Machine>,
    /// Every bundle made, in the order made.
    pool: Vec<Vec<u8>>,
    people: Vec<Uuid>,
}

impl World {
    fn new() -> World {
        let names = ["Portable A", "Portable B", "Portable C", "Station 1", "Station 2"];
        let mut machines: Vec<Machine> = names.iter().map(|n| machine(n)).collect();
        let people = (0..2)
            .map(|i| machines[0].register(json!({ "first_name": format!("Femme{}", "a".repeat(i + 1)) })))
            .collect();
        World { machines, pool: Vec::new(), people }
    }

    fn person(&self, i: usize) -> Uuid {
        self.people[i % self.people.len()]
    }

    fn apply(&mut self, s: Step) {
        let n = self.machines.len();
        match s {
            Step::Edit { on, person, field, value } => {
                let p = self.person(person);
                let m = &mut self.machines[on % n];
                if live(m, p) {
                    // May be refused (a CIN or phone twin): a refusal changes nothing.
                    let _ = m.store.update_beneficiary(p, json!({ FIELDS[field]: VALUES[field][value] }));
                }
            }
            Step::Archive { on, person } => {
                let p = self.person(person);
                let m = &mut self.machines[on % n];
                if live(m, p) {
                    m.store.archive_beneficiary(p, Some(format!("erreur {on}"))).unwrap();
                }
            }
            Step::Visit { on, person, day } => {
                let p = self.person(person);
                let m = &mut self.machines[on % n];
                if live(m, p) {
                    m.visit(p, &format!("2025-02-{day:02}"));
                }
            }
            Step::Milestone { on, person, kind, day } => {
                let p = self.person(person);
                let m = &mut self.machines[on % n];
                if live(m, p) {
                    let kind = ["business_plan", "iga_launched", "first_sale", "iga_stopped"][kind];
                    let _ = m.store.add_milestone_json(json!({
                        "beneficiary_id": p.to_string(), "kind": kind, "date": format!("2025-03-{day:02}"),
                        "reason": "saison"
                    }));
                }
            }
            Step::Programme { on, person, what, value } => {
                let p = self.person(person);
                let m = &mut self.machines[on % n];
                if live(m, p) {
                    let q = RecordQuery { beneficiary_id: Some(p), ..Default::default() };
                    let igas = m.store.records(Entity::Iga, &q).unwrap_or_default();
                    let sector = ["commerce", "agriculture", "services"][value];
                    let _ = match (what, igas.first()) {
                        (0, _) => m.store.add_record(
                            Entity::Iga,
                            json!({ "beneficiary_id": p, "sector": sector, "form": "individual", "legal_status": "informal" }),
                        ),
                        (1, Some(iga)) => m.store.add_record(
                            Entity::IgaFollowup,
                            json!({ "iga_id": iga["id"], "date": format!("2025-06-{:02}", value + 1),
                                    "operating": value != 1, "not_operating_reason": "saison",
                                    "monthly_profit": format!("{}", 500 * value) }),
                        ),
                        (2, _) => m.store.add_record(
                            Entity::Season,
                            json!({ "beneficiary_id": p, "year": 2024 + value as i64, "country": (["ES", "FR", "PT"][value]) }),
                        ),
                        (_, Some(iga)) => {
                            let id = Uuid::parse_str(iga["id"].as_str().unwrap_or_default()).unwrap_or_default();
                            m.store.update_record(Entity::Iga, id, json!({ "sector": sector, "jobs_created": value }))
                        }
                        _ => Ok(Default::default()),
                    };
                }
            }
            Step::Attend { on, person, present } => {
                let p = self.person(person);
                let m = &mut self.machines[on % n];
                // One session, made by the first laptop, travels to others.
                let sessions = m.store.records(Entity::Session, &RecordQuery::default()).unwrap_or_default();
                let session = match sessions.first() {
                    Some(s) => Uuid::parse_str(s["id"].as_str().unwrap_or_default()).ok(),
                    None if on % n == 0 => m
                        .store
                        .add_record(
                            Entity::Session,
                            json!({ "kind": "financial_education", "module": "budget", "date": "2025-04-02" }),
                        )
                        .ok()
                        .and_then(|d| Uuid::parse_str(d["id"].as_str().unwrap_or_default()).ok()),
                    None => None,
                };
                if let (Some(session), true) = (session, live(m, p)) {
                    let q = RecordQuery { session_id: Some(session), ..Default::default() };
                    let mut list: Vec<Uuid> = m
                        .store
                        .records(Entity::Attendance, &q)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|a| a["beneficiary_id"].as_str().and_then(|s| Uuid::parse_str(s).ok()))
                        .filter(|x| *x != p)
                        .collect();
                    if present {
                        list.push(p);
                    }
                    let _ = m.store.take_attendance(session, &list);
                }
            }
            Step::ArchiveMilestone { on, person } => {
                let p = self.person(person);
                let m = &mut self.machines[on % n];
                if let Some(first) = m.store.profile(p).ok().and_then(|pr| pr.milestones.first().map(|x| x.id)) {
                    m.store.archive_record(wafira_core::store::log::Entity::Milestone, first).unwrap();
                }
            }
            Step::Register { on } => {
                let k = self.people.len();
                let id = self.machines[on % n].register(json!({ "first_name": format!("Femme{}", "b".repeat(k)) }));
                self.people.push(id);
            }
            Step::Merge { on, kept, other } => {
                let (k, o) = (self.person(kept), self.person(other));
                let _ = self.machines[on % n].store.merge_persons(k, o);
            }
            Step::Unmerge { on, a, b } => {
                let (a, b) = (self.person(a), self.person(b));
                let _ = self.machines[on % n].store.unmerge_persons(a, b);
            }
            Step::Export { on } => {
                // Nothing new since its last bundle: none is written.
                self.pool.extend(self.machines[on % n].export_if_new(false));
            }
            Step::Import { on, bundle } => {
                if !self.pool.is_empty() {
                    let b = self.pool[bundle % self.pool.len()].clone();
                    self.machines[on % n].import(&b);
                }
            }
            Step::Erase { on, person } => {
                let p = self.person(person);
                // Refused when she is not here yet or already erased.
                let _ = self.machines[on % n].store.erase_beneficiary(p, "retrait du consentement");
            }
            Step::Restore { on } => {
                let m = &mut self.machines[on % n];
                if let Some(newest) = m.store.backups().unwrap().first() {
                    let name = newest.name.clone();
                    let restored = m.store.restore_backup(&name).unwrap();
                    assert_ne!(restored.identity.device, restored.identity.previous, "a restore takes a new identity");
                }
            }
            Step::Copy { from } => {
                if n < MACHINES + MAX_COPIES {
                    let copy = copy_of(&self.machines[from % n]);
                    self.machines.push(copy);
                }
            }
        }
    }

    /// Rounds of incremental exchange: every machine exports, then imports
    /// every bundle made that it has not imported, in an order that
    /// changes each round.
    fn exchange_until_done(&mut self, rounds: usize) {
        let mut imported: Vec<HashSet<usize>> = vec![HashSet::new(); self.machines.len()];
        for round in 0..rounds {
            for m in self.machines.iter_mut() {
                self.pool.extend(m.export_if_new(false));
            }
            for (mi, m) in self.machines.iter_mut().enumerate() {
                let mut order: Vec<usize> = (0..self.pool.len()).collect();
                if (round + mi) % 2 == 1 {
                    order.reverse();
                }
                for b in order {
                    if imported[mi].insert(b) {
                        m.import(&self.pool[b]);
                    }
                }
            }
        }
    }
}

/// A copy of a machine's database file, opened elsewhere: it must go on
/// under a new identity.
fn copy_of(m: &Machine) -> Machine {
    m.store.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let dir = scratch_dir();
    let path = dir.path().join("copy.sqlite");
    std::fs::copy(&m.path, &path).unwrap();
    let store = wafira_core::Store::open_with_key(&path, &sync_support::key()).unwrap();
    assert_ne!(store.device().unwrap().id, m.store.device().unwrap().id, "a copied database takes a new identity");
    assert_eq!(store.device().unwrap().successor_of, Some(m.store.device().unwrap().id));
    Machine { store, path, _dir: dir }
}

/// What must be the same on every machine, duplicate candidates included.
fn full_state(m: &Machine) -> String {
    let conn = sync_support::conn(&m.path);
    let mut dups: Vec<String> = conn
        .prepare("SELECT a || '|' || b || '|' || score || '|' || reasons FROM duplicate")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    dups.sort();
    format!("{}## duplicate\n{}\n", m.state(), dups.join("\n"))
}

fn run(steps: Vec<Step>) {
    let mut world = World::new();
    for s in steps {
        world.apply(s);
    }
    // Two rounds: the first brings every change everywhere, the second
    // answers the full bundles that restored or copied machines asked for.
    world.exchange_until_done(2);
    let states: Vec<String> = world.machines.iter().map(full_state).collect();
    for (i, s) in states.iter().enumerate().skip(1) {
        if *s != states[0] {
            let diff: Vec<String> = s
                .lines()
                .zip(states[0].lines())
                .filter(|(a, b)| a != b)
                .take(6)
                .map(|(a, b)| format!("  {i}: {a}\n  0: {b}"))
                .collect();
            panic!("machine {i} differs from machine 0:\n{}", diff.join("\n"));
        }
    }
    for m in &world.machines {
        folds_to_itself(m);
        nobody_hidden_behind_nobody(m);
    }
    no_write_lost(&world.machines[0]);
}

/// What imports built step by step is what the log folds to from scratch.
fn folds_to_itself(m: &Machine) {
    let before = full_state(m);
    m.store.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let dir = scratch_dir();
    let path = dir.path().join("rebuilt.sqlite");
    std::fs::copy(&m.path, &path).unwrap();
    let mut store = wafira_core::Store::open_with_key(&path, &sync_support::key()).unwrap();
    store.rebuild().unwrap();
    drop(store);
    let rebuilt = full_state(&Machine {
        store: wafira_core::Store::open_with_key(&path, &sync_support::key()).unwrap(),
        path,
        _dir: dir,
    });
    if before != rebuilt {
        let diff: Vec<String> = before
            .lines()
            .zip(rebuilt.lines())
            .filter(|(a, b)| a != b)
            .take(6)
            .map(|(a, b)| format!("  built:   {a}\n  rebuilt: {b}"))
            .collect();
        panic!("the database is not what its log folds to:\n{}", diff.join("\n"));
    }
}

/// A merged-away person shows under someone who is visible.
fn nobody_hidden_behind_nobody(m: &Machine) {
    let conn = sync_support::conn(&m.path);
    let hidden: Vec<(String, String)> = conn
        .prepare("SELECT id, merged_into FROM beneficiary WHERE merged_into IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (id, kept) in hidden {
        let kept_merged: Option<Option<String>> =
            conn.query_row("SELECT merged_into FROM beneficiary WHERE id = ?1", [&kept], |r| r.get(0)).ok();
        assert!(matches!(kept_merged, Some(None)), "{id} is merged into {kept}, who is not shown: {kept_merged:?}");
    }
}

/// Every update's value is the current one, or a later change replaced it
/// knowingly (its base is that update), or it is part of a conflict.
fn no_write_lost(m: &Machine) {
    let conn = sync_support::conn(&m.path);
    let changes: Vec<(String, String, String, String, String, String)> = conn
        .prepare("SELECT entity, record_id, hlc, op, fields, base FROM change")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut replaced: HashSet<(String, String, String, String)> = HashSet::new();
    for (entity, record, _, _, _, base) in &changes {
        let base: Map<String, Value> = serde_json::from_str(base).unwrap();
        for (field, stamp) in base {
            replaced.insert((entity.clone(), record.clone(), field, stamp.as_str().unwrap_or("").to_string()));
        }
    }
    let conflicts: HashSet<(String, String, String, String)> = conn
        .prepare("SELECT entity, record_id, field, base FROM conflict")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // (entity, record, stamp) of every creation.
    let created: HashSet<(String, String, String)> = changes
        .iter()
        .filter(|(_, _, _, op, _, _)| op == "create")
        .map(|(e, r, h, _, _, _)| (e.clone(), r.clone(), h.clone()))
        .collect();
    // (entity, record, field, stamp of a change) → the stamp it replaced.
    let mut bases: HashMap<(String, String, String, String), String> = HashMap::new();
    for (entity, record, hlc, _, _, base) in &changes {
        let base: Map<String, Value> = serde_json::from_str(base).unwrap();
        for (field, stamp) in base {
            let key = (entity.clone(), record.clone(), field, hlc.clone());
            bases.insert(key, stamp.as_str().unwrap_or("").to_string());
        }
    }
    for (entity, record, hlc, op, fields, base) in &changes {
        if op != "update" {
            continue;
        }
        let entity_of = wafira_core::store::log::Entity::parse(entity).expect("a kind of record");
        let record_id = uuid::Uuid::parse_str(record).expect("a record id");
        let (doc, clocks) = wafira_core::store::log::current(&conn, entity_of, record_id).unwrap().expect("its row");
        let fields: Map<String, Value> = serde_json::from_str(fields).unwrap();
        let base: Map<String, Value> = serde_json::from_str(base).unwrap();
        for field in fields.keys() {
            // The value now: its own, or the same value written elsewhere.
            let current =
                clocks.get(field).and_then(Value::as_str) == Some(hlc.as_str()) || doc.get(field) == fields.get(field);
            let history = replaced.contains(&(entity.clone(), record.clone(), field.clone(), hlc.clone()));
            // Part of a conflict: on a branch that starts at a fork (a
            // branch that starts at a creation replaced nothing: base "").
            let mut b = base.get(field).and_then(Value::as_str).unwrap_or("").to_string();
            let mut in_conflict = false;
            for _ in 0..changes.len() {
                if conflicts.contains(&(entity.clone(), record.clone(), field.clone(), b.clone())) {
                    in_conflict = true;
                    break;
                }
                match bases.get(&(entity.clone(), record.clone(), field.clone(), b.clone())) {
                    Some(parent) => b = parent.clone(),
                    None if !b.is_empty() && created.contains(&(entity.clone(), record.clone(), b.clone())) => {
                        b = String::new();
                    }
                    None => break,
                }
            }
            assert!(current || history || in_conflict, "the write {hlc} of {entity}.{field} was lost silently");
        }
    }
}

fn cases() -> u32 {
    std::env::var("WAFIRA_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn laptops_and_stations_exchanging_incremental_bundles_in_any_order_converge(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        run(steps);
    }
}

/// The minimal case of the review: a station imports a laptop's bundle #2,
/// exports, then imports #1 and exports again; a second laptop that
/// imports both station bundles has both people.
#[test]
fn a_bundle_imported_late_still_leaves_in_the_next_incremental_bundle() {
    let mut l1 = machine("L1");
    let mut l2 = machine("L2");
    let mut s = machine("Station");
    let amina = l1.register(json!({ "first_name": "Amina" }));
    let one = l1.export();
    let badia = l1.register(json!({ "first_name": "Badia", "last_name": "Tazi" }));
    let two = l1.export();
    s.import(&two);
    let s1 = s.export();
    s.import(&one);
    let s2 = s.export();
    l2.import(&s1);
    l2.import(&s2);
    assert!(l2.store.beneficiary(badia).is_ok());
    assert!(l2.store.beneficiary(amina).is_ok(), "Amina came late to the station and must still reach L2");
}

/// Found by the property test (1 run in 1,281): a copy of a laptop merges
/// a pair and undoes it while the laptop merges the pair the other way
/// round; the undo must not be lost silently, the two decisions are a
/// conflict.
#[test]
fn a_merge_undone_on_a_copy_while_the_original_merges_the_pair_is_a_conflict() {
    run(vec![
        Step::Copy { from: 0 },
        Step::Merge { on: 5, kept: 2, other: 1 },
        Step::Unmerge { on: 5, a: 1, b: 2 },
        Step::Merge { on: 0, kept: 1, other: 2 },
    ]);
}

/// Found by the property test: a merge decided at a station before the
/// laptop's milestones of both people arrived.
#[test]
fn milestones_of_two_people_merged_at_a_station_before_they_arrived() {
    run(vec![
        Step::Export { on: 5 },
        Step::Milestone { on: 0, person: 1, kind: 1, day: 1 },
        Step::Milestone { on: 0, person: 2, kind: 0, day: 2 },
        Step::Import { on: 3, bundle: 0 },
        Step::Merge { on: 3, kept: 1, other: 2 },
    ]);
}

/// Found by the property test (1 run in about 300, 2026-12-01), not yet
/// mended: a person's first IGA has an id that follows from her alone
/// (`ensure_first_iga`), so two laptops that each record her first
/// milestone before they exchange both create it. A correction made on the
/// first (here `jobs_created` set to 0) is then overwritten by the second
/// laptop's creation, whose stamp is later, and no conflict shows: the
/// correction is lost silently. Two creations of one record should not
/// undo an edit either saw nothing of.
#[test]
#[ignore = "known sync bug, not yet mended: a second creation of a person's first IGA overwrites a correction"]
fn a_first_iga_made_on_two_laptops_keeps_a_correction_made_on_one() {
    run(vec![
        Step::Export { on: 5 },
        Step::Milestone { on: 0, person: 2, kind: 0, day: 1 },
        Step::Programme { on: 0, person: 2, what: 3, value: 0 },
        Step::Import { on: 3, bundle: 0 },
        Step::Milestone { on: 3, person: 2, kind: 0, day: 1 },
    ]);
}
