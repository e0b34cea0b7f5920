//! The results framework's records in the real window: a person's IGAs on
//! her profile, each with its own milestones and follow-up surveys; the
//! Séances screen, where a session's attendance is ticked from a
//! searchable list and saved at once; and that screen in Arabic, right to
//! left, on a 1024×600 laptop.

use crate::fixtures::*;
use crate::harness::App;
use fantoccini::key::Key;
use serde_json::json;
use uuid::Uuid;
use wafira_core::store::log::Entity;

/// The id of the `n`th IGA card of the profile (0 the oldest).
async fn iga_id(app: &App, n: usize) -> String {
    let id = js(app, &format!("return document.querySelectorAll('#igas article.iga[data-id]')[{n}]?.dataset.id")).await;
    id.as_str().unwrap_or_else(|| panic!("no IGA card {n}: {id}")).to_string()
}

#[tokio::test(flavor = "current_thread")]
async fn an_iga_gets_its_launch_and_a_survey_under_it_and_a_second_iga_its_own_launch() {
    let mut id = Uuid::nil();
    let app = App::launch_with(|db| prepared(db, |s| id = register(s, json!({ "iga_sector": "handicraft" })))).await;
    language(&app, "fr").await;
    open_profile(&app, id).await;
    assert_eq!(app.text("#no-igas").await, "Aucune AGR enregistrée pour l'instant.");

    // Her first IGA, from the form the core's declaration builds.
    app.click("#add-iga").await;
    app.wait_for("#iga-form").await;
    assert_eq!(
        js(&app, "return document.querySelector('#f-sector').value").await,
        json!("handicraft"),
        "the sector starts as the person's"
    );
    assert!(
        js(&app, "return document.querySelector('#f-members').closest('.field').hidden").await.as_bool().unwrap(),
        "no members for an individual IGA"
    );
    app.type_into("#f-activity", "Couture et broderie").await;
    app.type_into("#f-name", "Atelier Lalla").await;
    app.set_value("#f-legal_status", "auto_entrepreneur").await;
    app.set_value("#f-social_security", "amo").await;
    app.type_into("#f-invest_grant", "5000").await;
    app.type_into("#f-invest_own", "1500,50").await;
    app.type_into("#f-jobs_created", "2").await;
    app.click("#iga-form-save").await;
    app.wait_for("#igas article.iga[data-id]").await;
    let first = iga_id(&app, 0).await;
    let card = format!("#igas article.iga[data-id='{first}']");
    assert_eq!(app.text(&format!("{card} .iga-title")).await, "Atelier Lalla");
    assert_eq!(app.text(&format!("{card} .iga-stage")).await, "Aucune étape");
    let facts = app.text(&format!("{card} .iga-facts")).await;
    for part in ["Artisanat", "Auto-entrepreneur", "AMO", "6\u{202f}500,50 MAD"] {
        assert!(facts.contains(part), "{part} in the IGA's facts: {facts}");
    }

    // Its launch, from its own button: no IGA to choose.
    app.click(&format!("button[data-add-milestone='{first}']")).await;
    app.wait_for("#milestone-form").await;
    assert_eq!(js(&app, "return document.querySelector('#f-iga_id')").await, json!(null));
    assert!(app.text("#milestone-of").await.contains("Atelier Lalla"));
    app.set_value("#f-kind", "iga_launched").await;
    app.set_value("#f-date", &days_ago(200)).await;
    app.type_into("#f-amount", "6500").await;
    app.click("#milestone-form-save").await;
    app.wait_for(&format!("{card} .iga-milestones [data-kind='iga_launched']")).await;
    assert_eq!(app.text(&format!("{card} .iga-stage")).await, "AGR lancée");

    // A follow-up survey of it.
    app.click(&format!("button[data-add-followup='{first}']")).await;
    app.wait_for("#iga-followup-form").await;
    assert!(app.text("#followup-of").await.contains("Atelier Lalla"));
    app.set_value("#f-date", &days_ago(10)).await;
    app.set_value("#f-operating", "true").await;
    assert!(
        js(&app, "return document.querySelector('#f-not_operating_reason').closest('.field').hidden")
            .await
            .as_bool()
            .unwrap(),
        "no reason asked while it operates"
    );
    app.type_into("#f-monthly_turnover", "3000").await;
    app.type_into("#f-monthly_profit", "4000").await;
    app.set_value("#iga-followup-form input[name='sales_channels'][value='local_market']", "true").await;
    app.set_value("#iga-followup-form input[name='sales_channels'][value='social_media']", "true").await;
    app.click("#iga-followup-form-save").await;
    // The core's rule, beside its field, in French.
    app.wait_until("the profit error", "document.querySelector('#err-monthly_profit').textContent.length > 0").await;
    assert_eq!(app.text("#err-monthly_profit").await, "ne peut pas dépasser le chiffre d'affaires mensuel");
    assert_eq!(app.count("SELECT count(*) FROM iga_followup"), 0);
    app.type_into("#f-monthly_profit", "800").await;
    app.click("#iga-followup-form-save").await;
    app.wait_for(&format!("{card} .iga-followups li.followup")).await;
    let survey = app.text(&format!("{card} .iga-followups li.followup")).await;
    for part in [dmy(&days_ago(10)).as_str(), "En activité", "3\u{202f}000,00 MAD", "800,00 MAD", "Souk, marché local"]
    {
        assert!(survey.contains(part), "{part} in the survey: {survey}");
    }

    // A second activity: its own card, and the milestone form now asks which.
    app.click("#add-iga").await;
    app.wait_for("#iga-form").await;
    app.type_into("#f-activity", "Élevage de poules").await;
    app.set_value("#f-sector", "livestock").await;
    app.set_value("#f-legal_status", "informal").await;
    app.click("#iga-form-save").await;
    app.wait_until("two IGAs", "document.querySelectorAll('#igas article.iga[data-id]').length === 2").await;
    let second = iga_id(&app, 1).await;
    assert_ne!(first, second);
    app.click("#add-milestone").await;
    app.wait_for("#milestone-form #f-iga_id").await;
    let offered = js(&app, "return [...document.querySelectorAll('#f-iga_id option')].map(o => o.textContent)").await;
    assert_eq!(offered, json!(["— Choisir —", "Atelier Lalla", "Élevage de poules"]));
    app.set_value("#f-kind", "iga_launched").await;
    app.set_value("#f-date", &days_ago(5)).await;
    app.click("#milestone-form-save").await;
    // Without the IGA the core asks which one.
    app.wait_until("the IGA error", "document.querySelector('#err-iga_id').textContent.length > 0").await;
    assert!(app.text("#err-iga_id").await.contains("plusieurs"));
    app.set_value("#f-iga_id", &second).await;
    app.click("#milestone-form-save").await;
    let card2 = format!("#igas article.iga[data-id='{second}']");
    app.wait_for(&format!("{card2} .iga-milestones [data-kind='iga_launched']")).await;
    assert_eq!(app.text(&format!("{card2} .iga-stage")).await, "AGR lancée");
    let counts = js(
        &app,
        "return [...document.querySelectorAll('#igas article.iga[data-id]')].map(a =>
           [a.querySelectorAll('.iga-milestones li').length, a.querySelectorAll('.iga-followups li').length])",
    )
    .await;
    assert_eq!(counts, json!([[1, 1], [1, 0]]), "each IGA shows its own launch; the survey stays with the first");
    // The timeline still shows every milestone.
    assert_eq!(
        js(&app, "return document.querySelectorAll(\"#timeline [data-kind='iga_launched']\").length").await,
        json!(2)
    );

    let db = app.database();
    let launches: Vec<String> = db
        .prepare("SELECT iga_id FROM milestone WHERE kind = 'iga_launched' ORDER BY date")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(launches, vec![first.clone(), second.clone()]);
    let (survey_iga, profit): (String, String) = db
        .query_row("SELECT iga_id, json_extract(doc, '$.monthly_profit') FROM iga_followup", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((survey_iga.as_str(), profit.as_str()), (first.as_str(), "800.00"));
    let invest: String = db
        .query_row("SELECT json_extract(doc, '$.invest_own') FROM iga WHERE id = ?1", [&first], |r| r.get(0))
        .unwrap();
    assert_eq!(invest, "1500.50", "the amount typed the French way, stored exact");

    // Withdrawn by mistake: the card goes, with its reason kept.
    app.click(&format!("{card2} button[data-rec-void='iga']")).await;
    app.wait_for("#void-form").await;
    app.type_into("#f-archive_reason", "Saisie en double").await;
    app.click("#void-form-save").await;
    app.wait_until("one IGA card", "document.querySelectorAll('#igas article.iga[data-id]').length === 1").await;
    assert_eq!(app.count("SELECT count(*) FROM iga WHERE archived_at IS NOT NULL"), 1);
    app.close().await;
}

