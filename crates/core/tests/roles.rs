//! Roles checked in the core (issue 9, docs/access.md): for every action
//! of [`Action::ALL`] and every role, the real store methods behind it, on
//! real SQLite files, are allowed exactly when the table allows them. A
//! refusal is `Error::Forbidden`, names the role the action needs, and
//! leaves the database (every row of every table) and the files beside it
//! as they were.
//!
//! The cases are one exhaustive `match` over the actions: a new action
//! without its case does not compile; one with no call fails the test. Each
//! call names the window's commands that reach it, and every command of
//! src-tauri/src/commands/mod.rs is named by a call or listed as unguarded,
//! so a new command must come with its case too.

mod sync_support;

use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use sync_support::{machine, trust_registered, Machine};
use uuid::Uuid;
use wafira_core::access::{Action, Actor, Role};
use wafira_core::report::{self, Filters, FiltersInput, Format, PrintRequest};
use wafira_core::store::log::Entity;
use wafira_core::store::ListQuery;
use wafira_core::sync::{backup, Choice, ImportOptions};
use wafira_core::{demo, Error};

// --- The databases the calls run on ------------------------------------

/// What a call needs besides the station's people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// The station alone: two people to merge or tell apart, a visit, a
    /// milestone, a backup, a computer it sends its bundles to.
    Plain,
    /// And a bundle from a laptop it approved before.
    FromApproved,
    /// And a bundle from a laptop never seen here.
    FromStranger,
    /// And a plaintext, unsigned bundle (an older version's) from a laptop
    /// never seen here.
    Unsigned,
    /// And the two people merged.
    Merged,
    /// And a conflict to settle: a field changed on two laptops.
    Conflict,
}

/// The station under test and what the calls act on.
struct Fx {
    station: Machine,
    /// Two people to merge or tell apart; `a` has a visit and a milestone.
    a: Uuid,
    b: Uuid,
    visit: Uuid,
    backup: String,
    /// The laptop the bundle comes from.
    laptop: Machine,
    bundle: Vec<u8>,
    conflict: Option<String>,
    /// Machines that must live as long as the fixture (their keys).
    _others: Vec<Machine>,
}

