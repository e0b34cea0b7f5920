//! People of the results framework in the real window (issue 11): someone
//! from another country of origin registered with her identity document,
//! an international number and the region "Hors du Maroc" (refused to a
//! Moroccan, beside the region); a status "dropped out" asking for its
//! reason beside the field, then taking her off the follow-up plan; and
//! the dashboard's results framework on a dataset small enough to check by
//! hand, in French and in Arabic.

use crate::fixtures::*;
use crate::harness::App;
use serde_json::json;
use uuid::Uuid;
use wafira_core::store::log::Entity;

/// Fills the registration form's required fields for a woman.
async fn fill_person(app: &App, first: &str, last: &str) {
    app.type_into("#f-first_name", first).await;
    app.type_into("#f-last_name", last).await;
    app.set_value("#f-sex", "F").await;
    app.set_value("#f-birth_date", "1993-02-11").await;
    app.set_value("#f-consent", "true").await;
}

#[tokio::test(flavor = "current_thread")]
async fn someone_from_mauritania_registers_with_her_passport_and_a_moroccan_cannot_be_outside_morocco() {
    let app = App::launch().await;
    language(&app, "fr").await;
    app.go("#/register").await;
    app.wait_for("#beneficiary-form #group-origin").await;
    // The usual case stays short: origin and disability folded away.
    let folded = js(
        &app,
        "return [document.querySelector('#group-origin').open, document.querySelector('#group-disability').open,
                 document.querySelector('#group-situation').tagName, document.querySelector('#group-origin summary').textContent,
                 document.querySelector('#f-cin').closest('.field').hidden,
                 document.querySelector('#f-region option[value=\"00\"]').hidden]",
    )
    .await;
    assert_eq!(
        folded,
        json!([false, false, "FIELDSET", "Origine (personne d'un autre pays)", false, true]),
        "closed groups, the CIN asked and 'Hors du Maroc' not offered to a Moroccan"
    );

    fill_person(&app, "Mariem", "Mint Ahmed").await;
    app.type_into("#f-phone", "+222 22 12 34 56").await;
    app.click("#group-origin summary").await;
    app.set_value("#f-country_of_origin", "MR").await;
    let others = js(
        &app,
        "return [document.querySelector('#f-cin').closest('.field').hidden, document.querySelector('#f-cin').disabled,
                 document.querySelector('#f-region option[value=\"00\"]').hidden,
                 document.querySelector('#f-region option[value=\"00\"]').textContent]",
    )
    .await;
    assert_eq!(others, json!([true, true, false, "Hors du Maroc"]), "no CIN for her, and her region offered");
    app.set_value("#f-nationality", "MR").await;
    app.set_value("#f-id_doc_type", "passport").await;
    app.type_into("#f-id_doc_number", "B0412345").await;
    app.type_into("#f-place_abroad", "Nouadhibou").await;
    app.set_value("#f-region", "00").await;
    // The Washington Group questions: a lot of difficulty walking.
    app.click("#group-disability summary").await;
    app.set_value("#f-wg_walking", "3").await;
    app.set_value("#f-wg_seeing", "1").await;
    app.click("#save").await;
    app.wait_for("section.profile").await;
    assert_eq!(app.text("#profile-disability").await, "Oui", "from her answers");
    assert_eq!(app.text("#profile-origin").await, "Mauritanie");
    assert_eq!(app.text("#profile-nationality").await, "Mauritanie");
    assert_eq!(app.text("#profile-id-doc").await, "Passeport · B0412345");
    assert_eq!(app.text("#profile-place-abroad").await, "Nouadhibou");
    assert!(app.text("#identity").await.contains("Hors du Maroc"), "her region");
    let stored: (String, String, String) = app
        .database()
        .query_row("SELECT phone, region, json_extract(doc, '$.country_of_origin') FROM beneficiary", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(stored, ("+22222123456".into(), "00".into(), "MR".into()));
    let walking: i64 = app
        .database()
        .query_row("SELECT json_extract(doc, '$.wg_walking') FROM beneficiary", [], |r| r.get(0))
        .unwrap();
    assert_eq!(walking, 3, "stored as a number");
    // Her form again: the groups that hold her answers open.
    app.click("#edit").await;
    app.wait_for("#beneficiary-form #group-origin").await;
    assert_eq!(
        js(
            &app,
            "return [document.querySelector('#group-origin').open, document.querySelector('#group-disability').open,
                          document.querySelector('#f-wg_walking').value, document.querySelector('#f-cin').disabled]"
        )
        .await,
        json!([true, true, "3", true])
    );

    // A Moroccan (the country set back) with "Hors du Maroc": refused beside
    // the region, and every other problem at once (a document without its
    // number opens the folded group that holds it).
    app.go("#/register").await;
    app.wait_until("an empty form", "document.querySelector('#f-first_name')?.value === ''").await;
    fill_person(&app, "Salma", "Idrissi").await;
    app.click("#group-origin summary").await;
    app.set_value("#f-country_of_origin", "MR").await;
    app.set_value("#f-region", "00").await;
    app.set_value("#f-country_of_origin", "").await;
    app.set_value("#f-id_doc_type", "passport").await;
    app.client.execute("document.querySelector('#group-origin').open = false;", vec![]).await.unwrap();
    assert!(!js(&app, "return document.querySelector('#f-cin').disabled").await.as_bool().unwrap());
    app.click("#save").await;
    app.wait_until("the region's error", "document.querySelector('#err-region').textContent.length > 0").await;
    assert_eq!(
        app.text("#err-region").await,
        "« Hors du Maroc » est réservé aux personnes d'un autre pays d'origine : choisissez sa région au Maroc"
    );
    assert_eq!(app.text("#err-id_doc_number").await, "obligatoire");
    assert!(js(&app, "return document.querySelector('#group-origin').open").await.as_bool().unwrap());
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1, "nothing stored");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_person_who_dropped_out_needs_a_reason_and_leaves_the_followup_plan() {
    let (mut amina, mut chaima) = (Uuid::nil(), Uuid::nil());
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            for (id, name) in [(&mut amina, "Amina"), (&mut chaima, "Chaima")] {
                *id = register(s, json!({ "first_name": name }));
                s.add_visit_json(json!({ "beneficiary_id": id.to_string(), "date": days_ago(20), "kind": "follow_up",
                                          "next_visit_date": days_ago(2) }))
                    .unwrap();
            }
        })
    })
    .await;
    language(&app, "fr").await;
    app.click("a[data-route='followups']").await;
    app.wait_for(&format!("#followups-plan tr[data-id='{amina}']")).await;

    app.go(&format!("#/register/{amina}")).await;
    app.wait_for("#beneficiary-form #f-status").await;
    assert!(
        js(&app, "return document.querySelector('#f-status_reason').closest('.field').hidden").await.as_bool().unwrap(),
        "no reason asked while she is followed"
    );
    assert_eq!(
        js(&app, "return document.querySelector(\"#f-status option[value='']\").textContent").await,
        json!("Suivi en cours")
    );
    app.set_value("#f-status", "dropped_out").await;
    app.set_value("#f-status_date", &days_ago(3)).await;
    app.click("#save").await;
    app.wait_until("the reason's error", "document.querySelector('#err-status_reason').textContent.length > 0").await;
    assert_eq!(app.text("#err-status_reason").await, "obligatoire");
    assert_eq!(app.count("SELECT count(*) FROM beneficiary WHERE json_extract(doc, '$.status') IS NOT NULL"), 0);

    app.type_into("#f-status_reason", "Emploi salarié trouvé à Kénitra").await;
    app.click("#save").await;
    app.wait_for(&format!("section.profile[data-id='{amina}']")).await;
    let status = app.text("#profile-status").await;
    assert_eq!(status, format!("Abandon depuis le {} — Emploi salarié trouvé à Kénitra", dmy(&days_ago(3))));

    app.click("a[data-route='followups']").await;
    app.wait_for(&format!("#followups-plan tr[data-id='{chaima}']")).await;
    assert_eq!(
        js(&app, &format!("return document.querySelector(\"#followups-plan tr[data-id='{amina}']\") === null")).await,
        json!(true),
        "she left the plan"
    );
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_dashboard_shows_the_results_framework_in_french_and_arabic() {
    // One IGA launched 13 months ago, found operating a year after its launch.
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            let id = register(s, json!({ "consent_date": days_ago(500), "baseline_income": "1000" }));
            let iga = s
                .add_record(
                    Entity::Iga,
                    json!({ "beneficiary_id": id, "sector": "commerce", "form": "individual",
                            "legal_status": "auto_entrepreneur", "social_security": "amo", "jobs_created": 1 }),
                )
                .expect("an IGA");
            let iga = iga["id"].as_str().unwrap().to_string();
            s.add_milestone_json(
                json!({ "beneficiary_id": id, "iga_id": iga, "kind": "iga_launched", "date": days_ago(400) }),
            )
            .expect("its launch");
            s.add_record(
                Entity::IgaFollowup,
                json!({ "iga_id": iga, "date": days_ago(30), "operating": true, "monthly_turnover": "4000",
                        "monthly_profit": "1800" }),
            )
            .expect("a survey at 12 months");
        })
    })
    .await;
    language(&app, "fr").await;
    app.click("a[data-route='dashboard']").await;
    let share = "#dash-results [data-figure='results.survival_12_months.cumulative.share.all']";
    app.wait_for(share).await;
    assert_eq!(app.text("#dash-results-title").await, "Cadre de résultats");
    assert_eq!(app.text(share).await, "100,0\u{202f}%");
    let cells = js(
        &app,
        "const v = (p) => document.querySelector(`#dash-results [data-figure='results.${p}']`).textContent;
         return ['survival_12_months.period.eligible.women', 'survival_12_months.cumulative.eligible.all',
                 'survival_12_months.cumulative.eligible.men', 'survival_12_months.cumulative.operating.women',
                 'survival_12_months.cumulative.unknown.all', 'survival_12_months.period.share.all',
                 'survival_6_months.cumulative.share.all', 'income_12_months.cumulative.median_profit.all',
                 'income_12_months.cumulative.median_change_from_baseline.all', 'decent_work.cumulative.formalised.women',
                 'people.cumulative.by_age_group.35-44.women', 'people.cumulative.by_disability.not_asked.all',
                 'survival_12_months.cumulative.share.women', 'survival_12_months.cumulative.share.men',
                 'income_12_months.cumulative.median_profit.women', 'income_12_months.cumulative.median_profit.men'].map(v)",
    )
    .await;
    assert_eq!(
        cells,
        json!([
            "1",
            "1",
            "0",
            "1",
            "0",
            "100,0\u{202f}%",
            "100,0\u{202f}%",
            "1\u{202f}800,00 MAD",
            "800,00 MAD",
            "1",
            "1",
            "1",
            "100,0\u{202f}%",
            "—",
            "1\u{202f}800,00 MAD",
            "—"
        ])
    );
    assert_eq!(
        app.text("#dash-results-base").await,
        "1 AGR lancée depuis au moins 12 mois (cumul) : base de la survie à 12 mois."
    );
    // The numbers keep to the right.
    assert_eq!(
        js(&app, &format!("return getComputedStyle(document.querySelector(\"{share}\")).textAlign")).await,
        json!("right")
    );
    // The same figures as `wafira report indicators`, every cell.
    let cli = crate::report::cli_indicators(&app.db, &[]);
    let shown = crate::report::dashboard_figures(&app).await;
    for (path, value) in shown.iter().filter(|(p, _)| p.starts_with("results.")) {
        let want = match crate::report::at(&cli, path) {
            serde_json::Value::Null if path.starts_with("results.people.") => "0".to_string(),
            v => crate::report::plain(v),
        };
        assert_eq!(value.as_str(), Some(want.as_str()), "{path}");
    }

    language(&app, "ar").await;
    app.wait_until(
        "the results in Arabic",
        "document.querySelector('#dash-results-title')?.textContent === 'إطار النتائج'",
    )
    .await;
    assert_eq!(app.text(share).await, "100,0\u{202f}%");
    assert_eq!(
        app.text("#dash-results-base").await,
        "نشاط واحد مدر للدخل تم إطلاقه منذ 12 شهرا على الأقل (تراكمي): أساس نسبة الاستمرار بعد 12 شهرا."
    );
    assert_eq!(
        app.text("#dash-results [data-figure='results.income_12_months.cumulative.median_profit.all']").await,
        "1\u{202f}800,00 درهم"
    );
    let heads =
        js(&app, "return [...document.querySelectorAll('#res-survival thead th')].map(th => th.textContent)").await;
    assert_eq!(heads, json!(["المؤشر", "الفترة", "تراكمي", "نساء", "رجال", "المجموع", "نساء", "رجال", "المجموع"]));
    assert_eq!(
        js(&app, "return [document.documentElement.dir, getComputedStyle(document.querySelector('#res-survival td.num')).textAlign]").await,
        json!(["rtl", "right"])
    );
    // French again for the tests that follow (the choice persists).
    language(&app, "fr").await;
    app.close().await;
}
