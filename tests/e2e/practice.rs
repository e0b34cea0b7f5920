//! The practice database in the real window: one click in Paramètres
//! opens it (a banner on every screen, made-up people added there), and
//! one click brings back the real data, behind the passphrase again.

use crate::harness::App;
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn paramètres_switches_to_the_practice_database_and_back() {
    let app = App::launch_with(|db| {
        let mut store = crate::harness::open_store(db);
        store.init_device("Portable de test", "Samira Test").expect("init");
        store
            .add_beneficiary_json(json!({ "first_name": "Amina", "last_name": "Zerhouni", "sex": "F",
                "birth_date": "1990-03-14", "region": "04", "consent": true }))
            .expect("a real person");
    })
    .await;
    app.set_value("#lang", "fr").await;
    app.go("#/settings").await;
    app.click("#practice-switch").await;
    app.wait_until("the practice list", "location.hash === '#/beneficiaries'").await;
    app.wait_until("the banner", "!document.getElementById('practice-banner').hidden").await;
    assert!(app.text("#practice-banner").await.contains("entraînement"));
    app.wait_until("no real person here", "!document.body.textContent.includes('Zerhouni')").await;
    app.go("#/settings").await;
    app.click("#practice-demo").await;
    app.wait_until("made-up people added", "document.getElementById('toast').textContent.includes('300')").await;
    app.go("#/beneficiaries").await;
    app.wait_until("300 made-up people", "(document.querySelector('#list-count')?.textContent || '').includes('300')")
        .await;
    // Back to the real data: the passphrase again, no banner, the real person.
    app.go("#/settings").await;
    app.click("#practice-switch").await;
    app.wait_for("#unlock-form").await;
    app.unlock().await;
    app.wait_until("back where she was", "location.hash === '#/settings'").await;
    app.go("#/beneficiaries").await;
    app.wait_until("the real list", "document.body.textContent.includes('Zerhouni')").await;
    assert!(
        app.client.execute("return document.getElementById('practice-banner').hidden", vec![]).await.unwrap()
            == json!(true)
    );
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1, "the real data untouched");
    app.close().await;
}