/// Fifteen people with last names one types apart.
const NAMES: [&str; 15] = [
    "Alami", "Bennani", "Chraibi", "Daoudi", "Filali", "Guessous", "Hajji", "Idrissi", "Jettou", "Kettani", "Lahlou",
    "Mansouri", "Naciri", "Ouali", "Rifai",
];

fn fifteen_people(s: &mut wafira_core::Store) -> Vec<Uuid> {
    NAMES
        .iter()
        .enumerate()
        .map(|(i, last)| {
            let sex = if i % 3 == 0 { "M" } else { "F" };
            let first = if sex == "M" { "Youssef" } else { "Amina" };
            register(s, json!({ "first_name": first, "last_name": last, "sex": sex, "birth_date": format!("19{}-03-01", 70 + i) }))
        })
        .collect()
}

const PRESENT: &str = "document.querySelectorAll('#present-list li[data-id]').length";

#[tokio::test(flavor = "current_thread")]
async fn a_financial_education_session_gets_twelve_people_ticked_from_the_filter_then_eleven() {
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            fifteen_people(s);
        })
    })
    .await;
    language(&app, "fr").await;
    app.click("#nav a[data-route='sessions']").await;
    app.wait_for("section.sessions").await;
    assert_eq!(app.text("#no-sessions").await, "Aucune séance pour l'instant.");

    app.click("#new-session").await;
    app.wait_for("#session-form").await;
    assert!(js(&app, "return document.querySelector('#f-module').closest('.field').hidden").await.as_bool().unwrap());
    app.set_value("#f-kind", "financial_education").await;
    assert!(!js(&app, "return document.querySelector('#f-module').closest('.field').hidden").await.as_bool().unwrap());
    app.set_value("#f-date", &days_ago(1)).await;
    app.type_into("#f-place", "Maison des jeunes").await;
    app.type_into("#f-facilitator", "Samira Test").await;
    app.click("#session-form-save").await;
    // The module of a financial education session is required.
    app.wait_until("the module error", "document.querySelector('#err-module').textContent.length > 0").await;
    app.set_value("#f-module", "savings").await;
    app.click("#session-form-save").await;
    app.wait_for("section.session-attendance").await;
    assert_eq!(app.text("#session-title").await, "Éducation financière — Épargne");
    assert_eq!(app.text("#present-count").await, "0 personne cochée");
    assert_eq!(
        js(&app, "return document.activeElement.id").await,
        json!("attendance-filter"),
        "the filter box is ready to type in"
    );

    // Ten ticked from the keyboard: a name, then Enter, then the next name.
    let filter = app.wait_for("#attendance-filter").await;
    for (i, name) in NAMES[..10].iter().enumerate() {
        filter.send_keys(&format!("{name}{}", Key::Enter)).await.unwrap();
        app.wait_until(&format!("{} ticked", i + 1), &format!("{PRESENT} === {}", i + 1)).await;
        // The text is selected: the next name replaces it.
        assert_eq!(
            js(&app, "const f = document.getElementById('attendance-filter'); return f.selectionEnd - f.selectionStart === f.value.length").await,
            json!(true)
        );
    }
    // Two with the mouse, from what the filter found.
    for name in &NAMES[10..12] {
        app.type_into("#attendance-filter", name).await;
        app.wait_until(
            "the match",
            &format!(
                "[...document.querySelectorAll('#match-list li')].length === 1 && document.querySelector('#match-list .person-name').textContent.includes('{name}')"
            ),
        )
        .await;
        app.click("#match-list li input[type='checkbox']").await;
    }
    app.wait_until("twelve ticked", &format!("{PRESENT} === 12")).await;
    assert_eq!(app.text("#present-count").await, "12 personnes cochées");
    assert!(!js(&app, "return document.getElementById('unsaved').hidden").await.as_bool().unwrap());
    assert_eq!(app.count("SELECT count(*) FROM attendance"), 0, "nothing stored before the button");
    app.click("#save-attendance").await;
    app.wait_until("saved", "document.getElementById('unsaved').hidden").await;
    assert_eq!(app.count("SELECT count(*) FROM attendance WHERE archived_at IS NULL"), 12);

    // Reopened from the list: twelve present.
    app.click("#sessions-back").await;
    app.wait_for("#sessions-table tbody tr[data-id]").await;
    assert_eq!(app.text("#sessions-table tbody tr .attendance-count").await, "12");
    let row = app.text("#sessions-table tbody tr").await;
    assert!(row.contains(&dmy(&days_ago(1))) && row.contains("Maison des jeunes"), "{row}");
    app.click("#sessions-table .session-link").await;
    app.wait_until("twelve present", &format!("{PRESENT} === 12")).await;
    let ticked = js(&app, "return [...document.querySelectorAll('#present-list .person-name')].map(n => n.textContent.split(' ').pop()).sort()").await;
    let mut expected: Vec<&str> = NAMES[..12].to_vec();
    expected.sort();
    assert_eq!(ticked, json!(expected));

    // One unticked, saved: eleven.
    app.click("#present-list li[data-id] input[type='checkbox']").await;
    app.wait_until("eleven", &format!("{PRESENT} === 11")).await;
    app.click("#save-attendance").await;
    app.wait_until("saved", "document.getElementById('unsaved').hidden").await;
    assert_eq!(app.count("SELECT count(*) FROM attendance WHERE archived_at IS NULL"), 11);
    assert_eq!(app.count("SELECT count(*) FROM attendance WHERE archived_at IS NOT NULL"), 1, "withdrawn, kept");
    app.click("#sessions-back").await;
    app.wait_until(
        "eleven in the list",
        "document.querySelector('#sessions-table tbody tr .attendance-count')?.textContent === '11'",
    )
    .await;
    app.click("#sessions-table .session-link").await;
    app.wait_until("eleven present", &format!("{PRESENT} === 11")).await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_sessions_screen_is_right_to_left_in_arabic_at_1024_by_600() {
    let mut session = String::new();
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            register(s, json!({ "first_name": "Fatima", "last_name": "Benali", "name_ar": "فاطمة بنعلي" }));
            fifteen_people(s);
            let made = s
                .add_record(
                    Entity::Session,
                    json!({ "kind": "pre_departure", "date": days_ago(3), "place": "Kénitra", "region": "04" }),
                )
                .expect("a session");
            session = made["id"].as_str().unwrap().to_string();
        })
    })
    .await;
    app.client.set_window_size(1024, 600).await.expect("resize");
    language(&app, "ar").await;
    app.go("#/sessions").await;
    app.wait_for("#sessions-table tbody tr[data-id]").await;
    assert_eq!(js(&app, "return document.documentElement.dir").await, json!("rtl"));
    assert_eq!(app.text("section.sessions h1").await, "الجلسات الجماعية");
    assert_eq!(app.text("#nav a[data-route='sessions']").await, "الجلسات");
    assert_eq!(app.text("#sessions-table tbody tr .session-link").await, "توجيه قبل السفر");
    // The heading starts at the right.
    let sides = js(
        &app,
        "const h = document.querySelector('section.sessions h1').getBoundingClientRect();
         const m = document.querySelector('section.sessions').getBoundingClientRect();
         return [Math.round(m.right - h.right), Math.round(h.left - m.left)]",
    )
    .await;
    assert!(sides[0].as_i64().unwrap() < sides[1].as_i64().unwrap(), "the title sits on the right: {sides}");

    app.click(&format!("#sessions-table tr[data-id='{session}'] .session-link")).await;
    app.wait_for("section.session-attendance").await;
    let filter = app.wait_for("#attendance-filter").await;
    filter.send_keys(&format!("فاطمة{}", Key::Enter)).await.unwrap();
    app.wait_until("one ticked", &format!("{PRESENT} === 1")).await;
    assert_eq!(app.text("#present-count").await, "شخص واحد");
    filter.send_keys(&format!("Alami{}", Key::Enter)).await.unwrap();
    app.wait_until("two ticked", &format!("{PRESENT} === 2")).await;
    assert_eq!(app.text("#present-count").await, "شخصان");
    let m = js(
        &app,
        "const f = document.getElementById('attendance-filter');
         const box = document.querySelector('#present-list li input').getBoundingClientRect();
         const chip = document.querySelector('#present-list li').getBoundingClientRect();
         return {dir: getComputedStyle(f).direction, wide: document.documentElement.scrollWidth, inner: window.innerWidth,
                 boxAtRight: box.right > chip.left + chip.width / 2,
                 rows: new Set([...document.querySelectorAll('#nav a')].map(a => Math.round(a.getBoundingClientRect().top))).size,
                 navHidden: document.getElementById('nav').scrollWidth - document.getElementById('nav').clientWidth}",
    )
    .await;
    assert_eq!(m["dir"], json!("rtl"), "{m}");
    assert_eq!(m["boxAtRight"], json!(true), "a box before its name, on the right: {m}");
    assert!(m["wide"].as_i64().unwrap() <= m["inner"].as_i64().unwrap(), "no wider than the window: {m}");
    assert_eq!(m["rows"], json!(1), "the menu on one line: {m}");
    assert!(m["navHidden"].as_i64().unwrap() <= 0, "every menu entry in sight: {m}");
    // A change of language keeps what was ticked and not saved yet.
    language(&app, "fr").await;
    app.wait_until(
        "two still ticked",
        &format!("{PRESENT} === 2 && document.getElementById('present-count').textContent === '2 personnes cochées'"),
    )
    .await;
    language(&app, "ar").await;
    app.wait_until("two ticked in Arabic", &format!("{PRESENT} === 2")).await;
    app.click("#save-attendance").await;
    app.wait_until("saved", "document.getElementById('unsaved').hidden").await;
    assert_eq!(app.count("SELECT count(*) FROM attendance WHERE archived_at IS NULL"), 2);
    app.close().await;
}

