//! The Journal and the erasure of a person in the real window (issue 9):
//! the log narrowed by machine, account and action, its count and table
//! agreeing with the database, and those very lines saved through the one
//! Save-as flow (on the stick in one click), owner-only; a person's data
//! erased from her profile only with a reason, her name then gone from the
//! list and her profile saying so.
//!
//! The stick is a folder handed to the app as `WAFIRA_REMOVABLE_DRIVES`
//! (WebDriver cannot drive the system's dialogs), as in files.rs.

use crate::fixtures::{language, open_profile, stick_env};
use crate::harness::{open_store, App, ACCOUNT};
use serde_json::json;
use std::path::PathBuf;
use uuid::Uuid;
use wafira_core::access::{Actor, Role};
use wafira_core::sync::ImportOptions;

fn person(first: &str, last: &str, cin: &str) -> serde_json::Value {
    json!({ "first_name": first, "last_name": last, "sex": "F", "birth_date": "1990-03-14",
            "region": "04", "cin": cin, "consent": true })
}

/// Rows of the Journal's table now.
async fn rows(app: &App) -> Vec<String> {
    let v = app
        .client
        .execute("return [...document.querySelectorAll('#audit-table tbody tr')].map((r) => r.textContent);", vec![])
        .await
        .expect("the table's rows");
    serde_json::from_value(v).expect("a list of texts")
}

