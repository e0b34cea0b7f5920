//! Forms as people use them with the keyboard and in their language: the
//! region list keeps its focus while the provinces follow it, "Aller au
//! contenu" goes to the screen's content, and a shown error follows a
//! change of language at once.

use crate::harness::App;
use fantoccini::key::Key;
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn the_provinces_follow_the_region_without_taking_its_focus() {
    let app = App::launch().await;
    app.set_value("#lang", "fr").await;
    app.go("#/register").await;
    app.click("#f-region").await;
    // A mark on the element: a rebuilt form would lose it.
    app.client.execute("document.querySelector('#f-region').dataset.mark = 'same';", vec![]).await.unwrap();
    app.set_value("#f-region", "04").await;
    let state = app
        .client
        .execute(
            "return [document.activeElement.id, document.activeElement.dataset.mark || '',
                     [...document.querySelectorAll('#f-province option')].map(o => o.value)];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(state[0], json!("f-region"), "the region keeps the focus: {state}");
    assert_eq!(state[1], json!("same"), "the form was not rebuilt");
    assert!(state[2].as_array().unwrap().iter().any(|p| p == "Kénitra"), "the region's provinces: {state}");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_skip_link_goes_to_the_screen_content() {
    let app = App::launch().await;
    app.set_value("#lang", "fr").await;
    app.go("#/followups").await;
    app.wait_for("#main h1").await;
    let skip = app.wait_for("a.skip").await;
    skip.send_keys(&Key::Enter.to_string()).await.expect("press Enter on the skip link");
    let state = app
        .client
        .execute(
            "return [location.hash, document.activeElement.tagName, document.activeElement.closest('#main') !== null];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(state, json!(["#/followups", "H1", true]), "still on the screen, focus on its title");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_shown_error_follows_a_change_of_language() {
    let app = App::launch().await;
    app.set_value("#lang", "fr").await;
    app.wait_until("French", "document.documentElement.lang === 'fr'").await;
    app.go("#/register").await;
    app.click("#save").await;
    app.wait_until("the errors", "document.querySelector('#err-first_name').textContent.length > 0").await;
    let french = app.text("#err-first_name").await;
    app.set_value("#lang", "en").await;
    app.wait_until("English", "document.documentElement.lang === 'en'").await;
    app.wait_until(
        "the error in English",
        &format!("document.querySelector('#err-first_name').textContent !== {}", json!(french)),
    )
    .await;
    let english = app.text("#err-first_name").await;
    assert!(english.to_lowercase().contains("required"), "{english}");
    app.set_value("#lang", "ar").await;
    app.wait_until(
        "the error in Arabic",
        "/[\\u0600-\\u06FF]/.test(document.querySelector('#err-first_name').textContent)",
    )
    .await;
    app.close().await;
}
