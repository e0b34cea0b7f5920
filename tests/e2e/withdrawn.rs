//! Records withdrawn and put back in the real window: a group session
//! corrected from its own page, withdrawn with its reason (its list kept,
//! ticking closed) and restored from the list's folded group; a person's
//! withdrawn IGAs, seasons and referrals on her profile, with their reason
//! and Restaurer, in French and Arabic; a partner withdrawn and put back in
//! Paramètres by a manager, while a coordinator sees it without the
//! button.

use crate::fixtures::*;
use crate::harness::{App, Turn};
use serde_json::json;
use uuid::Uuid;
use wafira_core::store::log::Entity;

const PRESENT: &str = "document.querySelectorAll('#present-list li[data-id]').length";

fn id_of(doc: &serde_json::Map<String, serde_json::Value>) -> Uuid {
    Uuid::parse_str(doc["id"].as_str().expect("an id")).expect("a uuid")
}

#[tokio::test(flavor = "current_thread")]
async fn a_session_is_corrected_then_withdrawn_with_its_reason_and_put_back_from_the_list() {
    let mut session = Uuid::nil();
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            let amina = register(s, json!({ "first_name": "Amina", "last_name": "Alami" }));
            let badia = register(s, json!({ "first_name": "Badia", "last_name": "Bennani" }));
            let made = s
                .add_record(
                    Entity::Session,
                    json!({ "kind": "pre_departure", "date": days_ago(3), "place": "Kénitra", "region": "04",
                            "province": "Kénitra" }),
                )
                .expect("a session");
            session = id_of(&made);
            s.take_attendance(session, &[amina, badia]).expect("attendance");
        })
    })
    .await;
    language(&app, "fr").await;
    app.go(&format!("#/sessions/{session}")).await;
    app.wait_until("two present", &format!("{PRESENT} === 2")).await;

    // Corrected: its declared form again, filled with what was entered.
    app.click("#session-correct").await;
    app.wait_for("#session-form").await;
    assert_eq!(app.text("#session-form-title").await, "Corriger la séance");
    assert_eq!(js(&app, "return document.querySelector('#f-place').value").await, json!("Kénitra"));
    assert_eq!(js(&app, "return document.querySelector('#f-province').value").await, json!("Kénitra"));
    app.set_value("#f-kind", "financial_education").await;
    assert!(!js(&app, "return document.querySelector('#f-module').closest('.field').hidden").await.as_bool().unwrap());
    app.click("#session-form-save").await;
    // The core's rule: financial education names its module.
    app.wait_until("the module error", "document.querySelector('#err-module').textContent.length > 0").await;
    assert_eq!(app.count("SELECT count(*) FROM session WHERE kind = 'pre_departure'"), 1, "nothing changed");
    app.set_value("#f-module", "budget").await;
    app.type_into("#f-place", "Maison des jeunes").await;
    app.type_into("#f-facilitator", "Samira Test").await;
    app.click("#session-form-save").await;
    app.wait_until(
        "the corrected title",
        "document.getElementById('session-title')?.textContent === 'Éducation financière — Budget'",
    )
    .await;
    let facts = app.text(".session-facts").await;
    assert!(facts.contains("Maison des jeunes") && facts.contains("Samira Test"), "{facts}");
    assert_eq!(js(&app, &format!("return {PRESENT}")).await, json!(2), "the list is untouched");
    let (kind, module, place): (String, String, String) = app
        .database()
        .query_row("SELECT kind, module, json_extract(doc, '$.place') FROM session", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(
        (kind.as_str(), module.as_str(), place.as_str()),
        ("financial_education", "budget", "Maison des jeunes")
    );

    // Withdrawn: a reason is required, and the list is kept as it was.
    app.click("#session-void").await;
    app.wait_for("#void-form").await;
    assert!(app.text("#void-session-intro").await.contains("ne compte plus nulle part"));
    app.click("#void-form-save").await;
    app.wait_until("the reason error", "document.querySelector('#err-archive_reason').textContent.length > 0").await;
    assert_eq!(app.count("SELECT count(*) FROM session WHERE archived_at IS NOT NULL"), 0);
    app.type_into("#f-archive_reason", "La séance n'a pas eu lieu").await;
    app.click("#void-form-save").await;
    app.wait_for("#session-withdrawn").await;
    let note = app.text("#session-withdrawn").await;
    assert!(note.contains("Séance retirée") && note.contains("La séance n'a pas eu lieu"), "{note}");
    let closed = js(
        &app,
        "return [!document.getElementById('save-attendance'), !document.getElementById('session-correct'),
                 document.getElementById('attendance-filter').disabled]",
    )
    .await;
    assert_eq!(closed, json!([true, true, true]), "a withdrawn session is neither ticked nor corrected");
    assert_eq!(js(&app, &format!("return {PRESENT}")).await, json!(2));
    assert_eq!(app.count("SELECT count(*) FROM session WHERE archived_at IS NOT NULL"), 1);
    assert_eq!(app.count("SELECT count(*) FROM attendance WHERE archived_at IS NULL"), 2, "nobody unticked");

    // The list: no live session, the withdrawn one in its folded group.
    app.click("#sessions-back").await;
    app.wait_for("#withdrawn-sessions").await;
    assert_eq!(app.text("#no-sessions").await, "Aucune séance pour l'instant.");
    assert_eq!(js(&app, "return document.getElementById('withdrawn-sessions').open").await, json!(false));
    app.click("#withdrawn-sessions summary").await;
    app.wait_until("the group open", "document.getElementById('withdrawn-sessions').open").await;
    assert_eq!(app.text("#withdrawn-sessions summary").await, "1 séance retirée");
    let row = app.text(&format!("#withdrawn-sessions-table tr[data-id='{session}']")).await;
    for part in ["Éducation financière — Budget", "La séance n'a pas eu lieu", "Retrait du"] {
        assert!(row.contains(part), "{part} in {row}");
    }
    assert_eq!(app.text("#withdrawn-sessions-table .attendance-count").await, "2");
    app.click(&format!("#withdrawn-sessions-table button[data-restore='{session}']")).await;
    app.wait_for(&format!("#sessions-table tbody tr[data-id='{session}']")).await;
    assert_eq!(js(&app, "return document.getElementById('withdrawn-sessions')").await, json!(null));
    assert_eq!(app.text("#sessions-table tbody tr .attendance-count").await, "2", "its list as it was");
    assert_eq!(app.count("SELECT count(*) FROM session WHERE archived_at IS NULL"), 1);
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn her_withdrawn_records_are_listed_with_their_reason_and_put_back_from_her_profile() {
    let mut id = Uuid::nil();
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            id = register(s, json!({ "destination_country": "ES" }));
            s.add_record(
                Entity::Iga,
                json!({ "beneficiary_id": id, "name": "Atelier Lalla", "sector": "handicraft", "form": "individual",
                        "legal_status": "informal" }),
            )
            .expect("an IGA");
            let season = s
                .add_record(Entity::Season, json!({ "beneficiary_id": id, "year": 2024, "country": "ES" }))
                .expect("a season");
            s.void_record(Entity::Season, id_of(&season), Some("Saison saisie deux fois".into())).expect("withdrawn");
            let anapec = wafira_core::programme::built_in_partner_id("anapec");
            let referral = s
                .add_record(
                    Entity::Referral,
                    json!({ "beneficiary_id": id, "partner_id": anapec, "date": days_ago(20), "outcome": "pending" }),
                )
                .expect("a referral");
            s.void_record(Entity::Referral, id_of(&referral), Some("Pas la bonne personne".into())).expect("withdrawn");
        })
    })
    .await;
    language(&app, "fr").await;
    open_profile(&app, id).await;
    assert_eq!(app.text("#seasons .muted").await, "Aucune saison enregistrée.");
    assert_eq!(app.text("#withdrawn-records summary").await, "2 saisies retirées");
    app.click("#withdrawn-records summary").await;
    app.wait_until("the group open", "document.getElementById('withdrawn-records').open").await;
    let season = app.text("#withdrawn-records li[data-kind='season']").await;
    assert!(season.contains("Saison") && season.contains("2024 — Espagne"), "{season}");
    assert!(season.contains("Saison saisie deux fois"), "{season}");
    let referral = app.text("#withdrawn-records li[data-kind='referral']").await;
    assert!(referral.contains("ANAPEC") && referral.contains("Pas la bonne personne"), "{referral}");

    // In Arabic, right to left, the count agreeing with its noun.
    language(&app, "ar").await;
    app.wait_until(
        "the Arabic group",
        "document.querySelector('#withdrawn-records summary')?.textContent === 'إدخالان مسحوبان'",
    )
    .await;
    assert_eq!(js(&app, "return document.getElementById('withdrawn-records').open").await, json!(true), "kept open");
    assert_eq!(app.text("#withdrawn-records li[data-kind='season'] .badge").await, "موسم");
    assert_eq!(app.text("#withdrawn-records li[data-kind='season'] button[data-restore]").await, "استرجاع");
    language(&app, "fr").await;

    // The season put back: in its list again, the group one shorter.
    app.click("#withdrawn-records li[data-kind='season'] button[data-restore]").await;
    app.wait_for("#seasons li.season").await;
    assert!(app.text("#seasons li.season").await.contains("Espagne"));
    assert_eq!(app.text("#withdrawn-records summary").await, "1 saisie retirée");
    assert_eq!(app.count("SELECT count(*) FROM season WHERE archived_at IS NULL"), 1);

    // An IGA withdrawn here joins the group, and comes back.
    app.click("#igas button[data-rec-void='iga']").await;
    app.wait_for("#void-form").await;
    app.type_into("#f-archive_reason", "Activité en double").await;
    app.click("#void-form-save").await;
    app.wait_until("no IGA card", "document.querySelectorAll('#igas article.iga[data-id]').length === 0").await;
    assert_eq!(app.text("#withdrawn-records summary").await, "2 saisies retirées");
    let iga = app.text("#withdrawn-records li[data-kind='iga']").await;
    assert!(iga.contains("AGR") && iga.contains("Atelier Lalla") && iga.contains("Activité en double"), "{iga}");
    app.click("#withdrawn-records li[data-kind='iga'] button[data-restore]").await;
    app.wait_for("#igas article.iga[data-id]").await;
    assert_eq!(app.text("#igas .iga-title").await, "Atelier Lalla");
    assert_eq!(app.text("#withdrawn-records summary").await, "1 saisie retirée");
    assert_eq!(app.count("SELECT count(*) FROM iga WHERE archived_at IS NULL"), 1);
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_manager_withdraws_a_partner_with_its_reason_and_puts_it_back() {
    let mut person = Uuid::nil();
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            person = register(s, json!({}));
            s.add_record(Entity::Partner, json!({ "name": "Association Tawada", "kind": "ngo" })).expect("a partner");
        })
    })
    .await;
    language(&app, "fr").await;
    app.go("#/settings").await;
    let tawada =
        "[...document.querySelectorAll('#partners-table td')].some(td => td.textContent === 'Association Tawada')";
    app.wait_until("the partner", tawada).await;
    // Built-in partners are the programme's: no button beside them.
    assert_eq!(
        js(&app, "return document.querySelectorAll('#partners-table tr.built-in button').length").await,
        json!(0)
    );
    app.click("#partners-table button[data-void-partner]").await;
    app.wait_for("#partner-void-form").await;
    assert_eq!(app.text("#partner-void-title").await, "Retirer le partenaire « Association Tawada »");
    app.click("#partner-void-save").await;
    app.wait_until("the reason error", "document.querySelector('#err-partner-archive_reason').textContent.length > 0")
        .await;
    app.type_into("#partner-archive_reason", "Doublon de l'INDH").await;
    app.click("#partner-void-save").await;
    app.wait_for("#withdrawn-partners").await;
    app.wait_until("gone from the table", &format!("!({tawada})")).await;
    assert_eq!(app.text("#withdrawn-partners summary").await, "1 partenaire retiré");
    assert_eq!(app.count("SELECT count(*) FROM partner WHERE archived_at IS NOT NULL"), 1);

    // No longer offered for a referral.
    open_profile(&app, person).await;
    app.click("#add-referral").await;
    app.wait_for("#referral-form").await;
    let offered =
        js(&app, "return [...document.querySelectorAll('#f-partner_id option')].map(o => o.textContent)").await;
    assert!(!offered.as_array().unwrap().iter().any(|o| o == "Association Tawada"), "{offered}");

    app.go("#/settings").await;
    app.click("#withdrawn-partners summary").await;
    let line = app.text("#withdrawn-partners li").await;
    assert!(line.contains("Association Tawada") && line.contains("Doublon de l'INDH"), "{line}");
    app.click("#withdrawn-partners button[data-restore]").await;
    app.wait_until("back in the table", tawada).await;
    assert_eq!(js(&app, "return document.getElementById('withdrawn-partners')").await, json!(null));
    assert_eq!(app.count("SELECT count(*) FROM partner WHERE archived_at IS NULL"), 1);
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_coordinator_restores_a_session_but_only_sees_a_withdrawn_partner() {
    const COORDINATOR: &str = "Youssef Coordinateur";
    const HIS_PASSPHRASE: &str = "la phrase du coordinateur";
    let mut session = Uuid::nil();
    let turn = Turn::take();
    let app = App::launch_locked(&turn, |db| {
        prepared(db, |s| {
            s.put_account(COORDINATOR, wafira_core::access::Role::Coordinator, HIS_PASSPHRASE).expect("an account");
            let partner =
                s.add_record(Entity::Partner, json!({ "name": "Association Tawada", "kind": "ngo" })).expect("partner");
            s.void_record(Entity::Partner, id_of(&partner), Some("Doublon".into())).expect("withdrawn");
            let made =
                s.add_record(Entity::Session, json!({ "kind": "information", "date": days_ago(2) })).expect("session");
            session = id_of(&made);
            s.void_record(Entity::Session, session, Some("Saisie par erreur".into())).expect("withdrawn");
        })
    })
    .await;
    app.set_value("#f-user", COORDINATOR).await;
    app.type_into("#f-passphrase", HIS_PASSPHRASE).await;
    app.click("#unlock-submit").await;
    app.wait_until("the unlocked window", "!document.getElementById('nav').hidden").await;
    language(&app, "fr").await;

    app.go("#/settings").await;
    app.wait_for("#withdrawn-partners").await;
    let buttons = js(
        &app,
        "return [document.querySelectorAll('#withdrawn-partners button').length,
                 document.querySelectorAll('#partners-table button').length, Boolean(document.getElementById('partner-form'))]",
    )
    .await;
    assert_eq!(buttons, json!([0, 0, false]), "partners are the manager's to change");

    app.go("#/sessions").await;
    app.click("#withdrawn-sessions summary").await;
    app.click(&format!("#withdrawn-sessions-table button[data-restore='{session}']")).await;
    app.wait_for(&format!("#sessions-table tbody tr[data-id='{session}']")).await;
    assert_eq!(app.count("SELECT count(*) FROM session WHERE archived_at IS NULL"), 1);
    app.close().await;
    drop(turn);
}
