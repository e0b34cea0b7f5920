//! Dates follow the app's language, not the system's (issue 10, Forms):
//! the date entry types and shows dd/mm/yyyy in French and Arabic, left to
//! right, and gives the core ISO; a person who does not know her birth
//! date is registered "vers 1985".

use crate::harness::App;

async fn start_registration(app: &App, first: &str) {
    app.go("#/register").await;
    app.type_into("#f-first_name", first).await;
    app.type_into("#f-last_name", "Ouazzani").await;
    app.set_value("#f-sex", "F").await;
    app.set_value("#f-region", "04").await;
    app.set_value("#f-consent", "true").await;
}

async fn value(app: &App, css: &str) -> String {
    let v = app
        .client
        .execute("return document.querySelector(arguments[0]).value", vec![serde_json::json!(css)])
        .await
        .unwrap_or_else(|e| panic!("reading {css}: {e}"));
    v.as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "current_thread")]
async fn typing_digits_in_french_shows_the_day_first_and_stores_iso() {
    let app = App::launch().await;
    app.set_value("#lang", "fr").await;
    start_registration(&app, "Khadija").await;
    // A two-digit year is refused beside the field, not guessed.
    app.type_into("#f-birth_date", "14/03/90").await;
    app.click("#f-cin").await;
    app.wait_until(
        "the two-digit year",
        "document.querySelector('#err-birth_date').textContent.includes('4 chiffres')",
    )
    .await;

    app.type_into("#f-birth_date", "14031990").await;
    assert_eq!(value(&app, "#f-birth_date").await, "14/03/1990", "the slashes come as one types");
    app.click("#f-cin").await;
    app.wait_until("the problem gone", "document.querySelector('#err-birth_date').textContent === ''").await;
    app.click("#save").await;
    app.wait_until("the profile after saving", "location.hash.startsWith('#/profile/')").await;
    let stored: String =
        app.database().query_row("SELECT birth_date FROM beneficiary", [], |r| r.get(0)).expect("her record");
    assert_eq!(stored, "1990-03-14");
    app.wait_until("the profile's date", "document.body.textContent.includes('14/03/1990')").await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn in_arabic_the_date_reads_day_first_left_to_right() {
    let app = App::launch().await;
    app.set_value("#lang", "ar").await;
    app.wait_until("Arabic", "document.documentElement.dir === 'rtl'").await;
    start_registration(&app, "Khadija").await;
    app.type_into("#f-birth_date", "14031990").await;
    app.click("#f-cin").await;
    assert_eq!(value(&app, "#f-birth_date").await, "14/03/1990");
    let direction = app
        .client
        .execute("const e = document.querySelector('#f-birth_date'); return [e.getAttribute('dir'), getComputedStyle(e).direction]", vec![])
        .await
        .unwrap();
    assert_eq!(direction, serde_json::json!(["ltr", "ltr"]), "the digits keep their order in a right-to-left page");
    // The ISO a test (or a paste) gives reads too.
    app.set_value("#f-birth_date", "1988-04-12").await;
    assert_eq!(value(&app, "#f-birth_date").await, "12/04/1988");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_person_who_knows_only_her_year_is_registered_around_that_year() {
    let app = App::launch().await;
    app.set_value("#lang", "fr").await;
    start_registration(&app, "Rkia").await;
    app.set_value("#f-birth_date_approx", "true").await;
    app.type_into("#f-birth_date", "1985").await;
    app.wait_until("the hint", "document.querySelector('.date-hint').textContent === 'vers 1985'").await;
    app.click("#save").await;
    app.wait_until("the profile after saving", "location.hash.startsWith('#/profile/')").await;
    app.wait_until(
        "the profile says vers 1985",
        "document.querySelector('.birth') && document.querySelector('.birth').textContent.includes('vers 1985')",
    )
    .await;
    let (birth, approx): (String, bool) = app
        .database()
        .query_row("SELECT birth_date, json_extract(doc, '$.birth_date_approx') FROM beneficiary", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("her record");
    assert_eq!((birth.as_str(), approx), ("1985-01-01", true), "stored as a year, marked approximate");

    app.click("a[data-route='beneficiaries']").await;
    app.wait_until(
        "the list says vers 1985",
        "[...document.querySelectorAll('#beneficiary-table tbody tr')].some(r => r.textContent.includes('Rkia') && r.textContent.includes('vers 1985'))",
    )
    .await;
    app.close().await;
}
