//! A person who does not know her exact birth date (issue 10, Forms): an
//! approximate one, a year, stored as such (`birth_date` 1 January of it,
//! `birth_date_approx` true), checked by the year, shown "vers 1985",
//! compared by the year for duplicates, counted in the age groups, and
//! carried by bundles so that a station folds it the same. Real files.

mod common;
mod sync_support;

use chrono::Datelike;
use common::{assert_refused, field_errors, only_error_params, person, register};
use serde_json::{json, Value};
use sync_support::machine;
use wafira_core::report::{self, Format};
use wafira_core::store::ListQuery;

fn this_year() -> i32 {
    common::today().year()
}

#[test]
fn a_year_alone_is_stored_as_an_approximate_birth_date_and_the_age_follows_the_year() {
    let (_dir, mut store) = common::store();
    let id = register(&mut store, json!({ "birth_date": "1985" }));
    let b = store.beneficiary(id).unwrap();
    assert_eq!(b.birth_date.to_string(), "1985-01-01");
    assert!(b.birth_date_approx);
    assert_eq!(b.approx_birth_year(), Some(1985));
    let p = store.profile(id).unwrap();
    assert_eq!(p.age, i64::from(this_year() - 1985), "the age is counted from the year");
    let shown = serde_json::to_value(&p).unwrap();
    assert_eq!(shown["beneficiary"]["birth_date_approx"], json!(true), "the window is told");
    let row = store.list_beneficiaries(&ListQuery::default()).unwrap().rows.remove(0);
    assert!(row.beneficiary.birth_date_approx, "the list row carries it");

    // A full date marked approximate keeps its year only.
    let other = register(
        &mut store,
        json!({ "first_name": "Rachida", "cin": null, "birth_date": "1979-06-03", "birth_date_approx": true }),
    );
    let b = store.beneficiary(other).unwrap();
    assert_eq!((b.birth_date.to_string().as_str(), b.birth_date_approx), ("1979-01-01", true));

    // An exact date stays exact, and its record carries no marker: the
    // records and bundles of earlier versions are what it writes.
    let exact = register(&mut store, json!({ "first_name": "Samira" }));
    let b = store.beneficiary(exact).unwrap();
    assert!(!b.birth_date_approx);
    let fields: String = store
        .conn()
        .query_row("SELECT fields FROM change WHERE record_id = ?1 AND op = 'create'", [exact.to_string()], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!fields.contains("birth_date_approx"), "{fields}");
}

#[test]
fn a_year_in_the_future_or_an_age_out_of_range_is_refused_naming_the_birth_date() {
    let (_dir, mut store) = common::store();
    let next = (this_year() + 1).to_string();
    assert_refused(&mut store, &[("birth_date", "future_date")], |s| {
        s.add_beneficiary_json(person(json!({ "birth_date": next })))
    });
    let child = (this_year() - 10).to_string();
    assert_refused(&mut store, &[("birth_date", "age_out_of_range")], |s| {
        s.add_beneficiary_json(person(json!({ "birth_date": child })))
    });
    let params = only_error_params(store.add_beneficiary_json(person(json!({ "birth_date": child }))));
    assert_eq!(params.get("age").map(String::as_str), Some("10"), "{params:?}");
    let old = (this_year() - 81).to_string();
    assert_refused(&mut store, &[("birth_date", "age_out_of_range")], |s| {
        s.add_beneficiary_json(person(json!({ "birth_date": old })))
    });
    // 80 by the year is in range, whatever her birthday.
    register(&mut store, json!({ "birth_date": (this_year() - 80).to_string(), "cin": null }));
    // A year said to be exact is not a date.
    assert_refused(&mut store, &[("birth_date", "invalid_date")], |s| {
        s.add_beneficiary_json(person(json!({ "birth_date": "1985", "birth_date_approx": false })))
    });
    assert_refused(&mut store, &[("birth_date", "implausible_date")], |s| {
        s.add_beneficiary_json(person(json!({ "birth_date": "1850" })))
    });
}

#[test]
fn an_approximate_date_made_exact_again_is_an_edit_in_her_history() {
    let (_dir, mut store) = common::store();
    let id = register(&mut store, json!({ "birth_date": "1985" }));
    let b = store.update_beneficiary(id, json!({ "birth_date": "1985-07-20", "birth_date_approx": false })).unwrap();
    assert_eq!((b.birth_date.to_string().as_str(), b.birth_date_approx), ("1985-07-20", false));
    let history = store.profile(id).unwrap().history;
    let edit = history.iter().find(|h| h.field.as_deref() == Some("birth_date_approx")).expect("the marker's edit");
    assert_eq!((&edit.old, &edit.new), (&json!(true), &Value::Null));
    // And back to a year: refused when out of range, like any date.
    let errors = field_errors(store.update_beneficiary(id, json!({ "birth_date": "2099", "birth_date_approx": true })));
    assert_eq!(errors, vec![("birth_date".to_string(), "future_date".to_string())]);
    let b = store.update_beneficiary(id, json!({ "birth_date": "1986", "birth_date_approx": true })).unwrap();
    assert_eq!((b.birth_date.to_string().as_str(), b.birth_date_approx), ("1986-01-01", true));
}

