//! The export filters of Cibles et exports in the real window: everything
//! by default; a period that ends before it starts refused beside its
//! field, nothing written; one region's people and their IGAs, labelled
//! in the language chosen, read back from the workbook (calamine); the
//! choices kept while the screen is redrawn in another language.

use crate::fixtures::*;
use crate::harness::{App, Launch};
use calamine::{open_workbook, Data, Reader, Xlsx};
use serde_json::json;
use std::path::PathBuf;
use wafira_core::store::log::Entity;

/// The cells of a column of a sheet, by its header.
fn column(sheet: &calamine::Range<Data>, name: &str) -> Vec<String> {
    let headers: Vec<String> = sheet.rows().next().expect("a header").iter().map(|c| c.to_string()).collect();
    let at = headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {headers:?}"));
    sheet.rows().skip(1).map(|r| r[at].to_string()).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn an_export_of_one_region_holds_its_people_and_their_igas_labelled_in_arabic() {
    std::env::set_var("WAFIRA_NO_OPEN", "1");
    let stick = tempfile::tempdir().expect("the stick");
    let launch =
        Launch { args: Vec::new(), env: vec![("WAFIRA_REMOVABLE_DRIVES".into(), stick.path().display().to_string())] };
    let app = App::launch_opts(launch, |db| {
        prepared(db, |s| {
            for (first, region, province, commune, sector) in [
                ("Amina", "04", "Kénitra", "Mnasra", "handicraft"),
                ("Badia", "04", "Kénitra", "Mnasra", "agriculture"),
                ("Chaima", "01", "Tétouan", "Martil", "commerce"),
            ] {
                let p = register(
                    s,
                    json!({ "first_name": first, "region": region, "province": province, "commune": commune }),
                );
                s.add_record(
                    Entity::Iga,
                    json!({ "beneficiary_id": p, "sector": sector, "form": "individual", "legal_status": "informal" }),
                )
                .expect("an IGA");
            }
        })
    })
    .await;
    language(&app, "fr").await;
    app.go("#/reports").await;
    app.wait_for("#export-filters").await;
    assert_eq!(app.text("#export-filters-title").await, "Filtres de l'export (comme au tableau de bord)");
    assert_eq!(app.text("label[for='export-region']").await, "Région");
    // Everything by default.
    let blank = js(
        &app,
        "return [...document.querySelectorAll('#export-filters input, #export-filters select')].every(e => e.value === '')",
    )
    .await;
    assert_eq!(blank, json!(true));
    app.wait_until("the USB button", "!document.querySelector('#export-xlsx-usb').hidden").await;

    // A period ending before it starts: refused beside its field.
    app.set_value("#export-from", &today()).await;
    app.set_value("#export-to", &days_ago(10)).await;
    app.click("#export-xlsx-usb").await;
    app.wait_until("the period error", "document.querySelector('#err-export-to').textContent.length > 0").await;
    assert!(app.text("#err-export-to").await.contains("Du"), "names the other date");
    assert_eq!(std::fs::read_dir(stick.path()).unwrap().count(), 0, "nothing written");

    app.set_value("#export-from", "").await;
    app.set_value("#export-to", "").await;
    app.set_value("#export-region", "04").await;
    app.set_value("#export-lang", "ar").await;
    app.click("#export-xlsx-usb").await;
    app.wait_for("#export-result .saved-path").await;
    let path = PathBuf::from(app.text("#export-result .saved-path").await.trim());
    let mut book: Xlsx<_> = open_workbook(&path).expect("the workbook");
    let people = book.worksheet_range("beneficiaries").expect("people");
    let mut firsts = column(&people, "first_name");
    firsts.sort();
    assert_eq!(firsts, ["Amina", "Badia"], "Chaima lives in another region");
    assert!(column(&people, "region_label").iter().all(|r| r == "الرباط سلا القنيطرة"));
    let igas = book.worksheet_range("igas").expect("IGAs");
    let mut sectors = column(&igas, "sector_label");
    sectors.sort();
    assert_eq!(sectors, ["الصناعة التقليدية", "الفلاحة"]);
    assert_eq!(column(&igas, "legal_status_label"), ["غير مهيكل", "غير مهيكل"]);
    let codebook = book.worksheet_range("codebook").expect("codebook");
    let sector = codebook
        .rows()
        .find(|r| r[0] == Data::String("igas".into()) && r[1] == Data::String("sector".into()))
        .expect("the codebook's igas.sector");
    assert_eq!(sector[2].to_string(), "القطاع");
    assert!(sector[4].to_string().contains("handicraft = الصناعة التقليدية"));
    // The choices stay while the screen is redrawn in another language.
    language(&app, "en").await;
    app.wait_until("the filters kept", "document.getElementById('export-region')?.value === '04'").await;
    assert_eq!(js(&app, "return document.getElementById('export-lang').value").await, json!("ar"));
    app.close().await;
}
