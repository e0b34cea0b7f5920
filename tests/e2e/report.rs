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
    // Each key figure for the period and since the start, women's and
    // men's beside where it is split.
    for k in cli["key_figures"].as_array().unwrap() {
        let indicator = k["indicator"].as_str().unwrap();
        for span in ["period", "cumulative"] {
            let mut parts = vec![(String::new(), &k[span])];
            for sex in ["women", "men"] {
                if !k[span][sex].is_null() {
                    parts.push((format!(".{sex}"), &k[span][sex]));
                }
            }
            for (part, figure) in parts {
                let path = format!("key_figures.{indicator}.{span}{part}.value");
                assert_eq!(shown.get(&path).and_then(Value::as_str), Some(plain(&figure["value"]).as_str()), "{path}");
            }
        }
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
    let shown = app.text(".kf[data-indicator='beneficiaries_registered'] [data-span='cumulative'] .kf-note").await;
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
    // The same check code, in a manager's words, on the screen and at the
    // PDF's foot.
    assert!(text.contains(&format!("code de contrôle {fingerprint}")), "the PDF's foot: {text}");
    let shown = app.text("#dash-fingerprint").await;
    assert!(
        shown.starts_with(&format!(
            "Code de contrôle des chiffres : {fingerprint} — le même code figure au pied des PDF"
        )),
        "{shown}"
    );
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
        "(document.querySelector(\".kf[data-indicator='beneficiaries_registered'] [data-span='cumulative'] .kf-note\")?.textContent || '').includes('4\\u202f000')",
    )
    .await;

    // A target for this year, and women's for this year: the period's
    // figures are measured against them, the cumulative against 4,000.
    let year = crate::fixtures::today()[..4].to_string();
    app.go("#/reports").await;
    app.wait_for("#f-year").await;
    for (sex, target) in [("", "12"), ("F", "8")] {
        app.set_value("#f-indicator", "beneficiaries_registered").await;
        app.set_value("#f-year", &year).await;
        app.set_value("#f-sex", sex).await;
        app.type_into("#f-target", target).await;
        app.click("#target-save").await;
        app.wait_for(&format!("#targets-table tbody tr[data-year='{year}'][data-sex='{sex}']")).await;
    }
    let stored: Vec<(Option<i64>, Option<String>, String)> = app
        .database()
        .prepare("SELECT year, sex, target FROM target WHERE indicator = 'beneficiaries_registered' ORDER BY year, sex")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let y: i64 = year.parse().unwrap();
    assert_eq!(
        stored,
        vec![(None, None, "4000".into()), (Some(y), None, "12".into()), (Some(y), Some("F".into()), "8".into())]
    );
    let row = app.text(&format!("#targets-table tbody tr[data-year='{year}'][data-sex='F']")).await;
    assert!(row.contains(&year) && row.contains("Femme"), "{row}");

    // The dashboard for this year: each figure against its own target.
    app.go("#/dashboard").await;
    app.wait_for("#dash-output [data-figure]").await;
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    app.set_value("#f-from", &from).await;
    app.set_value("#f-to", &to).await;
    app.click("#dash-apply").await;
    let cli = cli_indicators(&app.db, &["--from", &from, "--to", &to]);
    app.wait_until(
        "this year's figures",
        &format!("document.querySelector('#dash-fingerprint').dataset.value === {}", cli["fingerprint"]),
    )
    .await;
    assert_same_numbers(&app, &cli).await;
    let k =
        cli["key_figures"].as_array().unwrap().iter().find(|k| k["indicator"] == "beneficiaries_registered").unwrap();
    assert_eq!(k["period"]["target"]["target"], "12");
    assert_eq!(k["period"]["women"]["target"]["target"], "8");
    assert_eq!(k["cumulative"]["target"]["target"], "4000");
    // The progress shown is the core's, as the dashboard writes a share.
    let pct = |v: &Value| {
        format!("{}\u{202f}%", format!("{:.1}", v.as_str().unwrap().parse::<f64>().unwrap()).replace('.', ","))
    };
    let card = ".kf[data-indicator='beneficiaries_registered']";
    let period = app.text(&format!("{card} [data-span='period'] .kf-note")).await;
    assert_eq!(period, format!("{} de la cible {year} (12)", pct(&k["period"]["progress"])));
    let women = app.text(&format!("{card} [data-span='period'] li[data-sex='women']")).await;
    assert!(women.ends_with(&format!("{} de la cible {year} (8)", pct(&k["period"]["women"]["progress"]))), "{women}");
    let cumulative = app.text(&format!("{card} [data-span='cumulative'] .kf-note")).await;
    assert_eq!(cumulative, format!("{} de la cible (4\u{202f}000)", pct(&k["cumulative"]["progress"])));

    // A period over two years: no target for it, none borrowed.
    let last_year = (y - 1).to_string();
    app.set_value("#f-from", &format!("{last_year}-07-01")).await;
    app.set_value("#f-to", &format!("{year}-06-30")).await;
    app.click("#dash-apply").await;
    app.wait_until(
        "no target for a period over two years",
        &format!("(document.querySelector(\"{card} [data-span='period'] .kf-note\")?.textContent || '') === 'Pas de cible pour cette période'"),
    )
    .await;
    assert!(app.text(&format!("{card} [data-span='cumulative'] .kf-note")).await.contains("4\u{202f}000"));
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
