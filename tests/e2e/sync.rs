//! Consolidation in the real window: import two laptops' bundles (preview,
//! then confirm), settle a conflict, merge a duplicate.

use crate::harness::App;
use serde_json::json;
use std::path::{Path, PathBuf};
use wafira_core::sync::ImportOptions;
use wafira_core::Store;

fn laptop(dir: &Path, name: &str) -> Store {
    let mut s =
        Store::open_with_key(dir.join(format!("{name}.sqlite")), &wafira_core::accounts::DbKey::from_bytes([7; 32]))
            .expect("open laptop");
    s.init_device(name, &format!("Coordinatrice {name}")).expect("init laptop");
    s
}

fn person(first: &str, cin: &str) -> serde_json::Value {
    json!({ "first_name": first, "last_name": "El Idrissi", "sex": "F", "birth_date": "1990-03-14",
            "region": "04", "cin": cin, "phone": "0612345678", "consent": true })
}

fn export(store: &mut Store, path: PathBuf) -> PathBuf {
    store.export_bundle_to(&path, false).expect("export");
    path
}

/// Laptops A and B both edited Khadija's phone (a conflict) and each
/// registered the same woman under CIN BK777777 (a duplicate). The station
/// (the app's database) already has Khadija.
fn prepare(dir: &Path, station_path: &Path) -> (PathBuf, PathBuf) {
    let mut a = laptop(dir, "Portable Larache");
    let mut b = laptop(dir, "Portable Kénitra");
    let mut station = crate::harness::open_store(station_path);
    station.init_device("Station Rabat", "Assia").expect("init station");
    // Both laptops send their bundles to the station; A's first goes to B too.
    let station_key = station.keys().expect("keys").recipient;
    a.trust_recipient("Station Rabat", &station_key).expect("trust");
    b.trust_recipient("Station Rabat", &station_key).expect("trust");
    a.trust_recipient("Portable Kénitra", &b.keys().expect("keys").recipient).expect("trust");
    let khadija = a.add_beneficiary_json(person("Khadija", "G111111")).expect("register").id;
    let first = export(&mut a, dir.join("a0.wafira"));
    let approving = ImportOptions { approve_new: true, ..ImportOptions::default() };
    let read = |p: &Path| vec![(String::new(), std::fs::read(p).unwrap())];
    assert!(!station.import_bundles_with(read(&first), approving).expect("station import").any_refused());
    assert!(!b.import_bundles_with(read(&first), approving).expect("laptop B import").any_refused());
    // The station's assistant approved laptop B after comparing its fingerprint.
    let b_print = b.keys().expect("keys").fingerprint;
    station.approve_device(b.device().expect("device").id, Some(&b_print), false).expect("approve B");
    a.update_beneficiary(khadija, json!({ "phone": "0611111111" })).expect("edit on A");
    b.update_beneficiary(khadija, json!({ "phone": "0622222222" })).expect("edit on B");
    a.add_beneficiary_json(person("Fatima", "BK777777")).expect("register on A");
    let mut fatma = person("Fatma", "BK777777");
    fatma["phone"] = json!("0700000000");
    b.add_beneficiary_json(fatma).expect("register on B");
    (export(&mut a, dir.join("larache-2.wafira")), export(&mut b, dir.join("kenitra-1.wafira")))
}

/// The rows of the Sync screen's laptops table, as read, by laptop name.
async fn laptop_rows(app: &App) -> serde_json::Value {
    app.client
        .execute(
            "return Object.fromEntries([...document.querySelectorAll('#devices-table tbody tr')]
               .map((r) => [r.querySelector('strong').textContent, r.textContent.replace(/\\s+/g, ' ').trim()]));",
            vec![],
        )
        .await
        .expect("the laptops table")
}

