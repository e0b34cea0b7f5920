//! The database at rest, as a script and an attacker see it: encrypted
//! (the `sqlite3` tool reads nothing, the bytes hold no name), opened only
//! with an account's passphrase or the recovery key, and every refusal
//! leaving the files exactly as they were.

mod common;

use common::{command, ok_json, wafira, PASSPHRASE};
use std::path::{Path, PathBuf};
use std::process::Output;

const AMINA: &str = r#"{"first_name":"Amina","last_name":"Zerhouni","sex":"F","birth_date":"1990-03-14",
  "region":"04","cin":"BK765432","phone":"0661234567","notes":"ne pas appeler le mari","consent":true}"#;

fn failed(out: Output) -> String {
    assert!(!out.status.success(), "should have failed: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}

/// A database made by `wafira init`, with Amina and a backup (taken by an
/// import); its recovery key.
fn field() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("field.sqlite");
    let init = ok_json(wafira(&db, &["init", "--device", "Portable Kénitra", "--coordinator", "Samira"], None));
    let recovery = init["recovery_key"].as_str().unwrap().to_string();
    ok_json(wafira(&db, &["beneficiary", "add"], Some(AMINA)));
    (dir, db, recovery)
}

/// Every file of the database's folder (itself, its log, accounts) and a
/// digest of its bytes.
fn files(db: &Path) -> Vec<(String, u64)> {
    let dir = db.parent().unwrap();
    let mut out: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name().to_string_lossy().to_string(), digest(&std::fs::read(e.path()).unwrap())))
        .collect();
    out.sort();
    out
}

fn digest(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn init_prints_a_recovery_key_and_the_database_is_unreadable_without_it() {
    let (_dir, db, recovery) = field();
    assert_eq!(recovery.split('-').count(), 13, "{recovery}");
    // Checkpointed, so that the records are in the main file, not the log.
    ok_json(wafira(&db, &["info"], None));
    for entry in std::fs::read_dir(db.parent().unwrap()).unwrap().flatten() {
        let (name, bytes) = (entry.file_name(), std::fs::read(entry.path()).unwrap());
        for secret in ["Zerhouni", "BK765432", "0661234567", "ne pas appeler", "SQLite format 3"] {
            assert!(!holds(&bytes, secret), "{name:?} holds {secret:?} in the clear");
        }
    }
    let out = std::process::Command::new("sqlite3").arg(&db).arg("SELECT count(*) FROM beneficiary").output().unwrap();
    assert!(!out.status.success(), "sqlite3 read the database: {}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a database"));
}

#[test]
fn a_wrong_passphrase_names_the_passphrase_and_changes_no_byte() {
    let (_dir, db, _) = field();
    let before = files(&db);
    let out = command()
        .arg("--db")
        .arg(&db)
        .args(["beneficiary", "list"])
        .env("WAFIRA_PASSPHRASE", "not the right one")
        .output()
        .unwrap();
    let err = failed(out);
    assert!(err.contains("passphrase"), "{err}");
    assert!(!err.contains(PASSPHRASE));
    assert_eq!(files(&db), before, "nothing changed");
}

#[test]
fn with_no_passphrase_and_no_terminal_the_script_is_told_what_to_set() {
    let (_dir, db, _) = field();
    let before = files(&db);
    let out = command().arg("--db").arg(&db).arg("info").env_remove("WAFIRA_PASSPHRASE").output().unwrap();
    let err = failed(out);
    assert!(err.contains("WAFIRA_PASSPHRASE"), "{err}");
    assert_eq!(files(&db), before);
}

#[test]
fn the_recovery_key_opens_the_database_when_the_passphrase_is_lost_and_sets_a_new_one() {
    let (_dir, db, recovery) = field();
    let out = command()
        .arg("--db")
        .arg(&db)
        .args(["user", "add", "--name", "Samira", "--role", "manager"])
        .env_remove("WAFIRA_PASSPHRASE")
        .env("WAFIRA_RECOVERY_KEY", recovery.to_lowercase())
        .env("WAFIRA_NEW_PASSPHRASE", "une toute nouvelle phrase")
        .output()
        .unwrap();
    ok_json(out);
    let out = command()
        .arg("--db")
        .arg(&db)
        .args(["beneficiary", "list"])
        .env("WAFIRA_PASSPHRASE", "une toute nouvelle phrase")
        .output()
        .unwrap();
    assert_eq!(ok_json(out).as_array().unwrap().len(), 1);
    // The old passphrase no longer opens it.
    let old = wafira(&db, &["info"], None);
    assert!(failed(old).contains("passphrase"));
    // A wrong recovery key changes nothing.
    let before = files(&db);
    let wrong = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA";
    let out = command()
        .arg("--db")
        .arg(&db)
        .arg("info")
        .env_remove("WAFIRA_PASSPHRASE")
        .env("WAFIRA_RECOVERY_KEY", wrong)
        .output()
        .unwrap();
    assert!(failed(out).contains("recovery_key"));
    assert_eq!(files(&db), before);
}