fn person(first: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut p = json!({
        "first_name": first, "last_name": "Ouazzani", "sex": "F", "birth_date": "1988-04-12",
        "region": "04", "province": "Kénitra", "commune": "Mnasra", "phase": "returned", "consent": true
    });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn days_ago(n: u64) -> String {
    (wafira_core::Store::today() - chrono::Days::new(n)).to_string()
}

/// Builds the databases of `setup`, every write made as the key holder.
fn build(setup: Setup) -> Fx {
    let mut laptop = machine("Portable Larache");
    let mut station = machine("Station Rabat");
    let s = &mut station.store;
    let a = s.add_beneficiary_json(person("Khadija", json!({ "cin": "BK123456", "phone": "0612345678" }))).unwrap().id;
    let b = s.add_beneficiary_json(person("Khadija", json!({}))).unwrap().id;
    let visit = s
        .add_visit_json(json!({ "beneficiary_id": a, "date": days_ago(3), "kind": "individual_coaching" }))
        .unwrap()
        .id;
    s.add_milestone_json(json!({ "beneficiary_id": a, "kind": "business_plan", "date": days_ago(2) })).unwrap();
    let backup = backup::take(s, "before-import").unwrap().name;
    trust_registered(s);
    let mut others = Vec::new();
    let mut conflict = None;
    let bundle = match setup {
        Setup::Plain => Vec::new(),
        Setup::FromApproved => {
            laptop.register(json!({ "first_name": "Zoubida" }));
            station.import(&laptop.export());
            laptop.register(json!({ "first_name": "Naima" }));
            laptop.export()
        }
        Setup::FromStranger => {
            laptop.register(json!({ "first_name": "Zoubida" }));
            laptop.export()
        }
        Setup::Unsigned => {
            laptop.register(json!({ "first_name": "Zoubida" }));
            laptop.store.build_unprotected_bundle(false).unwrap().0
        }
        Setup::Merged => {
            station.store.merge_persons(a, b).unwrap();
            Vec::new()
        }
        Setup::Conflict => {
            let mut other = machine("Portable Kénitra");
            let fatima = laptop.register(json!({ "phone": "0612345678" }));
            station.import(&laptop.export());
            other.import(&station.export());
            laptop.edit(fatima, json!({ "phone": "0611111111" }));
            other.edit(fatima, json!({ "phone": "0622222222" }));
            station.import(&laptop.export());
            station.import(&other.export());
            let open = station.store.conflicts(false).unwrap();
            assert_eq!(open.len(), 1, "one conflict to settle");
            conflict = Some(open[0].id.clone());
            others.push(other);
            Vec::new()
        }
    };
    Fx { station, a, b, visit, backup, laptop, bundle, conflict, _others: others }
}

impl Fx {
    /// A path for a file a call writes, beside the database.
    fn out(&self, name: &str) -> PathBuf {
        self.station.path.with_file_name(name)
    }

    /// Imports the fixture's bundle with `options`, failing as the file was
    /// refused.
    fn import(&mut self, options: ImportOptions) -> Result<(), Error> {
        let files = vec![("bundle.wafira".to_string(), self.bundle.clone())];
        let mut report = self.station.store.import_bundles_with(files, options)?;
        match report.files.remove(0).error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

// --- The calls behind each action ---------------------------------------

type Run = fn(&mut Fx) -> Result<(), Error>;

/// One store method (or core function) a person's action calls.
struct Call {
    what: &'static str,
    /// The window's commands that reach it (src-tauri/src/commands).
    commands: &'static [&'static str],
    setup: Setup,
    run: Run,
    /// An import keeps a copy of the database before it reads a bundle's
    /// source, as it does before any refusal: the copy is of the database
    /// as it was.
    copies_first: bool,
}

fn call(what: &'static str, commands: &'static [&'static str], setup: Setup, run: Run) -> Call {
    Call { what, commands, setup, run, copies_first: false }
}

fn import_call(what: &'static str, setup: Setup, run: Run) -> Call {
    Call { what, commands: &["import_bundles", "import_bundle_files"], setup, run, copies_first: true }
}

use Setup::*;

/// Actions whose store method is still being written: none may stay here
/// once it exists.
const PENDING: &[(Action, &str)] = &[];

/// The calls behind `action`. Exhaustive: a new action needs its case.
fn calls(action: Action) -> Vec<Call> {
    match action {
        Action::Read => vec![
            call("Store::beneficiary", &[], Plain, |f| f.station.store.beneficiary(f.a).map(drop)),
            call("Store::records", &["records"], Plain, |f| {
                let q = wafira_core::store::records::RecordQuery { beneficiary_id: Some(f.a), ..Default::default() };
                f.station.store.records(Entity::Iga, &q).map(drop)
            }),
            call("Store::partners", &["partners"], Plain, |f| f.station.store.partners().map(drop)),
            call("Store::list_beneficiaries", &["list_beneficiaries"], Plain, |f| {
                f.station.store.list_beneficiaries(&ListQuery::default()).map(drop)
            }),
            call("Store::profile", &["profile"], Plain, |f| f.station.store.profile(f.a).map(drop)),
            call("Store::followups", &["followups"], Plain, |f| f.station.store.followups(60).map(drop)),
            call("Store::possible_duplicates", &["possible_duplicates"], Plain, |f| {
                let input = serde_json::from_value(person("Khadija", json!({}))).unwrap();
                f.station.store.possible_duplicates(&input).map(drop)
            }),
            call("Store::indicators", &[], Plain, |f| f.station.store.indicators(&Filters::default()).map(drop)),
            call("Store::indicators_json", &["indicators"], Plain, |f| {
                f.station.store.indicators_json(json!({})).map(drop)
            }),
            call("Store::targets", &["list_targets"], Plain, |f| f.station.store.targets().map(drop)),
            call("Store::sync_status", &["sync_status"], Plain, |f| f.station.store.sync_status().map(drop)),
            call("Store::devices", &[], Plain, |f| f.station.store.devices().map(drop)),
            call("Store::backups", &[], Plain, |f| f.station.store.backups().map(drop)),
            call("Store::last_export", &[], Plain, |f| f.station.store.last_export().map(drop)),
            call("Store::conflicts", &["list_conflicts"], Plain, |f| f.station.store.conflicts(true).map(drop)),
            call("Store::duplicates", &["list_duplicates"], Plain, |f| f.station.store.duplicates(true).map(drop)),
            call("Store::merge_preview", &["merge_preview"], Plain, |f| {
                f.station.store.merge_preview(f.a, f.b).map(drop)
            }),
            call("Store::keys", &["keys_show"], Plain, |f| f.station.store.keys().map(drop)),
            call("Store::trusted_recipients", &[], Plain, |f| f.station.store.trusted_recipients().map(drop)),
            call("Store::write_recipient_file", &["export_recipient"], Plain, |f| {
                let out = f.out("station-public-key.txt");
                f.station.store.write_recipient_file(&out).map(drop)
            }),
            call("Store::inspect_bundle", &[], FromApproved, |f| f.station.store.inspect_bundle(&f.bundle).map(drop)),
            call("Store::dismiss_identity_notice", &["dismiss_identity_notice"], Plain, |f| {
                f.station.store.dismiss_identity_notice()
            }),
        ],
        Action::Record => vec![
            call("Store::add_record (an IGA)", &["add_record"], Plain, |f| {
                let iga = json!({ "beneficiary_id": f.a, "sector": "commerce", "form": "individual", "legal_status": "informal" });
                f.station.store.add_record(Entity::Iga, iga).map(drop)
            }),
            call("Store::update_record", &["update_record"], Plain, |f| {
                let season = json!({ "beneficiary_id": f.a, "year": 2025, "country": "ES" });
                let doc = f.station.store.add_record(Entity::Season, season)?;
                let id = Uuid::parse_str(doc["id"].as_str().unwrap_or_default()).unwrap_or_default();
                f.station.store.update_record(Entity::Season, id, json!({ "year": 2024 })).map(drop)
            }),
            call("Store::void_record / restore_record", &["void_record", "restore_record"], Plain, |f| {
                let season = json!({ "beneficiary_id": f.a, "year": 2025, "country": "FR" });
                let doc = f.station.store.add_record(Entity::Season, season)?;
                let id = Uuid::parse_str(doc["id"].as_str().unwrap_or_default()).unwrap_or_default();
                f.station.store.void_record(Entity::Season, id, Some("typed twice".into()))?;
                f.station.store.restore_record(Entity::Season, id).map(drop)
            }),
            call("Store::take_attendance", &["take_attendance"], Plain, |f| {
                let session = json!({ "kind": "pre_departure", "date": "2026-01-10" });
                let doc = f.station.store.add_record(Entity::Session, session)?;
                let id = Uuid::parse_str(doc["id"].as_str().unwrap_or_default()).unwrap_or_default();
                f.station.store.take_attendance(id, &[f.a]).map(drop)
            }),
            call("Store::add_beneficiary_json", &["add_beneficiary"], Plain, |f| {
                f.station.store.add_beneficiary_json(person("Naima", json!({}))).map(drop)
            }),
            call("Store::check_new_beneficiary", &["check_beneficiary"], Plain, |f| {
                f.station.store.check_new_beneficiary(person("Naima", json!({})))
            }),
            call("Store::add_beneficiary", &[], Plain, |f| {
                let input = serde_json::from_value(person("Naima", json!({}))).unwrap();
                f.station.store.add_beneficiary(&input).map(drop)
            }),
            call("Store::update_beneficiary", &["update_beneficiary"], Plain, |f| {
                f.station.store.update_beneficiary(f.a, json!({ "phone": "0698765432" })).map(drop)
            }),
            call("Store::archive_beneficiary", &["archive_beneficiary"], Plain, |f| {
                f.station.store.archive_beneficiary(f.b, Some("registered twice".into())).map(drop)
            }),
            call("Store::add_visit_json", &["add_visit"], Plain, |f| {
                let v = json!({ "beneficiary_id": f.a, "date": days_ago(1), "kind": "follow_up" });
                f.station.store.add_visit_json(v).map(drop)
            }),
            call("Store::add_visit", &[], Plain, |f| {
                let v = json!({ "beneficiary_id": f.a, "date": days_ago(1), "kind": "follow_up" });
                f.station.store.add_visit(&serde_json::from_value(v).unwrap()).map(drop)
            }),
            call("Store::add_milestone_json", &["add_milestone"], Plain, |f| {
                let m = json!({ "beneficiary_id": f.a, "kind": "training_completed", "date": days_ago(1) });
                f.station.store.add_milestone_json(m).map(drop)
            }),
            call("Store::add_milestone", &[], Plain, |f| {
                let m = json!({ "beneficiary_id": f.a, "kind": "training_completed", "date": days_ago(1) });
                f.station.store.add_milestone(&serde_json::from_value(m).unwrap()).map(drop)
            }),
            call("Store::archive_record", &["archive_record"], Plain, |f| {
                f.station.store.archive_record(Entity::Visit, f.visit)
            }),
            call("Store::update_visit", &["update_visit"], Plain, |f| {
                f.station.store.update_visit(f.visit, json!({ "notes": "corrigé" })).map(drop)
            }),
            call("Store::void_visit", &["void_visit"], Plain, |f| {
                f.station.store.void_visit(f.visit, Some("entered twice".into())).map(drop)
            }),
            call("Store::update_milestone", &["update_milestone"], Plain, |f| {
                let m = json!({ "beneficiary_id": f.a, "kind": "iga_stopped", "date": days_ago(2), "reason": "r" });
                let m = f.station.store.add_milestone_json(m)?;
                f.station.store.update_milestone(m.id, json!({ "date": days_ago(1) })).map(drop)
            }),
            call("Store::void_milestone", &["void_milestone"], Plain, |f| {
                let m = json!({ "beneficiary_id": f.a, "kind": "iga_stopped", "date": days_ago(2), "reason": "r" });
                let m = f.station.store.add_milestone_json(m)?;
                f.station.store.void_milestone(m.id, Some("wrong person".into())).map(drop)
            }),
            call("Store::restore_beneficiary", &["restore_beneficiary"], Plain, |f| {
                f.station.store.archive_beneficiary(f.b, Some("registered twice".into()))?;
                f.station.store.restore_beneficiary(f.b).map(drop)
            }),
            call("Store::rename_coordinator", &["rename_coordinator"], Plain, |f| {
                f.station.store.rename_coordinator("Houda").map(drop)
            }),
            call("Store::set_followup_days", &["set_followup_days"], Plain, |f| f.station.store.set_followup_days(30)),
            call("demo::generate", &["load_demo", "open_practice", "leave_practice"], Plain, |f| {
                // Made-up people go into the practice database beside it.
                let mut practice = f.station.store.open_practice()?;
                demo::generate(&mut practice, 2, 1).map(drop)
            }),
        ],
        Action::PrintFieldSheet => vec![
            call("report::print (profile sheet)", &["print_report"], Plain, |f| {
                let out = f.out("sheet.pdf");
                report::print(&f.station.store, &PrintRequest::Profile { id: f.a, lang: None }, Some(&out)).map(drop)
            }),
            call("report::print (follow-up list)", &["print_report"], Plain, |f| {
                let out = f.out("followups.pdf");
                let request = PrintRequest::Followups {
                    filters: FiltersInput::default(),
                    place: Default::default(),
                    days: None,
                    lang: None,
                };
                report::print(&f.station.store, &request, Some(&out)).map(drop)
            }),
        ],
        Action::ExportBundle => vec![
            call("Store::export_bundle_to_folder", &["export_bundle"], Plain, |f| {
                f.station.store.export_bundle_to_folder(false).map(drop)
            }),
            call("Store::export_bundle_to", &[], Plain, |f| {
                let out = f.out("station.wafira");
                f.station.store.export_bundle_to(&out, true).map(drop)
            }),
            call("Store::build_bundle", &[], Plain, |f| f.station.store.build_bundle(false).map(drop)),
            call("Store::build_unprotected_bundle", &[], Plain, |f| {
                f.station.store.build_unprotected_bundle(false).map(drop)
            }),
        ],
        Action::ImportApproved => vec![
            import_call("Store::import_bundle", FromApproved, |f| {
                f.station.store.import_bundle(f.bundle.clone()).map(drop)
            }),
            import_call("Store::import_bundles", FromApproved, |f| {
                let files = vec![(String::new(), f.bundle.clone())];
                f.station.store.import_bundles(files, false).map(drop)
            }),
            import_call("Store::import_bundles_with (preview)", FromApproved, |f| {
                f.import(ImportOptions { dry_run: true, ..ImportOptions::default() })
            }),
            // Asking to approve a computer already approved approves nothing.
            import_call("Store::import_bundles_with (approve_new, known computer)", FromApproved, |f| {
                f.import(ImportOptions { approve_new: true, ..ImportOptions::default() })
            }),
        ],
        Action::EnrolDevice => vec![
            import_call("Store::import_bundles_with (approve_new, computer never seen)", FromStranger, |f| {
                f.import(ImportOptions { approve_new: true, ..ImportOptions::default() })
            }),
            import_call("Store::import_bundles_with (preview, approve_new)", FromStranger, |f| {
                f.import(ImportOptions { dry_run: true, approve_new: true, ..ImportOptions::default() })
            }),
            import_call("Store::import_bundle (unsigned, of an older version)", Unsigned, |f| {
                f.station.store.import_bundle(f.bundle.clone()).map(drop)
            }),
            call("Store::approve_device", &["approve_device"], FromStranger, |f| {
                let laptop = f.laptop.store.device().unwrap().id;
                let fingerprint = f.laptop.store.keys().unwrap().fingerprint;
                f.station.store.approve_device(laptop, Some(&fingerprint), false).map(drop)
            }),
            call("Store::approve_device (re-enrol)", &["approve_device"], FromApproved, |f| {
                let laptop = f.laptop.store.device().unwrap().id;
                f.station.store.approve_device(laptop, None, true).map(drop)
            }),
            call("Store::trust_recipient", &["trust_recipient"], Plain, |f| {
                let recipient = age::x25519::Identity::generate().to_public().to_string();
                f.station.store.trust_recipient("Station Tanger", &recipient).map(drop)
            }),
            call("Store::read_recipient_file", &["read_recipient_file"], Plain, |f| {
                // The laptop's key file, on a stick beside the station.
                let file = f.laptop.path.with_file_name("laptop-public-key.txt");
                f.laptop.store.write_recipient_file(&file)?;
                f.station.store.read_recipient_file(&file).map(drop)
            }),
            call("Store::trust_recipient_file", &[], Plain, |f| {
                let file = f.laptop.path.with_file_name("laptop-public-key.txt");
                f.laptop.store.write_recipient_file(&file)?;
                f.station.store.trust_recipient_file(None, &file).map(drop)
            }),
            call("Store::untrust_recipient", &[], Plain, |f| {
                let recipient = f.laptop.store.keys().unwrap().recipient;
                f.station.store.untrust_recipient(&recipient).map(drop)
            }),
        ],
        Action::Settle => vec![
            call("Store::resolve_conflict", &["resolve_conflict"], Conflict, |f| {
                let id = f.conflict.clone().unwrap();
                f.station.store.resolve_conflict(&id, Choice::Value(json!("0633333333"))).map(drop)
            }),
            call("Store::merge_persons", &["merge_persons"], Plain, |f| {
                f.station.store.merge_persons(f.a, f.b).map(drop)
            }),
            call("Store::merge_persons_taking", &["merge_persons"], Plain, |f| {
                f.station.store.merge_persons_taking(f.a, f.b, &["phone".to_string()], true).map(drop)
            }),
            call("Store::unmerge_persons", &["unmerge_persons"], Merged, |f| {
                f.station.store.unmerge_persons(f.a, f.b).map(drop)
            }),
            call("Store::dismiss_duplicate", &["dismiss_duplicate"], Plain, |f| {
                f.station.store.dismiss_duplicate(f.a, f.b).map(drop)
            }),
        ],
        Action::Restore => vec![call("Store::restore_backup", &["restore_backup"], Plain, |f| {
            let name = f.backup.clone();
            f.station.store.restore_backup(&name).map(drop)
        })],
        Action::Erase => vec![call("Store::erase_beneficiary", &["erase_beneficiary"], Plain, |f| {
            f.station.store.erase_beneficiary(f.b, "consentement retiré").map(drop)
        })],
        Action::ManageReference => vec![call("Store::add_record (a partner)", &["add_partner"], Plain, |f| {
            f.station
                .store
                .add_record(Entity::Partner, json!({ "name": "Association Tiwizi", "kind": "ngo" }))
                .map(drop)
        })],
        Action::SetTargets => vec![call("Store::set_target_json", &["set_target"], Plain, |f| {
            f.station.store.set_target_json(json!({ "indicator": "iga_launched", "target": "1200" })).map(drop)
        })],
        Action::PrintReport => vec![
            call("report::print (summary)", &["print_report"], Plain, |f| {
                let out = f.out("summary.pdf");
                let request = PrintRequest::Summary {
                    filters: FiltersInput::default(),
                    lang: Some("ar".into()),
                    narrative: None,
                };
                report::print(&f.station.store, &request, Some(&out)).map(drop)
            }),
            call("report::figures (wafira report indicators)", &[], Plain, |f| {
                report::figures(&f.station.store, &Filters::default()).map(drop)
            }),
        ],
        Action::ExportData => vec![
            call("report::export (CSV)", &["export_data"], Plain, |f| {
                let out = f.out("csv");
                report::export(&f.station.store, Format::Csv, false, Some(&out)).map(drop)
            }),
            call("report::export (XLSX, pseudonymised)", &["export_data"], Plain, |f| {
                let out = f.out("records.xlsx");
                report::export(&f.station.store, Format::Xlsx, true, Some(&out)).map(drop)
            }),
        ],
        Action::ManageAccounts => vec![
            call("Store::write_identity_file", &[], Plain, |f| {
                let out = f.out("identity.txt");
                f.station.store.write_identity_file(&out)
            }),
            call("Store::own_keys", &[], Plain, |f| f.station.store.own_keys().map(drop)),
            call("Store::put_account", &["put_account"], Plain, |f| {
                f.station.store.put_account("Samira", Role::Coordinator, "une phrase assez longue").map(drop)
            }),
            call("Store::accounts", &["list_accounts"], Plain, |f| f.station.store.accounts().map(drop)),
            call("Store::set_lock_minutes", &["set_lock_minutes"], Plain, |f| f.station.store.set_lock_minutes(5)),
            call("Store::audit_list_json", &["audit_list"], Plain, |f| {
                f.station.store.audit_list_json(json!({})).map(drop)
            }),
            call("Store::audit_facets", &["audit_facets"], Plain, |f| f.station.store.audit_facets().map(drop)),
            call("Store::audit_verify", &["audit_verify"], Plain, |f| f.station.store.audit_verify().map(drop)),
            call("Store::audit_export_to_folder", &["audit_export"], Plain, |f| {
                f.station.store.audit_export_to_folder().map(drop)
            }),
            call("Store::audit_export_json (filtered)", &["audit_export"], Plain, |f| {
                let out = f.out("audit.csv");
                f.station.store.audit_export_json(&out, json!({ "action": "person.add" })).map(drop)
            }),
        ],
    }
}

/// The window's commands that need no role: the page's own texts, what
/// the window needs to start, the set-up of a new database (once, before
/// any account exists), signing in, locking, changing one's own passphrase;
/// where a file may be saved (names and drives, no data), opening or
/// showing a file the app itself saved, the bundle the app was opened with.
const UNGUARDED_COMMANDS: &[&str] = &[
    "locale",
    "record_kinds",
    "app_info",
    "session_status",
    "setup_database",
    "unlock",
    "unlock_with_recovery_key",
    "lock",
    "touch",
    "change_passphrase",
    "save_places",
    "removable_drives",
    "open_saved",
    "reveal_saved",
    "take_pending_bundle",
    // scripts/bench-start's hook: prints timings under WAFIRA_REPORT_READY=1.
    "ready",
    // Stops long work the window started (an import, a PDF, an export),
    // whose own command checked the role: stopping it writes nothing.
    "cancel_job",
];

// --- Checks --------------------------------------------------------------

fn acting_as(store: &mut wafira_core::Store, role: Role) {
    store.set_actor(Actor { name: format!("a {role}"), role });
}

/// Every file under `dir`, but the copies an import takes first when
/// `with_copies` is false.
fn files(dir: &Path, with_copies: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = p.strip_prefix(dir).unwrap().display().to_string();
            if !with_copies && name.starts_with("backups") {
                continue;
            }
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.insert(name);
        }
    }
    out
}

/// Runs `call` as `role` on `fx`: allowed and done when the role may do
/// `action`; otherwise refused naming the role needed, and nothing
/// changed.
fn check(action: Action, call: &Call, role: Role, fx: &mut Fx) {
    acting_as(&mut fx.station.store, role);
    let dir = fx.station.path.parent().unwrap().to_path_buf();
    let before = (fx.station.dump(), files(&dir, !call.copies_first));
    let result = (call.run)(fx);
    let what = format!("{} as {role} ({})", call.what, action.as_str());
    if role.may(action) {
        if let Err(e) = result {
            panic!("{what}: allowed, but failed: {e}");
        }
        return;
    }
    match result {
        Err(e @ Error::Forbidden { .. }) => {
            let Error::Forbidden { action: refused, needs, role: as_role } = e else { unreachable!() };
            assert_eq!((refused, needs, as_role), (action.as_str(), action.needs(), role), "{what}");
            assert!(e.to_string().contains(&format!("needs the {needs} role")), "{what}: {e}");
        }
        other => panic!("{what}: expected a refusal naming the {} role, got {other:?}", action.needs()),
    }
    let after = (fx.station.dump(), files(&dir, !call.copies_first));
    assert!(before.0 == after.0, "{what}: a refusal left the database as it was");
    assert_eq!(before.1, after.1, "{what}: a refusal wrote no file");
}

#[test]
fn every_action_is_allowed_to_the_roles_the_table_gives_it_and_refused_to_the_others() {
    let mut checked = 0;
    for action in Action::ALL {
        let calls = calls(action);
        let pending = PENDING.iter().any(|(a, _)| *a == action);
        assert_eq!(calls.is_empty(), pending, "{}: the calls behind it are in this test's table", action.as_str());
        for call in &calls {
            // Roles come least first, so those refused come first, on one
            // database that each refusal leaves as it was; each role allowed
            // acts on a database of its own.
            let mut fx: Option<Fx> = None;
            for role in Role::ALL {
                check(action, call, role, fx.get_or_insert_with(|| build(call.setup)));
                if role.may(action) {
                    fx = None;
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 150, "{checked} calls checked");
}

#[test]
fn a_refusal_names_the_role_it_needs_for_the_window_and_the_command_line() {
    let mut fx = build(Plain);
    acting_as(&mut fx.station.store, Role::Coordinator);
    let err = fx.station.store.merge_persons(fx.a, fx.b).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let message = err.to_string();
    assert!(message.contains("assistant") && message.contains("coordinator"), "{message}");
    let sent = serde_json::to_value(&err).unwrap();
    assert_eq!(sent["code"], "forbidden");
    assert_eq!(sent["details"], json!({ "action": "settle", "needs": "assistant", "role": "coordinator" }));
}

#[test]
fn a_coordinator_imports_the_stations_bundles_but_approves_no_new_laptop() {
    // A bundle from a computer approved here: taken.
    let mut fx = build(FromApproved);
    acting_as(&mut fx.station.store, Role::Coordinator);
    let summary = fx.station.store.import_bundle(fx.bundle.clone()).unwrap();
    assert_eq!(summary.added.beneficiaries, 1);

    // From a computer never seen: refused as to anyone, naming it, until
    // someone approves it…
    let mut fx = build(FromStranger);
    acting_as(&mut fx.station.store, Role::Coordinator);
    let before = fx.station.dump();
    let err = fx.station.store.import_bundle(fx.bundle.clone()).unwrap_err();
    assert_eq!(err.code(), "bundle_unknown_device", "{err}");
    // …which a coordinator may not do, in one step or two.
    let err = fx.import(ImportOptions { approve_new: true, ..ImportOptions::default() }).unwrap_err();
    assert!(matches!(err, Error::Forbidden { needs: Role::Assistant, .. }), "{err}");
    let laptop = fx.laptop.store.device().unwrap().id;
    let err = fx.station.store.approve_device(laptop, None, false).unwrap_err();
    assert!(matches!(err, Error::Forbidden { needs: Role::Assistant, .. }), "{err}");
    assert!(fx.station.dump() == before, "nothing changed");

    // An assistant approves it on import.
    acting_as(&mut fx.station.store, Role::Assistant);
    fx.import(ImportOptions { approve_new: true, ..ImportOptions::default() }).unwrap();
    // And from then on the coordinator takes its bundles.
    fx.laptop.register(json!({ "first_name": "Naima" }));
    let next = fx.laptop.export();
    acting_as(&mut fx.station.store, Role::Coordinator);
    assert_eq!(fx.station.store.import_bundle(next).unwrap().added.beneficiaries, 1);
}

// --- The table in the docs, the commands, the words ---------------------

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The table of docs/access.md whose header row begins with `first`: its
/// header, then its rows, each a list of cells.
fn table(doc: &str, first: &str) -> Vec<Vec<String>> {
    let cells =
        |l: &str| -> Vec<String> { l.trim().trim_matches('|').split('|').map(|c| c.trim().to_string()).collect() };
    doc.lines()
        .skip_while(|l| !l.trim_start().starts_with('|') || cells(l)[0] != first)
        .take_while(|l| l.trim_start().starts_with('|'))
        .filter(|l| !l.contains("---"))
        .map(cells)
        .collect()
}

#[test]
fn the_table_in_the_docs_is_the_one_the_core_checks() {
    let doc = std::fs::read_to_string(root().join("docs/access.md")).unwrap();
    let rows = table(&doc, "Action");
    let (header, rows) = rows.split_first().expect("docs/access.md has a table whose header begins with Action");
    let roles: Vec<String> = Role::ALL.iter().map(|r| r.as_str().to_string()).collect();
    let shown: Vec<String> = header[2..2 + roles.len()].iter().map(|c| c.to_lowercase()).collect();
    assert_eq!(shown, roles, "the role columns, in order");
    let want: Vec<Vec<String>> = Action::ALL
        .iter()
        .map(|a| {
            let marks = Role::ALL.iter().map(|r| if r.may(*a) { "✓" } else { "—" }.to_string());
            std::iter::once(format!("`{}`", a.as_str())).chain(marks).collect()
        })
        .collect();
    let got: Vec<Vec<String>> = rows
        .iter()
        .map(|r| std::iter::once(r[0].clone()).chain(r[2..2 + roles.len()].iter().cloned()).collect())
        .collect();
    assert_eq!(got, want, "docs/access.md: one row per action, in the order of Action::ALL, marked as Role::may");
}

/// The commands `tauri::generate_handler!` lists.
fn window_commands() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("src-tauri/src/commands/mod.rs")).unwrap();
    let list = text.split("generate_handler![").nth(1).and_then(|t| t.split(']').next()).expect("the handler");
    list.split(',').map(|c| c.trim().rsplit("::").next().unwrap_or("").to_string()).filter(|c| !c.is_empty()).collect()
}

#[test]
fn every_command_of_the_window_is_checked_here_or_needs_no_role() {
    let commands = window_commands();
    assert!(commands.contains("merge_persons") && commands.len() > 20, "{commands:?}");
    let mut named: BTreeSet<String> = UNGUARDED_COMMANDS.iter().map(|c| c.to_string()).collect();
    for action in Action::ALL {
        for call in calls(action) {
            named.extend(call.commands.iter().map(|c| c.to_string()));
        }
    }
    let unchecked: Vec<_> = commands.difference(&named).collect();
    assert!(unchecked.is_empty(), "commands with no case in crates/core/tests/roles.rs: {unchecked:?}");
    let stale: Vec<_> = named.difference(&commands).collect();
    assert!(stale.is_empty(), "commands named here that the window does not have: {stale:?}");
}

#[test]
fn every_role_is_named_in_french_arabic_and_english() {
    for lang in ["fr", "ar", "en"] {
        let path = root().join(format!("ui/locales/{lang}/common.json"));
        let words: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for role in Role::ALL {
            assert!(words.contains_key(&format!("role.{role}")), "{lang}: no name for the role {role}");
        }
        let refusal = words.get("error.forbidden").and_then(|v| v.as_str()).unwrap_or_default();
        assert!(refusal.contains("{needs}"), "{lang}: error.forbidden names the role needed: {refusal:?}");
    }
}
