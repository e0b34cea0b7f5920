//! The practice database: made-up people never mix with real ones. Demo
//! data refuse a database that holds real records; a practice database's
//! bundles are refused by real data and the other way round, each leaving
//! the database as it was; the practice database beside a real one opens
//! with the real one's key, again and again.

mod sync_support;

use serde_json::json;
use sync_support::*;
use wafira_core::{demo, Error};

#[test]
fn demo_data_refuse_a_database_that_holds_real_records() {
    let mut m = machine("Portable A");
    m.register(json!({ "first_name": "Zineb" }));
    let before = m.dump();
    let err = demo::generate(&mut m.store, 5, 1).unwrap_err();
    assert!(matches!(err, Error::RealData(_)), "{err}");
    assert_eq!(err.code(), "real_data");
    assert_eq!(m.dump(), before, "nothing written");
    assert!(!m.store.is_practice().unwrap());
}

#[test]
fn practice_bundles_and_real_ones_never_cross() {
    let mut station = machine("Station");
    let mut practice = machine("Portable école");
    demo::generate(&mut practice.store, 3, 1).unwrap();
    assert!(practice.store.is_practice().unwrap(), "an empty database given demo data becomes a practice one");
    trust_registered(&mut practice.store);
    let bundle = practice.export();
    let before = station.dump();
    let refused = station.store.import_bundle(bundle.clone()).unwrap_err();
    assert_eq!(refused.code(), "bundle_practice", "{refused}");
    assert!(refused.to_string().contains("Portable école"));
    assert_eq!(station.dump(), before, "the real station is as it was");

    let mut real = machine("Portable B");
    trust_registered(&mut real.store);
    real.register(json!({ "first_name": "Houda" }));
    let real_bundle = real.export();
    let before = practice.dump();
    let refused = practice.store.import_bundle(real_bundle).unwrap_err();
    assert_eq!(refused.code(), "bundle_real_into_practice", "{refused}");
    assert_eq!(practice.dump(), before);
}

#[test]
fn the_practice_database_beside_a_real_one_opens_with_its_key() {
    let mut real = machine("Portable A");
    real.register(json!({ "first_name": "Zineb" }));
    let mut p = real.store.open_practice().unwrap();
    assert!(p.is_practice().unwrap());
    assert_eq!(p.device().unwrap().name, "Portable A (entraînement)");
    demo::generate(&mut p, 7, 1).unwrap();
    let practice_id = p.device().unwrap().id;
    drop(p);
    let again = real.store.open_practice().unwrap();
    assert_eq!(again.device().unwrap().id, practice_id, "the same practice database");
    assert_eq!(again.list_beneficiaries(&Default::default()).unwrap().total, 7);
    assert_eq!(real.store.list_beneficiaries(&Default::default()).unwrap().total, 1, "the real data untouched");
    assert!(!real.store.is_practice().unwrap());
    assert!(again.open_practice_is_refused());
}

trait Practice {
    fn open_practice_is_refused(self) -> bool;
}

impl Practice for wafira_core::Store {
    fn open_practice_is_refused(mut self) -> bool {
        self.open_practice().is_err()
    }
}