/// Waits until the table shows `n` lines and the count says so.
async fn shows(app: &App, what: &str, n: i64) {
    let said = if n == 1 { "1 ligne".to_string() } else { format!("{n} lignes") };
    app.wait_until(
        what,
        &format!(
            "document.querySelectorAll('#audit-table tbody tr').length === {n}
             && document.querySelector('#audit-count').textContent === '{said}'"
        ),
    )
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_journal_narrows_to_a_machine_an_account_and_an_action_and_saves_those_lines() {
    let files = tempfile::tempdir().expect("temp dir");
    let stick = files.path().join("KINGSTON");
    std::fs::create_dir(&stick).expect("the stick");
    let laptop_db = files.path().join("agadir.sqlite");
    let mut ids = (String::new(), String::new());
    let app = App::launch_opts(stick_env(&stick), |db| {
        let mut station = open_store(db);
        station.init_device("Station Rabat", "Samira Test").expect("init station");
        station.add_beneficiary_json(person("Amina", "Zerhouni", "BK111111")).expect("register");
        // Amal, a coordinator with her own account, registers two people and a visit.
        station.put_account("Amal", Role::Coordinator, "une phrase assez longue").expect("account");
        station.set_actor(Actor { name: "Amal".into(), role: Role::Coordinator });
        let badia = station.add_beneficiary_json(person("Badia", "Alaoui", "BK222222")).expect("register").id;
        station.add_beneficiary_json(person("Chaima", "Bennani", "BK333333")).expect("register");
        station
            .add_visit_json(json!({ "beneficiary_id": badia.to_string(), "date": "2026-01-10", "kind": "follow_up" }))
            .expect("visit");
        station.set_actor(Actor { name: ACCOUNT.into(), role: Role::Manager });
        // A laptop's bundle brings its own lines of the log.
        let key = wafira_core::accounts::DbKey::from_bytes([7; 32]);
        let mut laptop = wafira_core::Store::open_with_key(&laptop_db, &key).expect("laptop");
        laptop.init_device("Portable Agadir", "Houda").expect("init laptop");
        laptop.trust_recipient("Station Rabat", &station.keys().expect("keys").recipient).expect("trust");
        laptop.add_beneficiary_json(person("Dounia", "Idrissi", "BK444444")).expect("register");
        let bundle = files.path().join("agadir-1.wafira");
        laptop.export_bundle_to(&bundle, false).expect("export");
        let approving = ImportOptions { approve_new: true, ..ImportOptions::default() };
        let bytes = std::fs::read(&bundle).expect("bundle");
        assert!(!station.import_bundles_with(vec![(String::new(), bytes)], approving).expect("import").any_refused());
        ids = (station.device().expect("station").id.to_string(), laptop.device().expect("laptop").id.to_string());
    })
    .await;
    let (station, laptop) = ids;
    language(&app, "fr").await;
    app.go("#/audit").await;
    let all = app.count("SELECT count(*) FROM audit");
    app.wait_until("the whole log", &format!("document.querySelector('#audit-count').textContent === '{all} lignes'"))
        .await;
    let laptops = app.count(&format!("SELECT count(*) FROM audit WHERE machine = '{laptop}'"));
    assert!(laptops > 0 && laptops < all, "the laptop's lines came with its bundle: {laptops} of {all}");

    // The laptop's lines alone.
    app.set_value("#audit-machine", &laptop).await;
    shows(&app, "the laptop's lines", laptops).await;
    assert!(rows(&app).await.iter().all(|r| r.contains("Portable Agadir")), "{:?}", rows(&app).await);

    // The station's, then Amal's there, then what she registered.
    app.set_value("#audit-machine", &station).await;
    let stations = app.count(&format!("SELECT count(*) FROM audit WHERE machine = '{station}'"));
    shows(&app, "the station's lines", stations).await;
    app.set_value("#audit-who", "Amal").await;
    let amal = app.count(&format!("SELECT count(*) FROM audit WHERE machine = '{station}' AND who = 'Amal'"));
    assert_eq!(amal, 3, "two people and a visit");
    shows(&app, "Amal's lines", amal).await;
    app.set_value("#audit-action", "person.add").await;
    shows(&app, "the people Amal registered", 2).await;
    let shown = rows(&app).await;
    assert!(shown.iter().all(|r| r.contains("Amal") && r.contains("Station Rabat")), "{shown:?}");

    // Saved: exactly those lines, for the owner only.
    app.wait_until("the one-click USB button", "!document.querySelector('#audit-export-usb').hidden").await;
    app.click("#audit-export-usb").await;
    app.wait_for("#audit-export-result .saved").await;
    let saved = app.text("#audit-export-result .saved").await;
    assert!(saved.contains("journal de 2 lignes") && saved.contains("prêt"), "{saved}");
    let written: Vec<PathBuf> = std::fs::read_dir(&stick).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let csv = std::fs::read_to_string(&written[0]).expect("the CSV");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "a header and the two lines shown:\n{csv}");
    for line in &lines[1..] {
        assert!(line.starts_with(&station) && line.contains(",Amal,") && line.contains(",person.add,"), "{line}");
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&written[0]).unwrap().permissions().mode() & 0o777, 0o600);
    // The export is in the log, naming what it held.
    let detail: String = app
        .database()
        .query_row("SELECT detail FROM audit WHERE action = 'audit.export'", [], |r| r.get(0))
        .expect("the export's line");
    assert!(detail.contains("entries=2") && detail.contains("who=Amal"), "{detail}");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn erasing_a_person_needs_a_reason_then_her_name_leaves_the_list_and_her_profile_says_so() {
    let mut amina = Uuid::nil();
    let app = App::launch_with(|db| {
        let mut store = open_store(db);
        store.init_device("Station Rabat", "Samira Test").expect("init");
        amina = store.add_beneficiary_json(person("Amina", "Zerhouni", "BK111111")).expect("register").id;
        store.add_beneficiary_json(person("Badia", "Alaoui", "BK222222")).expect("register");
    })
    .await;
    language(&app, "fr").await;
    let erased = format!("SELECT count(*) FROM erasure WHERE id = '{amina}'");
    let named = "SELECT count(*) FROM beneficiary WHERE last_name = 'Zerhouni' OR cin = 'BK111111'";
    open_profile(&app, amina).await;
    app.click("#erase").await;
    app.wait_for("#panel #erase-final").await;
    assert!(app.text("#erase-final").await.len() > 10, "the panel says it cannot be undone");

    // No reason: said in the panel, beside its field; nothing erased.
    app.click("#erase-form-save").await;
    app.wait_until("the reason asked for", "document.querySelector('#err-reason').textContent.length > 0").await;
    assert_eq!(app.text("#err-reason").await, "obligatoire");
    assert!(app.wait_for("#panel").await.is_displayed().await.unwrap_or(false), "the panel stays open");
    assert_eq!((app.count(&erased), app.count(named)), (0, 1), "nothing erased");

    app.type_into("#f-reason", "Retrait du consentement, demande du 12/03").await;
    app.click("#erase-form-save").await;
    app.wait_for("#erased-note").await;
    let note = app.text("#erased-note").await;
    assert!(note.contains("Données effacées") && note.contains("Retrait du consentement"), "{note}");
    assert!(!app.text("section.profile").await.contains("Zerhouni"), "her name is gone from her profile");
    assert_eq!((app.count(&erased), app.count(named)), (1, 0), "erased in the database");

    app.go("#/beneficiaries").await;
    app.wait_until("the list", "document.querySelector('#main').textContent.includes('Alaoui')").await;
    let list = app.text("#main").await;
    assert!(!list.contains("Zerhouni") && !list.contains("Amina"), "her name left the list: {list}");
    app.close().await;
}
