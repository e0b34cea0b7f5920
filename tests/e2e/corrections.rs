//! Corrections without losing history, in the real window: a visit
//! corrected from the profile, a milestone withdrawn with a reason then
//! entered again, the archived people listed and one restored, the
//! coordinator's name changed in Paramètres.

use crate::fixtures::*;
use crate::harness::App;
use serde_json::json;
use uuid::Uuid;

#[tokio::test(flavor = "current_thread")]
async fn a_visit_is_corrected_from_the_profile_and_the_history_shows_it() {
    let mut ids = (Uuid::nil(), Uuid::nil());
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            let id = register(s, json!({}));
            let v = s
                .add_visit_json(json!({ "beneficiary_id": id, "date": days_ago(3), "kind": "individual_coaching" }))
                .unwrap();
            ids = (id, v.id);
        })
    })
    .await;
    let (person, visit) = ids;
    language(&app, "fr").await;
    open_profile(&app, person).await;
    app.click(&format!("#timeline button[data-correct='visit'][data-id='{visit}']")).await;
    app.wait_for("#correct-form").await;
    // A date in the future is refused beside its field, nothing stored.
    let future = days_ahead(3);
    app.set_value("#f-date", &future).await;
    app.click("#correct-form-save").await;
    app.wait_for("#correct-form #err-date:not(:empty)").await;
    assert_eq!(app.count("SELECT count(*) FROM change WHERE op = 'update'"), 0);

    app.set_value("#f-date", &days_ago(5)).await;
    app.type_into("#f-notes", "date corrigée").await;
    app.click("#correct-form-save").await;
    app.wait_until("the correction", "!document.querySelector('#correct-form')").await;
    let date: String = app.database().query_row("SELECT date FROM visit", [], |r| r.get(0)).unwrap();
    assert_eq!(date, days_ago(5));
    let history = app.text("#history").await;
    assert!(history.contains("Visite — Date"), "the history names the corrected field: {history}");
    assert!(history.contains("date corrigée"), "{history}");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_milestone_withdrawn_with_a_reason_can_be_entered_again() {
    let mut ids = (Uuid::nil(), Uuid::nil());
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            let id = register(s, json!({}));
            let m = s
                .add_milestone_json(json!({ "beneficiary_id": id, "kind": "business_plan", "date": days_ago(30) }))
                .unwrap();
            ids = (id, m.id);
        })
    })
    .await;
    let (person, plan) = ids;
    language(&app, "fr").await;
    open_profile(&app, person).await;
    assert_eq!(app.text("#profile-stage").await, "Plan d'affaires");
    app.click(&format!("#timeline button[data-void='milestone'][data-id='{plan}']")).await;
    app.wait_for("#void-form").await;
    // The reason is required.
    app.click("#void-form-save").await;
    app.wait_for("#void-form #err-archive_reason:not(:empty)").await;
    app.type_into("#f-archive_reason", "mauvaise date, saisie à nouveau").await;
    app.click("#void-form-save").await;
    app.wait_until("the withdrawal", "!document.querySelector('#void-form')").await;
    assert_eq!(app.text("#profile-stage").await, "Aucune étape", "the stage follows");
    assert!(app.text("#history").await.contains("mauvaise date, saisie à nouveau"));

    // Entered again: no longer "déjà enregistrée".
    app.click("#add-milestone").await;
    app.set_value("#f-kind", "business_plan").await;
    app.set_value("#f-date", &days_ago(20)).await;
    app.click("#milestone-form-save").await;
    app.wait_until("the new plan", "document.querySelector(\"#timeline [data-kind='business_plan']\")").await;
    assert_eq!(app.text("#profile-stage").await, "Plan d'affaires");
    assert_eq!(app.count("SELECT count(*) FROM milestone WHERE archived_at IS NULL"), 1);
    assert_eq!(app.count("SELECT count(*) FROM milestone"), 2, "the withdrawn one is kept");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn archived_people_are_listed_apart_and_one_is_restored_unless_her_cin_was_given() {
    let mut ids = (Uuid::nil(), Uuid::nil());
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            let amina = register(s, json!({ "first_name": "Amina", "cin": "AB123456" }));
            s.archive_beneficiary(amina, Some("inscrite deux fois".into())).unwrap();
            let salma = register(s, json!({ "first_name": "Salma", "last_name": "Bennani", "cin": "CD654321" }));
            s.archive_beneficiary(salma, Some("erreur".into())).unwrap();
            register(s, json!({ "first_name": "Naima", "last_name": "Tazi", "cin": "CD654321" }));
            ids = (amina, salma);
        })
    })
    .await;
    let (amina, salma) = ids;
    language(&app, "fr").await;
    app.go("#/beneficiaries").await;
    app.wait_until("the list", "document.querySelectorAll('#beneficiary-table tbody tr').length === 1").await;
    app.set_value("#filter-status", "archived").await;
    app.wait_until("the archived", "document.querySelectorAll('#beneficiary-table tbody tr').length === 2").await;

    open_profile(&app, amina).await;
    app.click("#restore").await;
    app.wait_until("restored", "!document.querySelector('#archived-note')").await;
    assert!(app.text("#history").await.contains("Fiche restaurée"));
    assert_eq!(app.count("SELECT count(*) FROM beneficiary WHERE archived_at IS NULL"), 2);

    // Salma's CIN was given to Naima meanwhile: refused, naming her.
    open_profile(&app, salma).await;
    app.click("#restore").await;
    app.wait_for("#restore-error:not(:empty)").await;
    let error = app.text("#restore-error").await;
    assert!(error.contains("Naima Tazi"), "{error}");
    assert_eq!(app.count("SELECT count(*) FROM beneficiary WHERE archived_at IS NULL"), 2, "nothing changed");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_coordinators_name_is_changed_in_settings_and_the_laptop_keeps_its_id() {
    let app = App::launch().await;
    language(&app, "fr").await;
    let id: String =
        app.database().query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0)).unwrap();
    app.go("#/settings").await;
    app.wait_for("#coordinator-form").await;
    app.type_into("#coordinator-form #f-coordinator", "Houda Amrani").await;
    app.click("#coordinator-save").await;
    app.wait_until("the new name", "document.querySelector('#coordinator-name')?.textContent === 'Houda Amrani'").await;
    let (same, name): (String, String) = app
        .database()
        .query_row("SELECT id, coordinator FROM device WHERE id = ?1", [&id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((same.as_str(), name.as_str()), (id.as_str(), "Houda Amrani"));
    // In Arabic the name stays isolated.
    language(&app, "ar").await;
    app.wait_for("#coordinator-name bdi").await;
    app.close().await;
}