#[test]
fn the_duplicate_finder_compares_the_year_when_only_the_year_is_known() {
    let (_dir, mut store) = common::store();
    let exact =
        register(&mut store, json!({ "birth_date": "1985-06-03", "cin": null, "phone": null, "commune": null }));
    let probe = |birth: &str| {
        serde_json::from_value(json!({
            "first_name": "Khadija", "last_name": "Ouazani", "sex": "F", "birth_date": birth,
            "region": "04", "consent": true
        }))
        .unwrap()
    };
    let found = store.possible_duplicates(&probe("1985")).unwrap();
    assert_eq!(found.len(), 1, "a year matches a day of that year");
    assert_eq!(found[0].person.beneficiary.id, exact);
    assert_eq!(found[0].reasons, vec!["similar_name_same_birth_date".to_string()]);
    assert!(store.possible_duplicates(&probe("1986")).unwrap().is_empty(), "another year does not");

    // And the other way: an exact date matches someone known by her year.
    let (_dir2, mut store2) = common::store();
    let approx = register(&mut store2, json!({ "birth_date": "1985", "cin": null, "phone": null, "commune": null }));
    let found = store2.possible_duplicates(&probe("1985-11-30")).unwrap();
    assert_eq!(found.iter().map(|c| c.person.beneficiary.id).collect::<Vec<_>>(), vec![approx]);
    assert!(store2.possible_duplicates(&probe("1984-12-31")).unwrap().is_empty());
}

#[test]
fn an_approximate_date_travels_to_the_station_and_folds_the_same() {
    let mut laptop = machine("Portable Agadir 1");
    let mut station = machine("Station");
    let a = laptop.register(json!({ "birth_date": "1985" }));
    let b = laptop.register(json!({ "first_name": "Amina", "cin": null }));
    let c = laptop.register(json!({ "first_name": "Zahra", "birth_date": "1979", "cin": null }));
    laptop.edit(b, json!({ "birth_date": "1992", "birth_date_approx": true }));
    laptop.edit(c, json!({ "birth_date": "1979-02-11", "birth_date_approx": false }));
    let bundle = laptop.export();
    station.import(&bundle);
    assert_eq!(station.field(a, "birth_date_approx"), json!(true));
    assert_eq!(station.field(b, "birth_date"), json!("1992-01-01"));
    assert_eq!(station.field(b, "birth_date_approx"), json!(true));
    assert_eq!(station.field(c, "birth_date_approx"), Value::Null, "made exact again: no marker");
    assert_eq!(station.state(), laptop.state(), "the station folds what the laptop holds");

    // Back to another laptop through the station.
    let mut other = machine("Portable Agadir 2");
    other.import(&station.export_with(true));
    assert_eq!(other.state(), laptop.state());
    assert_eq!(other.store.profile(a).unwrap().age, i64::from(this_year() - 1985));
}

#[test]
fn an_approximate_person_counts_in_her_age_group_and_exports_her_year() {
    let (dir, mut store) = common::store();
    let forty = (this_year() - 40).to_string();
    register(&mut store, json!({ "birth_date": forty }));
    register(
        &mut store,
        json!({ "first_name": "Nadia", "cin": null, "birth_date": format!("{}-12-31", this_year() - 20) }),
    );
    let i = store.indicators(&Default::default()).unwrap();
    let groups: Vec<(Option<String>, u64)> = i.beneficiaries.by_age.iter().map(|c| (c.code.clone(), c.count)).collect();
    assert_eq!(groups, vec![(Some("15-24".to_string()), 1), (Some("35-44".to_string()), 1)], "{groups:?}");

    let out = dir.path().join("export");
    report::export(&store, Format::Csv, false, Some(&out)).unwrap();
    let text = std::fs::read_to_string(out.join("beneficiaries.csv")).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let headers: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| headers.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    let khadija = rows.iter().find(|r| r[at("first_name")] == "Khadija").unwrap();
    assert_eq!(khadija[at("birth_date")], forty, "the year alone, not 1 January");
    assert_eq!(khadija[at("birth_date_approx")], "true");
    let nadia = rows.iter().find(|r| r[at("first_name")] == "Nadia").unwrap();
    assert_eq!(nadia[at("birth_date_approx")], "false");
}
