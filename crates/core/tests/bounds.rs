//! Amounts and dates bounded where they enter (issue 10, Files and bad
//! input): a visit dated 1850 and an amount of 79 228 162 514 264 337 593 543 950 335
//! MAD are refused naming their field, and records at the very bounds (a
//! visit of 1 January 1900, a hundred financings of 100 000 000 MAD each)
//! give the figures, a PDF and a workbook whose totals are exact.

mod common;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;
use rust_decimal::Decimal;
use serde_json::json;
use wafira_core::money::MAX_MAD;
use wafira_core::report::{self, Format, PrintRequest};

#[test]
fn a_visit_dated_1850_and_an_amount_past_the_bound_are_refused_naming_their_field() {
    let (_dir, mut store) = store();
    let id = register(&mut store, json!({}));
    assert_refused(&mut store, &[("date", "implausible_date")], |s| {
        s.add_visit_json(visit(id, json!({ "date": "1850-06-01" })))
    });
    for amount in ["79228162514264337593543950335", "100000000.01"] {
        assert_refused(&mut store, &[("amount", "amount_too_large")], |s| {
            s.add_milestone_json(milestone(id, "financing_obtained", &days_ago(10), json!({ "amount": amount })))
        });
    }
    let at_the_bound = milestone(id, "financing_obtained", &days_ago(10), json!({ "amount": MAX_MAD.to_string() }));
    assert!(store.add_milestone_json(at_the_bound).is_ok(), "100 000 000 MAD is taken");
}

#[test]
fn records_at_the_bounds_give_exact_figures_a_pdf_and_a_workbook() {
    let (dir, mut store) = store();
    let people = 100;
    for n in 0..people {
        let id =
            register(&mut store, json!({ "first_name": format!("Personne{n}"), "cin": format!("BK{:06}", n + 1) }));
        store
            .add_milestone_json(milestone(id, "financing_obtained", &days_ago(10), json!({ "amount": "100000000" })))
            .unwrap();
        if n == 0 {
            store.add_visit_json(visit(id, json!({ "date": "1900-01-01" }))).unwrap();
        }
    }
    // 100 × 100 000 000 = 10 000 000 000 MAD, by hand.
    let total = Decimal::from(10_000_000_000_i64);
    let figures = report::figures(&store, &Default::default()).unwrap();
    assert_eq!(figures.financing.total.0, total);
    assert_eq!(figures.financing.median, Some(Decimal::from(MAX_MAD)));

    let pdf = dir.path().join("synthese.pdf");
    let request: PrintRequest = serde_json::from_value(json!({ "kind": "summary" })).unwrap();
    report::print(&store, &request, Some(&pdf)).unwrap();
    let text = std::process::Command::new("pdftotext").args([pdf.to_str().unwrap(), "-"]).output().unwrap();
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    // pdftotext gives the narrow no-break spaces of the grouping as spaces.
    assert!(text.contains("10 000 000 000,00 MAD"), "the total in the PDF:\n{text}");

    let xlsx = dir.path().join("wafira.xlsx");
    report::export(&store, Format::Xlsx, false, Some(&xlsx)).unwrap();
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let visits = book.worksheet_range("visits").unwrap();
    let date_at = visits.rows().next().unwrap().iter().position(|h| *h == Data::String("date".into())).unwrap();
    // A date cell: Excel's day 1 is 1 January 1900, the oldest date a record may hold.
    let days: Vec<f64> = visits
        .rows()
        .skip(1)
        .map(|r| match &r[date_at] {
            Data::DateTime(d) => d.as_f64(),
            other => panic!("not a date cell: {other:?}"),
        })
        .collect();
    assert_eq!(days, [1.0]);
    let ind = book.worksheet_range("indicators").unwrap();
    let financing = ind.rows().find(|r| r[0] == Data::String("financing.total".into())).map(|r| r[1].clone());
    assert_eq!(financing, Some(Data::String("10000000000.00".into())));
}
