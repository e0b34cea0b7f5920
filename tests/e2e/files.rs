//! Files to and from people in the real window: what has not left on a
//! bundle, saving it on the USB stick in one click (the message that stays,
//! in people), nothing new said instead of an empty bundle, a missing
//! earlier bundle put first in the import preview (once imported, said in
//! words on the laptops table), and the app opened on a
//! `.wafira` file landing on its preview after the unlock.
//!
//! What WebDriver cannot drive: the system's Save-as and Open dialogs.
//! The stick is a folder handed to the app as `WAFIRA_REMOVABLE_DRIVES`,
//! so the one-click button is the real one; bundles are chosen by calling
//! the Sync screen's `choosePaths`, the function its Open button calls with
//! the dialog's answer.

use crate::fixtures::stick_env;
use crate::harness::{open_store, App, Launch};
use serde_json::json;
use std::path::{Path, PathBuf};
use wafira_core::sync::ImportOptions;
use wafira_core::Store;

fn laptop(dir: &Path) -> Store {
    let key = wafira_core::accounts::DbKey::from_bytes([7; 32]);
    let mut s = Store::open_with_key(dir.join("agadir.sqlite"), &key).expect("open laptop");
    s.init_device("Portable Agadir 1", "Samira B.").expect("init laptop");
    s
}

fn person(first: &str, cin: &str) -> serde_json::Value {
    json!({ "first_name": first, "last_name": "El Idrissi", "sex": "F", "birth_date": "1990-03-14",
            "region": "04", "cin": cin, "consent": true })
}

#[tokio::test(flavor = "current_thread")]
async fn the_sync_screen_says_what_has_not_left_saves_it_on_the_stick_then_says_nothing_is_new() {
    let files = tempfile::tempdir().expect("temp dir");
    let stick = files.path().join("KINGSTON");
    std::fs::create_dir(&stick).expect("the stick");
    let station_dir = files.path().to_path_buf();
    let app = App::launch_opts(stick_env(&stick), |db| {
        let mut store = open_store(db);
        store.init_device("Portable de test", "Samira Test").expect("init");
        let station = laptop(&station_dir);
        store.trust_recipient("Station Rabat", &station.keys().expect("keys").recipient).expect("trust");
        let amina = store.add_beneficiary_json(person("Amina", "BK111111")).expect("register").id;
        store.add_beneficiary_json(person("Badia", "BK222222")).expect("register");
        for date in ["2026-01-10", "2026-02-10"] {
            store
                .add_visit_json(json!({ "beneficiary_id": amina.to_string(), "date": date, "kind": "follow_up" }))
                .expect("visit");
        }
    })
    .await;
    app.set_value("#lang", "fr").await;
    app.go("#/sync").await;
    app.wait_until("the unsent summary", "document.querySelector('#unsent').textContent.includes('2 personnes')").await;
    let unsent = app.text("#unsent").await;
    assert!(unsent.contains("2 visites") && unsent.contains("aucun paquet exporté"), "{unsent}");

    app.wait_until("the one-click USB button", "!document.querySelector('#export-bundle-usb').hidden").await;
    assert!(app.text("#export-bundle-usb").await.contains("KINGSTON"));
    app.click("#export-bundle-usb").await;
    app.wait_for("#export-result .saved").await;
    let saved = app.text("#export-result .saved").await;
    assert!(saved.contains("2 personnes, 2 visites, 0 étape AGR") && saved.contains("prêt"), "{saved}");
    let written: Vec<PathBuf> = std::fs::read_dir(&stick).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].extension().is_some_and(|e| e == "wafira"));
    assert!(saved.contains(&written[0].display().to_string()), "the path is shown: {saved}");
    // Open (a no-op here) leaves the message; it stays until dismissed.
    app.click("#export-result .saved-open").await;
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert!(app.text("#export-result").await.contains("prêt"), "the message stays");
    app.wait_until("nothing new", "document.querySelector('#unsent').textContent.includes('Rien de nouveau')").await;

    app.click("#export-bundle-usb").await;
    app.wait_for("#export-result .nothing-new").await;
    assert!(app.text("#export-result").await.contains("Rien de nouveau depuis le paquet n° 1"));
    assert_eq!(std::fs::read_dir(&stick).unwrap().count(), 1, "no empty numbered bundle");
    app.close().await;
}

