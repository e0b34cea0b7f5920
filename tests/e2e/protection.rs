//! The data's protection in the real window: the unlock screen, the lock
//! (by hand and after inactivity), the recovery key, the station's
//! confirmation of a laptop it has never seen, and the station's key given
//! to a laptop in a file (never its secret), confirmed by a person.

use crate::harness::{open_store, App, ACCOUNT, PASSPHRASE};
use serde_json::json;
use std::time::Duration;

fn with_amina(db: &std::path::Path) {
    let mut store = open_store(db);
    store.init_device("Portable de test", "Samira Test").expect("init device");
    store
        .add_beneficiary_json(json!({ "first_name": "Amina", "last_name": "Zerhouni", "sex": "F",
            "birth_date": "1990-03-14", "region": "04", "consent": true }))
        .expect("register Amina");
}

async fn shows_amina(app: &App) -> bool {
    let html: String = app.client.source().await.unwrap_or_default();
    html.contains("Zerhouni")
}

#[tokio::test(flavor = "current_thread")]
async fn a_wrong_passphrase_opens_nothing_and_the_lock_button_hides_everything() {
    let turn = crate::harness::Turn::take();
    let app = App::launch_locked(&turn, with_amina).await;
    app.set_value("#lang", "fr").await;
    app.type_into("#f-passphrase", "pas la bonne phrase").await;
    app.click("#unlock-submit").await;
    app.wait_until("the refusal", "document.querySelector('#err-passphrase').textContent.length > 0").await;
    assert_eq!(app.text("#err-passphrase").await, "Phrase de passe incorrecte.");
    assert!(!shows_amina(&app).await);
    assert!(app.client.execute("return document.getElementById('nav').hidden;", vec![]).await.unwrap() == json!(true));

    app.unlock().await;
    app.wait_until("the list", "document.body.textContent.includes('Zerhouni')").await;
    app.click("#lock-now").await;
    app.wait_for("#unlock-form").await;
    assert!(!shows_amina(&app).await, "nothing of the data stays on screen once locked");
    // The core refuses every command while locked, whatever the page does.
    let refused = app
        .client
        .execute_async(
            "const done = arguments[0]; window.__TAURI__.core.invoke('list_beneficiaries', {query: {}})
               .then(() => done('served')).catch((e) => done(e.code));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(refused, json!("locked"));
    app.unlock().await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_window_locks_itself_after_the_minutes_set_in_settings() {
    let app = App::launch_with(with_amina).await;
    app.set_value("#lang", "fr").await;
    app.go("#/settings").await;
    app.type_into("#f-lock_minutes", "1").await;
    app.click("#lock-save").await;
    app.wait_until("saved", "document.getElementById('toast').textContent.length > 0").await;
    app.go("#/beneficiaries").await;
    app.wait_until("the list", "document.body.textContent.includes('Zerhouni')").await;
    // A minute without a key press or a click.
    tokio::time::sleep(Duration::from_secs(66)).await;
    app.wait_for("#unlock-form").await;
    assert!(!shows_amina(&app).await, "nothing of the data stays on screen once locked");
    assert!(app.text("h1").await.contains("verrouillées"));
    app.unlock().await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_lost_passphrase_is_replaced_with_the_recovery_key() {
    let mut recovery = String::new();
    let turn = crate::harness::Turn::take();
    let app = App::launch_locked(&turn, |db| {
        let (mut store, key) = wafira_core::Store::create(db, ACCOUNT, PASSPHRASE).expect("create");
        store.init_device("Portable de test", "Samira Test").expect("init");
        recovery = key.to_string();
    })
    .await;
    app.set_value("#lang", "fr").await;
    app.click("#unlock-lost").await;
    app.type_into("#f-recovery_key", "AAAA-BBBB").await;
    app.type_into("#f-user", ACCOUNT).await;
    app.type_into("#f-passphrase", "une nouvelle phrase de passe").await;
    app.type_into("#f-passphrase_again", "une nouvelle phrase de passe").await;
    app.click("#recover-submit").await;
    app.wait_until("the refusal", "document.querySelector('#err-recovery_key').textContent.length > 0").await;
    app.type_into("#f-recovery_key", &recovery.to_lowercase()).await;
    app.click("#recover-submit").await;
    app.wait_until("the unlocked window", "!document.getElementById('nav').hidden").await;
    // The new passphrase is the account's now; the old one opens nothing.
    let new = wafira_core::accounts::Credentials::passphrase(None, "une nouvelle phrase de passe");
    assert!(wafira_core::store::connect_with(&app.db, &new).is_ok());
    let old = wafira_core::accounts::Credentials::passphrase(None, PASSPHRASE);
    assert!(wafira_core::store::connect_with(&app.db, &old).is_err());
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_station_confirms_a_new_laptop_by_its_fingerprint_before_importing() {
    let files = tempfile::tempdir().expect("temp dir");
    let bundle = files.path().join("kenitra-1.wafira");
    let mut print = String::new();
    let app = App::launch_with(|db| {
        let mut station = open_store(db);
        station.init_device("Station Rabat", "Assia").expect("init station");
        let key = &wafira_core::accounts::DbKey::from_bytes([7; 32]);
        let mut laptop = wafira_core::Store::open_with_key(files.path().join("laptop.sqlite"), key).expect("laptop");
        laptop.init_device("Portable Kénitra", "Samira").expect("init laptop");
        laptop.trust_recipient("Station Rabat", &station.keys().expect("keys").recipient).expect("trust");
        laptop
            .add_beneficiary_json(json!({ "first_name": "Amina", "last_name": "Zerhouni", "sex": "F",
                "birth_date": "1990-03-14", "region": "04", "consent": true }))
            .expect("register");
        laptop.export_bundle_to(&bundle, false).expect("export");
        print = laptop.keys().expect("keys").fingerprint;
    })
    .await;
    app.set_value("#lang", "fr").await;
    app.go("#/sync").await;
    // The file as the Open dialog would give it (not driven).
    crate::files::choose_bundles(&app, &[&bundle]).await;
    app.wait_for("#import-preview button[data-approve]").await;
    let refusal = app.text("#import-preview .refused").await;
    assert!(refusal.contains("Portable Kénitra"), "names the laptop: {refusal}");
    let shown = app.wait_for("#import-preview button[data-approve]").await.attr("data-fingerprint").await.unwrap();
    assert_eq!(shown.as_deref(), Some(print.as_str()), "the fingerprint to compare");
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 0, "nothing imported before the approval");
    app.click("#import-preview button[data-approve]").await;
    let question = app.client.get_alert_text().await.expect("a confirmation");
    assert!(question.contains(&print), "the confirmation shows the fingerprint: {question}");
    app.client.accept_alert().await.expect("confirm");
    app.wait_until(
        "the preview after approval",
        "document.querySelector('#import-preview').textContent.includes('+1')",
    )
    .await;
    app.click("#import-confirm").await;
    app.wait_until("the import result", "document.querySelector('#import-result').textContent.includes('+1')").await;
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1);
    assert_eq!(app.count("SELECT count(*) FROM device_key"), 1, "the laptop's key is pinned");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_station_enrols_a_reinstalled_laptop_again_after_comparing_its_new_fingerprint() {
    let files = tempfile::tempdir().expect("temp dir");
    let bundle = files.path().join("kenitra-2.wafira");
    let (mut old_print, mut new_print) = (String::new(), String::new());
    let app = App::launch_with(|db| {
        let mut station = open_store(db);
        station.init_device("Station Rabat", "Assia").expect("init station");
        let station_key = station.keys().expect("keys").recipient;
        let key = &wafira_core::accounts::DbKey::from_bytes([7; 32]);
        let path = files.path().join("laptop.sqlite");
        let mut laptop = wafira_core::Store::open_with_key(&path, key).expect("laptop");
        laptop.init_device("Portable Kénitra", "Samira").expect("init laptop");
        laptop.trust_recipient("Station Rabat", &station_key).expect("trust");
        laptop
            .add_beneficiary_json(json!({ "first_name": "Amina", "last_name": "Zerhouni", "sex": "F",
                "birth_date": "1990-03-14", "region": "04", "consent": true }))
            .expect("register");
        let first = files.path().join("kenitra-1.wafira");
        laptop.export_bundle_to(&first, false).expect("export");
        let options = wafira_core::sync::ImportOptions { approve_new: true, ..Default::default() };
        let report = station
            .import_bundles_with(vec![("kenitra-1".into(), std::fs::read(&first).expect("read"))], options)
            .expect("import");
        assert!(report.files[0].error.is_none(), "the laptop approved, its key pinned");
        old_print = laptop.keys().expect("keys").fingerprint;
        // Reinstalled: its data kept, its keys made again.
        laptop.conn().execute("DELETE FROM own_key", []).expect("forget the keys");
        drop(laptop);
        let mut laptop = wafira_core::Store::open_with_key(&path, key).expect("reopen");
        laptop
            .add_beneficiary_json(json!({ "first_name": "Khadija", "last_name": "Bennani", "sex": "F",
                "birth_date": "1988-05-02", "region": "04", "consent": true }))
            .expect("register");
        laptop.export_bundle_to(&bundle, false).expect("export");
        new_print = laptop.keys().expect("keys").fingerprint;
    })
    .await;
    assert_ne!(old_print, new_print);
    app.set_value("#lang", "fr").await;
    app.go("#/sync").await;
    crate::files::choose_bundles(&app, &[&bundle]).await;
    let button = app.wait_for("#import-preview button[data-reenrol]").await;
    assert_eq!(button.text().await.unwrap(), "Enregistrer à nouveau cet ordinateur");
    assert_eq!(button.attr("data-fingerprint").await.unwrap().as_deref(), Some(new_print.as_str()));
    let refusal = app.text("#import-preview .refused").await;
    for shown in ["Portable Kénitra", &new_print, &old_print, "réinstallé"] {
        assert!(refusal.contains(shown), "the refusal shows {shown}: {refusal}");
    }
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1, "Amina alone, from the first bundle");
    let pinned = "SELECT count(*) FROM device_key WHERE fingerprint = ?1";
    let old_pinned = |app: &App| app.database().query_row(pinned, [&old_print], |r| r.get::<_, i64>(0)).unwrap();
    // Answering no changes nothing.
    app.click("#import-preview button[data-reenrol]").await;
    let question = app.client.get_alert_text().await.expect("a confirmation");
    assert!(question.contains(&new_print) && question.contains(&old_print), "both fingerprints: {question}");
    app.client.dismiss_alert().await.expect("say no");
    assert_eq!(old_pinned(&app), 1, "the old key still pinned");
    // Yes, after comparing: enrolled again for the new key.
    app.click("#import-preview button[data-reenrol]").await;
    app.client.accept_alert().await.expect("confirm");
    app.wait_until(
        "the preview after the enrolment",
        "document.querySelector('#import-preview').textContent.includes('+1')",
    )
    .await;
    app.click("#import-confirm").await;
    app.wait_until("the import result", "document.querySelector('#import-result').textContent.includes('+1')").await;
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 2, "Khadija too");
    assert_eq!(old_pinned(&app), 0, "the old key forgotten");
    let audit = "SELECT count(*) FROM audit WHERE action = 'device.approve' AND detail LIKE 'enrolled again%'";
    assert_eq!(app.count(audit), 1, "the enrolment is in the audit log");
    app.close().await;
}

/// Calls the Sync screen's `chooseRecipientFile` with `path`, as its "Lire
/// la clé depuis un fichier" button does with the Open dialog's answer
/// (WebDriver cannot drive the system's dialog).
async fn choose_key_file(app: &App, path: &std::path::Path) {
    app.wait_for("#trust-file").await;
    app.client
        .execute_async(
            "const [path, done] = arguments;
             import('./js/screens/sync.js').then((m) => m.chooseRecipientFile(path)).then(() => done(true));",
            vec![json!(path.display().to_string())],
        )
        .await
        .expect("choose the key file");
}

/// What a text field holds now.
async fn value(app: &App, css: &str) -> String {
    app.wait_for(css).await;
    let v = app.client.execute("return document.querySelector(arguments[0]).value;", vec![json!(css)]).await;
    v.ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

#[tokio::test(flavor = "current_thread")]
async fn a_laptop_saves_its_key_and_trusts_the_stations_from_its_file_once_a_person_confirms() {
    let files = tempfile::tempdir().expect("temp dir");
    let stick = files.path().join("KINGSTON");
    std::fs::create_dir(&stick).expect("the stick");
    // The station: its public key written for the stick, its secret for the safe.
    let key = wafira_core::accounts::DbKey::from_bytes([7; 32]);
    let mut station = wafira_core::Store::open_with_key(files.path().join("station.sqlite"), &key).expect("station");
    station.init_device("Station Rabat", "Assia").expect("init station");
    let key_file = files.path().join("station-rabat-public-key.txt");
    let station_key = station.write_recipient_file(&key_file).expect("the station's key file").recipient;
    let secret = files.path().join("station-identity.txt");
    station.write_identity_file(&secret).expect("the station's identity");
    let mut other = wafira_core::Store::open_with_key(files.path().join("tanger.sqlite"), &key).expect("another");
    other.init_device("Station Tanger", "Hafsa").expect("init another");
    let other_key = other.keys().expect("keys").recipient;
    let launch = crate::fixtures::stick_env(&stick);
    let app = App::launch_opts(launch, |db| {
        let mut store = open_store(db);
        store.init_device("Portable Tiznit", "Samira Test").expect("init");
        store
            .add_beneficiary_json(json!({ "first_name": "Amina", "last_name": "Zerhouni", "sex": "F",
                "birth_date": "1990-03-14", "region": "04", "consent": true }))
            .expect("register Amina");
    })
    .await;
    app.set_value("#lang", "fr").await;
    app.go("#/sync").await;
    app.wait_until("this computer's key", "document.querySelector('#keys-recipient').textContent.startsWith('age1')")
        .await;
    let mine = app.text("#keys-recipient").await;
    let trusted = "SELECT count(*) FROM trusted_recipient";

    // This laptop's key saved on the stick, for the station: public, named, owner-only.
    app.wait_until("the one-click USB button", "!document.querySelector('#keys-save-usb').hidden").await;
    app.click("#keys-save-usb").await;
    app.wait_for("#keys-save-result .saved").await;
    let saved = app.text("#keys-save-result .saved").await;
    assert!(saved.contains("Clé de Portable Tiznit") && saved.contains("prêt"), "{saved}");
    let written: Vec<std::path::PathBuf> = std::fs::read_dir(&stick).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].ends_with("portable-tiznit-public-key.txt"), "{written:?}");
    let text = std::fs::read_to_string(&written[0]).expect("the key file");
    assert!(text.contains("# device: Portable Tiznit") && text.lines().last() == Some(mine.as_str()), "{text}");
    assert!(!text.contains("SECRET"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&written[0]).unwrap().permissions().mode() & 0o777, 0o600);
    // The station reads it as the laptop's.
    assert_eq!(station.read_recipient_file(&written[0]).expect("read at the station").recipient, mine);

    // A key typed: asked first, naming whom; "no" trusts nothing.
    app.type_into("#trust-name", "Station Tanger").await;
    app.type_into("#trust-recipient", &other_key).await;
    app.click("#trust-add").await;
    let question = app.client.get_alert_text().await.expect("a confirmation");
    assert!(question.contains("Station Tanger") && question.contains(&other_key), "{question}");
    app.client.dismiss_alert().await.expect("say no");
    assert_eq!(app.count(trusted), 0);

    // The station's secret handed over by mistake: refused, nothing filled.
    app.set_value("#trust-name", "").await;
    app.set_value("#trust-recipient", "").await;
    choose_key_file(&app, &secret).await;
    let refusal = app.text("#trust-result").await;
    assert!(refusal.contains("clé secrète") && refusal.contains("rien n'a été lu"), "{refusal}");
    assert_eq!(
        (value(&app, "#trust-recipient").await, value(&app, "#trust-name").await),
        (String::new(), String::new())
    );
    assert_eq!(app.count(trusted), 0);

    // The station's key file: the name and key filled, for a person to check.
    choose_key_file(&app, &key_file).await;
    assert_eq!(value(&app, "#trust-recipient").await, station_key);
    assert_eq!(value(&app, "#trust-name").await, "Station Rabat");
    assert!(app.text("#trust-result").await.contains("station-rabat-public-key.txt"));
    assert_eq!(app.count(trusted), 0, "nothing trusted before the person says so");
    app.click("#trust-add").await;
    let question = app.client.get_alert_text().await.expect("a confirmation");
    assert!(question.contains("Station Rabat") && question.contains(&station_key), "{question}");
    app.client.accept_alert().await.expect("confirm");
    app.wait_until("trusted", "document.querySelector('#trusted').textContent.includes('Station Rabat')").await;
    assert!(app.text("#trust-result").await.contains("Clé ajoutée"));
    let name: String = app
        .database()
        .query_row("SELECT name FROM trusted_recipient WHERE recipient = ?1", [&station_key], |r| r.get(0))
        .expect("the station trusted");
    assert_eq!(name, "Station Rabat");

    // The laptop's next bundle is for the station, which takes it.
    app.click("#export-bundle-usb").await;
    app.wait_for("#export-result .saved").await;
    let bundle = std::fs::read_dir(&stick)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wafira"))
        .expect("the bundle on the stick");
    let options = wafira_core::sync::ImportOptions { approve_new: true, ..Default::default() };
    let report = station
        .import_bundles_with(vec![("tiznit-1".into(), std::fs::read(&bundle).expect("read"))], options)
        .expect("import at the station");
    assert_eq!(report.totals.added.beneficiaries, 1, "{:?}", report.files[0].error);
    app.close().await;
}
