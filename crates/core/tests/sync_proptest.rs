//! Property: three laptops making random edits (the same fields of the
//! same people, archives, visits, new people, merges) and exchanging
//! bundles in random orders, with repeats, end with the same database once
//! each has every change; and no write is silently lost: each is the value
//! now, or was replaced by someone who saw it (history), or sits in a
//! conflict.

mod sync_support;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use sync_support::*;
use uuid::Uuid;

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
    Register {
        on: usize,
    },
    Merge {
        on: usize,
        kept: usize,
        other: usize,
    },
    Export {
        on: usize,
    },
    /// Import a bundle exported earlier (any of them, again or not).
    Import {
        on: usize,
        bundle: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, 0..4usize, 0..3usize, 0..3usize)
            .prop_map(|(on, person, field, value)| Step::Edit { on, person, field, value }),
        1 => (0..3usize, 0..4usize).prop_map(|(on, person)| Step::Archive { on, person }),
        2 => (0..3usize, 0..4usize, 1..28u32).prop_map(|(on, person, day)| Step::Visit { on, person, day }),
        1 => (0..3usize).prop_map(|on| Step::Register { on }),
        1 => (0..3usize, 0..4usize, 0..4usize).prop_map(|(on, kept, other)| Step::Merge { on, kept, other }),
        3 => (0..3usize).prop_map(|on| Step::Export { on }),
        4 => (0..3usize, 0..64usize).prop_map(|(on, bundle)| Step::Import { on, bundle }),
    ]
}

const FIELDS: [&str; 3] = ["phone", "commune", "cohort"];
const VALUES: [[&str; 3]; 3] =
    [["0611111111", "0622222222", "0633333333"], ["Zirara", "Mnasra", "Azla"], ["2024-A", "2024-B", "2025-A"]];

fn live(m: &Machine, person: Uuid) -> bool {
    m.store.beneficiary(person).map(|b| b.archived_at.is_none()).unwrap_or(false)
}

fn run(steps: Vec<Step>) {
    let mut laptops = [machine("Portable A"), machine("Portable B"), machine("Portable C")];
    let mut people: Vec<Uuid> =
        (0..2).map(|i| laptops[0].register(json!({ "first_name": format!("Femme{}", "a".repeat(i + 1)) }))).collect();
    let first = laptops[0].export();
    laptops[1].import(&first);
    laptops[2].import(&first);
    let mut pool: Vec<Vec<u8>> = vec![first];
    for s in steps {
        match s {
            Step::Edit { on, person, field, value } => {
                let Some(p) = people.get(person % people.len()).copied() else { continue };
                let m = &mut laptops[on];
                if live(m, p) {
                    let _ = m.store.update_beneficiary(p, json!({ FIELDS[field]: VALUES[field][value] }));
                }
            }
            Step::Archive { on, person } => {
                let p = people[person % people.len()];
                if live(&laptops[on], p) {
                    laptops[on].store.archive_beneficiary(p, Some("erreur".into())).unwrap();
                }
            }
            Step::Visit { on, person, day } => {
                let p = people[person % people.len()];
                if live(&laptops[on], p) {
                    laptops[on].visit(p, &format!("2025-02-{day:02}"));
                }
            }
            Step::Register { on } => {
                let n = people.len();
                people.push(laptops[on].register(json!({ "first_name": format!("Femme{}", "b".repeat(n)) })));
            }
            Step::Merge { on, kept, other } => {
                let (k, o) = (people[kept % people.len()], people[other % people.len()]);
                let _ = laptops[on].store.merge_persons(k, o);
            }
            Step::Export { on } => pool.push(laptops[on].export()),
            Step::Import { on, bundle } => {
                let b = pool[bundle % pool.len()].clone();
                laptops[on].import(&b);
            }
        }
    }
    // Everyone gets everything, twice over and in two orders.
    let fulls: Vec<Vec<u8>> = laptops.iter_mut().map(|m| m.export_with(true)).collect();
    for m in laptops.iter_mut() {
        for b in fulls.iter().chain(fulls.iter().rev()) {
            m.import(b);
        }
    }
    let states: Vec<String> = laptops.iter().map(Machine::state).collect();
    assert_eq!(states[0], states[1], "A and B differ");
    assert_eq!(states[0], states[2], "A and C differ");
    no_write_lost(&laptops[0]);
}

/// Every update's value is the current one, or a later change replaced it
/// knowingly (its base is that update), or it is part of a conflict.
fn no_write_lost(m: &Machine) {
    let conn = rusqlite::Connection::open(&m.path).unwrap();
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
        let (doc, clocks): (String, String) = conn
            .query_row(&format!("SELECT doc, clocks FROM {entity} WHERE id = ?1"), [record], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        let doc: Map<String, Value> = serde_json::from_str(&doc).unwrap();
        let clocks = wafira_core::store::log::expand_clocks(&doc, &clocks).unwrap();
        let fields: Map<String, Value> = serde_json::from_str(fields).unwrap();
        let base: Map<String, Value> = serde_json::from_str(base).unwrap();
        for field in fields.keys() {
            // The value now: its own, or the same value written elsewhere.
            let current =
                clocks.get(field).and_then(Value::as_str) == Some(hlc.as_str()) || doc.get(field) == fields.get(field);
            let history = replaced.contains(&(entity.clone(), record.clone(), field.clone(), hlc.clone()));
            // Part of a conflict: on a branch that starts at a fork.
            let mut b = base.get(field).and_then(Value::as_str).unwrap_or("").to_string();
            let mut in_conflict = false;
            for _ in 0..changes.len() {
                if conflicts.contains(&(entity.clone(), record.clone(), field.clone(), b.clone())) {
                    in_conflict = true;
                    break;
                }
                match bases.get(&(entity.clone(), record.clone(), field.clone(), b.clone())) {
                    Some(parent) => b = parent.clone(),
                    None => break,
                }
            }
            assert!(current || history || in_conflict, "the write {hlc} of {entity}.{field} was lost silently");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn three_laptops_exchanging_bundles_in_any_order_converge(steps in proptest::collection::vec(step(), 1..30)) {
        run(steps);
    }
}