#[test]
fn accounts_each_open_the_database_with_their_own_passphrase_and_role() {
    let (_dir, db, _) = field();
    let add = |name: &str, role: &str, pass: &str| {
        command()
            .arg("--db")
            .arg(&db)
            .args(["user", "add", "--name", name, "--role", role])
            .env("WAFIRA_NEW_PASSPHRASE", pass)
            .output()
            .unwrap()
    };
    ok_json(add("Amal", "coordinator", "phrase de la coordinatrice"));
    ok_json(add("Youssef", "assistant", "phrase de l'assistant"));
    let too_short = failed(add("Karim", "assistant", "court"));
    assert!(too_short.contains("passphrase"), "{too_short}");
    let listed = ok_json(wafira(&db, &["user", "list"], None));
    let names: Vec<(&str, &str)> =
        listed.as_array().unwrap().iter().map(|a| (a["name"].as_str().unwrap(), a["role"].as_str().unwrap())).collect();
    assert_eq!(names, [("Samira", "manager"), ("Amal", "coordinator"), ("Youssef", "assistant")]);
    assert!(!std::fs::read_to_string(wafira_core::accounts::accounts_path(&db)).unwrap().contains("phrase"));

    let as_user = |user: &str, pass: &str, args: &[&str]| {
        command()
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("WAFIRA_USER", user)
            .env("WAFIRA_PASSPHRASE", pass)
            .output()
            .unwrap()
    };
    let info = ok_json(as_user("amal", "phrase de la coordinatrice", &["info"]));
    assert_eq!(info["account"]["role"], "coordinator");
    // Another account's passphrase does not open hers.
    assert!(failed(as_user("Amal", "phrase de l'assistant", &["info"])).contains("passphrase"));
    // With several accounts, none named: the passphrase finds its own.
    let out = command()
        .arg("--db")
        .arg(&db)
        .arg("info")
        .env("WAFIRA_PASSPHRASE", "phrase de la coordinatrice")
        .output()
        .unwrap();
    assert_eq!(ok_json(out)["account"]["name"], "Amal");
    // A coordinator cannot manage accounts: the refusal names the role.
    let before = files(&db);
    let refused = as_user("Amal", "phrase de la coordinatrice", &["user", "list"]);
    let err = failed(refused);
    assert!(err.contains("manager"), "{err}");
    assert_eq!(files(&db), before);
    // Editing her role in the accounts file breaks her passphrase.
    let accounts = wafira_core::accounts::accounts_path(&db);
    let text = std::fs::read_to_string(&accounts).unwrap();
    std::fs::write(&accounts, text.replacen("\"coordinator\"", "\"manager\"", 1)).unwrap();
    assert!(failed(as_user("Amal", "phrase de la coordinatrice", &["info"])).contains("passphrase"));
}

#[test]
fn init_refuses_an_existing_database_and_bad_input_leaves_no_file() {
    let (dir, db, _) = field();
    let before = files(&db);
    let again = wafira(&db, &["init", "--device", "Autre", "--coordinator", "Autre"], None);
    assert!(failed(again).contains("already holds a database"));
    assert_eq!(files(&db), before);

    let fresh = dir.path().join("fresh/new.sqlite");
    let out =
        command().arg("--db").arg(&fresh).args(["init", "--device", "", "--coordinator", "Samira"]).output().unwrap();
    assert!(failed(out).contains("device"));
    let out = command()
        .arg("--db")
        .arg(&fresh)
        .args(["init", "--device", "Portable", "--coordinator", "Samira"])
        .env("WAFIRA_PASSPHRASE", "court")
        .output()
        .unwrap();
    assert!(failed(out).contains("passphrase"));
    assert!(!fresh.exists());
}

#[test]
fn every_backup_is_as_unreadable_as_the_database() {
    let (dir, station, _) = field();
    let laptop = dir.path().join("laptop/laptop.sqlite");
    ok_json(wafira(&laptop, &["init", "--device", "Portable Larache", "--coordinator", "Naïma"], None));
    let recipient = ok_json(wafira(&station, &["keys", "show"], None))["recipient"].as_str().unwrap().to_string();
    ok_json(wafira(&laptop, &["keys", "trust", "--name", "Station", &recipient], None));
    let khadija = AMINA.replace("Amina", "Khadija").replace("BK765432", "BK111111").replace("0661234567", "0662222222");
    ok_json(wafira(&laptop, &["beneficiary", "add"], Some(&khadija)));
    let bundle = dir.path().join("larache.wafira");
    ok_json(wafira(&laptop, &["bundle", "export", "--out", bundle.to_str().unwrap()], None));
    ok_json(wafira(&station, &["bundle", "import", "--approve-new", bundle.to_str().unwrap()], None));
    ok_json(wafira(&station, &["bundle", "import", "--approve-new", bundle.to_str().unwrap()], None));
    let backups: Vec<PathBuf> =
        std::fs::read_dir(dir.path().join("backups")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(!backups.is_empty(), "an import takes a backup");
    for b in backups {
        let bytes = std::fs::read(&b).unwrap();
        assert!(!holds(&bytes, "Zerhouni") && !holds(&bytes, "BK765432"), "{} in the clear", b.display());
        let out =
            std::process::Command::new("sqlite3").arg(&b).arg("SELECT count(*) FROM beneficiary").output().unwrap();
        assert!(!out.status.success(), "sqlite3 read {}", b.display());
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&b).unwrap().permissions()) & 0o777;
        assert_eq!(mode, 0o600, "{}", b.display());
    }
}

#[test]
fn the_recovery_key_names_no_account_of_its_own() {
    let (_dir, db, recovery) = field();
    let before = files(&db);
    let out = command()
        .arg("--db")
        .arg(&db)
        .args(["user", "passphrase"])
        .env_remove("WAFIRA_PASSPHRASE")
        .env("WAFIRA_RECOVERY_KEY", &recovery)
        .env("WAFIRA_NEW_PASSPHRASE", "une toute nouvelle phrase")
        .output()
        .unwrap();
    assert!(failed(out).contains("user add"));
    assert_eq!(files(&db), before, "no account called 'recovery key' was made");
}
