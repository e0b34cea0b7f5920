//! Keys, trust and approval on the command line, as an assistant would use
//! them: `wafira keys show|export-identity|export-recipient|trust [--file]`,
//! `wafira devices approve`, `wafira bundle import --approve-new`, on real
//! processes and files.

mod common;

use common::{ok_json, wafira};
use std::path::{Path, PathBuf};
use std::process::Output;

fn failed(out: Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn computer(dir: &Path, name: &str) -> PathBuf {
    let db = dir.join(format!("{name}.sqlite"));
    ok_json(wafira(&db, &["init", "--device", name, "--coordinator", "Samira"], None));
    db
}

const PERSON: &str = r#"{"first_name":"Zoubida","last_name":"Benkirane","sex":"F","birth_date":"1990-03-14",
  "region":"04","cin":"ZX918273","phone":"0698765432","consent":true}"#;

#[test]
fn keys_show_prints_the_recipient_signing_key_and_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let db = computer(dir.path(), "Portable A");
    let keys = ok_json(wafira(&db, &["keys", "show"], None));
    assert!(keys["recipient"].as_str().unwrap().starts_with("age1"), "{keys}");
    let signing = keys["signing_key"].as_str().unwrap();
    assert!(signing.len() == 64 && signing.chars().all(|c| c.is_ascii_hexdigit()), "{keys}");
    let print = keys["fingerprint"].as_str().unwrap();
    assert_eq!(print.split(' ').map(str::len).collect::<Vec<_>>(), vec![4, 4, 4, 4], "{print}");
    assert_eq!(ok_json(wafira(&db, &["keys", "show"], None))["recipient"], keys["recipient"], "made once");
}

#[test]
fn export_identity_writes_an_age_identity_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = computer(dir.path(), "Station");
    let file = dir.path().join("station-identity.txt");
    let out = ok_json(wafira(&db, &["keys", "export-identity", "--out", file.to_str().unwrap()], None));
    let recipient = ok_json(wafira(&db, &["keys", "show"], None))["recipient"].clone();
    assert_eq!(out["recipient"], recipient);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.lines().any(|l| l.starts_with("AGE-SECRET-KEY-1")), "{text}");
    assert!(text.contains(recipient.as_str().unwrap()), "the public key noted, as age-keygen does");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let err = failed(wafira(&db, &["keys", "export-identity", "--out", file.to_str().unwrap()], None));
    assert!(err.contains("exists"), "never over an existing file: {err}");
}

#[test]
fn a_laptop_trusts_the_station_which_approves_it_before_importing() {
    let dir = tempfile::tempdir().unwrap();
    let laptop = computer(dir.path(), "Portable Larache");
    let station = computer(dir.path(), "Station Rabat");
    ok_json(wafira(&laptop, &["beneficiary", "add"], Some(PERSON)));
    let bundle = dir.path().join("larache-1.wafira");
    let bundle_arg = bundle.to_str().unwrap();

    // Nobody to send it to yet: refused, saying how to add the station.
    let err = failed(wafira(&laptop, &["bundle", "export", "--out", bundle_arg], None));
    assert!(err.contains("wafira keys trust"), "{err}");
    let station_keys = ok_json(wafira(&station, &["keys", "show"], None));
    let recipient = station_keys["recipient"].as_str().unwrap();
    let bad = failed(wafira(&laptop, &["keys", "trust", "--name", "Station Rabat", "age1nope"], None));
    assert!(bad.contains("recipient"), "{bad}");
    let trusted = ok_json(wafira(&laptop, &["keys", "trust", "--name", "Station Rabat", recipient], None));
    assert_eq!(trusted["recipient"], recipient);
    ok_json(wafira(&laptop, &["bundle", "export", "--out", bundle_arg], None));

    // The station has never seen this laptop: refused, naming its fingerprint.
    let laptop_keys = ok_json(wafira(&laptop, &["keys", "show"], None));
    let print = laptop_keys["fingerprint"].as_str().unwrap();
    let laptop_id = ok_json(wafira(&laptop, &["info"], None))["device"]["id"].as_str().unwrap().to_string();
    let err = failed(wafira(&station, &["bundle", "import", bundle_arg], None));
    assert!(err.contains(print) && err.contains("Portable Larache") && err.contains("devices approve"), "{err}");
    // Inspecting decrypts and checks, writing nothing.
    let inspected = ok_json(wafira(&station, &["bundle", "inspect", bundle_arg], None));
    assert_eq!(inspected["encrypted"], true);
    assert_eq!(inspected["signed"], true);
    assert_eq!(inspected["fingerprint"], print);

    let approval = ok_json(wafira(&station, &["devices", "approve", &laptop_id, "--fingerprint", print], None));
    assert_eq!(approval["pinned"], false);
    let report = ok_json(wafira(&station, &["bundle", "import", bundle_arg], None));
    assert_eq!(report["totals"]["added"]["beneficiaries"], 1);
    assert_eq!(report["files"][0]["summary"]["approved"], true);
    let status = ok_json(wafira(&station, &["devices"], None));
    assert!(status["devices"].as_array().unwrap().iter().any(|d| d["name"] == "Portable Larache"), "{status}");

    // Another laptop, approved and imported in one step (for scripts).
    let other = computer(dir.path(), "Portable Kénitra");
    ok_json(wafira(&other, &["keys", "trust", "--name", "Station Rabat", recipient], None));
    ok_json(wafira(
        &other,
        &["beneficiary", "add"],
        Some(&PERSON.replace("ZX918273", "ZX111111").replace("0698", "0697")),
    ));
    let second = dir.path().join("kenitra-1.wafira");
    ok_json(wafira(&other, &["bundle", "export", "--out", second.to_str().unwrap()], None));
    let report = ok_json(wafira(&station, &["bundle", "import", "--approve-new", second.to_str().unwrap()], None));
    assert_eq!(report["totals"]["added"]["beneficiaries"], 1);

    // The station's bundle goes back to both laptops (enrolled: no key typed).
    let back = dir.path().join("station-1.wafira");
    ok_json(wafira(&station, &["bundle", "export", "--out", back.to_str().unwrap()], None));
    let report = ok_json(wafira(&laptop, &["bundle", "import", "--approve-new", back.to_str().unwrap()], None));
    assert_eq!(report["totals"]["added"]["beneficiaries"], 1, "the other laptop's person");
}