/// Bundles 1, 2 and 3 of a laptop; the station (the app's database) took
/// bundle 1 only.
fn gap(dir: &Path, station_db: &Path) -> PathBuf {
    let mut station = open_store(station_db);
    station.init_device("Station Rabat", "Assia").expect("init station");
    let mut l = laptop(dir);
    l.trust_recipient("Station Rabat", &station.keys().expect("keys").recipient).expect("trust");
    let export = |l: &mut Store, first: &str, cin: &str, n: u32| {
        l.add_beneficiary_json(person(first, cin)).expect("register");
        let path = dir.join(format!("agadir-{n}.wafira"));
        l.export_bundle_to(&path, false).expect("export");
        path
    };
    let one = export(&mut l, "Amina", "BK111111", 1);
    export(&mut l, "Badia", "BK222222", 2);
    let three = export(&mut l, "Chaima", "BK333333", 3);
    let approving = ImportOptions { approve_new: true, ..ImportOptions::default() };
    let bytes = std::fs::read(one).expect("bundle 1");
    assert!(!station.import_bundles_with(vec![(String::new(), bytes)], approving).expect("import 1").any_refused());
    three
}

/// Chooses bundles on the Sync screen as its Open button does with the
/// dialog's answer (WebDriver cannot drive the system's dialog).
pub async fn choose_bundles(app: &App, paths: &[&Path]) {
    app.wait_for("#import-choose").await;
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    app.client
        .execute_async(
            "const [paths, done] = arguments;
             import('./js/screens/sync.js').then((m) => m.choosePaths(paths)).then(() => done(true));",
            vec![json!(paths)],
        )
        .await
        .expect("choose the bundles");
}

#[tokio::test(flavor = "current_thread")]
async fn the_import_preview_puts_a_missing_earlier_bundle_first() {
    let files = tempfile::tempdir().expect("temp dir");
    let mut three = PathBuf::new();
    let app = App::launch_with(|db| three = gap(files.path(), db)).await;
    app.set_value("#lang", "fr").await;
    app.go("#/sync").await;
    choose_bundles(&app, &[&three]).await;
    app.wait_for("#import-preview .missing-bundle").await;
    let first = app
        .client
        .execute("return document.querySelector('#import-preview').firstElementChild.textContent;", vec![])
        .await
        .unwrap();
    assert_eq!(first, json!("Le paquet 2 de Portable Agadir 1 manque ; ses changements attendront."));
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1, "a preview writes nothing");
    let today = Store::today().format("%d/%m/%Y").to_string();
    let agadir = "[...document.querySelectorAll('#devices-table tbody tr')]
                    .find((tr) => tr.textContent.includes('Portable Agadir 1'))";
    let row = format!("{agadir}.textContent.replace(/\\s+/g, ' ')");
    let said = app.client.execute(&format!("return {row};"), vec![]).await.unwrap();
    let said = said.as_str().unwrap_or_default();
    assert!(said.contains(&format!("n° 1, reçu le {today}")) && said.contains("1 personne,"), "{said}");
    assert!(said.contains("rien"), "nothing missing yet: {said}");
    // Imported, bundle 3 is the laptop's last; 2 is missing, said in words
    // on the Sync screen's laptops table, not as change numbers.
    app.click("#import-confirm").await;
    app.wait_until("bundle 3 listed", &format!("{row}.includes('n° 3, reçu le')")).await;
    let said = app.client.execute(&format!("return {row};"), vec![]).await.unwrap();
    let said = said.as_str().unwrap_or_default();
    assert!(said.contains("le paquet n° 2 manque : ses changements attendent"), "{said}");
    assert!(said.contains("2 personnes,") && said.contains("2 paquets reçus"), "{said}");
    assert!(!said.contains("modification"), "the missing bundle is said once: {said}");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn opening_the_app_on_a_wafira_file_shows_its_preview_after_the_unlock() {
    let files = tempfile::tempdir().expect("temp dir");
    let three = files.path().join("agadir-3.wafira");
    let launch = Launch { args: vec![three.display().to_string()], env: Vec::new() };
    let dir = files.path().to_path_buf();
    let app = App::launch_opts(launch, |db| {
        gap(&dir, db);
    })
    .await;
    app.wait_until("the Sync screen", "location.hash === '#/sync'").await;
    app.wait_for("#import-preview .missing-bundle").await;
    let preview = app.text("#import-preview").await;
    assert!(preview.contains("Portable Agadir 1"), "{preview}");
    assert!(app.text("#import-chosen").await.contains("agadir-3.wafira"));
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_audit_log_is_saved_on_the_stick_in_one_click_not_in_a_hidden_folder() {
    let files = tempfile::tempdir().expect("temp dir");
    let stick = files.path().join("KINGSTON");
    std::fs::create_dir(&stick).expect("the stick");
    let app = App::launch_opts(stick_env(&stick), |db| {
        let mut store = open_store(db);
        store.init_device("Station Rabat", "Samira Test").expect("init");
        store.add_beneficiary_json(person("Amina", "BK111111")).expect("register");
    })
    .await;
    app.set_value("#lang", "fr").await;
    app.go("#/audit").await;
    app.wait_until("the one-click USB button", "!document.querySelector('#audit-export-usb').hidden").await;
    assert!(app.text("#audit-export-usb").await.contains("KINGSTON"));
    app.click("#audit-export-usb").await;
    app.wait_for("#audit-export-result .saved").await;
    let saved = app.text("#audit-export-result .saved").await;
    let written: Vec<PathBuf> = std::fs::read_dir(&stick).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].extension().is_some_and(|e| e == "csv"), "{written:?}");
    assert!(saved.contains(&written[0].display().to_string()) && saved.contains("prêt"), "{saved}");
    // "journal de N lignes": the file holds those N lines under its header.
    let n: usize = saved
        .split("journal de ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the count of lines: {saved}"));
    let csv = std::fs::read_to_string(&written[0]).expect("the CSV");
    assert!(csv.starts_with("\u{feff}machine,machine_name,seq,at,who"), "{csv}");
    assert!(n > 0 && csv.lines().count() == n + 1, "{n} lines said, file:\n{csv}");
    assert!(!app.db.with_file_name("reports").exists(), "nothing in the hidden reports folder");
    app.close().await;
}

