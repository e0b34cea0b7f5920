//! The audit trail as a person relies on it: every action leaves an entry
//! naming who, when and which machine, linked to the one before; a changed
//! or deleted entry is found by `audit_verify`; the trail travels to the
//! station in bundles and verifies there; a bundle whose trail was edited
//! by hand is refused, naming the laptop, and changes nothing; importing
//! twice adds nothing.

mod sync_support;

use serde_json::json;
use sync_support::*;
use uuid::Uuid;
use wafira_core::audit::{AuditFilter, Entry, EntryView};
use wafira_core::store::log::Entity;
use wafira_core::sync::bundle::{self, Refusal};
use wafira_core::Error;

fn trail(m: &Machine) -> Vec<Entry> {
    let mut all: Vec<Entry> =
        m.store.audit_list(&AuditFilter::default()).unwrap().entries.into_iter().map(|v| v.entry).collect();
    all.sort_by_key(|e| (e.machine, e.seq));
    all
}

fn own_trail(m: &Machine) -> Vec<Entry> {
    let me = m.store.device().unwrap().id;
    trail(m).into_iter().filter(|e| e.machine == me).collect()
}

fn actions(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.action.as_str()).collect()
}

fn listed(m: &Machine, filter: AuditFilter) -> Vec<EntryView> {
    m.store.audit_list(&filter).unwrap().entries
}

/// A laptop that registered Fatima, edited her phone, logged a visit and a
/// milestone, archived the visit; gives her id.
fn busy_laptop(name: &str) -> (Machine, Uuid) {
    let mut a = machine(name);
    let fatima = a.register(json!({}));
    a.edit(fatima, json!({ "phone": "0612345678" }));
    let visit = a.visit(fatima, "2025-01-10");
    a.store
        .add_milestone_json(
            json!({ "beneficiary_id": fatima.to_string(), "kind": "iga_launched", "date": "2025-01-05" }),
        )
        .unwrap();
    a.store.archive_record(Entity::Visit, visit).unwrap();
    (a, fatima)
}

/// Sets a column of one stored entry, as someone with the database open
/// in `sqlite3` would.
fn tamper(m: &Machine, seq: i64, column: &str, value: &str) {
    let me = m.store.device().unwrap().id.to_string();
    let n = m
        .store
        .conn()
        .execute(&format!("UPDATE audit SET {column} = ?1 WHERE machine = ?2 AND seq = ?3"), (value, me, seq))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn every_change_is_logged_with_who_when_and_which_machine_linked_to_the_one_before() {
    let (mut a, fatima) = busy_laptop("Portable A");
    a.store.archive_beneficiary(fatima, Some("Inscrite deux fois".into())).unwrap();
    let entries = own_trail(&a);
    assert_eq!(
        actions(&entries),
        ["person.add", "person.update", "visit.add", "milestone.add", "visit.archive", "person.archive"]
    );
    let me = a.store.device().unwrap().id;
    let actor = a.store.actor().clone();
    let mut before = wafira_core::audit::GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!((e.machine, e.seq), (me, i as i64 + 1));
        assert_eq!((e.who.as_str(), e.role.as_str()), (actor.name.as_str(), actor.role.as_str()));
        assert!(e.at.len() == 24 && e.at.ends_with('Z'), "UTC with milliseconds: {}", e.at);
        assert_eq!(e.prev_hash, before, "entry {} carries the hash of the one before", e.seq);
        assert_eq!(e.hash, e.compute_hash());
        before = e.hash.clone();
    }
    assert_eq!(entries[0].subject, fatima.to_string(), "the subject is the record's id");
    assert_eq!(entries[1].detail, "phone", "the fields changed, not their values");
    // Nothing personal in any entry: not her name, her phone, the reason.
    let text = serde_json::to_string(&entries).unwrap();
    for secret in ["Fatima", "Idrissi", "612345678", "deux fois"] {
        assert!(!text.contains(secret), "{secret} in the audit log: {text}");
    }
    let v = a.store.audit_verify().unwrap();
    assert!(v.ok && v.first_broken.is_none(), "{v:?}");
    assert_eq!((v.entries, v.machines), (6, 1));
}

