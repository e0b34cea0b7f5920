//! The database at rest: an older plain file is encrypted at its first
//! open (its backups too), copies open only with the database's key, a
//! restore from an encrypted backup works, and credentials that do not
//! open a file leave every byte of it as it was.

mod sync_support;

use serde_json::json;
use std::path::Path;
use sync_support::*;
use wafira_core::accounts::{Credentials, DbKey};
use wafira_core::{Error, Store};

fn plain_sqlite(path: &Path) -> bool {
    std::fs::read(path).map(|b| b.starts_with(b"SQLite format 3\0")).unwrap_or(false)
}

fn holds(path: &Path, text: &str) -> bool {
    std::fs::read(path).unwrap().windows(text.len()).any(|w| w == text.as_bytes())
}

/// A plain database of ours, as versions before encryption wrote it, with
/// a plain backup beside it.
fn plain_database(dir: &Path) -> std::path::PathBuf {
    let mut m = machine("Portable A");
    m.register(json!({ "first_name": "Zineb", "last_name": "Lahlou" }));
    let path = dir.join("old.sqlite");
    let conn = conn(&m.path);
    conn.execute("ATTACH DATABASE ?1 AS plain KEY ''", [path.to_string_lossy()]).unwrap();
    conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(())).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    conn.execute_batch(&format!("PRAGMA plain.user_version = {version}; DETACH DATABASE plain")).unwrap();
    std::fs::create_dir_all(dir.join("backups")).unwrap();
    std::fs::copy(&path, dir.join("backups/old-20260101T000000000Z-before-import.sqlite")).unwrap();
    assert!(plain_sqlite(&path) && holds(&path, "Lahlou"));
    path
}

#[test]
fn an_older_plain_database_is_encrypted_at_its_first_open_with_its_backups() {
    let dir = tempfile::tempdir().unwrap();
    let path = plain_database(dir.path());
    let backup = dir.path().join("backups/old-20260101T000000000Z-before-import.sqlite");
    let credentials = Credentials::passphrase(Some("Samira"), "une longue phrase de passe");
    let mut store = Store::open(&path, &credentials).unwrap();
    let recovery = store.take_new_recovery_key().expect("a recovery key, once");
    assert!(store.take_new_recovery_key().is_none());
    assert_eq!(store.actor().name, "Samira");
    let people = store.list_beneficiaries(&Default::default()).unwrap();
    assert_eq!(people.rows.len(), 1, "nothing lost");
    drop(store);
    for file in [&path, &backup] {
        assert!(!plain_sqlite(file), "{} still plain", file.display());
        assert!(!holds(file, "Lahlou"), "{} holds the name in the clear", file.display());
    }
    // The passphrase and the recovery key both open it; the backup opens
    // with the database's key.
    drop(Store::open(&path, &credentials).unwrap());
    let by_key = Credentials::RecoveryKey(recovery.clone());
    drop(Store::open(&path, &by_key).unwrap());
    assert!(wafira_core::store::connect_with(&backup, &by_key).is_ok());
}

#[test]
fn credentials_that_do_not_open_the_file_change_nothing() {
    let Machine { store, path, _dir } = machine("Portable A");
    drop(store);
    let before = std::fs::read(&path).unwrap();
    let other = Credentials::Key(DbKey::from_bytes([8; 32]));
    assert!(matches!(Store::open(&path, &other), Err(Error::NotOurs(_))));
    let wrong_recovery = Credentials::RecoveryKey(DbKey::from_bytes([9; 32]).recovery_text());
    let err = Store::open(&path, &wrong_recovery).err().expect("refused");
    assert!(err.as_invalid().is_some_and(|i| i.has("recovery_key", "wrong_recovery_key")), "{err}");
    // No accounts file: a passphrase cannot open it, and says how to.
    let err = Store::open(&path, &Credentials::passphrase(None, "une longue phrase de passe")).err().unwrap();
    assert!(matches!(err, Error::NoAccounts(_)), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_backup_is_encrypted_and_a_restore_from_it_works() {
    let mut station = machine("Station");
    let mut laptop = machine("Portable A");
    trust_registered(&mut laptop.store);
    laptop.register(json!({ "first_name": "Rachida", "last_name": "Naciri" }));
    let bundle = laptop.export();
    station.register(json!({ "first_name": "Houda", "last_name": "Sbaï" }));
    station.import(&bundle);
    let backups = station.store.backups().unwrap();
    let backup = &backups[0].path;
    assert!(!plain_sqlite(backup) && !holds(backup, "Sbaï"));
    assert!(wafira_core::store::connect(backup, &DbKey::from_bytes([8; 32])).is_err(), "another key reads nothing");
    let name = backups[0].name.clone();
    station.store.restore_backup(&name).unwrap();
    let names: Vec<String> = station
        .store
        .list_beneficiaries(&Default::default())
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.beneficiary.last_name)
        .collect();
    assert_eq!(names, ["Sbaï"], "as before the import");
}