/// A session bus of the test's own: the single-instance plugin finds the
/// window already open on a database over D-Bus (as on a desktop, where
/// the session has one). Ended when dropped.
struct SessionBus {
    daemon: std::process::Child,
    address: String,
}

impl SessionBus {
    fn start() -> SessionBus {
        use std::io::BufRead;
        let mut daemon = std::process::Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("dbus-daemon (apt-get install dbus-daemon)");
        let mut address = String::new();
        let out = daemon.stdout.take().expect("its address");
        std::io::BufReader::new(out).read_line(&mut address).expect("read its address");
        SessionBus { daemon, address: address.trim().to_string() }
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_second_launch_on_the_same_database_hands_its_bundle_to_the_open_window_and_ends() {
    let bus = SessionBus::start();
    let files = tempfile::tempdir().expect("temp dir");
    let dir = files.path().to_path_buf();
    let mut three = PathBuf::new();
    let launch = Launch { args: Vec::new(), env: vec![("DBUS_SESSION_BUS_ADDRESS".into(), bus.address.clone())] };
    let app = App::launch_opts(launch, |db| three = gap(&dir, db)).await;
    app.set_value("#lang", "fr").await;
    app.wait_for("#beneficiary-table").await;

    // A double-click on a bundle while the app is open: a second launch on
    // the same database, which hands the file over and ends at once.
    let second = tokio::process::Command::new(env!("CARGO_BIN_EXE_wafira-field"))
        .arg(&three)
        .env("WAFIRA_DB", &app.db)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .kill_on_drop(true)
        .status();
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), second)
        .await
        .expect("the second launch ended instead of opening a second window")
        .expect("the second launch ran");
    assert!(status.success(), "{status}");
    // The window already open shows the bundle's preview.
    app.wait_until("the Sync screen", "location.hash === '#/sync'").await;
    app.wait_for("#import-preview .missing-bundle").await;
    assert!(app.text("#import-chosen").await.contains("agadir-3.wafira"));
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1, "a preview writes nothing");
    app.close().await;
}