#[test]
fn a_refused_or_empty_write_logs_nothing() {
    let (mut a, fatima) = busy_laptop("Portable A");
    let before = trail(&a).len();
    let refused = a.store.add_beneficiary_json(json!({ "first_name": "Amina", "sex": "X" }));
    assert!(refused.is_err());
    let refused = a.store.update_beneficiary(fatima, json!({ "phone": "not a phone" }));
    assert!(refused.is_err());
    // The same phone again: nothing changes, nothing is logged.
    a.edit(fatima, json!({ "phone": "0612345678" }));
    assert_eq!(trail(&a).len(), before);
}

#[test]
fn verify_finds_a_changed_entry_a_relinked_one_and_a_deleted_one() {
    let (a, _) = busy_laptop("Portable A");
    assert!(a.store.audit_verify().unwrap().ok);
    let second = own_trail(&a)[1].clone();

    // The detail of entry 2 changed by hand: it no longer matches its hash.
    tamper(&a, 2, "detail", "cohort");
    let v = a.store.audit_verify().unwrap();
    assert!(!v.ok);
    let broken = v.first_broken.unwrap();
    assert_eq!((broken.seq, broken.problem), (2, "altered"), "{broken:?}");
    assert_eq!(broken.machine, a.store.device().unwrap().id.to_string());
    assert_eq!(broken.machine_name.as_deref(), Some("Portable A"));
    tamper(&a, 2, "detail", &second.detail);
    assert!(a.store.audit_verify().unwrap().ok, "put back as it was, it verifies");

    // Changed with its hash made again: the link from entry 3 breaks.
    let forged = Entry { who: "someone else".into(), ..second.clone() };
    tamper(&a, 2, "who", &forged.who);
    tamper(&a, 2, "hash", &forged.compute_hash());
    let broken = a.store.audit_verify().unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.problem), (3, "unlinked"), "{broken:?}");
    tamper(&a, 2, "who", &second.who);
    tamper(&a, 2, "hash", &second.hash);

    // Entry 2 deleted: this machine's own chain has a hole.
    let me = a.store.device().unwrap().id.to_string();
    a.store.conn().execute("DELETE FROM audit WHERE machine = ?1 AND seq = 2", [me]).unwrap();
    let broken = a.store.audit_verify().unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.problem), (3, "missing"), "{broken:?}");
}

#[test]
fn the_trail_travels_to_the_station_and_verifies_there() {
    let (mut a, fatima) = busy_laptop("Portable A");
    let mut station = machine("Station");
    let bytes = a.export();
    let s = station.import(&bytes);
    assert!(s.new_changes > 0);
    // Every entry of the laptop up to its export, which is logged after.
    let mut sent = own_trail(&a);
    assert_eq!(sent.pop().map(|e| e.action), Some("bundle.export".to_string()));
    let laptop = a.store.device().unwrap().id;
    let there: Vec<Entry> = trail(&station).into_iter().filter(|e| e.machine == laptop).collect();
    assert_eq!(there, sent, "stored as they came");
    // The station logged the import, the laptop the export.
    let station_own = own_trail(&station);
    assert_eq!(actions(&station_own), ["bundle.import"]);
    assert!(station_own[0].detail.contains("Portable A"), "{:?}", station_own[0]);
    assert!(actions(&own_trail(&a)).contains(&"bundle.export"));
    let v = station.store.audit_verify().unwrap();
    assert!(v.ok && v.waiting.is_empty(), "{v:?}");
    assert_eq!(v.machines, 2);

    // The laptop goes on: the next bundle carries what came since, its
    // export entry included, and the chain still links at the station.
    a.visit(fatima, "2025-02-10");
    station.import(&a.export());
    let mine = own_trail(&a);
    let there: Vec<Entry> = trail(&station).into_iter().filter(|e| e.machine == laptop).collect();
    assert_eq!(there[..], mine[..there.len()]);
    assert_eq!(there.len(), mine.len() - 1, "all but the entry of the export that carried them");
    assert!(station.store.audit_verify().unwrap().ok);

    // And back: the laptop holds the station's chain too.
    a.import(&station.export());
    let v = a.store.audit_verify().unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.machines, 2);

    // The station filters by machine, action, account and day.
    let by_laptop = listed(&station, AuditFilter { machine: Some(laptop.to_string()), ..Default::default() });
    assert!(by_laptop.iter().all(|e| e.entry.machine == laptop && e.machine_name.as_deref() == Some("Portable A")));
    let imports = listed(&station, AuditFilter { action: Some("bundle.import".into()), ..Default::default() });
    assert_eq!(imports.len(), 2);
    let today = chrono::Utc::now().date_naive();
    let since = today.pred_opt().unwrap().to_string();
    let day = AuditFilter { since: Some(since), until: Some(today.to_string()), ..Default::default() };
    assert_eq!(listed(&station, day).len(), trail(&station).len());
    let nobody = AuditFilter { who: Some("nobody".into()), ..Default::default() };
    assert!(listed(&station, nobody).is_empty());
    let bad = station.store.audit_list(&AuditFilter { since: Some("12/03/2025".into()), ..Default::default() });
    assert!(bad.unwrap_err().as_invalid().unwrap().has("since", "invalid_date"));
}

