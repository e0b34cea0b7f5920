//! Reports in the window: the dashboard shows the same numbers as
//! `wafira report indicators` on the same database, with and without
//! filters; "Print PDF" writes a PDF into `reports/` next to the database;
//! targets are edited with errors beside their field; exports write files.
//! `WAFIRA_NO_OPEN` keeps the system viewer closed during tests.

use crate::harness::{App, Launch};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `wafira` CLI binary beside the app's, built if it is not there yet.
fn cli() -> PathBuf {
    let app = PathBuf::from(env!("CARGO_BIN_EXE_wafira-field"));
    let cli = app.with_file_name(format!("wafira{}", std::env::consts::EXE_SUFFIX));
    if !cli.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo).args(["build", "-q", "-p", "wafira-cli"]).status().expect("cargo build");
        assert!(status.success(), "building the wafira CLI");
    }
    cli
}

/// `wafira report indicators ARGS` on the app's database, as JSON.
pub(crate) fn cli_indicators(db: &Path, args: &[&str]) -> Value {
    let out = Command::new(cli())
        .arg("--db")
        .arg(db)
        .args(["report", "indicators"])
        .args(args)
        .env("WAFIRA_PASSPHRASE", crate::harness::PASSPHRASE)
        .output()
        .expect("run wafira");
    assert!(out.status.success(), "wafira report indicators: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON from wafira")
}

pub(crate) fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| &v[k])
}

/// JSON value as the screen's data-value holds it.
pub(crate) fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every figure on the dashboard (`data-figure` → `data-value`).
pub(crate) async fn dashboard_figures(app: &App) -> serde_json::Map<String, Value> {
    let v = app
        .client
        .execute(
            "const out = {}; for (const el of document.querySelectorAll('#dash-output [data-figure]')) \
             { out[el.dataset.figure] = el.dataset.value; } return out;",
            vec![],
        )
        .await
        .expect("read the dashboard");
    v.as_object().cloned().expect("an object")
}

async fn assert_same_numbers(app: &App, cli: &Value) {
    let shown = dashboard_figures(app).await;
    let checked = [
        "beneficiaries.registered",
        "coaching.visits",
        "coaching.with_visit",
        "coaching.with_financial_education",
        "coaching.mean_visits_per_person",
        "iga.sustained_of_launched.sustained",
        "iga.stopped",
        "iga.median_days_to_launch",
        "financing.total",
        "financing.median",
        "financing.people",
        "followup.no_visit_60_days",
        "followup.no_visit_90_days",
    ];
    for path in checked {
        assert_eq!(shown.get(path).and_then(Value::as_str), Some(plain(at(cli, path)).as_str()), "{path}");
    }
    for k in cli["key_figures"].as_array().unwrap() {
        let path = format!("key_figures.{}.value", k["indicator"].as_str().unwrap());
        assert_eq!(shown.get(&path).and_then(Value::as_str), Some(plain(&k["value"]).as_str()), "{path}");
    }
    // The results framework: every cell shown is the CLI's figure at its path.
    let results: Vec<_> = shown.iter().filter(|(path, _)| path.starts_with("results.")).collect();
    assert!(results.len() > 100, "the results framework's figures: {}", results.len());
    for (path, value) in results {
        // An age group or disability answer nobody has is absent from the JSON, shown as 0.
        let want = match at(cli, path) {
            Value::Null if path.starts_with("results.people.") => "0".to_string(),
            v => plain(v),
        };
        assert_eq!(value.as_str(), Some(want.as_str()), "{path}");
    }
    for stage in cli["iga"]["funnel"].as_array().unwrap() {
        let path = format!("iga.funnel.{}", stage["kind"].as_str().unwrap());
        assert_eq!(shown.get(&path).and_then(Value::as_str), Some(plain(&stage["people"]).as_str()), "{path}");
    }
    let print = app.client.execute("return document.querySelector('#dash-fingerprint').dataset.value", vec![]).await;
    assert_eq!(print.unwrap(), cli["fingerprint"], "the same data and filters give the same fingerprint");
}

fn prepared(db: &Path) {
    let mut store = crate::harness::open_store(db);
    store.init_device("Portable de test", "Samira Test").expect("init");
    wafira_core::demo::generate(&mut store, 60, 3).expect("demo data");
    store.set_target_json(json!({"indicator": "iga_launched", "target": "25"})).expect("target");
}

fn no_viewer() {
    // The app inherits this through tauri-driver and WebKitWebDriver.
    std::env::set_var("WAFIRA_NO_OPEN", "1");
}