/// The laptops table speaks of people: who uses each laptop, its last
/// bundle's number and the day it came, what was recorded on it, what is
/// missing; never a change number or a clock stamp.
async fn laptops_in_words(app: &App) {
    let rows = laptop_rows(app).await;
    let row = |name: &str| rows[name].as_str().unwrap_or_else(|| panic!("{name}: {rows}")).to_string();
    let today = wafira_core::Store::today().format("%d/%m/%Y").to_string();
    let larache = row("Portable Larache");
    for said in [
        "utilisé par Coordinatrice Portable Larache",
        &format!("n° 2, reçu le {today}"),
        "2 paquets reçus",
        "2 personnes, 0 visite, 0 étape AGR",
        "rien",
    ] {
        assert!(larache.contains(said), "{said:?} missing from: {larache}");
    }
    let kenitra = row("Portable Kénitra");
    assert!(kenitra.contains(&format!("n° 1, reçu le {today}")) && kenitra.contains("1 personne,"), "{kenitra}");
    let station = row("Station Rabat");
    assert!(station.contains("ce poste") && station.contains("utilisé par Assia"), "{station}");
    assert!(station.contains("aucun paquet exporté"), "{station}");
    // Larache made more changes (Khadija, her phone, Fatima) than it sent
    // bundles: its last change's number is not what the row says.
    let last_seq = app
        .count("SELECT max(seq) FROM change WHERE device_id = (SELECT id FROM device WHERE name = 'Portable Larache')");
    assert!(last_seq > 2, "{last_seq}");
    assert!(!larache.contains(&format!("n° {last_seq}")), "a change number shown: {larache}");
    // No clock stamp (15 digits): dates only, as everywhere.
    let table = app.text("#devices-table").await;
    let longest = table.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    assert!(longest <= 4, "a raw number in: {table}");
    assert!(!table.contains("Horloge"), "{table}");
    // In Arabic the bundle's number and its date keep their order, isolated.
    app.set_value("#lang", "ar").await;
    app.wait_until(
        "Arabic",
        "document.documentElement.dir === 'rtl' && document.querySelectorAll('#devices-table tbody tr').length === 3",
    )
    .await;
    let isolated = app
        .client
        .execute(
            "const r = [...document.querySelectorAll('#devices-table tbody tr')]
               .find((tr) => tr.textContent.includes('Portable Larache'));
             return [...r.querySelectorAll('.last-bundle bdi')].map((b) => b.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(isolated[0], "2", "{isolated}");
    assert_eq!(isolated[1].as_str().map(|d| d.starts_with(&today)), Some(true), "{isolated}");
    app.set_value("#lang", "fr").await;
    app.wait_until(
        "French",
        "document.documentElement.dir === 'ltr' && document.querySelectorAll('#devices-table tbody tr').length === 3",
    )
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_station_imports_two_bundles_settles_a_conflict_and_merges_a_duplicate() {
    let files = tempfile::tempdir().expect("temp dir");
    let mut bundles = (PathBuf::new(), PathBuf::new());
    let app = App::launch_with(|db| bundles = prepare(files.path(), db)).await;

    app.set_value("#lang", "fr").await;
    app.wait_until("French", "document.documentElement.lang === 'fr'").await;
    app.go("#/sync").await;
    // The two files as the Open dialog would give them (not driven).
    crate::files::choose_bundles(&app, &[&bundles.0, &bundles.1]).await;
    app.wait_until("the preview", "document.querySelector('#import-preview').textContent.includes('+2')").await;
    let preview = app.text("#import-preview").await;
    assert!(preview.contains("1 conflit,") && preview.contains("1 doublon possible"), "preview: {preview}");
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 1, "nothing written before confirming");
    app.click("#import-confirm").await;
    app.wait_until("the import result", "document.querySelector('#import-result').textContent.includes('+2')").await;
    assert_eq!(app.count("SELECT count(*) FROM beneficiary"), 3);
    app.wait_until("both laptops listed", "document.querySelectorAll('#devices-table tbody tr').length === 3").await;
    laptops_in_words(&app).await;

    app.click("a[data-route='conflicts']").await;
    app.wait_for(".conflict").await;
    let card = app.text(".conflict").await;
    assert!(
        card.contains("06 11 11 11 11") && card.contains("06 22 22 22 22"),
        "both values, as people read them: {card}"
    );
    assert!(card.contains("Portable Larache") && card.contains("Portable Kénitra"), "who: {card}");
    // In Arabic each phone stays isolated left to right (never "212611111111+").
    app.set_value("#lang", "ar").await;
    app.wait_until("Arabic", "document.documentElement.dir === 'rtl' && !!document.querySelector('.conflict')").await;
    let phones = app
        .client
        .execute(
            "return [...document.querySelectorAll('.conflict .side .value bdi[dir=ltr]')].map(b => b.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(phones.as_array().map(Vec::len), Some(2), "{phones}");
    assert!(phones.as_array().unwrap().iter().any(|p| p == "06 11 11 11 11"), "{phones}");
    app.set_value("#lang", "fr").await;
    app.wait_until("French", "document.documentElement.dir === 'ltr' && !!document.querySelector('.conflict')").await;
    let keep = app
        .client
        .execute(
            "return [...document.querySelectorAll('.conflict .side')].findIndex(li => li.textContent.includes('06 11 11 11 11'));",
            vec![],
        )
        .await
        .unwrap();
    app.click(&format!(".conflict .side:nth-child({}) button.keep", keep.as_i64().unwrap() + 1)).await;
    app.wait_until("the conflict settled", "document.querySelectorAll('.conflict').length === 0").await;
    let phone: String = app
        .database()
        .query_row("SELECT phone FROM beneficiary WHERE first_name = 'Khadija'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(phone, "+212611111111");
    assert_eq!(app.count("SELECT count(*) FROM resolution"), 1, "the decision is logged and will travel");
    // Her history keeps the value set aside, where it came from and what was kept.
    let khadija: String =
        app.database().query_row("SELECT id FROM beneficiary WHERE first_name = 'Khadija'", [], |r| r.get(0)).unwrap();
    app.go(&format!("#/profile/{khadija}")).await;
    app.wait_for("#history tr[data-op='set_aside']").await;
    let line = app.text("#history tr[data-op='set_aside']").await;
    assert!(
        line.contains("06 22 22 22 22")
            && line.contains("Portable Kénitra")
            && line.contains("gardée : 06 11 11 11 11"),
        "{line}"
    );

    app.click("a[data-route='duplicates']").await;
    app.wait_for(".pair").await;
    let pair = app.text(".pair").await;
    assert!(pair.contains("Fatima") && pair.contains("Fatma"), "{pair}");
    let ids = app
        .client
        .execute("const p = document.querySelector('.pair'); return [p.dataset.a, p.dataset.b];", vec![])
        .await
        .unwrap();
    let (kept, other) = (ids[0].as_str().unwrap().to_string(), ids[1].as_str().unwrap().to_string());
    // Both records side by side: one radio per differing field (first
    // name, phone); the assistant takes the other's phone.
    app.click(".pair button.merge-a").await;
    app.wait_for(".merge-choice tr[data-field='phone']").await;
    let choice = app.text(".merge-choice").await;
    assert!(choice.contains("Prénom") && choice.contains("Téléphone"), "{choice}");
    assert!(choice.contains("07 00 00 00 00") && choice.contains("06 12 34 56 78"), "{choice}");
    app.click(".merge-choice tr[data-field='phone'] input[value='other']").await;
    app.click(".merge-choice button.merge-confirm").await;
    app.wait_for(".pair button.unmerge").await;
    assert_eq!(app.count("SELECT count(*) FROM merge WHERE status = 'merged'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM beneficiary WHERE merged_into IS NOT NULL"), 1);
    let phone = |id: &str| -> String {
        app.database()
            .query_row("SELECT coalesce(phone, '') FROM beneficiary WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(phone(&kept), phone(&other), "the person kept took the other's phone");

    // The kept profile's history says so, with the field taken.
    app.go(&format!("#/profile/{kept}")).await;
    app.wait_for("#history tr[data-op='merge']").await;
    let line = app.text("#history tr[data-op='merge']").await;
    assert!(line.contains("Fusion avec") && line.contains("Téléphone"), "{line}");
    // The merged-away profile links to the kept one.
    app.go(&format!("#/profile/{other}")).await;
    app.wait_for("#merged-note a").await;
    app.click("#merged-note a").await;
    app.wait_until("the kept profile", &format!("location.hash === '#/profile/{kept}'")).await;
    app.close().await;
}