#[test]
fn bundle_export_with_nothing_new_says_so_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let laptop = computer(dir.path(), "Portable Agadir 1");
    let station = computer(dir.path(), "Station Rabat");
    let station_keys = ok_json(wafira(&station, &["keys", "show"], None));
    let recipient = station_keys["recipient"].as_str().unwrap();
    ok_json(wafira(&laptop, &["keys", "trust", "--name", "Station Rabat", recipient], None));
    ok_json(wafira(&laptop, &["beneficiary", "add"], Some(PERSON)));
    let first = dir.path().join("agadir-1.wafira");
    let written = ok_json(wafira(&laptop, &["bundle", "export", "--out", first.to_str().unwrap()], None));
    assert_eq!(written["records"]["beneficiaries"], 1, "{written}");

    let again = dir.path().join("agadir-2.wafira");
    let answer = ok_json(wafira(&laptop, &["bundle", "export", "--out", again.to_str().unwrap()], None));
    assert_eq!(answer, serde_json::json!({ "nothing_new": true }));
    assert!(!again.exists(), "no empty numbered bundle");
    // --full still writes, under the next number.
    let full = ok_json(wafira(&laptop, &["bundle", "export", "--full", "--out", again.to_str().unwrap()], None));
    assert_eq!((full["manifest"]["number"].as_i64(), full["manifest"]["full"].as_bool()), (Some(2), Some(true)));
    assert!(again.exists());
}

/// Rows of `table` in the database at `db`.
fn rows(db: &Path, table: &str) -> i64 {
    common::conn(db).query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

#[test]
fn a_laptop_trusts_the_station_from_the_key_file_it_wrote_never_from_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let laptop = computer(dir.path(), "Portable Tiznit");
    let station = computer(dir.path(), "Station Rabat");
    let key_file = dir.path().join("station-rabat-public-key.txt");
    let key_arg = key_file.to_str().unwrap();

    // At the station: its public key on the stick, and its secret for the safe.
    let written = ok_json(wafira(&station, &["keys", "export-recipient", "--out", key_arg], None));
    let station_keys = ok_json(wafira(&station, &["keys", "show"], None));
    assert_eq!(written["recipient"], station_keys["recipient"]);
    assert_eq!((&written["device"], &written["fingerprint"]), (&"Station Rabat".into(), &station_keys["fingerprint"]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let identity = dir.path().join("station-identity.txt");
    ok_json(wafira(&station, &["keys", "export-identity", "--out", identity.to_str().unwrap()], None));

    // The secret handed over by mistake: refused, saying why, nothing trusted or logged.
    let (trusted, logged) = (rows(&laptop, "trusted_recipient"), rows(&laptop, "audit"));
    let err = failed(wafira(&laptop, &["keys", "trust", "--file", identity.to_str().unwrap()], None));
    assert!(err.contains("secret key") && err.contains("file"), "{err}");
    let err =
        failed(wafira(&laptop, &["keys", "trust", "--name", "Station", "--file", identity.to_str().unwrap()], None));
    assert!(err.contains("secret key"), "{err}");
    assert_eq!((rows(&laptop, "trusted_recipient"), rows(&laptop, "audit")), (trusted, logged), "database unchanged");
    // A key typed and a file, or neither: one or the other.
    let recipient = station_keys["recipient"].as_str().unwrap();
    failed(wafira(&laptop, &["keys", "trust", "--name", "Station", recipient, "--file", key_arg], None));
    failed(wafira(&laptop, &["keys", "trust", "--name", "Station"], None));
    assert_eq!(rows(&laptop, "trusted_recipient"), trusted);

    // The public key's file: named as the file names the station.
    let done = ok_json(wafira(&laptop, &["keys", "trust", "--file", key_arg], None));
    assert_eq!((done["recipient"].as_str(), done["name"].as_str()), (Some(recipient), Some("Station Rabat")));

    // A bundle exported now opens with the station's identity, and at the station.
    ok_json(wafira(&laptop, &["beneficiary", "add"], Some(PERSON)));
    let bundle = dir.path().join("tiznit-1.wafira");
    ok_json(wafira(&laptop, &["bundle", "export", "--out", bundle.to_str().unwrap()], None));
    let out = std::process::Command::new("age").arg("-d").arg("-i").arg(&identity).arg(&bundle).output().unwrap();
    assert!(out.status.success(), "age -d: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.starts_with(b"WAFIRA-BUNDLE 1\n"), "the plaintext is the bundle");
    let report = ok_json(wafira(&station, &["bundle", "import", "--approve-new", bundle.to_str().unwrap()], None));
    assert_eq!(report["totals"]["added"]["beneficiaries"], 1);
}
