//! Long work in the real window (issue 12): importing three laptops'
//! bundles shows a progress bar bundle by bundle ("Paquet 1 sur 3 —
//! Portable Agadir 1"), and its Cancel button stops the import between
//! two bundles: the window says how many went in, and the database holds
//! exactly those. The rest, imported afterwards in Arabic, shows its bar
//! filling from the right.
//!
//! The person's click on Cancel is made by the page itself the moment the
//! bar names the first bundle (a WebDriver click comes too late to be
//! sure of landing during that bundle): the same button, the same
//! command, at a known point of the work, with no test-only code in the
//! app.

use crate::files::choose_bundles;
use crate::fixtures::{js, language};
use crate::harness::App;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use wafira_core::Store;

const PEOPLE: usize = 150;
const LAPTOPS: [&str; 3] = ["Portable Agadir 1", "Portable Agadir 2", "Portable Tiznit"];
const FIRST: [&str; 12] = [
    "Aïcha", "Bouchra", "Hanane", "Khadija", "Latifa", "Malika", "Nadia", "Rachida", "Samira", "Souad", "Zineb",
    "Imane",
];
const LAST: [&str; 13] = [
    "Alaoui",
    "Benali",
    "Bennani",
    "Berrada",
    "Chraïbi",
    "El Amrani",
    "Haddad",
    "Lahlou",
    "Naciri",
    "Ouazzani",
    "Sbaï",
    "Tazi",
    "Zerouali",
];

/// Three laptops, each with `PEOPLE` women and a visit each, each a bundle
/// for the station (the app's database).
fn prepare(dir: &Path, station_path: &Path) -> Vec<PathBuf> {
    let mut station = crate::harness::open_store(station_path);
    station.init_device("Station Agadir", "Assia").expect("init station");
    let station_key = station.keys().expect("keys").recipient;
    let mut bundles = Vec::new();
    for (k, name) in LAPTOPS.iter().enumerate() {
        let path = dir.join(format!("laptop-{k}.sqlite"));
        let mut laptop = Store::open_with_key(&path, &wafira_core::accounts::DbKey::from_bytes([7; 32])).expect("open");
        laptop.init_device(name, &format!("Coordinatrice {k}")).expect("init laptop");
        laptop.trust_recipient("Station Agadir", &station_key).expect("trust");
        // The station's assistant approved each laptop after comparing its fingerprint.
        let print = laptop.keys().expect("keys").fingerprint;
        station.approve_device(laptop.device().expect("device").id, Some(&print), false).expect("approve");
        for i in 0..PEOPLE {
            let person = json!({
                "first_name": FIRST[i % FIRST.len()], "last_name": LAST[(i / FIRST.len()) % LAST.len()],
                "sex": "F", "birth_date": format!("{}-0{}-1{}", 1970 + 10 * k + i % 9, 1 + i % 9, i % 10),
                "region": "09", "consent": true
            });
            let id = laptop.add_beneficiary_json(person).expect("register").id;
            laptop
                .add_visit_json(json!({ "beneficiary_id": id.to_string(), "date": "2025-01-10", "kind": "follow_up" }))
                .expect("visit");
        }
        let bundle = dir.join(format!("{}.wafira", name.replace(' ', "-")));
        laptop.export_bundle_to(&bundle, false).expect("export");
        bundles.push(bundle);
    }
    bundles
}