#[test]
fn importing_twice_or_a_full_bundle_adds_no_entry_twice() {
    let (mut a, _) = busy_laptop("Portable A");
    let mut station = machine("Station");
    let bytes = a.export();
    station.import(&bytes);
    let once = trail(&station);
    let again = station.import(&bytes);
    assert!(again.already_imported);
    assert_eq!(trail(&station), once, "a bundle imported again writes nothing, not even an entry");
    // A full bundle carries every entry again: none is stored twice.
    let full = a.export_with(true);
    station.import(&full);
    let after = trail(&station);
    let laptop = a.store.device().unwrap().id;
    let count = |t: &[Entry]| t.iter().filter(|e| e.machine == laptop).count();
    assert_eq!(count(&after), count(&own_trail(&a)) - 1, "each of the laptop's entries once (not its last export)");
    assert!(station.store.audit_verify().unwrap().ok);
}

/// The bundle `bytes` of laptop `a` made again with its audit entries
/// changed by `f`, signed with the laptop's key and encrypted for every
/// machine: a bundle edited by someone who holds the laptop.
fn with_entries(a: &Machine, bytes: &[u8], f: impl FnOnce(&mut Vec<Entry>)) -> Vec<u8> {
    let plain = a.open(bytes);
    let unpacked = bundle::unpack(&plain).unwrap();
    let decoded = bundle::decode(&plain).unwrap();
    let mut content = Vec::new();
    for c in &decoded.changes {
        bundle::content_line(&mut content, c).unwrap();
    }
    let mut entries = unpacked.audit;
    f(&mut entries);
    let mut lines = Vec::new();
    for e in &entries {
        serde_json::to_writer(&mut lines, e).unwrap();
        lines.push(b'\n');
    }
    let mut section = decoded.manifest.audit.clone().expect("the bundle carries audit entries");
    section.entries = entries.len();
    section.bytes = lines.len() as u64;
    content.extend_from_slice(&lines);
    let keys = a.store.own_keys().unwrap();
    seal_for_all(&bundle::encode_signed_with_audit(decoded.manifest, &content, Some(section), &keys).unwrap().0)
}

/// Imports a hand-made bundle: refused as a broken audit trail naming
/// `laptop`, the station exactly as it was.
fn assert_refused(station: &mut Machine, bytes: Vec<u8>, laptop: &str) -> String {
    let before = station.dump();
    let err = station.store.import_bundle(bytes).unwrap_err();
    assert_eq!(err.code(), "bundle_audit_broken", "{err}");
    let Error::Refused(Refusal::AuditBroken { name, .. }) = &err else { panic!("{err:?}") };
    assert_eq!(name, laptop);
    assert!(err.to_string().contains(laptop), "{err}");
    assert_eq!(station.dump(), before, "nothing changed after: {err}");
    err.to_string()
}

