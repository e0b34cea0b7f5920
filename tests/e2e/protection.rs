//! The data's protection in the real window: the unlock screen, the lock
//! (by hand and after inactivity), the recovery key, and the station's
//! confirmation of a laptop it has never seen.

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