/// Watches the progress bar under `#import-result`: every state it shows
/// (value, text, whether its fill starts at the start side), and, when
/// `cancel_on` is in its text, clicks its Cancel button once.
async fn watch_progress(app: &App, cancel_on: Option<&str>) {
    app.client
        .execute(
            "const [cancelOn] = arguments;
             window.__seen = [];
             const out = document.querySelector('#import-result');
             new MutationObserver(() => {
               const bar = out.querySelector('[role=progressbar]');
               if (!bar) return;
               const text = out.querySelector('.job-text').textContent;
               const fill = bar.querySelector('.job-fill').getBoundingClientRect();
               const track = bar.getBoundingClientRect();
               const rtl = document.documentElement.dir === 'rtl';
               const fromStart = fill.width === 0 || (rtl ? Math.abs(track.right - fill.right) < 2 : Math.abs(fill.left - track.left) < 2);
               window.__seen.push({ now: Number(bar.getAttribute('aria-valuenow')), text, fromStart });
               const cancel = out.querySelector('.job-cancel');
               if (cancelOn && text.includes(cancelOn) && !cancel.disabled) cancel.click();
             }).observe(out, { subtree: true, childList: true, attributes: true, characterData: true });",
            vec![json!(cancel_on)],
        )
        .await
        .expect("watch the progress bar");
}

async fn seen(app: &App) -> Vec<Value> {
    js(app, "return window.__seen;").await.as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "current_thread")]
async fn an_import_of_three_bundles_shows_its_progress_and_stops_between_two_bundles_when_cancelled() {
    let files = tempfile::tempdir().expect("temp dir");
    let mut bundles = Vec::new();
    let app = App::launch_with(|db| bundles = prepare(files.path(), db)).await;
    language(&app, "fr").await;
    app.go("#/sync").await;
    let paths: Vec<&Path> = bundles.iter().map(PathBuf::as_path).collect();
    choose_bundles(&app, &paths).await;
    app.wait_until("the preview", "!document.querySelector('#import-actions').hidden").await;
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 0, "nothing written before confirming");

    watch_progress(&app, Some("Paquet 1 sur 3")).await;
    app.click("#import-confirm").await;
    app.wait_until("the import's end", "document.querySelector('#import-result .cancelled')").await;

    let states = seen(&app).await;
    let texts: Vec<&str> = states.iter().filter_map(|s| s["text"].as_str()).collect();
    assert!(texts.contains(&"Paquet 1 sur 3 — Portable Agadir 1"), "the bar named the bundle: {texts:?}");
    assert!(!texts.iter().any(|t| t.starts_with("Paquet 2")), "no second bundle begun: {texts:?}");
    let values: Vec<i64> = states.iter().filter_map(|s| s["now"].as_i64()).collect();
    assert!(values.windows(2).all(|w| w[0] <= w[1]) && values.iter().any(|v| *v > 0), "aria-valuenow: {values:?}");
    let result = app.text("#import-result").await;
    assert!(result.contains("Import annulé : paquets importés 1 sur 3"), "{result}");
    assert_eq!(result.matches("non importé (annulé)").count(), 2, "{result}");
    assert!(
        js(&app, "return document.querySelector('#import-result [role=progressbar]') === null;").await == json!(true),
        "the bar is gone once the import answered"
    );
    // Exactly the first laptop's bundle, whole.
    assert_eq!(app.count("SELECT count(*) FROM bundle_import"), 1);
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), PEOPLE as i64);
    assert_eq!(app.count("SELECT count(*) FROM visit"), PEOPLE as i64);

    // The two others, in Arabic, to the end: the bar fills from the right.
    language(&app, "ar").await;
    app.go("#/sync").await;
    choose_bundles(&app, &paths[1..]).await;
    app.wait_until("the preview", "!document.querySelector('#import-actions').hidden").await;
    watch_progress(&app, None).await;
    app.click("#import-confirm").await;
    app.wait_until("the import's end", "document.querySelector('#import-result .summary')").await;
    let states = seen(&app).await;
    let texts: Vec<&str> = states.iter().filter_map(|s| s["text"].as_str()).collect();
    assert!(texts.contains(&"الحزمة 2 من 2 — Portable Tiznit"), "{texts:?}");
    assert!(states.iter().all(|s| s["fromStart"] == json!(true)), "the fill starts on the right: {states:?}");
    assert_eq!(app.count("SELECT count(*) FROM bundle_import"), 3);
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 3 * PEOPLE as i64);
    app.close().await;
}
