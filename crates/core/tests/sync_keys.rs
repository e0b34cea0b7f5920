//! Bundles protected (issue 9): encrypted to the computers that may read
//! them (the age format: the reference `age` tool opens one with the
//! station's identity, and no other), signed by the computer that made
//! them, their maker approved once by a person. Every refusal names the
//! problem and leaves the database exactly as it was.
//!
//! The machines here are made by hand ([`computer`]), outside the test key
//! registry of sync_support, so that who trusts and approves whom is
//! exactly what each test says.

mod sync_support;

use serde_json::json;
use std::path::Path;
use std::process::Command;
use sync_support::{dump, scratch_dir, Machine};
use uuid::Uuid;
use wafira_core::sync::bundle;
use wafira_core::sync::ImportOptions;
use wafira_core::{Error, Store};

/// A computer of its own: in no registry, trusting and approving nobody.
fn computer(name: &str) -> Machine {
    let dir = scratch_dir();
    let path = dir.path().join(format!("{name}.sqlite"));
    let mut store = Store::open_with_key(&path, &sync_support::key()).unwrap();
    store.init_device(name, &format!("Coordinator of {name}")).unwrap();
    Machine { store, path, _dir: dir }
}

fn recipient(m: &Machine) -> String {
    m.store.keys().unwrap().recipient
}

/// `a` encrypts its bundles to `b` too.
fn trusts(a: &mut Machine, b: &Machine) {
    let name = b.store.device().unwrap().name.clone();
    a.store.trust_recipient(&name, &recipient(b)).unwrap();
}

fn id(m: &Machine) -> Uuid {
    m.store.device().unwrap().id
}

fn export(m: &mut Machine) -> Vec<u8> {
    let out = m.path.with_extension(format!("{}.wafira", Uuid::now_v7()));
    m.store.export_bundle_to(&out, false).unwrap();
    std::fs::read(out).unwrap()
}

fn register(m: &mut Machine, first: &str, last: &str, cin: &str, phone: &str) -> Uuid {
    m.store
        .add_beneficiary_json(json!({
            "first_name": first, "last_name": last, "sex": "F", "birth_date": "1990-03-14",
            "region": "04", "cin": cin, "phone": phone, "consent": true
        }))
        .unwrap()
        .id
}

/// A laptop that trusts the station, with one person, and the station.
fn laptop_and_station() -> (Machine, Machine) {
    let mut laptop = computer("Portable Larache");
    let station = computer("Station Rabat");
    trusts(&mut laptop, &station);
    register(&mut laptop, "Zoubida", "Benkirane", "ZX918273", "0698765432");
    (laptop, station)
}

/// The one person of [`laptop_and_station`]'s laptop.
fn zoubida(m: &Machine) -> Uuid {
    m.store.list_beneficiaries(&Default::default()).unwrap().rows[0].beneficiary.id
}

/// Imports at `m`: refused with `code`, the message naming `naming`, and
/// not one row changed.
fn refused(m: &mut Machine, bytes: Vec<u8>, code: &str, naming: &[&str]) -> Error {
    let before = m.dump();
    let err = m.store.import_bundle(bytes).unwrap_err();
    assert_eq!(err.code(), code, "{err}");
    for n in naming {
        assert!(err.to_string().contains(n), "{err} should name {n}");
    }
    assert_eq!(m.dump(), before, "nothing changed after: {err}");
    err
}

fn approve_new() -> ImportOptions {
    ImportOptions { approve_new: true, ..ImportOptions::default() }
}

fn import_approving(m: &mut Machine, bytes: Vec<u8>) -> wafira_core::sync::ImportSummary {
    let mut r = m.store.import_bundles_with(vec![(String::new(), bytes)], approve_new()).unwrap();
    let f = r.files.remove(0);
    f.summary.unwrap_or_else(|| panic!("refused: {:?}", f.error))
}

// --- Encryption -------------------------------------------------------------

