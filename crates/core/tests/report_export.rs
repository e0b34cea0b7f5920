//! Exports read back by real readers: the CSV files by the `csv` crate
//! (UTF-8 with a BOM, one per table), the workbook by `calamine` (a sheet
//! per table plus the indicators); and the pseudonymised variant holds no
//! name, CIN, phone or birth date, with pseudonyms stable from one export
//! to the next.

mod report_fixture;

use calamine::{open_workbook, Data, Reader, Xlsx};
use report_fixture::programme;
use std::path::Path;
use wafira_core::report::{self, ExportOptions, FiltersInput, Format};

/// Headers and rows of a CSV file, after checking its BOM.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "{} starts with a BOM", path.display());
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let headers = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect();
    (headers, rows)
}

fn column<'a>(headers: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    rows.iter().map(|r| r[i].as_str()).collect()
}

#[test]
fn csv_export_writes_one_file_per_table_that_excel_reads_with_accents() {
    let p = programme();
    let dir = p.dir.path().join("export");
    let summary = report::export(&p.store, Format::Csv, false, Some(&dir)).unwrap();
    assert_eq!(
        summary.parts,
        [
            "beneficiaries.csv",
            "visits.csv",
            "milestones.csv",
            "targets.csv",
            "igas.csv",
            "iga_followups.csv",
            "seasons.csv",
            "referrals.csv",
            "partners.csv",
            "sessions.csv",
            "attendance.csv"
        ]
    );
    // The results framework's records, one file per kind: the IGAs her
    // milestones made (schema 6) are there.
    let (ih, igas) = read_csv(&dir.join("igas.csv"));
    assert_eq!(&ih[..3], ["id", "beneficiary_id", "activity"]);
    assert!(!igas.is_empty());
    assert_eq!((summary.beneficiaries, summary.visits, summary.milestones, summary.targets), (5, 7, 15, 0));

    let (h, rows) = read_csv(&dir.join("beneficiaries.csv"));
    assert_eq!(rows.len(), 5, "live people only");
    assert_eq!(&h[..4], ["id", "first_name", "last_name", "name_ar"]);
    let firsts = column(&h, &rows, "first_name");
    assert!(firsts.contains(&"Aïcha") && !firsts.contains(&"Xénia"));
    assert!(column(&h, &rows, "name_ar").contains(&"عائشة بنعلي"));

    let (h, rows) = read_csv(&dir.join("visits.csv"));
    assert_eq!(rows.len(), 7);
    assert!(column(&h, &rows, "date").contains(&"2024-03-01"));
    let (h, rows) = read_csv(&dir.join("milestones.csv"));
    assert_eq!(rows.len(), 15);
    let amounts = column(&h, &rows, "amount_mad");
    assert!(amounts.contains(&"8000.50") && amounts.contains(&"12500.00"), "exact amounts: {amounts:?}");
    let (h, rows) = read_csv(&dir.join("targets.csv"));
    assert_eq!((h[1].as_str(), rows.len()), ("indicator", 0));
}

#[test]
fn xlsx_export_has_a_sheet_per_table_and_one_of_indicators() {
    let mut p = programme();
    p.store.set_target_json(serde_json::json!({"indicator": "iga_launched", "target": "250"})).unwrap();
    let path = p.dir.path().join("wafira.xlsx");
    report::export(&p.store, Format::Xlsx, false, Some(&path)).unwrap();
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "beneficiaries",
            "visits",
            "milestones",
            "targets",
            "igas",
            "iga_followups",
            "seasons",
            "referrals",
            "partners",
            "sessions",
            "attendance",
            "indicators",
            "codebook"
        ]
    );
    let sheet = book.worksheet_range("beneficiaries").unwrap();
    assert_eq!(sheet.height(), 6, "a header and 5 people");
    assert_eq!(sheet.get((0, 1)), Some(&Data::String("first_name".into())));
    assert_eq!(book.worksheet_range("visits").unwrap().height(), 8);
    let milestones = book.worksheet_range("milestones").unwrap();
    assert_eq!(milestones.height(), 16);
    let amount_at = milestones.rows().next().unwrap().iter().position(|h| *h == Data::String("amount_mad".into()));
    let amounts: Vec<f64> = milestones
        .rows()
        .skip(1)
        .filter_map(|r| match r[amount_at.unwrap()] {
            Data::Float(f) => Some(f),
            _ => None,
        })
        .collect();
    assert!(amounts.contains(&8000.5), "{amounts:?}");
    assert_eq!(book.worksheet_range("targets").unwrap().height(), 2);
    let ind = book.worksheet_range("indicators").unwrap();
    let value = |name: &str| {
        ind.rows().find(|r| r[0] == Data::String(name.into())).map(|r| r[1].clone()).unwrap_or(Data::Empty)
    };
    assert_eq!(value("beneficiaries.registered"), Data::Float(5.0));
    assert_eq!(value("financing.total"), Data::String("50500.50".into()));
    assert_eq!(value("key_figures.iga_launched.cumulative.target.target"), Data::String("250".into()));
}