#[tokio::test(flavor = "current_thread")]
async fn dashboard_shows_the_same_numbers_as_the_cli_with_and_without_filters() {
    no_viewer();
    let app = App::launch_with(prepared).await;
    // French, whatever an earlier test left (the choice persists).
    crate::fixtures::language(&app, "fr").await;
    app.click("a[data-route='dashboard']").await;
    app.wait_for("#dash-output [data-figure='beneficiaries.registered']").await;
    assert_same_numbers(&app, &cli_indicators(&app.db, &[])).await;
    let shown = app.text(".kf[data-indicator='beneficiaries_registered'] .kf-note").await;
    assert!(shown.contains("3\u{202f}000") && shown.contains("cible par défaut"), "default target: {shown}");

    app.set_value("#f-region", "04").await;
    app.set_value("#f-from", "2024-01-01").await;
    app.click("#dash-apply").await;
    let expected = cli_indicators(&app.db, &["--region", "04", "--from", "2024-01-01"]);
    app.wait_until(
        "the filtered figures",
        &format!("document.querySelector('#dash-fingerprint').dataset.value === {}", expected["fingerprint"]),
    )
    .await;
    assert_same_numbers(&app, &expected).await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_bad_period_is_shown_beside_its_field() {
    no_viewer();
    let app = App::launch_with(prepared).await;
    app.go("#/dashboard").await;
    app.wait_for("#dash-output [data-figure]").await;
    app.set_value("#f-from", "2025-06-01").await;
    app.set_value("#f-to", "2025-01-01").await;
    app.click("#dash-apply").await;
    app.wait_until("the error under 'to'", "document.querySelector('#err-to').textContent.length > 0").await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn print_pdf_saves_the_summary_on_the_usb_stick_in_one_click() {
    no_viewer();
    // A folder stands for the stick (the Save-as dialog is not driven).
    let stick = tempfile::tempdir().expect("the stick");
    let launch =
        Launch { args: Vec::new(), env: vec![("WAFIRA_REMOVABLE_DRIVES".into(), stick.path().display().to_string())] };
    let app = App::launch_opts(launch, prepared).await;
    crate::fixtures::language(&app, "fr").await;
    app.go("#/dashboard").await;
    app.wait_for("#dash-output [data-figure]").await;
    app.wait_until("the USB button", "!document.querySelector('#print-pdf-usb').hidden").await;
    app.click("#print-pdf-usb").await;
    app.wait_for("#dash-print-result .saved-path").await;
    let path = PathBuf::from(app.text("#dash-print-result .saved-path").await.trim());
    assert_eq!(path.parent(), Some(stick.path()), "{}", path.display());
    let bytes = std::fs::read(&path).expect("the PDF is there");
    assert!(bytes.starts_with(b"%PDF"));
    let text = Command::new("pdftotext").arg(&path).arg("-").output().expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Rapport de synthèse"), "{text}");
    let fingerprint = cli_indicators(&app.db, &[])["fingerprint"].as_str().unwrap().to_string();
    assert!(text.contains(&fingerprint), "the PDF carries the dashboard's fingerprint {fingerprint}");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn targets_are_edited_in_the_window_and_logged() {
    no_viewer();
    let app = App::launch_with(prepared).await;
    app.click("a[data-route='reports']").await;
    app.wait_for("#targets-table tbody tr[data-indicator='iga_launched']").await;

    app.set_value("#f-indicator", "beneficiaries_registered").await;
    app.type_into("#f-target", "douze").await;
    app.click("#target-save").await;
    app.wait_until("the amount error", "document.querySelector('#err-target').textContent.length > 0").await;
    assert_eq!(app.count("SELECT count(*) FROM target"), 1, "nothing stored");

    app.type_into("#f-target", "4000").await;
    app.set_value("#f-region", "").await;
    app.click("#target-save").await;
    app.wait_for("#targets-table tbody tr[data-indicator='beneficiaries_registered']").await;
    assert_eq!(app.count("SELECT count(*) FROM change WHERE entity = 'target'"), 2, "logged, so it travels");
    let target: String = app
        .database()
        .query_row("SELECT target FROM target WHERE indicator = 'beneficiaries_registered'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(target, "4000");
    app.go("#/dashboard").await;
    app.wait_until(
        "the new target on the dashboard",
        "(document.querySelector(\".kf[data-indicator='beneficiaries_registered'] .kf-note\")?.textContent || '').includes('4\\u202f000')",
    )
    .await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn exports_save_a_workbook_and_csv_files_on_the_usb_stick() {
    no_viewer();
    let stick = tempfile::tempdir().expect("the stick");
    let launch =
        Launch { args: Vec::new(), env: vec![("WAFIRA_REMOVABLE_DRIVES".into(), stick.path().display().to_string())] };
    let app = App::launch_opts(launch, prepared).await;
    app.go("#/reports").await;
    app.wait_until("the USB button", "!document.querySelector('#export-xlsx-usb').hidden").await;
    app.click("#export-xlsx-usb").await;
    app.wait_for("#export-result .saved-path").await;
    let xlsx = PathBuf::from(app.text("#export-result .saved-path").await.trim());
    assert_eq!(xlsx.parent(), Some(stick.path()));
    assert!(xlsx.extension().is_some_and(|e| e == "xlsx"), "{}", xlsx.display());
    assert!(std::fs::read(&xlsx).expect("the workbook").starts_with(b"PK"));

    app.set_value("#export-pseudonymise", "true").await;
    app.click("#export-csv-usb").await;
    app.wait_until(
        "the CSV folder",
        "document.querySelector('#export-result .saved-path')?.textContent.includes('pseudonymised')",
    )
    .await;
    let dir = PathBuf::from(app.text("#export-result .saved-path").await.trim());
    let people = std::fs::read_to_string(dir.join("beneficiaries.csv")).expect("beneficiaries.csv");
    assert!(people.starts_with('\u{feff}') && people.contains("pseudonym"), "{people}");
    app.close().await;
}