fn age_tool() -> &'static str {
    let found = Command::new("age").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "the reference `age` tool is needed (Debian package `age`: scripts/install-deps installs it)");
    "age"
}

fn age_decrypt(identity: &Path, file: &Path) -> std::process::Output {
    Command::new(age_tool()).arg("-d").arg("-i").arg(identity).arg(file).output().unwrap()
}

#[test]
fn the_reference_age_tool_opens_a_bundle_with_the_station_identity_and_no_other() {
    let (mut laptop, station) = laptop_and_station();
    let bytes = export(&mut laptop);
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"), "an age file");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.wafira");
    std::fs::write(&file, &bytes).unwrap();

    // The station's identity, as `wafira keys export-identity` writes it.
    let identity = dir.path().join("station-identity.txt");
    station.store.write_identity_file(&identity).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&identity).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the identity file is readable by its owner only");
    }
    let text = std::fs::read_to_string(&identity).unwrap();
    assert!(text.lines().any(|l| l.starts_with("AGE-SECRET-KEY-1")), "{text}");
    assert!(station.store.write_identity_file(&identity).is_err(), "never over an existing file");
    let out = age_decrypt(&identity, &file);
    assert!(out.status.success(), "age -d: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.starts_with(b"WAFIRA-BUNDLE 1\n"), "the plaintext is the bundle");
    let manifest = bundle::read_manifest(&out.stdout).unwrap();
    assert_eq!(manifest.source.name, "Portable Larache");
    assert_eq!(manifest.changes, 1);
    // The laptop reads its own bundles back.
    let own = dir.path().join("laptop-identity.txt");
    laptop.store.write_identity_file(&own).unwrap();
    assert!(age_decrypt(&own, &file).status.success(), "encrypted to the laptop itself too");

    // Another identity (made by the reference age-keygen) cannot.
    let other = dir.path().join("other.txt");
    let made = Command::new("age-keygen").arg("-o").arg(&other).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let out = age_decrypt(&other, &file);
    assert!(!out.status.success(), "another identity opens nothing");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_bundle_file_holds_no_name_cin_or_phone() {
    let (mut laptop, _station) = laptop_and_station();
    laptop
        .store
        .add_visit_json(json!({ "beneficiary_id": zoubida(&laptop).to_string(),
            "date": "2025-01-10", "kind": "follow_up", "notes": "Zoubida Benkirane, CIN ZX918273, tél. 0698765432" }))
        .unwrap();
    let bytes = export(&mut laptop);
    let secrets = ["Zoubida", "Benkirane", "ZX918273", "0698765432", "+212698765432", "698765432", "ZOUBIDA"];
    let lower = String::from_utf8_lossy(&bytes).to_lowercase();
    for s in secrets {
        assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "{s} found in the bundle's bytes");
        assert!(!lower.contains(&s.to_lowercase()), "{s} found in the bundle's bytes");
    }
    // What `zstd -d` would do to the file: nothing.
    assert!(zstd::stream::decode_all(&bytes[..]).is_err());
    // The search finds them where they are: in the plaintext's content.
    let content = bundle::decode(&laptop.open(&bytes)).unwrap();
    let text = serde_json::to_string(&content.changes).unwrap();
    for s in ["Zoubida", "Benkirane", "ZX918273", "+212698765432"] {
        assert!(text.contains(s), "{s} is in the content");
    }
}

#[test]
fn an_export_with_no_other_computer_to_send_to_is_refused_and_says_how_to_add_one() {
    let mut lone = computer("Portable Seul");
    register(&mut lone, "Zoubida", "Benkirane", "ZX918273", "0698765432");
    let before = lone.dump();
    let out = lone.path.with_extension("wafira");
    let err = lone.store.export_bundle_to(&out, false).unwrap_err();
    assert_eq!(err.code(), "bundle_no_recipient");
    assert!(err.to_string().contains("wafira keys trust"), "{err}");
    assert!(!out.exists());
    assert_eq!(lone.dump(), before, "nothing recorded as exported");
    // A recipient that is not one is refused, naming the field.
    let err = lone.store.trust_recipient("Station", "age1notakey").unwrap_err();
    assert!(err.as_invalid().unwrap().has("recipient", "invalid_recipient"), "{err}");
}

