//! The field workflows in the real window: register, log a visit, record
//! milestones, see the profile; errors beside their field with nothing
//! stored; Arabic right to left; search; the duplicate warning; the
//! follow-up plan; the keyboard.

use crate::fixtures::*;
use crate::harness::App;
use fantoccini::key::Key;
use serde_json::json;
use uuid::Uuid;

#[tokio::test(flavor = "current_thread")]
async fn a_visit_then_business_plan_then_launch_show_on_the_profile_with_the_stage_and_the_timeline() {
    let app = App::launch().await;
    language(&app, "fr").await;
    app.go("#/register").await;
    app.type_into("#f-first_name", "Naïma").await;
    app.type_into("#f-last_name", "El Amrani").await;
    app.set_value("#f-sex", "F").await;
    app.set_value("#f-birth_date", "1990-05-20").await;
    app.set_value("#f-region", "04").await;
    app.set_value("#f-consent", "true").await;
    app.click("#save").await;
    app.wait_for("section.profile").await;
    assert_eq!(app.text("#profile-stage").await, "Aucune étape");

    // A visit: the form opens with today's date and this laptop's coordinator.
    app.click("#add-visit").await;
    app.wait_for("#visit-form").await;
    let defaults =
        js(&app, "return [document.querySelector('#f-date').value, document.querySelector('#f-coordinator').value]")
            .await;
    // Shown as the app prints dates (dd/mm/yyyy), read as ISO by the core.
    let day = today();
    assert_eq!(defaults, json!([format!("{}/{}/{}", &day[8..10], &day[5..7], &day[..4]), "Samira Test"]));
    app.set_value("#f-date", &days_ago(2)).await;
    app.set_value("#f-kind", "individual_coaching").await;
    app.type_into("#f-location", "Domicile, douar Laghdira").await;
    app.type_into("#f-duration_minutes", "45").await;
    app.type_into("#f-topics", "épargne, plan d'affaires").await;
    app.type_into("#f-next_steps", "Préparer le devis").await;
    app.set_value("#f-next_visit_date", &days_ahead(20)).await;
    app.click("#visit-form-save").await;
    app.wait_for("#timeline .timeline-visit").await;

    // Business plan, then launch with an amount written the French way.
    app.click("#add-milestone").await;
    app.set_value("#f-kind", "business_plan").await;
    app.set_value("#f-date", &days_ago(40)).await;
    app.click("#milestone-form-save").await;
    app.wait_until("the business plan", "document.querySelector(\"#timeline [data-kind='business_plan']\")").await;
    app.click("#add-milestone").await;
    app.set_value("#f-kind", "iga_launched").await;
    app.set_value("#f-date", &days_ago(10)).await;
    app.type_into("#f-amount", "12500,5").await;
    app.click("#milestone-form-save").await;
    app.wait_until("the launch", "document.querySelector(\"#timeline [data-kind='iga_launched']\")").await;

    assert_eq!(app.text("#profile-stage").await, "AGR lancée", "the stage is derived from the milestones");
    let order = js(&app, "return [...document.querySelectorAll('#timeline > li')].map(li => li.className + ':' + (li.dataset.kind || ''))").await;
    assert_eq!(
        order,
        json!(["timeline-visit:", "timeline-milestone:iga_launched", "timeline-milestone:business_plan"]),
        "newest first"
    );
    let timeline = app.text("#timeline").await;
    assert!(timeline.contains(&dmy(&days_ago(2))), "dates dd/mm/yyyy: {timeline}");
    assert!(timeline.contains("Coaching individuel") && timeline.contains("Domicile, douar Laghdira"), "{timeline}");
    let amount = app.text("#timeline [data-kind='iga_launched'] .amount").await;
    assert_eq!(amount, "12\u{202f}500,50 MAD");
    assert_eq!(app.text("#profile-next-visit").await, dmy(&days_ahead(20)));
    let history = app.text("#history").await;
    assert!(history.contains("Visite ajoutée") && history.contains("Samira Test"), "{history}");

    let (stage, visits, milestones): (String, i64, i64) = app
        .database()
        .query_row(
            "SELECT stage, (SELECT count(*) FROM visit), (SELECT count(*) FROM milestone) FROM beneficiary",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((stage.as_str(), visits, milestones), ("iga_launched", 1, 2));
    let amount: String =
        app.database().query_row("SELECT amount FROM milestone WHERE kind = 'iga_launched'", [], |r| r.get(0)).unwrap();
    assert_eq!(amount, "12500.50", "stored exact");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_invalid_visit_shows_its_error_beside_the_field_and_stores_nothing() {
    let mut id = Uuid::nil();
    let app = App::launch_with(|db| prepared(db, |s| id = register(s, json!({})))).await;
    language(&app, "fr").await;
    open_profile(&app, id).await;
    app.click("#add-visit").await;
    app.set_value("#f-date", &days_ahead(3)).await;
    app.set_value("#f-kind", "follow_up").await;
    app.click("#visit-form-save").await;
    app.wait_until("the date error", "document.querySelector('#err-date').textContent.length > 0").await;
    let error = app.text("#err-date").await;
    assert!(error.contains("futur"), "French error beside the date: {error}");
    assert_eq!(js(&app, "return document.querySelector('#f-date').getAttribute('aria-invalid')").await, json!("true"));
    assert_eq!(js(&app, "return document.activeElement.id").await, json!("f-date"), "the focus goes to the field");
    assert_eq!(app.count("SELECT count(*) FROM visit"), 0, "nothing stored");
    assert_eq!(app.count("SELECT count(*) FROM change"), 1, "only the registration is logged");

    // A milestone that contradicts another names it.
    app.click("#visit-form-cancel").await;
    app.click("#add-milestone").await;
    app.set_value("#f-kind", "sustained_12_months").await;
    app.set_value("#f-date", &days_ago(1)).await;
    app.click("#milestone-form-save").await;
    app.wait_until("the kind error", "document.querySelector('#err-kind').textContent.length > 0").await;
    let error = app.text("#err-kind").await;
    assert!(error.contains("AGR lancée"), "the error names the missing step: {error}");
    assert_eq!(app.count("SELECT count(*) FROM milestone"), 0);
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn in_arabic_the_page_is_right_to_left_with_arabic_labels_and_region_names() {
    let mut id = Uuid::nil();
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            id = register(s, json!({ "name_ar": "خديجة الوزاني", "cohort": "2026-A" }));
            s.add_visit_json(json!({ "beneficiary_id": id.to_string(), "date": days_ago(70), "kind": "follow_up" }))
                .unwrap();
        })
    })
    .await;
    language(&app, "ar").await;
    assert_eq!(js(&app, "return document.documentElement.dir").await, json!("rtl"));
    open_profile(&app, id).await;
    assert_eq!(app.text("#add-visit").await, "إضافة زيارة");
    let identity = app.text("#identity").await;
    assert!(identity.contains("الرباط سلا القنيطرة"), "the region in Arabic: {identity}");
    assert!(identity.contains("القنيطرة") && !identity.contains("Kénitra"), "the province in Arabic: {identity}");
    // Codes and numbers are isolated, so "2026-A" never shows as "A-2026".
    let isolated = js(&app, "return [...document.querySelectorAll('#identity dd bdi')].map(b => b.textContent)").await;
    assert!(isolated.as_array().unwrap().iter().any(|t| t == "2026-A"), "{isolated}");
    assert!(identity.contains("الجنس") && identity.contains("امرأة"), "labels and codes in Arabic: {identity}");
    app.click("#add-visit").await;
    let label = js(&app, "return document.querySelector(\"label[for='f-kind']\").textContent").await;
    assert_eq!(label, json!("النوع"));

    app.click("a[data-route='followups']").await;
    app.wait_for("#followups-plan section.fu-region").await;
    assert_eq!(app.text(".followups h1").await, "التتبع: خطة المهمة القادمة");
    let plan = app.text("#followups-plan").await;
    assert!(plan.contains("الرباط سلا القنيطرة") && !plan.contains("Kénitra"), "{plan}");

    // The choice is remembered: a reload comes back in Arabic.
    js(&app, "location.reload(); return true").await;
    app.wait_until(
        "the reloaded page",
        "document.body.dataset.ready === 'true' && document.documentElement.dir === 'rtl'",
    )
    .await;
    assert_eq!(js(&app, "return document.querySelector('#lang').value").await, json!("ar"));
    language(&app, "fr").await;
    assert_eq!(js(&app, "return document.documentElement.dir").await, json!("ltr"));
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_search_finds_an_accented_name_typed_without_accents_and_an_arabic_name() {
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            register(s, json!({ "first_name": "Fâtima", "last_name": "Benali", "name_ar": "فاطمة بنعلي" }));
            register(s, json!({ "first_name": "Zineb", "last_name": "Tazi", "name_ar": "زينب التازي" }));
        })
    })
    .await;
    language(&app, "fr").await;
    app.go("#/beneficiaries").await;
    let rows = "[...document.querySelectorAll('#beneficiary-table tbody tr')].map(r => r.querySelector('.person-name').textContent).join('|')";
    app.wait_until("both people", &format!("{rows} .split('|').length === 2")).await;
    app.type_into("#search", "fatima").await;
    app.wait_until("only Fâtima", &format!("{rows} === 'Fâtima Benali'")).await;
    app.type_into("#search", "فاطمة").await;
    app.wait_until("Fâtima by her Arabic name", &format!("{rows} === 'Fâtima Benali'")).await;
    app.type_into("#search", "التازي").await;
    app.wait_until("Zineb by her Arabic last name", &format!("{rows} === 'Zineb Tazi'")).await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_second_registration_with_the_same_cin_shows_the_duplicate_warning() {
    let mut first = Uuid::nil();
    let app = App::launch_with(|db| prepared(db, |s| first = register(s, json!({ "cin": "BK123456" })))).await;
    language(&app, "fr").await;
    app.go("#/register").await;
    app.type_into("#f-first_name", "Salma").await;
    app.type_into("#f-last_name", "Tazi").await;
    app.set_value("#f-sex", "F").await;
    app.set_value("#f-birth_date", "1992-02-02").await;
    app.set_value("#f-region", "01").await;
    app.type_into("#f-cin", "bk 123456").await;
    app.set_value("#f-consent", "true").await;
    app.click("#save").await;
    app.wait_until("the warning", "!document.querySelector('#duplicates').hidden").await;
    let warning = app.text("#duplicates").await;
    assert!(warning.contains("Khadija Ouazzani") && warning.contains("même CIN"), "{warning}");
    let link = js(&app, "return document.querySelector('#duplicates a').getAttribute('href')").await;
    assert_eq!(link, json!(format!("#/profile/{first}")), "the coordinator can open the match");
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1, "nothing saved before she decides");
    // On one laptop a CIN is unique: the refusal shows at once, beside the
    // field and naming whose CIN it is, and "save anyway" is not offered.
    let cin_error = app.text("#err-cin").await;
    assert!(cin_error.contains("Khadija Ouazzani"), "{cin_error}");
    let offered = js(&app, "return document.querySelector('#save-anyway') !== null").await;
    assert_eq!(offered, json!(false));
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1);
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn every_problem_of_a_registration_shows_at_once() {
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            register(s, json!({ "cin": "BK123456" }));
        })
    })
    .await;
    language(&app, "fr").await;
    app.go("#/register").await;
    app.type_into("#f-first_name", "Khadija").await;
    app.type_into("#f-last_name", "Ouazzani").await;
    app.set_value("#f-birth_date", "2099-01-01").await;
    app.type_into("#f-cin", "BK123456").await;
    app.click("#save").await;
    app.wait_until("the errors", "document.querySelector('#err-cin').textContent.length > 0").await;
    for field in ["sex", "birth_date", "region", "consent", "cin"] {
        let text = app.text(&format!("#err-{field}")).await;
        assert!(!text.is_empty(), "{field} has its error at the same time");
    }
    assert!(
        !js(&app, "return document.querySelector('#duplicates').hidden").await.as_bool().unwrap(),
        "and the duplicate warning"
    );
    assert_eq!(js(&app, "return document.querySelector('#save-anyway') !== null").await, json!(false));
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1);
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_followup_plan_groups_people_by_place_and_follows_the_threshold() {
    let app = App::launch_with(|db| {
        prepared(db, |s| {
            let late = register(s, json!({ "first_name": "Amina" }));
            s.add_visit_json(json!({ "beneficiary_id": late.to_string(), "date": days_ago(20), "kind": "follow_up", "next_visit_date": days_ago(2) })).unwrap();
            let quiet = register(s, json!({ "first_name": "Dounia", "region": "01", "province": "Larache", "commune": "Zouada" }));
            s.add_visit_json(json!({ "beneficiary_id": quiet.to_string(), "date": days_ago(75), "kind": "phone_call" })).unwrap();
            let seen = register(s, json!({ "first_name": "Chaima" }));
            s.add_visit_json(json!({ "beneficiary_id": seen.to_string(), "date": days_ago(5), "kind": "follow_up" })).unwrap();
        })
    })
    .await;
    language(&app, "fr").await;
    app.click("a[data-route='followups']").await;
    app.wait_for("#followups-plan .fu-place").await;
    let plan = js(&app, "return [...document.querySelectorAll('.fu-place')].map(p => p.closest('.fu-region').dataset.region + '/' + p.dataset.province + '/' + p.dataset.commune + ':' + [...p.querySelectorAll('tbody tr')].map(r => r.dataset.reason).join(','))").await;
    assert_eq!(plan, json!(["01/Larache/Zouada:no_recent_visit", "04/Kénitra/Mnasra:overdue"]));
    assert!(app.text("#followups-plan").await.contains(&format!("En retard : prévue le {}", dmy(&days_ago(2)))));
    assert_eq!(
        js(&app, "return document.querySelector('#f-followup_days').value").await,
        json!("60"),
        "from the settings"
    );
    // Ninety days: Dounia, seen 75 days ago, leaves the plan.
    app.type_into("#f-followup_days", "90").await;
    app.click("#followups-apply").await;
    app.wait_until("the plan at 90 days", "document.querySelectorAll('.fu-place').length === 1").await;
    // A threshold out of range is refused beside the field.
    app.type_into("#f-followup_days", "0").await;
    app.click("#followups-apply").await;
    app.wait_until("the error", "document.querySelector('#err-followup_days').textContent.length > 0").await;
    assert!(app.text("#err-followup_days").await.contains("365"));
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_profile_works_from_the_keyboard_with_labels_tied_to_fields() {
    let mut id = Uuid::nil();
    let app = App::launch_with(|db| prepared(db, |s| id = register(s, json!({})))).await;
    language(&app, "fr").await;
    open_profile(&app, id).await;
    let add = app.wait_for("#add-visit").await;
    add.send_keys(&Key::Enter.to_string()).await.unwrap();
    app.wait_for("#visit-form").await;
    assert_eq!(js(&app, "return document.activeElement.id").await, json!("f-date"), "the form takes the focus");
    let untied = js(&app, "return [...document.querySelectorAll('#visit-form input, #visit-form select, #visit-form textarea')].filter(f => !document.querySelector(`label[for='${f.id}']`)).map(f => f.id)").await;
    assert_eq!(untied, json!([]), "every field has its label");
    let outline = js(&app, "return getComputedStyle(document.activeElement).outlineStyle").await;
    assert_ne!(outline, json!("none"), "the focus is visible");
    // Fill it from the keyboard: the kind by typing in the select, then Enter to save.
    let kind = app.wait_for("#f-kind").await;
    kind.send_keys("Suivi").await.unwrap();
    let location = app.wait_for("#f-location").await;
    location.send_keys(&format!("Coopérative{}", Key::Enter)).await.unwrap();
    app.wait_for("#timeline .timeline-visit").await;
    assert_eq!(app.count("SELECT count(*) FROM visit WHERE kind = 'follow_up'"), 1);
    assert_eq!(js(&app, "return document.activeElement.id").await, json!("add-visit"), "the focus comes back");
    // Escape closes a form without saving.
    let add = app.wait_for("#add-milestone").await;
    add.send_keys(&Key::Enter.to_string()).await.unwrap();
    app.wait_for("#milestone-form").await;
    let kind = app.wait_for("#f-kind").await;
    kind.send_keys(&Key::Escape.to_string()).await.unwrap();
    app.wait_until("the panel closed", "document.querySelector('#panel').hidden").await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn archiving_asks_for_a_reason_and_keeps_the_record() {
    let mut id = Uuid::nil();
    let app = App::launch_with(|db| prepared(db, |s| id = register(s, json!({})))).await;
    language(&app, "fr").await;
    open_profile(&app, id).await;
    app.click("#archive").await;
    app.click("#archive-form-save").await;
    app.wait_until("the reason error", "document.querySelector('#err-archive_reason').textContent.length > 0").await;
    assert_eq!(
        app.count("SELECT count(*) FROM beneficiary WHERE archived_at IS NOT NULL"),
        0,
        "not archived without a reason"
    );
    app.type_into("#f-archive_reason", "Inscrite deux fois").await;
    app.click("#archive-form-save").await;
    app.wait_for("#archived-note").await;
    assert!(app.text("#history").await.contains("Inscrite deux fois"));
    let (count, reason): (i64, String) = app
        .database()
        .query_row(
            "SELECT count(*), json_extract(doc, '$.archive_reason') FROM beneficiary WHERE archived_at IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((count, reason.as_str()), (1, "Inscrite deux fois"), "kept, not erased");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_followup_plan_is_filtered_to_one_place_and_saved_as_a_pdf_on_the_stick() {
    std::env::set_var("WAFIRA_NO_OPEN", "1");
    let stick = tempfile::tempdir().expect("the stick");
    let launch = crate::harness::Launch {
        args: Vec::new(),
        env: vec![("WAFIRA_REMOVABLE_DRIVES".into(), stick.path().display().to_string())],
    };
    let app = App::launch_opts(launch, |db| {
        prepared(db, |s| {
            for (first, region, province, commune) in [
                ("Amina", "04", "Kénitra", "Mnasra"),
                ("Hanane", "04", "Kénitra", "Sidi Taibi"),
                ("Dounia", "01", "Larache", "Zouada"),
            ] {
                let id = register(
                    s,
                    json!({ "first_name": first, "region": region, "province": province, "commune": commune }),
                );
                s.add_visit_json(
                    json!({ "beneficiary_id": id.to_string(), "date": days_ago(90), "kind": "phone_call" }),
                )
                .unwrap();
            }
        })
    })
    .await;
    language(&app, "fr").await;
    app.click("a[data-route='followups']").await;
    app.wait_until("the whole plan", "document.querySelectorAll('.fu-place').length === 3").await;
    app.set_value("#fu-region", "04").await;
    app.wait_until("the region's plan", "document.querySelectorAll('.fu-place').length === 2").await;
    app.set_value("#fu-province", "Kénitra").await;
    app.wait_until("the communes to choose from", "document.querySelectorAll('#fu-commune option').length === 3").await;
    app.set_value("#fu-commune", "Mnasra").await;
    app.wait_until("one commune", "document.querySelectorAll('.fu-place').length === 1").await;
    let plan = app.text("#followups-plan").await;
    assert!(plan.contains("Amina") && !plan.contains("Hanane") && !plan.contains("Dounia"), "{plan}");
    // The same list as a PDF, on the stick in one click.
    app.wait_until("the USB button", "!document.querySelector('#print-usb').hidden").await;
    app.click("#print-usb").await;
    app.wait_for("#followups-print-result .saved-path").await;
    let path = std::path::PathBuf::from(app.text("#followups-print-result .saved-path").await.trim());
    assert_eq!(path.parent(), Some(stick.path()));
    let text = std::process::Command::new("pdftotext").arg(&path).arg("-").output().expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Amina") && !text.contains("Hanane") && !text.contains("Dounia"), "{text}");
    app.close().await;
}
