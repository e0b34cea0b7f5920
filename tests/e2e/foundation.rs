//! The walking skeleton: first run, registration, validation.

use crate::harness::App;

async fn fill_registration(app: &App, first: &str, last: &str, sex: &str, birth: &str) {
    app.go("#/register").await;
    app.type_into("#f-first_name", first).await;
    app.type_into("#f-last_name", last).await;
    app.set_value("#f-sex", sex).await;
    app.set_value("#f-birth_date", birth).await;
    app.set_value("#f-region", "04").await;
    app.type_into("#f-phone", "06 12 34 56 78").await;
    app.set_value("#f-consent", "true").await;
}

#[tokio::test(flavor = "current_thread")]
async fn registering_a_person_shows_her_in_the_list_and_stores_her() {
    let app = App::launch().await;
    fill_registration(&app, "Khadija", "Ouazzani", "F", "1988-04-12").await;
    app.click("#save").await;
    app.wait_until("the profile after saving", "location.hash.startsWith('#/profile/')").await;

    app.click("a[data-route='beneficiaries']").await;
    app.wait_until("the new row", "[...document.querySelectorAll('#beneficiary-table tbody tr')].some(r => r.textContent.includes('Khadija Ouazzani'))").await;
    let row = app.text("#beneficiary-table tbody tr").await;
    assert!(row.contains("06 12 34 56 78"), "row shows the phone as people read it: {row}");

    let (first, phone, region, device): (String, String, String, String) = app
        .database()
        .query_row("SELECT first_name, phone, region, created_by FROM beneficiary", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .expect("the record is in the file");
    assert_eq!((first.as_str(), phone.as_str(), region.as_str()), ("Khadija", "+212612345678", "04"));
    let own_device: String =
        app.database().query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0)).unwrap();
    assert_eq!(device, own_device, "the record carries this laptop's id");
    assert_eq!(app.count("SELECT count(*) FROM change WHERE entity = 'beneficiary'"), 1, "one logged change");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_invalid_form_shows_the_field_error_and_stores_nothing() {
    let app = App::launch().await;
    fill_registration(&app, "Zineb", "Tazi", "F", "2099-01-01").await;
    app.click("#save").await;
    app.wait_until("the birth date error", "document.querySelector('#err-birth_date').textContent.length > 0").await;
    let error = app.text("#err-birth_date").await;
    assert!(error.contains("dans le futur"), "the French error beside the birth date: {error}");
    let invalid = app
        .client
        .execute("return document.querySelector('#f-birth_date').getAttribute('aria-invalid')", vec![])
        .await
        .unwrap();
    assert_eq!(invalid, serde_json::json!("true"));
    assert!(app
        .client
        .execute("return location.hash", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .starts_with("#/register"));
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 0, "nothing stored");
    assert_eq!(app.count("SELECT count(*) FROM change"), 0, "nothing logged");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn first_run_names_the_laptop_and_loads_demo_data_into_the_practice_database() {
    let app = App::launch_fresh().await;
    app.type_into("#f-device", "Portable Larache").await;
    app.type_into("#f-coordinator", "Naïma").await;
    assert_eq!(app.wait_for("#f-account").await.prop("value").await.unwrap().as_deref(), Some("Naïma"));
    app.type_into("#f-passphrase", crate::harness::PASSPHRASE).await;
    app.type_into("#f-passphrase_again", "une autre phrase").await;
    app.set_value("#f-demo", "true").await;
    app.click("#welcome-start").await;
    app.wait_until("the mismatch", "document.querySelector('#err-passphrase_again').textContent.length > 0").await;
    assert!(!app.db.exists(), "nothing made while the form is refused");
    app.type_into("#f-passphrase_again", crate::harness::PASSPHRASE).await;
    app.click("#welcome-start").await;
    // The recovery key, shown once, must be confirmed kept before going on.
    let key = app.text("#recovery-key").await;
    assert_eq!(key.trim().split('-').count(), 13, "{key}");
    let ready = app.wait_for("#recovery-continue").await;
    assert!(ready.attr("disabled").await.unwrap().is_some(), "continue waits for the key to be kept");
    app.set_value("#recovery-kept", "true").await;
    app.click("#recovery-continue").await;
    app.wait_until(
        "the list with demo people",
        "(document.querySelector('#list-count')?.textContent || '').includes('300')",
    )
    .await;
    let (name, coordinator): (String, String) =
        app.database().query_row("SELECT name, coordinator FROM device", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((name.as_str(), coordinator.as_str()), ("Portable Larache", "Naïma"));
    // The made-up people live in the practice database, marked on screen;
    // the real one holds none of them.
    let banner = app.wait_for("#practice-banner").await;
    assert!(banner.is_displayed().await.unwrap(), "the practice banner shows");
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 0);
    let mut real = crate::harness::open_store(&app.db);
    assert_eq!(real.open_practice().unwrap().list_beneficiaries(&Default::default()).unwrap().total, 300);
    app.close().await;
}