#[test]
fn a_bundle_not_addressed_to_this_computer_is_refused() {
    let (mut laptop, mut station) = laptop_and_station();
    let mut other_station = computer("Station Tanger");
    let bytes = export(&mut laptop);
    refused(&mut other_station, bytes.clone(), "bundle_not_addressed", &["not addressed to this computer"]);
    // Approving does not help: it cannot be read.
    let err = other_station.store.import_bundles_with(vec![("b".into(), bytes.clone())], approve_new()).unwrap();
    assert_eq!(err.files[0].error.as_ref().unwrap().code(), "bundle_not_addressed");
    import_approving(&mut station, bytes);
}

// --- Signatures and approval ------------------------------------------------

#[test]
fn a_laptop_never_seen_is_refused_with_its_fingerprint_until_a_person_approves_it() {
    let (mut laptop, mut station) = laptop_and_station();
    let bytes = export(&mut laptop);
    let fingerprint = laptop.store.keys().unwrap().fingerprint;
    assert_eq!(fingerprint.len(), 19, "16 hex digits in groups of 4: {fingerprint}");
    let laptop_id = id(&laptop).to_string();
    let err = refused(
        &mut station,
        bytes.clone(),
        "bundle_unknown_device",
        &["Portable Larache", &fingerprint, &laptop_id, "wafira devices approve"],
    );
    // The window gets what it needs to offer the approval.
    let v = serde_json::to_value(&err).unwrap();
    assert_eq!(v["details"]["fingerprint"], json!(fingerprint));
    assert_eq!(v["details"]["device"], json!(laptop_id));
    // A preview says the same, and writes nothing.
    let before = station.dump();
    let preview = station.store.import_bundles(vec![("a".into(), bytes.clone())], true).unwrap();
    assert_eq!(preview.files[0].error.as_ref().unwrap().code(), "bundle_unknown_device");
    assert_eq!(station.dump(), before);

    // Approved for another key: still refused.
    station.store.approve_device(id(&laptop), Some("0000 0000 0000 0000"), false).unwrap();
    refused(&mut station, bytes.clone(), "bundle_key_changed", &["Portable Larache"]);
    // Approved for its key: taken, its key pinned, its recipient trusted.
    let approval = station.store.approve_device(id(&laptop), Some(&fingerprint), false).unwrap();
    assert!(!approval.pinned);
    let s = station.store.import_bundle(bytes).unwrap();
    assert!(s.approved && s.warnings.is_empty(), "{s:?}");
    assert_eq!(s.added.beneficiaries, 1);
    let trusted = station.store.keys().unwrap().trusted;
    assert_eq!(trusted.len(), 1);
    assert_eq!(trusted[0].recipient, recipient(&laptop));
    assert_eq!(trusted[0].device_id, Some(id(&laptop)));
    // Its next bundles pass without a word.
    register(&mut laptop, "Amina", "Tazi", "AB123456", "0611111111");
    let s = station.store.import_bundle(export(&mut laptop)).unwrap();
    assert!(!s.approved);
    assert_eq!(s.added.beneficiaries, 1);
}

