//! Targets per year and per sex (target.rs): each field checked and named,
//! a key of (indicator, region, year, sex), carried by bundles, read from
//! an older version's bundles and databases as end-of-project targets for
//! everyone.

mod sync_support;

use serde_json::json;
use sync_support::*;
use wafira_core::store::log::Entity;

/// A target as (indicator, region, year, sex, target).
type Key = (String, Option<String>, Option<i32>, Option<String>, String);

/// Every target, sorted.
fn targets(m: &Machine) -> Vec<Key> {
    let mut out: Vec<_> = m
        .store
        .targets()
        .unwrap()
        .into_iter()
        .map(|t| (t.indicator, t.region, t.year, t.sex.map(|s| s.to_string()), t.target.to_string()))
        .collect();
    out.sort();
    out
}

fn count(m: &Machine, sql: &str) -> i64 {
    m.store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_bad_year_or_sex_is_named_beside_its_field_and_nothing_is_stored() {
    let mut m = machine("Station");
    for (input, field, code) in [
        (json!({ "indicator": "iga_launched", "target": "10", "year": 1999 }), "year", "out_of_range"),
        (json!({ "indicator": "iga_launched", "target": "10", "year": "2101" }), "year", "out_of_range"),
        (json!({ "indicator": "iga_launched", "target": "10", "year": "deux mille" }), "year", "out_of_range"),
        (json!({ "indicator": "iga_launched", "target": "10", "year": 2025.5 }), "year", "out_of_range"),
        (json!({ "indicator": "iga_launched", "target": "10", "sex": "X" }), "sex", "unknown_code"),
        // A women-only figure has no men's or women's target.
        (json!({ "indicator": "women_registered", "target": "10", "sex": "F" }), "sex", "not_split_by_sex"),
    ] {
        let err = m.store.set_target_json(input.clone()).unwrap_err();
        assert!(err.as_invalid().is_some_and(|i| i.has(field, code)), "{input}: {err}");
    }
    // Every problem at once.
    let err = m
        .store
        .set_target_json(json!({ "indicator": "iga_launched", "target": "dix", "year": 1990, "sex": "femme" }))
        .unwrap_err();
    let invalid = err.as_invalid().unwrap();
    assert!(invalid.has("target", "invalid_amount") && invalid.has("year", "out_of_range"));
    assert!(invalid.has("sex", "unknown_code"));
    let out_of_range = invalid.0.iter().find(|e| e.field == "year").unwrap();
    assert_eq!((out_of_range.params["min"].as_str(), out_of_range.params["max"].as_str()), ("2020", "2100"));
    assert_eq!(count(&m, "SELECT count(*) FROM target"), 0);
    assert_eq!(count(&m, "SELECT count(*) FROM change WHERE entity = 'target'"), 0);

    // Blank year and sex: the end-of-project target for everyone.
    m.store.set_target_json(json!({ "indicator": "iga_launched", "target": "10", "year": "", "sex": " " })).unwrap();
    assert_eq!(targets(&m), vec![("iga_launched".into(), None, None, None, "10".into())]);
}

#[test]
fn a_target_is_known_by_indicator_region_year_and_sex() {
    let mut m = machine("Station");
    for (region, year, sex, target) in [
        (None, None, None, "100"),
        (None, Some(2025), None, "40"),
        (None, Some(2025), Some("F"), "25"),
        (None, None, Some("M"), "45"),
        (Some("04"), Some(2025), None, "12"),
        // Again: edits the one of that key.
        (None, Some(2025), Some("F"), "30"),
    ] {
        m.store
            .set_target_json(
                json!({ "indicator": "iga_launched", "region": region, "year": year, "sex": sex, "target": target }),
            )
            .unwrap();
    }
    assert_eq!(
        targets(&m),
        vec![
            ("iga_launched".into(), None, None, None, "100".into()),
            ("iga_launched".into(), None, None, Some("M".into()), "45".into()),
            ("iga_launched".into(), None, Some(2025), None, "40".into()),
            ("iga_launched".into(), None, Some(2025), Some("F".into()), "30".into()),
            ("iga_launched".into(), Some("04".into()), Some(2025), None, "12".into()),
        ]
    );
    // The columns follow the record (for the queries and the index).
    let rows = count(&m, "SELECT count(*) FROM target WHERE year = 2025 AND sex = 'F' AND target = '30'");
    assert_eq!(rows, 1);
    // The audit names the key.
    let detail: String = m
        .store
        .conn()
        .query_row("SELECT detail FROM audit WHERE action = 'target.set' ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(detail, "iga_launched, year 2025, sex F");
}

#[test]
fn yearly_and_sex_targets_travel_and_an_older_versions_targets_land_as_end_of_project_ones() {
    let mut station = machine("Station");
    let mut a = machine("Portable A");
    a.store.set_target_json(json!({ "indicator": "jobs_created", "year": 2026, "sex": "F", "target": "8" })).unwrap();
    a.store.set_target_json(json!({ "indicator": "jobs_created", "target": "30" })).unwrap();
    let bundle = a.export();
    // An end-of-project target is written as an older version wrote it:
    // no year, no sex.
    let changes = decode(&bundle).changes;
    let plain = changes.iter().find(|c| c.entity == Entity::Target && c.fields["target"] == "30").unwrap();
    assert!(!plain.fields.contains_key("year") && !plain.fields.contains_key("sex"), "{:?}", plain.fields);
    station.import(&bundle);
    assert_eq!(targets(&station), targets(&a));
    assert!(targets(&station).contains(&("jobs_created".into(), None, Some(2026), Some("F".into()), "8".into())));

    // A laptop of version 6 sends a target without year or sex.
    let mut old = machine("Portable B");
    old.store.set_target_json(json!({ "indicator": "igas_formalised", "region": "04", "target": "15" })).unwrap();
    let bytes = rewrite(&old.export(), |m, _| m.schema_version = 6);
    station.import(&bytes);
    assert!(targets(&station).contains(&("igas_formalised".into(), Some("04".into()), None, None, "15".into())));
    // Rebuilt from the log, the station holds the same.
    let before = station.state();
    station.store.rebuild().unwrap();
    assert_eq!(station.state(), before);
}

/// The same file as version 6 left it: targets without year or sex.
fn as_version_6(path: &std::path::Path) {
    let conn = conn(path);
    as_version_7(&conn);
    conn.execute_batch(
        "DROP INDEX target_key;
             ALTER TABLE target DROP COLUMN year;
             ALTER TABLE target DROP COLUMN sex;
             CREATE INDEX target_indicator ON target(indicator, region);
             PRAGMA user_version = 6;",
    )
    .unwrap();
}

#[test]
fn a_version_6_database_reads_its_targets_as_end_of_project_targets_for_everyone() {
    let mut m = machine("Station");
    m.store.set_target_json(json!({ "indicator": "beneficiaries_registered", "target": "3200" })).unwrap();
    m.store.set_target_json(json!({ "indicator": "iga_launched", "region": "04", "target": "90" })).unwrap();
    let Machine { store, path, _dir } = m;
    drop(store);
    as_version_6(&path);
    let mut store = wafira_core::Store::open_with_key(&path, &key()).unwrap();
    assert_eq!(store.schema_version().unwrap(), wafira_core::store::schema::current_version());
    let read: Vec<(String, Option<i32>, Option<String>)> =
        store.targets().unwrap().into_iter().map(|t| (t.indicator, t.year, t.sex.map(|s| s.to_string()))).collect();
    assert_eq!(read, vec![("beneficiaries_registered".into(), None, None), ("iga_launched".into(), None, None)]);
    // Its figures are measured against them, and a year's target is another.
    let i = store.indicators(&Default::default()).unwrap();
    let k = i.key_figures.iter().find(|k| k.indicator == "beneficiaries_registered").unwrap();
    assert_eq!(k.cumulative.all.target.as_ref().map(|t| t.target.to_string()).as_deref(), Some("3200"));
    store.set_target_json(json!({ "indicator": "beneficiaries_registered", "year": 2025, "target": "800" })).unwrap();
    assert_eq!(store.targets().unwrap().len(), 3);
    let row: (Option<i64>, Option<String>) = store
        .conn()
        .query_row("SELECT year, sex FROM target WHERE target = '3200'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(row, (None, None));
}