#[test]
fn a_bundle_whose_trail_was_edited_is_refused_naming_the_laptop_and_changes_nothing() {
    let (mut a, _) = busy_laptop("Portable A");
    let mut station = machine("Station");
    let bytes = a.export();
    // The station knows the laptop: its bundles are judged on what they hold.
    station.store.approve_device(a.store.device().unwrap().id, None, false).unwrap();

    // An entry changed and its hash made again: the next one no longer follows.
    let edited = with_entries(&a, &bytes, |e| {
        e[1].detail = "cohort".into();
        e[1].hash = e[1].compute_hash();
    });
    let why = assert_refused(&mut station, edited, "Portable A");
    assert!(why.contains("entry 3") && why.contains("does not follow entry 2"), "{why}");

    // Changed, its hash left: the entry does not match it.
    let edited = with_entries(&a, &bytes, |e| e[1].detail = "cohort".into());
    let why = assert_refused(&mut station, edited, "Portable A");
    assert!(why.contains("entry 2") && why.contains("changed"), "{why}");

    // One taken out of the middle: the laptop's own chain skips it.
    let edited = with_entries(&a, &bytes, |e| {
        e.remove(2);
    });
    let why = assert_refused(&mut station, edited, "Portable A");
    assert!(why.contains("skip from 2 to 4"), "{why}");

    // A detail of 10,000 characters, hashed: too long to be an entry.
    let edited = with_entries(&a, &bytes, |e| {
        let last = e.len() - 1;
        e[last].detail = "x".repeat(10_000);
        e[last].hash = e[last].compute_hash();
    });
    let why = assert_refused(&mut station, edited, "Portable A");
    assert!(why.contains("longer than"), "{why}");

    // The genuine bundle goes in.
    station.import(&bytes);
    assert!(station.store.audit_verify().unwrap().ok);

    // A later full bundle whose whole chain was made again from entry 1,
    // every link consistent: it rewrites entries the station holds.
    let full = a.export_with(true);
    let rewritten = with_entries(&a, &full, |e| {
        let mut before = wafira_core::audit::GENESIS.to_string();
        for entry in e.iter_mut() {
            if entry.seq == 1 {
                entry.who = "someone else".into();
            }
            entry.prev_hash = before;
            entry.hash = entry.compute_hash();
            before = entry.hash.clone();
        }
    });
    let why = assert_refused(&mut station, rewritten, "Portable A");
    assert!(why.contains("entry 1") && why.contains("already held"), "{why}");
}

#[test]
fn entries_in_another_machines_name_must_link_to_what_is_held_of_its_chain() {
    let (mut a, _) = busy_laptop("Portable A");
    let mut station = machine("Station");
    station.import(&a.export());
    a.import(&station.export());
    // The laptop now holds the station's entry 1; a bundle from it that
    // rewrites that entry, in the station's own name, is refused.
    let station_id = station.store.device().unwrap().id;
    let bytes = a.export_with(true);
    let forged = with_entries(&a, &bytes, |e| {
        for entry in e.iter_mut().filter(|x| x.machine == station_id) {
            entry.detail = "nothing imported".into();
            entry.hash = entry.compute_hash();
        }
    });
    let why = assert_refused(&mut station, forged, "Station");
    assert!(why.contains("already held"), "{why}");
}