#[test]
fn approve_new_approves_and_imports_in_one_step_and_the_station_answers_the_laptop() {
    let (mut laptop, mut station) = laptop_and_station();
    let s = import_approving(&mut station, export(&mut laptop));
    assert!(s.approved);
    // The station sends its bundles back to the laptop it enrolled, with no
    // one typing its key.
    register(&mut station, "Houda", "Alaoui", "HH445566", "0622222222");
    let back = export(&mut station);
    // The laptop approves the station once, as the station did the laptop.
    let station_print = station.store.keys().unwrap().fingerprint;
    refused(&mut laptop, back.clone(), "bundle_unknown_device", &["Station Rabat", &station_print]);
    laptop.store.approve_device(id(&station), Some(&station_print), false).unwrap();
    let s = laptop.store.import_bundle(back).unwrap();
    assert_eq!(s.added.beneficiaries, 1);
}

#[test]
fn a_new_laptop_learns_the_stations_key_from_the_first_bundle_the_station_gives_it() {
    let mut laptop = computer("Portable Tiznit");
    let mut station = computer("Station Rabat");
    register(&mut station, "Houda", "Alaoui", "HH445566", "0622222222");
    register(&mut laptop, "Zoubida", "Benkirane", "ZX918273", "0698765432");
    // The laptop cannot send anything yet: it knows no station.
    let lone = laptop.path.with_extension("wafira");
    assert_eq!(laptop.store.export_bundle_to(&lone, false).unwrap_err().code(), "bundle_no_recipient");
    // The station is given the laptop's recipient and makes it a bundle.
    trusts(&mut station, &laptop);
    let first = export(&mut station);
    // The laptop refuses it until a person compares the station's fingerprint.
    let print = station.store.keys().unwrap().fingerprint;
    refused(&mut laptop, first.clone(), "bundle_unknown_device", &["Station Rabat", &print]);
    let s = import_approving(&mut laptop, first);
    assert_eq!(s.added.beneficiaries, 1);
    // Approved, the station's key came with its bundle: no key typed.
    let trusted = laptop.store.keys().unwrap().trusted;
    assert_eq!(trusted.len(), 1);
    assert_eq!(
        (trusted[0].recipient.as_str(), trusted[0].name.as_str()),
        (recipient(&station).as_str(), "Station Rabat")
    );
    assert_eq!(trusted[0].device_id, Some(id(&station)));
    // The laptop's bundles now go to the station, which knows its key.
    let s = import_approving(&mut station, export(&mut laptop));
    assert_eq!(s.added.beneficiaries, 1);
}

// --- The station's key given in a file --------------------------------------