#[test]
fn pseudonymised_export_holds_no_identity_and_keeps_stable_pseudonyms() {
    let p = programme();
    let one = p.dir.path().join("one");
    let two = p.dir.path().join("two");
    report::export(&p.store, Format::Csv, true, Some(&one)).unwrap();
    report::export(&p.store, Format::Csv, true, Some(&two)).unwrap();
    let (h, rows) = read_csv(&one.join("beneficiaries.csv"));
    for banned in
        ["id", "first_name", "last_name", "name_ar", "cin", "phone", "birth_date", "commune", "douar", "notes"]
    {
        assert!(!h.iter().any(|c| c == banned), "column {banned} in a pseudonymised export");
    }
    assert!(column(&h, &rows, "birth_year").iter().all(|y| *y == "1985"));
    let all = std::fs::read_to_string(one.join("beneficiaries.csv")).unwrap()
        + &std::fs::read_to_string(one.join("visits.csv")).unwrap()
        + &std::fs::read_to_string(one.join("milestones.csv")).unwrap();
    for identity in ["Aïcha", "Benali", "عائشة", "1985-05-05", &p.id("A").to_string()] {
        assert!(!all.contains(identity), "{identity} leaked");
    }
    let pseudonyms = column(&h, &rows, "pseudonym");
    assert!(pseudonyms.iter().all(|x| x.starts_with("P-") && x.len() == 14), "{pseudonyms:?}");
    let (_, rows2) = read_csv(&two.join("beneficiaries.csv"));
    assert_eq!(column(&h, &rows2, "pseudonym"), pseudonyms, "the same pseudonyms in every export");
    let (vh, visits) = read_csv(&one.join("visits.csv"));
    assert!(column(&vh, &visits, "beneficiary").iter().all(|b| pseudonyms.contains(b)), "visits link by pseudonym");

    // Another database gives the same people other pseudonyms.
    let other = programme();
    let three = other.dir.path().join("three");
    report::export(&other.store, Format::Csv, true, Some(&three)).unwrap();
    let (_, rows3) = read_csv(&three.join("beneficiaries.csv"));
    assert!(column(&h, &rows3, "pseudonym").iter().all(|x| !pseudonyms.contains(x)));
}

#[test]
fn pseudonymised_workbook_has_the_same_sheets_without_names() {
    let p = programme();
    let path = p.dir.path().join("anon.xlsx");
    report::export(&p.store, Format::Xlsx, true, Some(&path)).unwrap();
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names().len(), 13);
    // No free text in the results framework's sheets either: an IGA's
    // name or notes, a season's employer.
    let igas = book.worksheet_range("igas").unwrap();
    let header: Vec<String> = igas.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header[0], "pseudonym");
    assert!(!header.iter().any(|h| ["name", "notes", "activity", "commune"].contains(&h.as_str())), "{header:?}");
    let people = book.worksheet_range("beneficiaries").unwrap();
    assert_eq!(people.get((0, 0)), Some(&Data::String("pseudonym".into())));
    assert!(people.rows().all(|r| !r.iter().any(|c| c.to_string().contains("Aïcha"))));
}