/// The menu gained an entry (Séances): at every width from a 1024 laptop
/// to a wide screen, in the three languages, each entry stays in sight on
/// one line and nothing is wider than the window.
#[tokio::test(flavor = "current_thread")]
async fn the_menu_with_sessions_keeps_every_entry_in_sight_at_every_width() {
    let app = App::launch().await;
    for lang in ["fr", "ar", "en"] {
        language(&app, lang).await;
        app.go("#/sessions").await;
        app.wait_for("section.sessions").await;
        for width in (1024..=1760).step_by(48) {
            app.client.set_window_size(width, 700).await.expect("resize");
            app.wait_until("the new width", &format!("window.outerWidth === {width} || window.innerWidth === {width}"))
                .await;
            let m = js(
                &app,
                "const nav = document.getElementById('nav');
                 return {hidden: nav.scrollWidth - nav.clientWidth,
                         rows: new Set([...nav.querySelectorAll('a')].filter(a => !a.hidden).map(a => Math.round(a.getBoundingClientRect().top))).size,
                         wide: document.documentElement.scrollWidth - window.innerWidth};",
            )
            .await;
            assert!(m["hidden"].as_i64().unwrap() <= 0, "{lang} {width}: a menu entry out of sight: {m}");
            assert_eq!(m["rows"], json!(1), "{lang} {width}: {m}");
            assert!(m["wide"].as_i64().unwrap() <= 0, "{lang} {width}: wider than the window: {m}");
        }
    }
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_partner_added_in_settings_is_offered_for_a_referral_beside_a_season() {
    let mut id = Uuid::nil();
    let app = App::launch_with(|db| prepared(db, |s| id = register(s, json!({ "destination_country": "ES" })))).await;
    language(&app, "fr").await;
    app.go("#/settings").await;
    app.wait_for("#partners-table tbody tr").await;
    let listed = app.text("#partners-table").await;
    assert!(listed.contains("ANA MOUKAWIL Mouhajir") && listed.contains("Organisme public"), "{listed}");
    app.type_into("#partner-name", "Association Tawada").await;
    app.set_value("#partner-kind", "ngo").await;
    app.click("#partner-save").await;
    app.wait_until(
        "the new partner",
        "[...document.querySelectorAll('#partners-table td')].some(td => td.textContent === 'Association Tawada')",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM partner"), 1);

    open_profile(&app, id).await;
    app.click("#add-referral").await;
    app.wait_for("#referral-form").await;
    let offered =
        js(&app, "return [...document.querySelectorAll('#f-partner_id option')].map(o => o.textContent)").await;
    assert!(
        offered.as_array().unwrap().iter().any(|o| o == "Association Tawada")
            && offered.as_array().unwrap().iter().any(|o| o == "ANAPEC"),
        "{offered}"
    );
    let tawada: String =
        app.database().query_row("SELECT id FROM partner", [], |r| r.get(0)).expect("the partner's id");
    app.set_value("#f-partner_id", &tawada).await;
    app.type_into("#f-reason", "Formation en gestion").await;
    app.click("#referral-form-save").await;
    app.wait_for("#referrals li.referral").await;
    let referral = app.text("#referrals li.referral").await;
    assert!(referral.contains("Association Tawada") && referral.contains("En attente"), "{referral}");

    app.click("#add-season").await;
    app.wait_for("#season-form").await;
    assert_eq!(js(&app, "return document.querySelector('#f-country').value").await, json!("ES"));
    app.set_value("#f-departure_date", &days_ago(90)).await;
    app.set_value("#f-return_date", &days_ago(100)).await;
    app.click("#season-form-save").await;
    app.wait_until("the date error", "document.querySelector('#err-return_date').textContent.length > 0").await;
    assert!(app.text("#err-return_date").await.contains("Date de départ"), "names the other field");
    app.set_value("#f-return_date", &days_ago(10)).await;
    app.set_value("#f-returned_as_planned", "true").await;
    app.click("#season-form-save").await;
    app.wait_for("#seasons li.season").await;
    let season = app.text("#seasons li.season").await;
    assert!(season.contains("Espagne") && season.contains("retour comme prévu"), "{season}");

    // Corrected: the outcome of the referral.
    app.click("#referrals button[data-rec-correct='referral']").await;
    app.wait_for("#correct-form").await;
    app.set_value("#f-outcome", "taken_up").await;
    app.set_value("#f-outcome_date", &today()).await;
    app.click("#correct-form-save").await;
    app.wait_until(
        "the outcome",
        "document.querySelector('#referrals li.referral')?.textContent.includes('Suivie (service obtenu)')",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM referral WHERE outcome = 'taken_up'"), 1);
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_collective_iga_takes_its_members_from_a_search_of_people() {
    let (mut owner, mut member) = (Uuid::nil(), Uuid::nil());
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            owner = register(s, json!({}));
            member =
                register(s, json!({ "first_name": "Rachid", "last_name": "Zerouali", "sex": "M", "cin": "AB12345" }));
        })
    })
    .await;
    language(&app, "fr").await;
    open_profile(&app, owner).await;
    app.click("#add-iga").await;
    app.wait_for("#iga-form").await;
    app.set_value("#f-form", "collective").await;
    assert!(!js(&app, "return document.querySelector('#f-members').closest('.field').hidden").await.as_bool().unwrap());
    app.type_into("#f-activity", "Coopérative de safran").await;
    app.set_value("#f-sector", "agriculture").await;
    app.set_value("#f-legal_status", "cooperative").await;
    // Found by his CIN, chosen with Enter; the owner herself is refused by the core.
    let search = app.wait_for("#f-members-search").await;
    search.send_keys(&format!("AB12345{}", Key::Enter)).await.unwrap();
    app.wait_until("the member chosen", "document.querySelectorAll('#f-members .pick-chosen li').length === 1").await;
    assert!(app.text("#f-members .pick-chosen").await.contains("Rachid Zerouali"));
    search.send_keys(&format!("Ouazzani{}", Key::Enter)).await.unwrap();
    app.wait_until("two chosen", "document.querySelectorAll('#f-members .pick-chosen li').length === 2").await;
    app.click("#iga-form-save").await;
    app.wait_until("the owner error", "document.querySelector('#err-members').textContent.length > 0").await;
    assert!(app.text("#err-members").await.contains("titulaire"));
    app.click(&format!("#f-members button[data-remove='{owner}']")).await;
    app.click("#iga-form-save").await;
    app.wait_for("#igas article.iga[data-id]").await;
    assert!(app.text("#igas .iga-facts").await.contains("1 membre"));
    let members: String =
        app.database().query_row("SELECT json_extract(doc, '$.members') FROM iga", [], |r| r.get(0)).unwrap();
    assert_eq!(members, format!("[\"{member}\"]"));
    app.close().await;
}