#[test]
fn a_laptop_trusts_the_station_from_the_file_the_station_wrote() {
    let mut laptop = computer("Portable Tiznit");
    let mut station = computer("Station Rabat");
    register(&mut laptop, "Zoubida", "Benkirane", "ZX918273", "0698765432");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(station.store.recipient_file_name().unwrap());
    assert!(file.ends_with("station-rabat-public-key.txt"), "{}", file.display());
    let written = station.store.write_recipient_file(&file).unwrap();
    assert_eq!(written.recipient, recipient(&station));
    assert_eq!(written.fingerprint, station.store.keys().unwrap().fingerprint);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("# device: Station Rabat") && text.contains(&written.fingerprint), "{text}");
    assert!(!text.contains("AGE-SECRET-KEY"), "no secret in it: {text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Never over the database.
    let err = station.store.write_recipient_file(&station.path).unwrap_err();
    assert!(err.as_invalid().is_some_and(|i| i.has("out", "is_the_database")), "{err}");

    // The reference age tool takes it as a recipients file: the station opens what it encrypts.
    let secret = dir.path().join("station-identity.txt");
    station.store.write_identity_file(&secret).unwrap();
    let sealed = dir.path().join("note.age");
    let plain = dir.path().join("note.txt");
    std::fs::write(&plain, b"bonjour").unwrap();
    let out = Command::new(age_tool()).arg("-R").arg(&file).arg("-o").arg(&sealed).arg(&plain).output().unwrap();
    assert!(out.status.success(), "age -R: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(age_decrypt(&secret, &sealed).stdout, b"bonjour");

    // The laptop reads it, naming the station, and trusts it.
    let read = laptop.store.read_recipient_file(&file).unwrap();
    assert_eq!((read.recipient.as_str(), read.name.as_deref()), (recipient(&station).as_str(), Some("Station Rabat")));
    let trusted = laptop.store.trust_recipient_file(None, &file).unwrap();
    assert_eq!((trusted.recipient.as_str(), trusted.name.as_str()), (recipient(&station).as_str(), "Station Rabat"));
    // Its bundles now reach the station.
    let s = import_approving(&mut station, export(&mut laptop));
    assert_eq!(s.added.beneficiaries, 1);
}

#[test]
fn a_key_file_holding_a_secret_or_not_exactly_one_public_key_is_refused_and_nothing_is_trusted() {
    let mut laptop = computer("Portable Tiznit");
    let station = computer("Station Rabat");
    let other = computer("Station Tanger");
    let (s, o) = (recipient(&station), recipient(&other));
    let dir = tempfile::tempdir().unwrap();
    let before = laptop.dump();
    let mut refused = |name: &str, bytes: &[u8], code: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        for err in [
            laptop.store.read_recipient_file(&file).unwrap_err(),
            laptop.store.trust_recipient_file(Some("Station"), &file).unwrap_err(),
        ] {
            assert!(err.as_invalid().is_some_and(|i| i.has("file", code)), "{name}: {err}");
        }
        assert_eq!(laptop.dump(), before, "{name}: nothing trusted");
    };
    // A secret identity: Wafira's own export, age-keygen's, or a secret pasted beside the key.
    let identity = dir.path().join("identity.txt");
    station.store.write_identity_file(&identity).unwrap();
    refused("wafira-identity.txt", &std::fs::read(&identity).unwrap(), "secret_key_file");
    let made = Command::new("age-keygen").output().unwrap();
    assert!(made.status.success());
    refused("age-keygen.txt", &made.stdout, "secret_key_file");
    let secret = station.store.own_keys().unwrap().identity_text().to_lowercase();
    refused("pasted.txt", format!("{s}\n# {secret}\n").as_bytes(), "secret_key_file");
    // Not one key.
    refused("two.txt", format!("# device: Station Rabat\n{s}\n{o}\n").as_bytes(), "several_recipients");
    refused("none.txt", b"# device: Station Rabat\nStation Rabat\n", "no_recipient");
    refused("empty.txt", b"", "no_recipient");
    refused("commented.txt", format!("# {s}\n").as_bytes(), "no_recipient");
    // Its last character changed (to another one: a key may end in either).
    let other_end = if s.ends_with('q') { 'p' } else { 'q' };
    refused("damaged.txt", format!("{}{other_end}\n", &s[..s.len() - 1]).as_bytes(), "invalid_recipient");
    // Not a key file at all.
    refused("photo.jpg", &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F'], "not_text");
    let mut big = format!("{s}\n").into_bytes();
    big.resize(64 * 1024 + 1, b'\n');
    refused("big.txt", &big, "file_too_large");

    // The key written twice is one; beside other words, or pasted from `wafira keys show`.
    for (name, text) in [
        ("twice.txt", format!("{s}\n{s}\n")),
        ("note.txt", format!("Station Rabat : {s}\r\n")),
        ("show.json", format!("{{\n  \"recipient\": \"{s}\",\n  \"fingerprint\": \"3f2a 91c0\"\n}}\n")),
        ("bom.txt", format!("\u{feff}{s}\n")),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let read = laptop.store.read_recipient_file(&file).unwrap();
        assert_eq!((read.recipient.as_str(), read.name), (s.as_str(), None), "{name}");
    }
    // A file that names no computer needs a name.
    let file = dir.path().join("twice.txt");
    let err = laptop.store.trust_recipient_file(None, &file).unwrap_err();
    assert!(err.as_invalid().is_some_and(|i| i.has("name", "required")), "{err}");
    assert_eq!(laptop.dump(), before);
    let trusted = laptop.store.trust_recipient_file(Some("Station Rabat"), &file).unwrap();
    assert_eq!(trusted.recipient, s);
    // A file that is not there says which.
    let err = laptop.store.read_recipient_file(&dir.path().join("absent.txt")).unwrap_err();
    assert!(err.to_string().contains("absent.txt"), "{err}");
}

#[test]
fn changes_relayed_by_a_station_are_trusted_through_its_signature() {
    let (mut a, mut station) = laptop_and_station();
    let mut b = computer("Portable Kénitra");
    trusts(&mut b, &station);
    register(&mut b, "Badia", "Tazi", "BT778899", "0633333333");
    import_approving(&mut station, export(&mut a));
    import_approving(&mut station, export(&mut b));
    // A approved the station, never B: B's changes come through the station.
    let back = export(&mut station);
    let s = import_approving(&mut a, back);
    assert_eq!(s.added.beneficiaries, 1, "Badia, made on B, signed by the station");
}

#[test]
fn a_bad_signature_is_refused() {
    let (mut laptop, mut station) = laptop_and_station();
    import_approving(&mut station, export(&mut laptop));
    register(&mut laptop, "Amina", "Tazi", "AB123456", "0611111111");
    let bytes = export(&mut laptop);
    let mut plain = laptop.open(&bytes);
    // One digit of the signature changed.
    let at = plain.windows(7).position(|w| w == b"\"sig\":\"").unwrap() + 7;
    plain[at] = if plain[at] == b'0' { b'1' } else { b'0' };
    let sealed = bundle::seal(&plain, &[station.store.own_keys().unwrap().recipient()]).unwrap();
    refused(&mut station, sealed, "bundle_bad_signature", &["signature"]);
    // The manifest changed (its number), its checksum made right, the
    // signature of the manifest as it was kept.
    let bytes = export_full(&mut laptop);
    let original = laptop.open(&bytes);
    let mut b = bundle::decode(&original).unwrap();
    b.manifest.number += 7;
    let mut content = Vec::new();
    for c in &b.changes {
        bundle::content_line(&mut content, c).unwrap();
    }
    let changed = bundle::encode_signed(b.manifest, &content, &laptop.store.own_keys().unwrap()).unwrap().0;
    let mut forged = changed.clone();
    let at = signature_at(&changed);
    forged[at..at + 128].copy_from_slice(&original[signature_at(&original)..signature_at(&original) + 128]);
    assert_ne!(forged, changed);
    let sealed = bundle::seal(&forged, &[station.store.own_keys().unwrap().recipient()]).unwrap();
    refused(&mut station, sealed, "bundle_bad_signature", &["signature"]);
}

fn export_full(m: &mut Machine) -> Vec<u8> {
    let out = m.path.with_extension(format!("{}.wafira", Uuid::now_v7()));
    m.store.export_bundle_to(&out, true).unwrap();
    std::fs::read(out).unwrap()
}

/// Where the hex signature starts in a plaintext bundle's envelope.
fn signature_at(plain: &[u8]) -> usize {
    plain.windows(7).position(|w| w == b"\"sig\":\"").unwrap() + 7
}

#[test]
fn another_key_for_a_known_laptop_is_refused_until_a_person_enrols_it_again() {
    let (mut laptop, mut station) = laptop_and_station();
    import_approving(&mut station, export(&mut laptop));
    // Someone who knows the laptop's id signs a bundle with their own key.
    let mut thief = computer("Portable Larache");
    trusts(&mut thief, &station);
    register(&mut thief, "Faux", "Nom", "FF000000", "0644444444");
    let bytes = export_full(&mut thief);
    let mut b = bundle::decode(&thief.open(&bytes)).unwrap();
    let thief_id = id(&thief);
    b.manifest.source.id = id(&laptop);
    b.manifest.devices.clear();
    b.changes.clear();
    b.manifest.counts.clear();
    b.manifest.changes = 0;
    let plain = bundle::encode_signed(b.manifest, b"", &thief.store.own_keys().unwrap()).unwrap().0;
    let sealed = bundle::seal(&plain, &[station.store.own_keys().unwrap().recipient()]).unwrap();
    let thief_print = thief.store.keys().unwrap().fingerprint;
    refused(&mut station, sealed.clone(), "bundle_key_changed", &["Portable Larache", &thief_print, "--reenrol"]);
    // --approve-new is for computers never seen: it changes nothing here.
    let r = station.store.import_bundles_with(vec![("x".into(), sealed)], approve_new()).unwrap();
    assert_eq!(r.files[0].error.as_ref().unwrap().code(), "bundle_key_changed");
    assert_ne!(thief_id, id(&laptop));

    // The laptop reinstalled: new keys, same database (its keys lost).
    let path = laptop.path.clone();
    let Machine { store, _dir, .. } = laptop;
    store.conn().execute("DELETE FROM own_key", []).unwrap();
    drop(store);
    let mut laptop = Machine { store: Store::open_with_key(&path, &sync_support::key()).unwrap(), path, _dir };
    trusts(&mut laptop, &station);
    register(&mut laptop, "Amina", "Tazi", "AB123456", "0611111111");
    let bytes = export(&mut laptop);
    let new_print = laptop.store.keys().unwrap().fingerprint;
    refused(&mut station, bytes.clone(), "bundle_key_changed", &["Portable Larache", &new_print]);
    // Approving again without --reenrol, for the new key: refused.
    let err = station.store.approve_device(id(&laptop), Some(&new_print), false).unwrap_err();
    assert!(err.as_invalid().unwrap().has("fingerprint", "fingerprint_mismatch"), "{err}");
    // A person checked the new fingerprint and enrols it again.
    let a = station.store.approve_device(id(&laptop), Some(&new_print), true).unwrap();
    assert!(!a.pinned);
    let s = station.store.import_bundle(bytes).unwrap();
    assert!(s.approved);
    assert_eq!(s.added.beneficiaries, 1);
    let trusted = station.store.keys().unwrap().trusted;
    assert_eq!(trusted.len(), 1, "the old recipient forgotten, the new one trusted");
    assert_eq!(trusted[0].recipient, recipient(&laptop));
}

#[test]
fn an_unsigned_bundle_of_an_older_version_is_taken_with_a_warning_unless_its_laptop_signs() {
    let (mut laptop, mut station) = laptop_and_station();
    // A laptop not updated yet: plaintext, unsigned.
    let old = laptop.store.build_unprotected_bundle(false).unwrap().0;
    assert!(old.starts_with(b"WAFIRA-BUNDLE 1\n"));
    let s = station.store.import_bundle(old.clone()).unwrap();
    assert_eq!(s.warnings, vec!["unsigned"]);
    assert!(!s.approved);
    assert_eq!(s.added.beneficiaries, 1);
    // Updated, it signs: approved once, then an unsigned bundle in its name
    // is refused.
    register(&mut laptop, "Amina", "Tazi", "AB123456", "0611111111");
    import_approving(&mut station, export(&mut laptop));
    register(&mut laptop, "Houda", "Alaoui", "HH445566", "0622222222");
    let forged = laptop.store.build_unprotected_bundle(false).unwrap().0;
    refused(&mut station, forged, "bundle_unsigned", &["Portable Larache"]);
    // A signed bundle that came decrypted (`age -d`) is taken, with a word.
    let bytes = export(&mut laptop);
    let plain = laptop.open(&bytes);
    let s = station.store.import_bundle(plain).unwrap();
    assert_eq!(s.warnings, vec!["not_encrypted"]);
    assert_eq!(s.added.beneficiaries, 1);
}

#[test]
fn a_replayed_bundle_changes_nothing() {
    let (mut laptop, mut station) = laptop_and_station();
    let first = export(&mut laptop);
    import_approving(&mut station, first.clone());
    register(&mut laptop, "Amina", "Tazi", "AB123456", "0611111111");
    station.store.import_bundle(export(&mut laptop)).unwrap();
    // The older bundle again: recognised, nothing written.
    let before = station.dump();
    let s = station.store.import_bundle(first).unwrap();
    assert!(s.already_imported);
    assert_eq!(s.new_changes, 0);
    assert_eq!(station.dump(), before);
}

#[test]
fn a_restored_or_copied_laptop_keeps_its_keys_and_its_approval() {
    let (mut laptop, mut station) = laptop_and_station();
    import_approving(&mut station, export(&mut laptop));
    let print = laptop.store.keys().unwrap().fingerprint;
    // A copy of its database (a new device identity, the same keys).
    let copy_dir = scratch_dir();
    let copy_path = copy_dir.path().join("copy.sqlite");
    laptop.store.conn().execute("VACUUM INTO ?1", [copy_path.to_string_lossy().to_string()]).unwrap();
    let mut copy = Machine {
        store: Store::open_with_key(&copy_path, &sync_support::key()).unwrap(),
        path: copy_path,
        _dir: copy_dir,
    };
    assert_ne!(id(&copy), id(&laptop));
    assert_eq!(copy.store.keys().unwrap().fingerprint, print, "the same keys");
    register(&mut copy, "Amina", "Tazi", "AB123456", "0611111111");
    // Taken without approval: its key proves the same computer.
    let s = station.store.import_bundle(export(&mut copy)).unwrap();
    assert!(s.approved, "approved by its key");
    assert_eq!(s.added.beneficiaries, 1);
    // A restore: the same.
    register(&mut laptop, "Houda", "Alaoui", "HH445566", "0622222222");
    station.store.import_bundle(export(&mut laptop)).unwrap();
    let newest = laptop.store.backups().unwrap();
    if let Some(b) = newest.first() {
        laptop.store.restore_backup(&b.name.clone()).unwrap();
    } else {
        let before = id(&laptop);
        laptop.store.renew_identity(wafira_core::store::Renewal::Restored).unwrap();
        assert_ne!(id(&laptop), before);
    }
    register(&mut laptop, "Nadia", "Berrada", "NB112233", "0655555555");
    let s = station.store.import_bundle(export(&mut laptop)).unwrap();
    assert!(s.new_changes >= 1);
    // Another computer with the same name but its own key is not.
    let mut other = computer("Portable Larache");
    trusts(&mut other, &station);
    register(&mut other, "Salma", "Idrissi", "SI998877", "0666666666");
    refused(&mut station, export(&mut other), "bundle_unknown_device", &["Portable Larache"]);
}

#[test]
fn keys_are_made_once_and_a_database_of_schema_2_gets_its_own_at_first_open() {
    let m = computer("Portable A");
    let k1 = m.store.keys().unwrap();
    assert!(k1.recipient.starts_with("age1"), "{}", k1.recipient);
    assert_eq!(k1.signing_key.len(), 64);
    let path = m.path.clone();
    let again = Store::open_with_key(&path, &sync_support::key()).unwrap();
    assert_eq!(again.keys().unwrap().recipient, k1.recipient, "made once");
    drop(again);

    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v2.sqlite");
    {
        let mut conn = rusqlite::Connection::open(&old).unwrap();
        wafira_core::store::schema::migrations().to_version(&mut conn, 2).unwrap();
    }
    let before = dump(&old);
    assert!(!before.contains("## own_key"));
    let s = Store::open_with_key(&old, &sync_support::key()).unwrap();
    assert_eq!(s.schema_version().unwrap(), wafira_core::store::schema::current_version());
    let k2 = s.keys().unwrap();
    assert_ne!(k2.recipient, k1.recipient, "each computer its own pair");
    assert_ne!(k2.fingerprint, k1.fingerprint);
}