#[test]
fn a_bundle_without_audit_entries_is_still_taken_and_the_gap_shows_as_waiting() {
    let (mut a, fatima) = busy_laptop("Portable A");
    let mut station = machine("Station");
    // As older versions made them: no audit section (rewritten from its
    // changes alone).
    let old = rewrite(&a.export(), |_, _| {});
    assert!(read_manifest(&old).audit.is_none());
    station.import(&old);
    a.visit(fatima, "2025-03-01");
    station.import(&a.export());
    let v = station.store.audit_verify().unwrap();
    assert!(v.ok, "entries not received are no broken link: {v:?}");
    let gap = &v.waiting[0];
    assert_eq!((gap.from_seq, gap.machine_name.as_deref()), (1, Some("Portable A")));
    // A full bundle brings the rest; the chain is whole.
    station.import(&a.export_with(true));
    let v = station.store.audit_verify().unwrap();
    assert!(v.ok && v.waiting.is_empty(), "{v:?}");
}

#[test]
fn a_restore_keeps_the_trail_made_since_the_copy_and_logs_itself() {
    let (mut a, fatima) = busy_laptop("Portable A");
    let mut b = machine("Portable B");
    b.register(json!({ "first_name": "Zineb" }));
    // An import that brings something keeps a copy first.
    a.import(&b.export());
    a.visit(fatima, "2025-02-01");
    let before = trail(&a);
    let old = a.store.device().unwrap().id;
    let copy = a.store.backups().unwrap().remove(0);
    a.store.restore_backup(&copy.name).unwrap();
    let new = a.store.device().unwrap().id;
    assert_ne!(new, old);
    let after = trail(&a);
    for e in &before {
        assert!(after.contains(e), "entry {} of {} was kept", e.seq, e.machine);
    }
    let mine = own_trail(&a);
    assert_eq!(actions(&mine), ["backup.restore"]);
    assert_eq!(mine[0].subject, copy.name);
    let v = a.store.audit_verify().unwrap();
    assert!(v.ok, "{v:?}");
}

#[test]
fn the_log_is_exported_as_csv_for_its_owner_only_and_never_over_the_database() {
    let (a, _) = busy_laptop("Portable A");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("audit.csv");
    let done = a.store.audit_export_csv(&out).unwrap();
    assert_eq!(done.entries, 5);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("\u{feff}machine,machine_name,seq,at,who,role,action,subject,detail,prev_hash,hash"));
    assert_eq!(text.lines().count(), 6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(actions(&own_trail(&a)).last(), Some(&"audit.export"), "the export is logged too");
    let err = a.store.audit_export_csv(&a.path).unwrap_err();
    assert!(err.as_invalid().unwrap().has("out", "is_the_database"), "{err}");
}

#[test]
fn an_export_of_a_filter_holds_the_entries_the_list_shows_for_it() {
    let (a, _) = busy_laptop("Portable A");
    let dir = tempfile::tempdir().unwrap();
    let filter = AuditFilter { action: Some("person.update".into()), ..AuditFilter::default() };
    let listed = a.store.audit_list(&filter).unwrap();
    assert_eq!(listed.total, 1);
    let out = dir.path().join("updates.csv");
    let done = a.store.audit_export_json(&out, json!({ "action": "person.update", "limit": 1 })).unwrap();
    assert_eq!(done.entries, 1, "every entry of the filter, the page aside");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().nth(1).unwrap().contains(",person.update,"), "{text}");
    let export = own_trail(&a).pop().unwrap();
    assert_eq!((export.action.as_str(), export.detail.as_str()), ("audit.export", "entries=1 action=person.update"));
    // A filter the list refuses writes nothing.
    let bad = dir.path().join("bad.csv");
    let err = a.store.audit_export_json(&bad, json!({ "since": "2026-02-30" })).unwrap_err();
    assert!(err.as_invalid().is_some_and(|i| i.has("since", "invalid_date")), "{err}");
    assert!(!bad.exists());
}