#[test]
fn an_export_into_a_path_that_cannot_be_written_fails_cleanly() {
    let p = programme();
    let blocker = p.dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    assert!(report::export(&p.store, Format::Csv, false, Some(&blocker.join("sub"))).is_err());
    assert!(report::export(&p.store, Format::Xlsx, false, Some(&blocker.join("x.xlsx"))).is_err());
}

#[test]
fn a_csv_cell_that_a_spreadsheet_would_run_as_a_formula_stays_text() {
    let mut p = programme();
    let mut input = serde_json::json!({ "first_name": "=HYPERLINK(\"http://x\")", "last_name": "@SUM(A1)",
        "sex": "F", "birth_date": "1990-03-14", "region": "04", "phone": "0612345678", "consent": true });
    p.store.add_beneficiary_json(input.take()).unwrap();
    let dir = p.dir.path().join("formula");
    report::export(&p.store, Format::Csv, false, Some(&dir)).unwrap();
    let (h, rows) = read_csv(&dir.join("beneficiaries.csv"));
    assert!(column(&h, &rows, "first_name").contains(&"'=HYPERLINK(\"http://x\")"));
    assert!(column(&h, &rows, "last_name").contains(&"'@SUM(A1)"));
    assert!(column(&h, &rows, "phone").contains(&"'+212612345678"), "a leading + is read as a formula too");
}

/// The cells of a sheet's column, found by its header.
fn sheet_column(sheet: &calamine::Range<Data>, name: &str) -> Vec<Data> {
    let header = sheet.rows().next().unwrap();
    let at = header.iter().position(|h| *h == Data::String(name.into())).unwrap_or_else(|| panic!("no column {name}"));
    sheet.rows().skip(1).map(|r| r[at].clone()).collect()
}

fn headers(sheet: &calamine::Range<Data>) -> Vec<String> {
    sheet.rows().next().unwrap().iter().map(|h| h.to_string()).collect()
}