#[test]
fn accounts_and_settings_changed_are_logged_without_a_passphrase() {
    let mut a = machine("Portable A");
    a.store.put_account("Amal", wafira_core::access::Role::Coordinator, "une phrase assez longue").unwrap();
    a.store.set_followup_days(45).unwrap();
    assert!(a.store.set_followup_days(0).is_err(), "refused: nothing logged");
    // Amal, signed in, changes her own passphrase; the manager then removes her.
    use wafira_core::access::{Actor, Role};
    a.store.set_actor(Actor { name: "Amal".into(), role: Role::Coordinator });
    a.store.change_own_passphrase("une autre phrase assez longue").unwrap();
    a.store.set_actor(Actor::key_holder());
    assert!(a.store.remove_account("Amal").unwrap());
    let entries = own_trail(&a);
    assert_eq!(actions(&entries), ["account.put", "setting.change", "account.passphrase", "account.remove"]);
    assert_eq!((entries[0].subject.as_str(), entries[0].detail.as_str()), ("Amal", "coordinator"));
    assert_eq!((entries[1].subject.as_str(), entries[1].detail.as_str()), ("followup_days", "45"));
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains("assez longue"), "no passphrase in the log: {text}");
}

#[test]
fn merges_resolutions_prints_and_exports_are_logged_naming_nobody() {
    use wafira_core::report::{self, Format, PrintRequest};
    use wafira_core::sync::Choice;
    let mut station = machine("Station");
    let mut a = machine("Portable A");
    let mut b = machine("Portable B");
    let fatima = a.register(json!({ "phone": "0611111111" }));
    station.import(&a.export());
    b.import(&station.export());
    // Her phone changed at both laptops: a conflict at the station, settled.
    a.edit(fatima, json!({ "phone": "0622222222" }));
    b.edit(fatima, json!({ "phone": "0633333333" }));
    station.import(&a.export());
    station.import(&b.export());
    let conflict = station.store.conflicts(false).unwrap().remove(0);
    station.store.resolve_conflict(&conflict.id, Choice::Value(json!("0644444444"))).unwrap();
    // Registered again at the station, then merged into herself.
    let twin = station.register(json!({}));
    station.store.merge_persons(fatima, twin).unwrap();
    // The three PDFs and the two exports.
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name);
    for (request, name) in [
        (json!({ "kind": "summary" }), "synthese.pdf"),
        (json!({ "kind": "profile", "id": fatima }), "fiche.pdf"),
        (json!({ "kind": "followups" }), "suivis.pdf"),
    ] {
        let request: PrintRequest = serde_json::from_value(request).unwrap();
        report::print(&station.store, &request, Some(&out(name))).unwrap();
    }
    report::export(&station.store, Format::Csv, false, Some(&out("csv"))).unwrap();
    report::export(&station.store, Format::Xlsx, true, Some(&out("anonyme.xlsx"))).unwrap();

    let mine = own_trail(&station);
    assert_eq!(
        actions(&mine),
        [
            "bundle.import",
            // The test's machines trust each other before they export.
            "keys.trust",
            "bundle.export",
            "bundle.import",
            "bundle.import",
            "conflict.resolve",
            "person.add",
            "duplicate.merge",
            "print.summary",
            "print.profile",
            "print.followups",
            "export.csv",
            "export.xlsx"
        ]
    );
    let station_id = station.store.device().unwrap().id;
    let actor = station.store.actor().clone();
    for e in &mine {
        assert_eq!(
            (e.machine, e.who.as_str(), e.role.as_str()),
            (station_id, actor.name.as_str(), actor.role.as_str())
        );
        assert!(e.at.ends_with('Z'), "{e:?}");
    }
    let of = |action: &str| mine.iter().find(|e| e.action == action).unwrap();
    assert_eq!(of("conflict.resolve").subject, conflict.id);
    let merge = of("duplicate.merge");
    assert_eq!(merge.detail, format!("kept {fatima}, other {twin}"), "{merge:?}");
    assert_eq!(of("print.profile").subject, fatima.to_string());
    assert!(of("export.xlsx").detail.starts_with("pseudonymised"), "{:?}", of("export.xlsx"));
    let text = serde_json::to_string(&mine).unwrap();
    for secret in ["Fatima", "Idrissi", "644444444", "633333333"] {
        assert!(!text.contains(secret), "{secret} in the audit log: {text}");
    }
    assert!(station.store.audit_verify().unwrap().ok);
}