#[test]
fn workbook_for_analysts_has_labels_beside_codes_a_codebook_numbers_as_numbers_and_the_dashboard_filters() {
    let p = programme();
    let path = p.dir.path().join("analysts.xlsx");
    // Region 04, registered (people) or dated (visits, milestones) in 2024:
    // A and B; the visits of A, B and E in 2024 (5); their milestones (9).
    let options = ExportOptions {
        filters: FiltersInput {
            from: Some("2024-01-01".into()),
            to: Some("2024-12-31".into()),
            region: Some("04".into()),
            ..Default::default()
        },
        lang: Some("en".into()),
    };
    let summary = report::export_with(&p.store, Format::Xlsx, false, &options, Some(&path)).unwrap();
    assert_eq!((summary.beneficiaries, summary.visits, summary.milestones), (2, 5, 9));
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names().last().map(String::as_str), Some("codebook"));

    let people = book.worksheet_range("beneficiaries").unwrap();
    let h = headers(&people);
    for (code, label) in
        [("sex", "sex_label"), ("region", "region_label"), ("phase", "phase_label"), ("iga_sector", "iga_sector_label")]
    {
        let at = h.iter().position(|x| x == code).unwrap();
        assert_eq!(h[at + 1], label, "the label right after its code");
    }
    let firsts = sheet_column(&people, "first_name");
    assert_eq!(firsts.len(), 2);
    assert!(firsts.contains(&Data::String("Aïcha".into())) && firsts.contains(&Data::String("Bouchra".into())));
    assert!(sheet_column(&people, "sex_label").iter().all(|c| *c == Data::String("Woman".into())));
    let phases = sheet_column(&people, "phase_label");
    assert!(phases.contains(&Data::String("Returned".into())) && phases.contains(&Data::String("In migration".into())));
    assert!(sheet_column(&people, "region_label").iter().all(|c| *c == Data::String("Rabat-Salé-Kénitra".into())));
    // Numbers stay numbers: counts, amounts and dates.
    assert!(sheet_column(&people, "visit_count").iter().all(|c| matches!(c, Data::Float(_))));
    let milestones = book.worksheet_range("milestones").unwrap();
    assert!(sheet_column(&milestones, "amount_mad").contains(&Data::Float(8000.5)));
    assert!(sheet_column(&milestones, "date").iter().all(|c| matches!(c, Data::DateTime(_))));
    assert!(sheet_column(&milestones, "kind_label").contains(&Data::String("Business plan".into())));
    let visits = book.worksheet_range("visits").unwrap();
    assert_eq!(visits.height(), 6, "a header and the 5 visits of the period and region");
    // The indicators of the same filters.
    let ind = book.worksheet_range("indicators").unwrap();
    let registered = ind.rows().find(|r| r[0] == Data::String("beneficiaries.registered".into())).unwrap();
    assert_eq!(registered[1], Data::Float(2.0));

    // The codebook: every column of every sheet, its label, type, codes.
    let codebook = book.worksheet_range("codebook").unwrap();
    assert_eq!(headers(&codebook), ["sheet", "column", "label", "type", "codes"]);
    let entry = |sheet: &str, column: &str| -> Vec<String> {
        codebook
            .rows()
            .find(|r| r[0] == Data::String(sheet.into()) && r[1] == Data::String(column.into()))
            .unwrap_or_else(|| panic!("no codebook entry for {sheet}.{column}"))
            .iter()
            .map(|c| c.to_string())
            .collect()
    };
    let sex = entry("beneficiaries", "sex");
    assert_eq!((sex[2].as_str(), sex[3].as_str()), ("Sex", "text"));
    assert_eq!(sex[4], "F = Woman; M = Man");
    let phase = entry("beneficiaries", "phase");
    assert!(phase[4].contains("pre_departure = Before departure"), "{phase:?}");
    assert_eq!(entry("beneficiaries", "sex_label")[2], "Sex (label)");
    assert_eq!(entry("milestones", "amount_mad")[3], "amount in MAD (number)");
    assert_eq!(entry("visits", "date")[3], "date (yyyy-mm-dd)");
    assert!(entry("visits", "kind")[4].contains("financial_education = "), "visit kinds");
    assert!(entry("targets", "indicator")[4].contains("iga_launched = People who launched an IGA"));
    for sheet in ["beneficiaries", "visits", "milestones", "targets", "indicators"] {
        let columns = headers(&book.worksheet_range(sheet).unwrap());
        for c in columns {
            entry(sheet, &c);
        }
    }
}

#[test]
fn pseudonymised_workbook_with_labels_and_codebook_still_names_nobody() {
    let p = programme();
    let path = p.dir.path().join("anon-en.xlsx");
    let options = ExportOptions { lang: Some("ar".into()), ..Default::default() };
    report::export_with(&p.store, Format::Xlsx, true, &options, Some(&path)).unwrap();
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet).unwrap();
        for cell in range.cells() {
            let text = cell.2.to_string();
            for identity in ["Aïcha", "Benali", "عائشة", "Chakib", "1985-05-05", "Portable Kénitra", "Samira"] {
                assert!(!text.contains(identity), "{identity} in {sheet}: {text}");
            }
        }
    }
    let people = book.worksheet_range("beneficiaries").unwrap();
    assert!(sheet_column(&people, "sex_label").iter().all(|c| [
        Data::String("امرأة".into()),
        Data::String("رجل".into())
    ]
    .contains(c)));
}

#[test]
fn export_filters_are_checked_like_the_dashboards() {
    let p = programme();
    let out = p.dir.path().join("never.xlsx");
    let options = ExportOptions {
        filters: FiltersInput { region: Some("99".into()), to: Some("hier".into()), ..Default::default() },
        lang: None,
    };
    let err = report::export_with(&p.store, Format::Xlsx, false, &options, Some(&out)).unwrap_err();
    let invalid = err.as_invalid().unwrap();
    assert!(invalid.has("region", "unknown_code") && invalid.has("to", "invalid_date"), "{err}");
    let bad_lang = ExportOptions { lang: Some("de".into()), ..Default::default() };
    assert!(report::export_with(&p.store, Format::Csv, false, &bad_lang, Some(&out)).is_err());
    assert!(!out.exists());
}
